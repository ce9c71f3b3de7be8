/*-------------------------------------------------------------------------
 *
 * analysis.h
 *		Layer 2 of pg_dynamic_tables: what a defining query reads, and how
 *		it is maintained.
 *
 *	querytree.c		walks over a Query tree that the others share
 *	merge.c			delta merge: grouped queries and their aggregates' state
 *	recompute.c		affected-key recompute: the column partitioning a query
 *	window.c		rank-bounded windows rewritten for delta merge
 *	internal.c		subqueries made internal dynamic tables, read as tables
 *	analysis.c		parse the query, check it, decide (calls merge.c and
 *					recompute.c)
 *
 * The result is a DtAnalysis, from which deparse.c (layer 3) writes SQL.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DT_ANALYSIS_H
#define DT_ANALYSIS_H

#include "catalog.h"

#include "nodes/pathnodes.h"

/* ---------------------------------------------------------------------
 * The analysis of a query, which the files of this layer fill
 * ---------------------------------------------------------------------
 */

/*
 * How an incremental DT is maintained (DESIGN.md, principle 4): by merging
 * the changes into per-group state, by recomputing the partitions of the
 * query that the changes touch, or, for ORDER BY ... LIMIT over one
 * relation (an internal DT of the query without its LIMIT, internal.c), by
 * choosing the rows within the LIMIT again from it when it changed.  A
 * query that reads no table and only immutable functions (SELECT 1, a
 * VALUES list, generate_series(1, 3)) never changes: CONSTANT, whose
 * refreshes have nothing to do.  FULL: not incrementally.
 */
typedef enum DtStrategy
{
	DT_STRATEGY_FULL,
	DT_STRATEGY_MERGE,
	DT_STRATEGY_RECOMPUTE,
	DT_STRATEGY_TOP_K,
	DT_STRATEGY_CONSTANT
} DtStrategy;

/* The aggregates that incremental refresh maintains. */
typedef enum DtAggKind
{
	DT_AGG_COUNT_STAR,
	DT_AGG_COUNT,
	DT_AGG_SUM,
	DT_AGG_AVG,
	DT_AGG_VAR_SAMP,
	DT_AGG_VAR_POP,
	DT_AGG_STDDEV_SAMP,
	DT_AGG_STDDEV_POP,
	DT_AGG_MIN,
	DT_AGG_MAX,
	DT_AGG_COUNT_DISTINCT,
	DT_AGG_PERCENTILE_CONT,
	DT_AGG_PERCENTILE_DISC,
	DT_AGG_BOOL_AND,
	DT_AGG_BOOL_OR,
	DT_AGG_RANKED				/* over a group's first k rows (window.c) */
} DtAggKind;

/*
 * The arithmetic in which sum, avg and the variance family keep their state:
 * exact numeric for integers, numeric plus counts of NaN and infinities for
 * numeric and floating-point input (so that removing an infinity is exact),
 * and the type itself for interval and money.
 */
typedef enum DtSumDomain
{
	DT_DOMAIN_NONE,
	DT_DOMAIN_INTEGER,
	DT_DOMAIN_NUMERIC,
	DT_DOMAIN_FLOAT,
	DT_DOMAIN_INTERVAL,
	DT_DOMAIN_MONEY
} DtSumDomain;

/*
 * One aggregate of the defining query.  Its state lives in columns a<no>_*
 * of the state table; holistic aggregates (min, max, count distinct,
 * percentiles) also keep per-group value counts in an auxiliary table.
 */
typedef struct DtAggregate
{
	int			no;				/* 1-based */
	DtAggKind	kind;
	Aggref	   *aggref;			/* NULL for DT_AGG_RANKED */
	Expr	   *ranked;			/* DT_AGG_RANKED: the subquery computing it
								 * for one group, correlated by the group key */
	Expr	   *arg;			/* argument or ordering expression */
	Expr	   *filter;			/* FILTER (WHERE ...) or NULL */
	Oid			argtype;
	int32		argtypmod;
	Oid			argcollation;
	Oid			restype;
	int32		restypmod;
	DtSumDomain domain;
	int			input_no;		/* column x<n> of the change rows, 0: none */
	int			filter_no;		/* column f<n> of the change rows, 0: none */
	int			aux_no;			/* auxiliary table, 0: none */
	int			aux_item;		/* item j within that table */
	double		fraction;		/* percentiles */
} DtAggregate;

