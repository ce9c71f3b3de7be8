/*-------------------------------------------------------------------------
 *
 * querytree.c
 *		Walks over a dynamic table's Query tree that the analyses share.
 *
 * analysis.c decides how a query is maintained with the help of merge.c
 * (delta merge) and recompute.c (affected-key recompute); all three look
 * at the same things of a query, found here:
 *
 *	- the relations it reads at every level (querytree_inputs): each a
 *	  DtInput, with the columns read and whether its changes can be
 *	  captured;
 *	- the same query without the select lists of its EXISTS subqueries,
 *	  which nothing reads (querytree_drop_exists_lists), analysed in its
 *	  place;
 *	- what its functions depend on (querytree_facts): the clock,
 *	  non-immutable functions of users, whole-row and system columns;
 *	- the relations of a FROM list, each with the columns read through it,
 *	  and the conditions of its joins
 *	  (querytree_walk_from), inner joins only for delta merge, inner and
 *	  outer for the leaves of a partition key;
 *	- the same query with its simple subqueries in FROM merged into the
 *	  level that reads them (querytree_pull_up), as the planner does.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/catalog.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/tlist.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "analysis.h"

/* The walk of querytree_inputs: its result, and the enclosing levels. */
typedef struct InputWalk
{
	DtQueryInputs *result;
	List	   *levels;			/* the enclosing queries, innermost first */
} InputWalk;

static bool input_walker(Node *node, InputWalk *walk);
static DtInput *add_input(List **inputs, RangeTblEntry *rte);
static void add_read_column(Bitmapset **attnums, Oid relid, AttrNumber attno);

/*
 * querytree_inputs
 *		Walk every level of query (subqueries, WITH queries, sublinks) and
 *		fill *result: every relation it reads as a DtInput, the columns
 *		read, its RTEs and their permission infos for permission checks,
 *		whether it locks rows, and the first system column it reads.
 *		Refuses temporary relations (see input_walker).
 */
void
querytree_inputs(Query *query, DtQueryInputs *result)
{
	InputWalk	walk = {result, NIL};

	memset(result, 0, sizeof(DtQueryInputs));
	input_walker((Node *) query, &walk);
}

/* relation_has_parent: is relid a partition or an inheritance child? */
static bool
relation_has_parent(Oid relid)
{
	return has_superclass(relid);
}

/*
 * input_walker
 *		Walk every level of the query: record each relation it reads as a
 *		DtInput with the columns used anywhere (a whole-row reference uses
 *		them all), keep its RTEs for permission checks, and note row locks.
 *		Temporary relations are refused: other sessions (the scheduler)
 *		cannot read them.  Views leave a placeholder RTE after rewriting;
 *		their own inputs are what is read.
 */
static bool
input_walker(Node *node, InputWalk *walk)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *query = (Query *) node;
		ListCell   *lc;
		bool		result;

		if (query->rowMarks != NIL || query->hasForUpdate)
			walk->result->locking = true;
#if PG_VERSION_NUM >= 160000
		walk->result->perminfos = list_concat(walk->result->perminfos, query->rteperminfos);
#endif
		foreach(lc, query->rtable)
		{
			RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

			if (rte->rtekind != RTE_RELATION)
				continue;
			walk->result->rtes = lappend(walk->result->rtes, rte);
			if (get_rel_persistence(rte->relid) == RELPERSISTENCE_TEMP)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("dynamic table query cannot read temporary relation \"%s\"",
								get_rel_name(rte->relid))));
			if (get_rel_relkind(rte->relid) != RELKIND_VIEW)
			{
				add_input(&walk->result->inputs, rte);
				walk->result->nrelations++;
			}
		}
		walk->levels = lcons(query, walk->levels);
		/* a join's alias columns count where they are used (below) */
		result = query_tree_walker(query, input_walker, walk, QTW_IGNORE_JOINALIASES);
		walk->levels = list_delete_first(walk->levels);
		return result;
	}
	if (IsA(node, Var))
	{
		Var		   *var = (Var *) node;
		Query	   *query = (Query *) list_nth(walk->levels, var->varlevelsup);
		RangeTblEntry *rte = rt_fetch(var->varno, query->rtable);
		DtInput    *input;

		if (rte->rtekind == RTE_JOIN)
		{
			/* the columns a join column stands for, at the join's level */
			List	   *levels = walk->levels;
			Node	   *alias = var->varattno > 0 ? list_nth(rte->joinaliasvars, var->varattno - 1)
			: (Node *) rte->joinaliasvars;

			walk->levels = list_copy_tail(levels, var->varlevelsup);
			input_walker(alias, walk);
			walk->levels = levels;
			return false;
		}
		if (rte->rtekind != RTE_RELATION || get_rel_relkind(rte->relid) == RELKIND_VIEW)
			return false;
		if (var->varattno < 0 && !OidIsValid(walk->result->system_relid))
		{
			walk->result->system_relid = rte->relid;
			walk->result->system_attno = var->varattno;
		}
		input = add_input(&walk->result->inputs, rte);
		add_read_column(&input->attnums, rte->relid, var->varattno);
		return false;
	}
	return expression_tree_walker(node, input_walker, walk);
}

/*
 * add_read_column
 *		Add column attno of relid, as a Var reads it, to *attnums (offset by
 *		FirstLowInvalidHeapAttributeNumber): a whole-row reference (0) reads
 *		every column but the dropped ones, which keep their places; a
 *		system column is not one a change log records.
 */
static void
add_read_column(Bitmapset **attnums, Oid relid, AttrNumber attno)
{
	if (attno == InvalidAttrNumber)
	{
		Relation	rel = relation_open(relid, AccessShareLock);
		TupleDesc	desc = RelationGetDescr(rel);
		AttrNumber	a;

		for (a = 1; a <= desc->natts; a++)
		{
			if (!TupleDescAttr(desc, a - 1)->attisdropped)
				*attnums = bms_add_member(*attnums, a - FirstLowInvalidHeapAttributeNumber);
		}
		relation_close(rel, AccessShareLock);
	}
	else if (attno > 0)
		*attnums = bms_add_member(*attnums, attno - FirstLowInvalidHeapAttributeNumber);
}