/*
 * An auxiliary value-count table holds (gid, j, v, c): value v of item j
 * occurs c > 0 times in group gid.  One table per value type; an item is a
 * distinct (argument, filter) pair used by a holistic aggregate.
 */
typedef struct DtAuxItem
{
	int			j;
	int			input_no;
	int			filter_no;
} DtAuxItem;

typedef struct DtAuxTable
{
	int			no;
	Oid			valtype;
	int32		valtypmod;
	Oid			valcollation;
	List	   *items;			/* of DtAuxItem */
} DtAuxTable;

/* A GROUP BY expression; it is also an output column of the DT. */
typedef struct DtKey
{
	Expr	   *expr;
	AttrNumber	resno;			/* output column */
	Index		sortgroupref;	/* its ressortgroupref */
	Oid			type;
	int32		typmod;
	Oid			collation;
} DtKey;

/*
 * A semi-join (EXISTS, IN) or anti-join (NOT EXISTS, NOT IN) of a
 * delta-merge query: a conjunct of its WHERE whose subquery reads one table
 * under conditions, correlated with the query by equalities; or IN over
 * such a subquery grouped by its output, or a conjunct comparing with a
 * scalar aggregate subquery (D(k, v), v its value for the key k).  It is
 * maintained as a join with D, the distinct keys of that table's rows under
 * those conditions (an anti-join with 1 - D): D's change in a window is the
 * keys whose existence the window flipped; otherwise the conjunct is
 * evaluated as written.
 */
typedef struct DtSemiJoin
{
	Node	   *predicate;		/* the conjunct as written */
	bool		anti;
	Query	   *sub;			/* the subquery */
	Index		sub_rtindex;	/* its table, in its range table */
	List	   *inner_keys;		/* the keys, over that table */
	Node	   *local_quals;	/* its other conditions, or NULL */
	Node	   *join_quals;		/* outer key = t<rtindex>.k<i>, ..., and for a
								 * scalar the conjunct over t<rtindex>.v */
	bool		scalar;			/* D(k, v): the value of a scalar subquery */
	Node	   *value_cond;		/* a scalar: the conjunct over t<rtindex>.v,
								 * the last of join_quals; its change reads
								 * the value before as t<rtindex>.was_v */
	Query	   *eval;			/* NULL: D(k) is whether a row has key k; else
								 * the subquery without its correlation, its
								 * table read from "dt_rows" */
} DtSemiJoin;

/*
 * A relation in the FROM list of an incremental query: a table, or a
 * constant (VALUES, an immutable set-returning function).
 */
typedef struct DtFromRel
{
	Index		rtindex;		/* in the query's range table */
	DtInput    *input;
	List	   *aliases;		/* the column aliases of its FROM item */
	DtSemiJoin *semi;			/* D of a semi- or anti-join: input is its
								 * subquery's table */
	RangeTblEntry *constant;	/* a VALUES list or function whose rows never
								 * change (input NULL) */
	Query	   *level;			/* the level whose range table holds it, as
								 * analysed (of D: its subquery) */
	Bitmapset  *attnums;		/* the columns of input the query reads
								 * through this reference (of D: of its
								 * subquery's table) */
	int			net_no;			/* its change window is netted over
								 * input->net_sets[net_no - 1]; 0: over
								 * input->attnums (analysis.c) */
} DtFromRel;

/*
 * A query level whose FROM list reads base relations, at the end of the
 * partition key's path (recompute.c): the key as an expression over one of
 * its relations, every relation it reads, and the conditions under which a
 * changed row of one relation can touch a partition.  Or a level (a branch
 * of a set operation) whose key is a constant: all its rows are one
 * partition.
 */