/* The walk of reference_columns: one relation of a level, and the levels entered. */
typedef struct ReferenceWalk
{
	Index		rtindex;
	Oid			relid;
	List	   *levels;			/* innermost first; the relation's level last */
	Bitmapset  *attnums;
} ReferenceWalk;

/*
 * reference_walker
 *		reference_columns' walk: the Vars of the relation at any depth below
 *		its level, those of the joins over it as what they stand for.
 */
static bool
reference_walker(Node *node, ReferenceWalk *walk)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		bool		result;

		walk->levels = lcons(node, walk->levels);
		result = query_tree_walker((Query *) node, reference_walker, walk, QTW_IGNORE_JOINALIASES);
		walk->levels = list_delete_first(walk->levels);
		return result;
	}
	if (IsA(node, Var))
	{
		Var		   *var = (Var *) node;
		int			depth = list_length(walk->levels) - 1;
		RangeTblEntry *rte;

		if (var->varlevelsup > depth)
			return false;		/* a level above the relation's */
		rte = rt_fetch(var->varno, ((Query *) list_nth(walk->levels, var->varlevelsup))->rtable);
		if (rte->rtekind == RTE_JOIN)
		{
			List	   *levels = walk->levels;
			Node	   *alias = var->varattno > 0 ? list_nth(rte->joinaliasvars, var->varattno - 1)
			: (Node *) rte->joinaliasvars;

			walk->levels = list_copy_tail(levels, var->varlevelsup);
			reference_walker(alias, walk);
			walk->levels = levels;
		}
		else if (var->varno == walk->rtindex && var->varlevelsup == depth)
			add_read_column(&walk->attnums, walk->relid, var->varattno);
		return false;
	}
	return expression_tree_walker(node, reference_walker, walk);
}

/*
 * reference_columns
 *		The columns of relation rtindex of level (a table, relid) that the
 *		query reads through that reference: at its level and in the
 *		subqueries below it (offset by FirstLowInvalidHeapAttributeNumber).
 */
static Bitmapset *
reference_columns(Query *level, Index rtindex, Oid relid)
{
	ReferenceWalk walk = {rtindex, relid, NIL, NULL};

	(void) reference_walker((Node *) level, &walk);
	return walk.attnums;
}

/* What count_reads_walker collects: the range table entries of one relation. */
typedef struct CountReadsWalk
{
	Oid			relid;
	List	   *rtes;
} CountReadsWalk;

/*
 * jointree_rtindexes
 *		The range table entries a FROM item (or list) joins, or a set
 *		operation combines, into *rtindexes.
 */
static void
jointree_rtindexes(Node *item, Bitmapset **rtindexes)
{
	ListCell   *lc;

	if (item == NULL)
		return;
	if (IsA(item, RangeTblRef))
		*rtindexes = bms_add_member(*rtindexes, ((RangeTblRef *) item)->rtindex);
	else if (IsA(item, FromExpr))
	{
		foreach(lc, ((FromExpr *) item)->fromlist)
			jointree_rtindexes((Node *) lfirst(lc), rtindexes);
	}
	else if (IsA(item, JoinExpr))
	{
		jointree_rtindexes(((JoinExpr *) item)->larg, rtindexes);
		jointree_rtindexes(((JoinExpr *) item)->rarg, rtindexes);
	}
	else if (IsA(item, SetOperationStmt))
	{
		jointree_rtindexes(((SetOperationStmt *) item)->larg, rtindexes);
		jointree_rtindexes(((SetOperationStmt *) item)->rarg, rtindexes);
	}
}

/*
 * count_reads_walker
 *		querytree_count_reads' walk: the entries of the relation in every
 *		range table, and the subqueries in FROM that a FROM list joins or a
 *		set operation combines (not those querytree_pull_up merged into the
 *		level above, nor the range table entry of D of delta merge's
 *		semi-joins, whose subquery is the one in WHERE).
 */
static bool
count_reads_walker(Node *node, CountReadsWalk *walk)
{
	if (node == NULL)
		return false;
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;

		if (rte->rtekind == RTE_RELATION && rte->relid == walk->relid)
			walk->rtes = list_append_unique_ptr(walk->rtes, rte);
		return false;
	}
	if (IsA(node, Query))
	{
		Query	   *query = (Query *) node;
		Bitmapset  *joined = NULL;
		int			i = -1;

		jointree_rtindexes((Node *) query->jointree, &joined);
		jointree_rtindexes(query->setOperations, &joined);
		while ((i = bms_next_member(joined, i)) >= 0)
		{
			RangeTblEntry *rte = rt_fetch(i, query->rtable);

			if (rte->rtekind == RTE_SUBQUERY)
				(void) count_reads_walker((Node *) rte->subquery, walk);
		}
		return query_tree_walker(query, count_reads_walker, walk,
								 QTW_EXAMINE_RTES_BEFORE | QTW_IGNORE_RT_SUBQUERIES);
	}
	return expression_tree_walker(node, count_reads_walker, walk);
}

/*
 * querytree_count_reads
 *		How many times query reads relation relid: its range table entries
 *		at every level that is read, each once.
 */
int
querytree_count_reads(Query *query, Oid relid)
{
	CountReadsWalk walk = {relid, NIL};

	(void) count_reads_walker((Node *) query, &walk);
	return list_length(walk.rtes);
}

/* all_permanent: are relid and all its partitions and children permanent? */
static bool
all_permanent(Oid relid)
{
	ListCell   *lc;

	if (get_rel_persistence(relid) != RELPERSISTENCE_PERMANENT)
		return false;
	if (!has_subclass(relid))
		return true;
	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
	{
		if (get_rel_persistence(lfirst_oid(lc)) != RELPERSISTENCE_PERMANENT)
			return false;
	}
	return true;
}

/*
 * add_input
 *		The DtInput of a relation, created at first sight.  Its changes can
 *		be captured if it is a permanent table with permanent partitions or
 *		children (a crash empties an unlogged one without a trace in its
 *		log; the backends that replan after it see it), not a system
 *		catalog (they change without DML, and nobody but a superuser
 *		triggers on them), that is not itself a partition or child (DML
 *		through its parent fires only the parent's statement triggers),
 *		read with its children or without any (FROM ONLY would see its
 *		children's changes in its log).
 */