typedef struct DtKeyLeaf
{
	Query	   *level;			/* within DtRecompute.query */
	Expr	   *expr;			/* the key, over relation key_rtindex */
	Index		key_rtindex;	/* 0: a constant key (below) */
	Expr	   *expr2;			/* x FULL JOIN y ON x.k = y.k, the key
								 * COALESCE(x.k, y.k): y.k, over relation */
	Index		key_rtindex2;	/* key_rtindex2 (x.k is expr); else 0 */
	bool		side;			/* the key is x.k itself, NULL in y's rows
								 * without a match: it partitions the query
								 * only with y.k, both keys with NULL */
	List	   *const_relids;	/* a constant key: the tables the level reads,
								 * at any depth; it is one partition, touched
								 * by any change of them */
	int			const_nread;	/* and how many times it reads tables */
	List	   *rels;			/* of DtFromRel */
	List	   *from;			/* the FROM list, its joins' conditions kept
								 * only where they see no null-extended row */
	Node	   *quals;			/* the WHERE conditions kept likewise */
	List	   *subs;			/* of DtFromRel: the table of each subquery of
								 * the WHERE, correlated with the key by an
								 * equality, semi->sub its subquery and
								 * linitial(semi->inner_keys) the other side */
} DtKeyLeaf;

/*
 * An output column that partitions the query (recompute.c): the rows of
 * the DT with key v come only from base rows whose key is v, at the ends
 * of the column's path down the query (its leaves).
 */
typedef struct DtKeyColumn
{
	AttrNumber	resno;
	char	   *name;
	Oid			type;
	List	   *leaves;			/* of DtKeyLeaf */
	bool		grouped;		/* a GROUP BY, PARTITION BY or DISTINCT [ON]
								 * expression at some level */
	bool		indexed;		/* an index finds each leaf's key rows */
} DtKeyColumn;

/*
 * Affected-key recompute: the key columns, each partitioning the query;
 * with several, a refresh recomputes the rows whose every key column has
 * one of the values the changes touched in it.
 */
typedef struct DtRecompute
{
	List	   *keys;			/* of DtKeyColumn */
	bool		any;			/* outer joins over equalities
								 * (any_join_keys): a refresh recomputes the
								 * rows whose key column i is one of $2i-1 for
								 * any i, and where any $2i, those whose every
								 * key column is NULL; query unfiltered */
	List	   *edges;			/* any: the joins' equalities (OpExpr of two
								 * Vars of the level), a tree of its tables */
	Query	   *query;			/* the defining query, reading only the rows
								 * whose key i is one of $2i-1 (type[]) or, if
								 * $2i, NULL */
	bool		indexed;		/* an index finds some key's rows */
} DtRecompute;

typedef struct DtAnalysis
{
	Query	   *query;			/* analysed and rewritten defining query */
	Query	   *defining;		/* the defining query as analysed, before
								 * window.c's rewrite: what a full refresh
								 * inserts */
	DtStrategy	strategy;
	char	   *reason;			/* why not incremental; NULL if it is */
	DtRecompute *recompute;		/* DT_STRATEGY_RECOMPUTE only */
	int			nrelations;		/* occurrences of tables in the query */
	bool		always_full;	/* changes cannot be detected: no NO_DATA */
	int			internal;		/* subqueries read from internal DTs
								 * (internal.c): query reads them */
	Query	   *written;		/* internal > 0: the defining query as its
								 * owner wrote it, reading no internal DT:
								 * what a full refresh that sets them aside
								 * inserts */
	List	   *inputs;			/* of DtInput */

	/* The delta-merge plan (DT_STRATEGY_MERGE only). */
	List	   *from;			/* of DtFromRel: the relations, inner-joined */
	Node	   *quals;			/* WHERE and join conditions, one expression */
	List	   *keys;			/* of DtKey */
	List	   *grouping_sets;	/* GROUPING SETS, ROLLUP, CUBE: per set (the
								 * set numbered by its position, from 1), the
								 * Bitmapset of its keys' sortgrouprefs; NIL
								 * for a plain GROUP BY */
	int			empty_set;		/* the number of the empty grouping set, whose
								 * one group has a row even over no rows; 0:
								 * none */
	List	   *aggregates;		/* of DtAggregate */
	List	   *aux_tables;		/* of DtAuxTable */
	bool		rank_subqueries;	/* the subqueries of the select list and
									 * HAVING are window.c's, of one group */
	char	   *rank_index;		/* window.c: the CREATE INDEX that would read
								 * a group's first rows, when none does */
	List	   *input_exprs;	/* expressions x1..xn over the base table */
	List	   *filter_exprs;	/* boolean expressions f1..fn */
} DtAnalysis;

/* ---------------------------------------------------------------------
 * querytree.c
 * ---------------------------------------------------------------------
 */