static DtInput *
add_input(List **inputs, RangeTblEntry *rte)
{
	ListCell   *lc;
	DtInput    *input;
	char		relkind = get_rel_relkind(rte->relid);

	foreach(lc, *inputs)
	{
		input = (DtInput *) lfirst(lc);
		if (input->relid == rte->relid)
		{
			if (input->inh != rte->inh)
				input->capturable = false;
			return input;
		}
	}
	input = palloc0(sizeof(DtInput));
	input->relid = rte->relid;
	input->inh = rte->inh;
	input->capturable = (relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE) &&
		!IsCatalogRelationOid(rte->relid) &&
		all_permanent(rte->relid) &&
		!relation_has_parent(rte->relid) &&
		(rte->inh || !has_subclass(rte->relid));
	*inputs = lappend(*inputs, input);
	return input;
}

/*
 * is_time_function: does this node read the clock (now() and friends, and
 * age() of one timestamp, which counts from today's midnight)?
 */
static bool
is_time_function(Node *node)
{
	if (IsA(node, SQLValueFunction))
	{
		switch (((SQLValueFunction *) node)->op)
		{
			case SVFOP_CURRENT_DATE:
			case SVFOP_CURRENT_TIME:
			case SVFOP_CURRENT_TIME_N:
			case SVFOP_CURRENT_TIMESTAMP:
			case SVFOP_CURRENT_TIMESTAMP_N:
			case SVFOP_LOCALTIME:
			case SVFOP_LOCALTIME_N:
			case SVFOP_LOCALTIMESTAMP:
			case SVFOP_LOCALTIMESTAMP_N:
				return true;
			default:
				return false;
		}
	}
	if (IsA(node, FuncExpr))
	{
		Oid			f = ((FuncExpr *) node)->funcid;

		return f == F_NOW || f == F_TRANSACTION_TIMESTAMP || f == F_STATEMENT_TIMESTAMP ||
			f == F_AGE_TIMESTAMP || f == F_AGE_TIMESTAMPTZ;
	}
	return false;
}

/*
 * check_user_stable
 *		A stable function of our own making may read tables we do not watch;
 *		built-in stable functions depend only on their arguments and on the
 *		settings a refresh pins (TimeZone, DateStyle, ...).
 */
static bool
check_user_stable(Oid funcid, void *context)
{
	if (funcid >= FirstNormalObjectId && func_volatile(funcid) != PROVOLATILE_IMMUTABLE)
	{
		*(Oid *) context = funcid;
		return true;
	}
	return false;
}

/*
 * function_facts_walker
 *		Note time-dependent functions, user-defined non-immutable functions
 *		and whole-row or system column references anywhere below node: a
 *		whole-row reference to a join or a subquery is, once flattened, a
 *		ROW() of the columns it stands for, which would print without
 *		their names (row_to_json(j) of FROM (t JOIN u ...) j gave keys f1,
 *		f2...).
 */
static bool
function_facts_walker(Node *node, DtFunctionFacts *facts)
{
	if (node == NULL)
		return false;
	if (is_time_function(node))
		facts->time = true;
	if (!OidIsValid(facts->user_stable))
		check_functions_in_node(node, check_user_stable, &facts->user_stable);
	if (IsA(node, Var) && ((Var *) node)->varattno <= 0)
		facts->whole_row = true;
	if (IsA(node, RowExpr) && ((RowExpr *) node)->row_typeid == RECORDOID &&
		((RowExpr *) node)->colnames != NIL)
		facts->whole_row = true;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, function_facts_walker, facts, 0);
	return expression_tree_walker(node, function_facts_walker, facts);
}

/*
 * querytree_facts
 *		The function facts of node, an expression or a whole Query: does it
 *		read the clock, call a user-defined function that is not IMMUTABLE,
 *		or read a whole row or a system column, anywhere below?
 */
DtFunctionFacts
querytree_facts(Node *node)
{
	DtFunctionFacts facts = {0};

	function_facts_walker(node, &facts);
	return facts;
}

/*
 * clock_in_aggregate_walker: the clock in an aggregate's or window's
 * arguments, in a subquery (which decides what it counts or finds), or in
 * the arguments of a set-returning function (which decide how many rows
 * it returns)?
 */
static bool
clock_in_aggregate_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Aggref) || IsA(node, WindowFunc) || IsA(node, SubLink) ||
		(IsA(node, FuncExpr) && ((FuncExpr *) node)->funcretset) ||
		(IsA(node, OpExpr) && ((OpExpr *) node)->opretset))
		return querytree_facts(node).time;
	return expression_tree_walker(node, clock_in_aggregate_walker, context);
}

/*
 * clock_key_decides_rows
 *		Is the select-list entry of sort/group reference ref (0: none) a key
 *		that decides which rows there are or what they aggregate or rank: a
 *		GROUP BY, DISTINCT or window key, or an ORDER BY under LIMIT or
 *		DISTINCT ON (which picks the first row of each)?  The clock there
 *		groups, dedupes, picks or ranks the rows by the refresh's time.
 */
static bool
clock_key_decides_rows(Query *query, Index ref)
{
	ListCell   *lc;

	if (ref == 0)
		return false;
	if (get_sortgroupref_clause_noerr(ref, query->groupClause) != NULL ||
		get_sortgroupref_clause_noerr(ref, query->distinctClause) != NULL)
		return true;
	if ((query->limitCount != NULL || query->limitOffset != NULL || query->hasDistinctOn) &&
		get_sortgroupref_clause_noerr(ref, query->sortClause) != NULL)
		return true;
	foreach(lc, query->windowClause)
	{
		WindowClause *wc = lfirst_node(WindowClause, lc);

		if (get_sortgroupref_clause_noerr(ref, wc->partitionClause) != NULL ||
			get_sortgroupref_clause_noerr(ref, wc->orderClause) != NULL)
			return true;
	}
	return false;
}

/*
 * querytree_clock_outside_select_list
 *		Does query read the clock anywhere but in its select list outside
 *		aggregates, window functions and subqueries (where it is the time
 *		of the refresh that wrote the row): where it decides which rows
 *		there are or what they aggregate or find, which changes with no
 *		input changing?
 */
bool
querytree_clock_outside_select_list(Query *query)
{
	Query		rest = *query;
	ListCell   *lc;

	rest.targetList = NIL;
	if (querytree_facts((Node *) &rest).time ||
		clock_in_aggregate_walker((Node *) query->targetList, NULL))
		return true;
	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (clock_key_decides_rows(query, tle->ressortgroupref) &&
			querytree_facts((Node *) tle->expr).time)
			return true;
	}
	return false;
}

/* sublinks_walker: the SubLinks of an expression, not looking into them. */
static bool
sublinks_walker(Node *node, List **found)
{
	if (node == NULL)
		return false;
	if (IsA(node, SubLink))
	{
		*found = lappend(*found, node);
		return false;
	}
	return expression_tree_walker(node, sublinks_walker, found);
}

/* querytree_sublinks: the SubLinks of expression node, not those within them. */
List *
querytree_sublinks(Node *node)
{
	List	   *found = NIL;

	(void) sublinks_walker(node, &found);
	return found;
}

/*
 * querytree_catalog_name
 *		The name of function funcid if it is a function of pg_catalog (an
 *		aggregate known by its name: min, max, sum, ...), else NULL.
 */
char *
querytree_catalog_name(Oid funcid)
{
	return get_func_namespace(funcid) == PG_CATALOG_NAMESPACE ? get_func_name(funcid) : NULL;
}

/*
 * order_dependent_walker: an aggregate of a floating-point value but min
 * and max (querytree_order_dependent_aggregate)?
 */
static bool
order_dependent_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Aggref))
	{
		Aggref	   *agg = (Aggref *) node;
		char	   *name;

		if (agg->aggtype == FLOAT4OID || agg->aggtype == FLOAT8OID)
		{
			name = querytree_catalog_name(agg->aggfnoid);
			if (name == NULL || (strcmp(name, "min") != 0 && strcmp(name, "max") != 0))
				return true;
		}
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, order_dependent_walker, context, 0);
	return expression_tree_walker(node, order_dependent_walker, context);
}

/*
 * querytree_order_dependent_aggregate
 *		Does node (a subquery's select list) hold an aggregate of a
 *		floating-point value whose last digits depend on the order it reads
 *		its rows in (sum, avg, the variance family: any but min and max)?
 *		Such a value, kept by a refresh (exactly, floatsum.c) or evaluated
 *		over the rows before a change, is not the one the query computes
 *		over the table in its scan's order: 0.1, 0.2 and 0.3 average
 *		0.20000000000000004 so, 0.2 exactly.  Compared in a condition,
 *		it picks other rows.
 */
bool
querytree_order_dependent_aggregate(Node *node)
{
	return order_dependent_walker(node, NULL);
}

/*
 * outer_aggs_walker
 *		Does an expression of a select list without subqueries hold an
 *		aggregate or GROUPING: one of a query above, then (its own would
 *		make it an aggregate query)?
 */
static bool
outer_aggs_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Aggref) || IsA(node, GroupingFunc))
		return true;
	return expression_tree_walker(node, outer_aggs_walker, context);
}

/*
 * exists_list_unread
 *		Is the select list of sub, the subquery of an EXISTS, read by
 *		nothing: no grouping, aggregate, window, DISTINCT, ORDER BY, LIMIT
 *		or set operation refers to it or depends on it, and it holds no
 *		set-returning function or subquery?  Then the EXISTS is true for
 *		the same rows without it, as PostgreSQL's planner finds
 *		(simplify_EXISTS_query).  Kept, though, where it holds an aggregate
 *		of a query above (SELECT EXISTS (SELECT sum(o.v) FROM u) FROM o o):
 *		that query aggregates because of it, and would keep hasAggs without
 *		an aggregate.  (No strategy maintains the places it can be, the
 *		select list and HAVING of that query, so no answer was wrong; test
 *		semijoins.)
 */
static bool
exists_list_unread(Query *sub)
{
	return sub->commandType == CMD_SELECT && sub->setOperations == NULL && !sub->hasAggs &&
		sub->groupClause == NIL && sub->groupingSets == NIL && sub->havingQual == NULL &&
		!sub->hasWindowFuncs && sub->windowClause == NIL && !sub->hasTargetSRFs &&
		!sub->hasModifyingCTE && sub->distinctClause == NIL && sub->sortClause == NIL &&
		sub->limitCount == NULL && sub->limitOffset == NULL && sub->rowMarks == NIL &&
		!checkExprHasSubLink((Node *) sub->targetList) &&
		!outer_aggs_walker((Node *) sub->targetList, NULL);
}

/* exists_lists_walker: querytree_drop_exists_lists' walk, in place; *dropped if any. */
static bool
exists_lists_walker(Node *node, bool *dropped)
{
	if (node == NULL)
		return false;
	if (IsA(node, SubLink) && ((SubLink *) node)->subLinkType == EXISTS_SUBLINK)
	{
		Query	   *sub = (Query *) ((SubLink *) node)->subselect;

		if (sub->targetList != NIL && exists_list_unread(sub))
		{
			sub->targetList = NIL;
			*dropped = true;
		}
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, exists_lists_walker, dropped, 0);
	return expression_tree_walker(node, exists_lists_walker, dropped);
}

/*
 * querytree_drop_exists_lists
 *		query with the select lists of its EXISTS subqueries dropped where
 *		nothing reads them (exists_list_unread), a copy; query itself if
 *		there is none.  What EXISTS (SELECT * ...) selects is not read: its
 *		columns are neither captured nor read from the change logs (TPC-H
 *		Q4 read every column of lineitem's, Q22 every column of orders').
 */
Query *
querytree_drop_exists_lists(Query *query)
{
	Query	   *copy = copyObject(query);
	bool		dropped = false;

	(void) exists_lists_walker((Node *) copy, &dropped);
	return dropped ? copy : query;
}