/* What querytree_inputs finds at every level of a query. */
typedef struct DtQueryInputs
{
	List	   *inputs;			/* of DtInput */
	List	   *rtes;			/* every RTE_RELATION, for permission checks */
#if PG_VERSION_NUM >= 160000
	List	   *perminfos;		/* and their RTEPermissionInfos */
#endif
	int			nrelations;		/* occurrences of tables (not views) */
	bool		locking;		/* FOR UPDATE/SHARE somewhere */
	Oid			system_relid;	/* the first system column read: its table */
	AttrNumber	system_attno;	/* and its number */
} DtQueryInputs;

/* What querytree_facts finds about the functions of (part of) a query. */
typedef struct DtFunctionFacts
{
	bool		time;			/* now(), CURRENT_TIMESTAMP and friends */
	Oid			user_stable;	/* a user-defined non-immutable function */
	bool		whole_row;		/* a whole-row or system column reference */
} DtFunctionFacts;

/* A walk over the items of a FROM list (querytree_walk_from). */
typedef struct DtFromWalk
{
	bool		outer_joins;	/* LEFT and RIGHT JOIN allowed */
	bool		full_joins;		/* and FULL JOIN */
	List	   *rels;			/* of DtFromRel, in FROM order */
	List	   *quals;			/* the conditions of its joins, as written */
	Relids		nullable;		/* rtindexes null-extended by an outer join */
} DtFromWalk;

extern void querytree_inputs(Query *query, DtQueryInputs *result);
extern DtFunctionFacts querytree_facts(Node *node);
extern bool querytree_clock_outside_select_list(Query *query);
extern Node *querytree_flatten_joins(Query *query, Node *node);
extern List *querytree_sublinks(Node *node);
extern char *querytree_catalog_name(Oid funcid);
extern bool querytree_order_dependent_aggregate(Node *node);
extern Query *querytree_drop_exists_lists(Query *query);
extern void querytree_varattnos(Node *node, Index varno, Bitmapset **attnums);
extern int	querytree_count_reads(Query *query, Oid relid);
extern Node *querytree_kept_conditions(Query *query, Node *cond, Relids nullable);
extern char *querytree_walk_from(List *inputs, Query *query, Node *item, DtFromWalk *walk,
								 Node **out);
extern Query *querytree_pull_up(Query *query);
extern Query *querytree_inline_ctes(Query *query);
extern Query *querytree_flatten(Query *query);
extern bool querytree_is_constant(Node *node);
extern char *querytree_input_reason(DtInput *input);

/* ---------------------------------------------------------------------
 * merge.c
 * ---------------------------------------------------------------------
 */
extern char *merge_analyze(Query *query, DtAnalysis *an);
extern bool merge_shaped(Query *query);

/* ---------------------------------------------------------------------
 * window.c
 * ---------------------------------------------------------------------
 */
extern Query *window_rank_rewrite(Query *query, char **index_sql);

/* ---------------------------------------------------------------------
 * recompute.c
 * ---------------------------------------------------------------------
 */
extern char *recompute_analyze(DtAnalysis *an, Oid dtrelid);
extern char *recompute_key_columns(DtAnalysis *an);
extern bool recompute_top_k(Query *query);

/* ---------------------------------------------------------------------
 * internal.c
 * ---------------------------------------------------------------------
 */
extern Query *internal_find(Query *query);
extern Query *internal_find_threshold(Query *query);
extern void internal_replace(Query *query, Oid subrelid);
extern Query *internal_read(Query *query, Oid dtrelid);

/* ---------------------------------------------------------------------
 * analysis.c
 * ---------------------------------------------------------------------
 */
extern Query *analysis_parse_query(const char *sql);
extern void analysis_refuse_search_path(Query *query);
extern DtAnalysis *analysis_analyze(Query *query, Oid dtrelid);
extern void analysis_check_permissions(Query *query);
extern List *analysis_view_reads(Query *query);
extern void analysis_refuse_view_policies(List *rtes);
extern char *analysis_print_definition(Query *query);
extern void analysis_set_tree(DtEntry *entry, Query *query);
extern bool analysis_tree_current(DtEntry *entry);
extern Query *analysis_stored_query(DtEntry *entry);
extern void analysis_renew_tree(DtEntry *entry);

#endif							/* DT_ANALYSIS_H */