/* What varattnos_walker collects: the columns of one relation of a level. */
typedef struct VarattnoWalk
{
	Index		varno;
	Index		depth;			/* subqueries entered below that level */
	Bitmapset  *attnums;
} VarattnoWalk;

/* varattnos_walker: querytree_varattnos' walk, into subqueries too. */
static bool
varattnos_walker(Node *node, VarattnoWalk *walk)
{
	bool		result;

	if (node == NULL)
		return false;
	if (IsA(node, Var))
	{
		Var		   *var = (Var *) node;

		if (var->varno == walk->varno && var->varlevelsup == walk->depth)
			walk->attnums = bms_add_member(walk->attnums,
										   var->varattno - FirstLowInvalidHeapAttributeNumber);
		return false;
	}
	if (IsA(node, Query))
	{
		walk->depth++;
		result = query_tree_walker((Query *) node, varattnos_walker, walk, 0);
		walk->depth--;
		return result;
	}
	return expression_tree_walker(node, varattnos_walker, walk);
}

/*
 * querytree_varattnos
 *		Add to *attnums the columns of relation varno that node reads (offset
 *		by FirstLowInvalidHeapAttributeNumber, as pull_varattnos does),
 *		those a subquery of node reads as an outer reference included:
 *		pull_varattnos does not look into subqueries.
 */
void
querytree_varattnos(Node *node, Index varno, Bitmapset **attnums)
{
	VarattnoWalk walk = {varno, 0, *attnums};

	(void) varattnos_walker(node, &walk);
	*attnums = walk.attnums;
}

/* querytree_flatten_joins: node with join alias Vars replaced by what they stand for. */
Node *
querytree_flatten_joins(Query *query, Node *node)
{
#if PG_VERSION_NUM >= 160000
	return flatten_join_alias_vars(NULL, query, node);
#else
	return flatten_join_alias_vars(query, node);
#endif
}

/*
 * querytree_kept_conditions
 *		The conjuncts of a join or WHERE condition that read no relation
 *		null-extended below it (nullable), as one expression (NULL: none).
 *		Dropping a condition only lets more rows match, so the keys a
 *		partition key's leaf finds are a superset; a condition on
 *		null-extended rows could hide a match.
 */
Node *
querytree_kept_conditions(Query *query, Node *cond, Relids nullable)
{
	List	   *kept = NIL;
	ListCell   *lc;

	foreach(lc, make_ands_implicit((Expr *) querytree_flatten_joins(query, cond)))
	{
		if (!bms_overlap(pull_varnos(NULL, (Node *) lfirst(lc)), nullable))
			kept = lappend(kept, lfirst(lc));
	}
	return kept == NIL ? NULL : (Node *) make_ands_explicit(kept);
}

/* relation_has_row_security: is row-level security enabled on relid? */
static bool
relation_has_row_security(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	bool		rls;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	rls = ((Form_pg_class) GETSTRUCT(tup))->relrowsecurity;
	ReleaseSysCache(tup);
	return rls;
}

/*
 * querytree_input_reason
 *		Why the changes of an input cannot feed an incremental refresh, or
 *		NULL.
 */
char *
querytree_input_reason(DtInput *input)
{
	if (!input->capturable)
		return psprintf("reading \"%s\", whose changes cannot be captured (a system catalog, materialized view, "
						"foreign table, unlogged table, partition or child read directly, or a table read with ONLY)",
						get_rel_name(input->relid));
	if (relation_has_row_security(input->relid))
		return psprintf(DT_MESSAGE_RLS "on \"%s\"", get_rel_name(input->relid));
	return NULL;
}

/*
 * reads_walker
 *		Does an expression or query read a table or a WITH query (at any
 *		level), or a column or aggregate of a query level above it
 *		(context: the levels of Query entered so far)?
 */
static bool
reads_walker(Node *node, int *depth)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
		return ((Var *) node)->varlevelsup >= *depth;
	if (IsA(node, PlaceHolderVar) || IsA(node, Aggref) || IsA(node, GroupingFunc) ||
		IsA(node, WindowFunc))
		return true;
	if (IsA(node, Query))
	{
		Query	   *query = (Query *) node;
		ListCell   *lc;
		bool		result;

		foreach(lc, query->rtable)
		{
			RTEKind		kind = lfirst_node(RangeTblEntry, lc)->rtekind;

			if (kind == RTE_RELATION || kind == RTE_CTE || kind == RTE_NAMEDTUPLESTORE)
				return true;
		}
		(*depth)++;
		result = query_tree_walker(query, reads_walker, depth, 0);
		(*depth)--;
		return result;
	}
	return expression_tree_walker(node, reads_walker, depth);
}

/*
 * querytree_is_constant
 *		Is an expression (or a query) a constant: it reads no table, no
 *		column of any level, no aggregate or window function, not the clock,
 *		and its functions are immutable?
 */
bool
querytree_is_constant(Node *node)
{
	int			depth = 0;

	return !reads_walker(node, &depth) && !contain_mutable_functions(node) &&
		!querytree_facts(node).time;
}

/*
 * constant_relation
 *		*rel: a VALUES list, a set-returning function or a subquery in FROM
 *		whose rows never change (DtFromRel.constant): it reads no table and
 *		no other FROM item (not LATERAL), its functions immutable.  NULL
 *		when the item is not one.  A change of the join it is in is the
 *		change of the other relations joined with it as it is.
 */
static DtFromRel *
constant_relation(RangeTblEntry *rte, Index rtindex)
{
	Node	   *body = rte->rtekind == RTE_VALUES ? (Node *) rte->values_lists
	: rte->rtekind == RTE_FUNCTION ? (Node *) rte->functions : (Node *) rte->subquery;
	DtFromRel  *rel;
	ListCell   *lc;

	if ((rte->rtekind != RTE_VALUES && rte->rtekind != RTE_FUNCTION && rte->rtekind != RTE_SUBQUERY) ||
		rte->lateral || !querytree_is_constant(body))
		return NULL;
	foreach(lc, rte->eref->colnames)
	{
		if (strVal(lfirst(lc))[0] == '\0')
			return NULL;		/* a dropped column of a function's type */
	}
	rel = palloc0(sizeof(DtFromRel));
	rel->rtindex = rtindex;
	rel->constant = rte;
	return rel;
}

/*
 * sign_column_reason
 *		Why a table whose column, as the query names it (its alias, or its
 *		name), is called as the column of signs an incremental refresh adds
 *		next to its columns (source_sql) cannot feed one ("column reference
 *		is ambiguous" where the refresh reads its signs); or NULL.
 */
static char *
sign_column_reason(const char *name, const char *relation)
{
	if (strcmp(name, DT_COL_SIGN) != 0)
		return NULL;
	return psprintf("a column named \"%s\" (of \"%s\"), the name incremental refreshes give their own "
					"column of row signs,", name, relation);
}

/*
 * from_relation
 *		*rel: the table a FROM item of a query level reads, with its input
 *		(one of inputs); or why the item cannot feed an incremental refresh.
 */
static char *
from_relation(List *inputs, Query *query, RangeTblRef *item, DtFromRel **rel)
{
	Index		rtindex = item->rtindex;
	RangeTblEntry *rte = rt_fetch(rtindex, query->rtable);
	ListCell   *lc;
	int			a = -1;
	char	   *reason;

	if (rte->rtekind != RTE_RELATION && (*rel = constant_relation(rte, rtindex)) != NULL)
		return NULL;
	if (rte->rtekind != RTE_RELATION)
		return pstrdup("subqueries, WITH queries, and functions or values lists that are not constant "
					   "(LATERAL, not IMMUTABLE), joined with other FROM items");
	if (rte->tablesample != NULL)
		return pstrdup("TABLESAMPLE");
	*rel = palloc0(sizeof(DtFromRel));
	(*rel)->rtindex = rtindex;
	(*rel)->aliases = rte->alias != NULL ? rte->alias->colnames : NIL;
	foreach(lc, inputs)
	{
		if (((DtInput *) lfirst(lc))->relid == rte->relid)
			(*rel)->input = (DtInput *) lfirst(lc);
	}
	Assert((*rel)->input != NULL);
	(*rel)->level = query;
	(*rel)->attnums = reference_columns(query, rtindex, rte->relid);
	/* the columns of the input the refresh reads, as source_sql names them */
	while ((a = bms_next_member((*rel)->input->attnums, a)) >= 0)
	{
		AttrNumber	attno = a + FirstLowInvalidHeapAttributeNumber;
		const char *name = attno > 0 && attno <= list_length((*rel)->aliases)
		? strVal(list_nth((*rel)->aliases, attno - 1)) : get_attname(rte->relid, attno, true);

		if (name != NULL && (reason = sign_column_reason(name, get_rel_name(rte->relid))) != NULL)
			return reason;
	}
	return querytree_input_reason((*rel)->input);
}

/*
 * querytree_walk_from
 *		The relations of a FROM item into walk->rels (with their inputs,
 *		from inputs), the conditions of its joins into walk->quals, and the
 *		relations on the nullable side of an outer join into
 *		walk->nullable; or why the item cannot be maintained incrementally.
 *		Inner joins only, unless walk->outer_joins allows LEFT and RIGHT
 *		JOIN too, and walk->full_joins FULL JOIN (both sides nullable).
 *		If out is not NULL, *out is a copy of the item whose
 *		join conditions are reduced to what querytree_kept_conditions
 *		keeps.
 */
char *
querytree_walk_from(List *inputs, Query *query, Node *item, DtFromWalk *walk, Node **out)
{
	if (IsA(item, RangeTblRef))
	{
		DtFromRel  *rel = NULL;
		char	   *reason;

		if ((reason = from_relation(inputs, query, (RangeTblRef *) item, &rel)) != NULL)
			return reason;
		walk->rels = lappend(walk->rels, rel);
		if (out != NULL)
			*out = item;
		return NULL;
	}
	if (IsA(item, JoinExpr))
	{
		JoinExpr   *join = (JoinExpr *) item;
		JoinExpr   *copy = out != NULL ? makeNode(JoinExpr) : NULL;
		bool		outer = (join->jointype == JOIN_LEFT || join->jointype == JOIN_RIGHT ||
							 (join->jointype == JOIN_FULL && walk->full_joins));
		int			first = list_length(walk->rels);
		int			nleft;
		char	   *reason;
		int			i;

		/*
		 * A change on either side of an outer join can add or remove
		 * null-extended rows on the other: delta merge refuses them all.
		 */
		if (join->jointype != JOIN_INNER && !(outer && walk->outer_joins))
			return pstrdup(walk->outer_joins ? "FULL JOIN" : "outer joins (LEFT, RIGHT and FULL JOIN)");
		if ((reason = querytree_walk_from(inputs, query, join->larg, walk,
										  copy ? &copy->larg : NULL)) != NULL)
			return reason;
		nleft = list_length(walk->rels);
		if ((reason = querytree_walk_from(inputs, query, join->rarg, walk,
										  copy ? &copy->rarg : NULL)) != NULL)
			return reason;
		if (join->quals != NULL)
			walk->quals = lappend(walk->quals, join->quals);
		if (copy != NULL)
		{
			copy->jointype = join->jointype;
			copy->quals = querytree_kept_conditions(query, join->quals, walk->nullable);
			*out = (Node *) copy;
		}
		for (i = first; i < list_length(walk->rels); i++)
		{
			if ((join->jointype == JOIN_LEFT && i >= nleft) ||
				(join->jointype == JOIN_RIGHT && i < nleft) || join->jointype == JOIN_FULL)
				walk->nullable = bms_add_member(walk->nullable,
												((DtFromRel *) list_nth(walk->rels, i))->rtindex);
		}
		return NULL;
	}
	return pstrdup("this kind of FROM item");
}

/* The WITH query being inlined, and the depth of the walk below its level. */
typedef struct CteInline
{
	CommonTableExpr *cte;
	int			depth;
} CteInline;

/*
 * inline_cte_walker
 *		Replace every reference to ctx->cte (a WITH query of the top level)
 *		by a subquery in FROM, a copy of its query whose references to
 *		outer levels are moved down to where the reference was.
 */
static bool
inline_cte_walker(Node *node, CteInline *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		bool		result;

		ctx->depth++;
		result = query_tree_walker((Query *) node, inline_cte_walker, ctx, QTW_EXAMINE_RTES_BEFORE);
		ctx->depth--;
		return result;
	}
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;

		if (rte->rtekind == RTE_CTE && rte->ctelevelsup == ctx->depth - 1 &&
			strcmp(rte->ctename, ctx->cte->ctename) == 0)
		{
			Query	   *sub = copyObject(castNode(Query, ctx->cte->ctequery));

			if (rte->ctelevelsup > 0)
				IncrementVarSublevelsUp((Node *) sub, rte->ctelevelsup, 1);
			rte->rtekind = RTE_SUBQUERY;
			rte->subquery = sub;
			rte->security_barrier = false;
			rte->ctename = NULL;
			rte->ctelevelsup = 0;
			rte->self_reference = false;
			rte->coltypes = rte->coltypmods = rte->colcollations = NIL;
		}
		return false;
	}
	return expression_tree_walker(node, inline_cte_walker, ctx);
}

/*
 * querytree_inline_ctes
 *		A copy of query with the WITH queries of its top level read as
 *		subqueries in FROM where they are referenced (each reference its own
 *		copy: a query without volatile functions gives the same rows), or
 *		NULL if one is recursive or not a SELECT.
 */
Query *
querytree_inline_ctes(Query *query)
{
	ListCell   *lc;

	if (query->hasRecursive)
		return NULL;
	query = copyObject(query);
	foreach(lc, query->cteList)
	{
		CommonTableExpr *cte = lfirst_node(CommonTableExpr, lc);
		CteInline	ctx = {cte, 0};

		if (cte->cterecursive || !IsA(cte->ctequery, Query) ||
			castNode(Query, cte->ctequery)->commandType != CMD_SELECT)
			return NULL;
		inline_cte_walker((Node *) query, &ctx);
	}
	query->cteList = NIL;
	return query;
}

/* The walk of unjoined_vars_walker: the joins removed from a level, and its depth. */
typedef struct UnjoinedVars
{
	Relids		joins;
	int			depth;
} UnjoinedVars;

/*
 * unjoined_vars_walker
 *		Make the Vars of the level (depth levels up) that the query reads
 *		through one of the joins removed print as the relations they read:
 *		ruleutils names a Var by its syntactic referent, the join's alias.
 */
static bool
unjoined_vars_walker(Node *node, UnjoinedVars *walk)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
	{
		Var		   *var = (Var *) node;

		if (var->varlevelsup == walk->depth && bms_is_member(var->varnosyn, walk->joins))
		{
			var->varnosyn = 0;
			var->varattnosyn = 0;
		}
		return false;
	}
	if (IsA(node, Query))
	{
		bool		result;

		walk->depth++;
		result = query_tree_walker((Query *) node, unjoined_vars_walker, walk, 0);
		walk->depth--;
		return result;
	}
	return expression_tree_walker(node, unjoined_vars_walker, walk);
}

/*
 * inner_joins_as_items
 *		Query (a copy) with each item of its FROM list that is an inner join
 *		(of inner joins) replaced by the items it joins, its conditions
 *		moved to WHERE: the same rows, and items that querytree_pull_up can
 *		merge.  Join alias Vars are replaced by what they stand for first,
 *		and the Vars read through such a join's alias (j.a of FROM (t JOIN
 *		u ...) j) named by their tables (unjoined_vars_walker); the join's
 *		range table entry, read by nothing, is left empty.
 */
static Query *
inner_joins_as_items(Query *query)
{
	List	   *items = NIL;
	List	   *conds = NIL;
	List	   *todo;
	UnjoinedVars unjoined = {NULL, 0};

	query->targetList = (List *) querytree_flatten_joins(query, (Node *) query->targetList);
	query->havingQual = querytree_flatten_joins(query, query->havingQual);
	query->jointree = (FromExpr *) querytree_flatten_joins(query, (Node *) query->jointree);
	todo = list_copy(query->jointree->fromlist);
	while (todo != NIL)
	{
		Node	   *item = linitial(todo);
		JoinExpr   *join = (JoinExpr *) item;

		todo = list_delete_first(todo);
		if (IsA(item, JoinExpr) && join->jointype == JOIN_INNER)
		{
			RangeTblEntry *rte = rt_fetch(join->rtindex, query->rtable);

			todo = lcons(join->rarg, todo);
			todo = lcons(join->larg, todo);
			conds = list_concat(conds, make_ands_implicit((Expr *) join->quals));
			unjoined.joins = bms_add_member(unjoined.joins, join->rtindex);
			/* read by nothing now (its alias Vars flattened) */
			rte->rtekind = RTE_RESULT;
			rte->jointype = JOIN_INNER;
			rte->joinaliasvars = rte->joinleftcols = rte->joinrightcols = NIL;
			rte->joinmergedcols = 0;
			rte->join_using_alias = NULL;
		}
		else
			items = lappend(items, item);
	}
	conds = list_concat(make_ands_implicit((Expr *) query->jointree->quals), conds);
	query->jointree = makeFromExpr(items, conds == NIL ? NULL : (Node *) make_ands_explicit(conds));
	(void) query_tree_walker(query, unjoined_vars_walker, &unjoined, 0);
	return query;
}

/* jointree_relids: the range table indexes a join tree reads. */
static bool
jointree_relids(Node *node, Relids *relids)
{
	if (node == NULL)
		return false;
	if (IsA(node, RangeTblRef))
		*relids = bms_add_member(*relids, ((RangeTblRef *) node)->rtindex);
	else if (IsA(node, JoinExpr))
		*relids = bms_add_member(*relids, ((JoinExpr *) node)->rtindex);
	else if (!IsA(node, FromExpr) && !IsA(node, List))
		return false;
	return expression_tree_walker(node, jointree_relids, relids);
}

/*
 * without_dead_subqueries
 *		Query with the subqueries that querytree_pull_up merged, whose range
 *		table entries nothing reads, made empty (their columns NULL), so
 *		that querytree_inputs counts each table as often as it is read.
 */
static Query *
without_dead_subqueries(Query *query)
{
	Relids		read = NULL;
	ListCell   *lc;

	jointree_relids((Node *) query->jointree, &read);
	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);
		Query	   *empty;
		ListCell   *lt;

		if (rte->rtekind != RTE_SUBQUERY || bms_is_member(foreach_current_index(lc) + 1, read))
			continue;
		empty = makeNode(Query);
		empty->commandType = CMD_SELECT;
		empty->canSetTag = true;
		empty->jointree = makeFromExpr(NIL, NULL);
		foreach(lt, rte->subquery->targetList)
		{
			TargetEntry *tle = lfirst_node(TargetEntry, lt);

			empty->targetList = lappend(empty->targetList,
										makeTargetEntry((Expr *) makeNullConst(exprType((Node *) tle->expr),
																			   exprTypmod((Node *) tle->expr),
																			   exprCollation((Node *) tle->expr)),
														tle->resno, tle->resname, tle->resjunk));
		}
		rte->subquery = empty;
	}
	return query;
}

/*
 * querytree_flatten
 *		A copy of query reading what its simple subqueries and WITH queries
 *		in FROM read, as the planner does: WITH queries inlined
 *		(querytree_inline_ctes), at every level of subqueries in FROM, inner
 *		joins made items of the FROM list, and simple subqueries merged
 *		(querytree_pull_up); a set operation's branches are flattened each.
 *		NULL if a WITH query cannot be inlined.  The same rows, from as few
 *		levels as can be.
 */
Query *
querytree_flatten(Query *query)
{
	ListCell   *lc;

	if ((query = querytree_inline_ctes(query)) == NULL)
		return NULL;
	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (rte->rtekind == RTE_SUBQUERY && (rte->subquery = querytree_flatten(rte->subquery)) == NULL)
			return NULL;
	}
	/* the branches of UNION, INTERSECT or EXCEPT are read by setOperations */
	if (query->setOperations != NULL)
		return query;
	return without_dead_subqueries(querytree_pull_up(inner_joins_as_items(query)));
}

/*
 * simple_subquery
 *		Is this range table entry a subquery in FROM that is only a join of
 *		relations under conditions, computing its columns row by row (no
 *		aggregate, grouping, DISTINCT, window, LIMIT, set operation, WITH
 *		query, set-returning function in its select list, row lock or
 *		LATERAL reference; subqueries in its expressions go with them)?  Then its rows are
 *		those of its FROM list's join under its WHERE, and the level that
 *		reads it may read that join instead.
 */
static bool
simple_subquery(RangeTblEntry *rte)
{
	Query	   *sub = rte->subquery;

	return rte->rtekind == RTE_SUBQUERY && !rte->lateral &&
		sub->commandType == CMD_SELECT && sub->setOperations == NULL &&
		!sub->hasAggs && sub->groupClause == NIL && sub->groupingSets == NIL &&
		sub->havingQual == NULL && !sub->hasWindowFuncs && !sub->hasTargetSRFs &&
		sub->distinctClause == NIL && sub->limitCount == NULL && sub->limitOffset == NULL &&
		sub->rowMarks == NIL && !sub->hasForUpdate && sub->cteList == NIL &&
		!sub->hasRecursive && sub->jointree->fromlist != NIL;
}

/*
 * pull_up_item
 *		Query with the simple subquery that item n of its FROM list reads
 *		merged into it: the subquery's relations appended to the range
 *		table, its FROM items in place of item n, its WHERE conjoined with
 *		the level's, and every column of it replaced by its expression.
 *		The subquery's own range table entry stays, read by nothing.
 */
static Query *
pull_up_item(Query *query, int n)
{
	Index		rtindex = castNode(RangeTblRef, list_nth(query->jointree->fromlist, n))->rtindex;
	RangeTblEntry *rte = rt_fetch(rtindex, query->rtable);
	Query	   *sub = querytree_pull_up(rte->subquery);
	bool		sublinks = false;
	List	   *fromlist;
	List	   *conds;

	OffsetVarNodes((Node *) sub, list_length(query->rtable), 0);
#if PG_VERSION_NUM >= 160000
	CombineRangeTables(&query->rtable, &query->rteperminfos, sub->rtable, sub->rteperminfos);
#else
	query->rtable = list_concat(query->rtable, sub->rtable);
#endif
	query = (Query *) ReplaceVarsFromTargetList((Node *) query, rtindex, 0, rte, sub->targetList,
												REPLACEVARS_REPORT_ERROR, 0, &sublinks);
	fromlist = list_copy_head(query->jointree->fromlist, n);
	fromlist = list_concat(fromlist, sub->jointree->fromlist);
	fromlist = list_concat(fromlist, list_copy_tail(query->jointree->fromlist, n + 1));
	conds = list_concat(make_ands_implicit((Expr *) query->jointree->quals),
						make_ands_implicit((Expr *) sub->jointree->quals));
	query->jointree = makeFromExpr(fromlist, conds == NIL ? NULL : (Node *) make_ands_explicit(conds));
	query->hasSubLinks |= sub->hasSubLinks;
	return query;
}

/*
 * querytree_pull_up
 *		A copy of query whose simple subqueries in FROM (simple_subquery),
 *		items of its top FROM list (so joined with the rest by inner
 *		joins), are merged into it, theirs first, as the planner's
 *		pull_up_subqueries does: the same rows, from one level that reads
 *		relations.  The copy is for analysis and SQL of our own; its range
 *		table keeps the subqueries' entries, read by nothing.
 */
Query *
querytree_pull_up(Query *query)
{
	int			n;

	query = copyObject(query);
	n = 0;
	while (n < list_length(query->jointree->fromlist))
	{
		Node	   *item = (Node *) list_nth(query->jointree->fromlist, n);

		if (IsA(item, RangeTblRef) &&
			simple_subquery(rt_fetch(((RangeTblRef *) item)->rtindex, query->rtable)))
			query = pull_up_item(query, n);
		else
			n++;
	}
	return query;
}
