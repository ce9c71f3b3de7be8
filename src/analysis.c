/*-------------------------------------------------------------------------
 *
 * analysis.c
 *		Parse a dynamic table's defining query and decide how to maintain it.
 *
 * PostgreSQL parses, analyses and rewrites the query; this file only walks
 * the resulting Query tree (DESIGN.md, principle 2).  It refuses what no
 * dynamic table may contain (anything but one SELECT, volatile functions,
 * temporary tables) with an error, and for the rest decides between:
 *
 *	- delta merge: a grouped query over one table, or over tables joined
 *	  with inner joins, whose aggregates all have a maintainable state, see
 *	  DtAggKind;
 *	- affected-key recompute: a query that an output column partitions
 *	  (recompute.c);
 *	- full: anything else, with the reason in words for refresh_mode_reason.
 *
 * The result, a DtAnalysis, is rebuilt from the stored Query tree in every
 * backend that refreshes the table; it holds no catalog state of its own.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/catalog.h"
#include "catalog/heap.h"
#include "catalog/namespace.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_am.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/analyze.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteHandler.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/regproc.h"
#include "utils/ruleutils.h"
#include "utils/guc.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "pg_dynamic_tables.h"

static bool find_volatile_walker(Node *node, Oid *funcid);
static bool check_volatile_func(Oid funcid, void *context);

/* What a walk over every level of the query collects about its inputs. */
typedef struct InputWalk
{
	List	   *inputs;			/* of DtInput */
	List	   *rtes;			/* every RTE_RELATION, for permission checks */
#if PG_VERSION_NUM >= 160000
	List	   *perminfos;		/* and their RTEPermissionInfos */
#endif
	List	   *levels;			/* the enclosing queries, innermost first */
	int			nrelations;		/* occurrences of tables (not views) */
	bool		locking;		/* FOR UPDATE/SHARE somewhere */
	Oid			system_relid;	/* the first system column read: its table */
	AttrNumber	system_attno;	/* and its number */
} InputWalk;

static bool input_walker(Node *node, InputWalk *walk);
static DtInput *add_input(List **inputs, RangeTblEntry *rte);
static bool is_time_function(Node *node);

/* What a walk over (part of) the query found about its functions. */
typedef struct FunctionFacts
{
	bool		time;			/* now(), CURRENT_TIMESTAMP and friends */
	Oid			user_stable;	/* a user-defined non-immutable function */
	bool		whole_row;		/* a whole-row or system column reference */
} FunctionFacts;

static bool function_facts_walker(Node *node, FunctionFacts *facts);
static bool check_user_stable(Oid funcid, void *context);
static char *analyze_grouped_query(Query *query, DtAnalysis *an);
static bool merge_shaped(Query *query);
static char *recompute_functions_reason(Query *query, FunctionFacts *facts);
static bool clock_in_aggregate_walker(Node *node, void *context);
static char *input_reason(DtInput *input);
static FunctionFacts facts_of(Node *node);

/*
 * query_error_callback
 *		Report positions of errors in the defining query within its own
 *		text, not within the statement that called the function.
 */
static void
query_error_callback(void *arg)
{
	int			position = geterrposition();

	if (position > 0)
	{
		errposition(0);
		internalerrposition(position);
		internalerrquery((const char *) arg);
	}
}

/*
 * analysis_parse_query
 *		Parse, analyse and rewrite the text of a defining query.
 *
 * Raises an error for anything that can never be a dynamic table's query:
 * not exactly one SELECT, SELECT INTO, FOR UPDATE, parameters, volatile
 * functions, temporary tables.  Relations read are locked AccessShare by the
 * analyser, as for any query.  The result is allocated in the caller's
 * memory context.
 */
Query *
analysis_parse_query(const char *sql)
{
	List	   *raw;
	RawStmt    *rawstmt;
	Query	   *query;
	List	   *rewritten;
	Oid			volatile_func = InvalidOid;
	InputWalk	walk = {0};
	ErrorContextCallback callback;

	callback.callback = query_error_callback;
	callback.arg = (void *) sql;
	callback.previous = error_context_stack;
	error_context_stack = &callback;

	raw = pg_parse_query(sql);
	if (list_length(raw) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("dynamic table query must be a single SELECT statement"),
				 errdetail("The query text contains %d statements.", list_length(raw))));
	rawstmt = linitial_node(RawStmt, raw);
	if (!IsA(rawstmt->stmt, SelectStmt))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("dynamic table query must be a SELECT statement")));
	if (((SelectStmt *) rawstmt->stmt)->intoClause != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("dynamic table query cannot use SELECT INTO")));

	query = parse_analyze_fixedparams(rawstmt, sql, NULL, 0, NULL);
	if (query->commandType != CMD_SELECT || query->utilityStmt != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("dynamic table query must be a SELECT statement")));
	if (query->hasModifyingCTE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("dynamic table query cannot contain data-modifying statements in WITH")));
	rewritten = QueryRewrite(query);
	if (list_length(rewritten) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("dynamic table query must rewrite to a single SELECT statement")));
	query = linitial_node(Query, rewritten);

	if (find_volatile_walker((Node *) query, &volatile_func))
	{
		if (OidIsValid(volatile_func))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("dynamic table query cannot use volatile function %s",
							format_procedure(volatile_func)),
					 errdetail("A dynamic table must be reproducible from its query; a volatile function gives a different answer on every evaluation.")));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("dynamic table query cannot use sequence functions")));
	}

	/* Rejects temporary relations; the inputs are collected later. */
	input_walker((Node *) query, &walk);
	if (walk.locking)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("dynamic table query cannot use FOR UPDATE or FOR SHARE"),
				 errdetail("Every refresh would lock the rows it reads against their writers.")));

	error_context_stack = callback.previous;
	return query;
}

/*
 * analysis_print_definition
 *		The query as PostgreSQL prints it, for parsing again later (after a
 *		restore, or pg_upgrade to another major version, whose stored trees
 *		differ): with the DT's settings pinned (catalog_pin_settings), so
 *		search_path is pg_catalog and every other name is qualified, and
 *		not "pretty", which could leave out parentheses a later version
 *		needs (as pg_dump prints views and triggers).
 */
char *
analysis_print_definition(Query *query)
{
	return pg_get_querydef(query, false);
}

/*
 * analysis_stored_query
 *		The analysed query of a DT: its stored tree, or, when a PostgreSQL
 *		of another major version wrote that tree (pg_upgrade), its
 *		definition parsed again under its settings.
 */
Query *
analysis_stored_query(DtEntry *entry)
{
	Query	   *query;
	int			guc_level;

	if (entry->tree_major == PG_MAJORVERSION_NUM)
		return (Query *) stringToNode(entry->query_tree);
	if (entry->definition == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot read the query of dynamic table \"%s\"", get_rel_name(entry->relid)),
				 errdetail("It was stored by PostgreSQL %d, without the text to parse it again.",
						   entry->tree_major),
				 errhint("Drop the dynamic table and create it again.")));
	guc_level = settings_pin(entry->settings);
	query = analysis_parse_query(entry->definition);
	AtEOXact_GUC(false, guc_level);
	return query;
}

/*
 * analysis_check_permissions
 *		The current user may read every relation the query reads, at every
 *		level (a subquery, a CTE, a sublink) and every column it uses.
 */
void
analysis_check_permissions(Query *query)
{
	InputWalk	walk = {0};

	input_walker((Node *) query, &walk);
#if PG_VERSION_NUM >= 160000
	ExecCheckPermissions(walk.rtes, walk.perminfos, true);
#else
	ExecCheckRTPerms(walk.rtes, true);
#endif
}

/* find_volatile_walker: true at the first volatile function (or nextval). */
static bool
find_volatile_walker(Node *node, Oid *funcid)
{
	if (node == NULL)
		return false;
	if (IsA(node, NextValueExpr))
		return true;
	if (check_functions_in_node(node, check_volatile_func, funcid))
		return true;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, find_volatile_walker, funcid, 0);
	return expression_tree_walker(node, find_volatile_walker, funcid);
}

static bool
check_volatile_func(Oid funcid, void *context)
{
	if (func_volatile(funcid) == PROVOLATILE_VOLATILE)
	{
		*(Oid *) context = funcid;
		return true;
	}
	return false;
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
			walk->locking = true;
#if PG_VERSION_NUM >= 160000
		walk->perminfos = list_concat(walk->perminfos, query->rteperminfos);
#endif
		foreach(lc, query->rtable)
		{
			RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

			if (rte->rtekind != RTE_RELATION)
				continue;
			walk->rtes = lappend(walk->rtes, rte);
			if (get_rel_persistence(rte->relid) == RELPERSISTENCE_TEMP)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("dynamic table query cannot read temporary relation \"%s\"",
								get_rel_name(rte->relid))));
			if (get_rel_relkind(rte->relid) != RELKIND_VIEW)
			{
				add_input(&walk->inputs, rte);
				walk->nrelations++;
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
		if (var->varattno < 0 && !OidIsValid(walk->system_relid))
		{
			walk->system_relid = rte->relid;
			walk->system_attno = var->varattno;
		}
		input = add_input(&walk->inputs, rte);
		if (var->varattno == InvalidAttrNumber)
		{
			Relation	rel = relation_open(rte->relid, AccessShareLock);
			int			natts = RelationGetNumberOfAttributes(rel);
			AttrNumber	a;

			relation_close(rel, AccessShareLock);

			for (a = 1; a <= natts; a++)
				input->attnums = bms_add_member(input->attnums,
												a - FirstLowInvalidHeapAttributeNumber);
		}
		else if (var->varattno > 0)
			input->attnums = bms_add_member(input->attnums,
											var->varattno - FirstLowInvalidHeapAttributeNumber);
		return false;
	}
	return expression_tree_walker(node, input_walker, walk);
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
 * analysis_analyze
 *		Decide how a parsed defining query is maintained; dtrelid is the DT
 *		(InvalidOid while it is being created).
 *
 * Always succeeds: a query that cannot be maintained incrementally gets
 * strategy DT_STRATEGY_FULL and the reason.  The caller decides whether the
 * requested refresh_mode allows that.
 */
DtAnalysis *
analysis_analyze(Query *query, Oid dtrelid)
{
	DtAnalysis *an = palloc0(sizeof(DtAnalysis));
	FunctionFacts facts = {0};
	ListCell   *lc;
	char	   *reason;

	an->query = query;
	{
		InputWalk	walk = {0};

		input_walker((Node *) query, &walk);
		an->inputs = walk.inputs;
		an->nrelations = walk.nrelations;

		/*
		 * A DT's input that was not captured when the DT was made (say an
		 * unlogged table, since SET LOGGED) has no log to read: refreshed in
		 * full.  (A table a restore is making a DT has none yet.)
		 */
		if (OidIsValid(dtrelid) && catalog_is_dynamic_table(dtrelid))
		{
			foreach(lc, an->inputs)
			{
				DtInput    *input = (DtInput *) lfirst(lc);

				if (input->capturable && !capture_relation_is_captured(input->relid))
					input->capturable = false;
			}
		}

		/*
		 * A system column (xmin, ctid, tableoid, ...) changes in an UPDATE
		 * that leaves the columns the change log records as they were, and
		 * such an UPDATE writes nothing to it: every refresh is full.
		 */
		if (OidIsValid(walk.system_relid))
		{
			an->always_full = true;
			an->reason = psprintf("system column \"%s\" of \"%s\"",
								  NameStr(SystemAttributeDefinition(walk.system_attno)->attname),
								  get_rel_name(walk.system_relid));
			return an;
		}
	}

	/*
	 * Without a capturable input, or with functions whose results change
	 * without any input changing, a refresh cannot tell "nothing changed".
	 */
	foreach(lc, an->inputs)
	{
		if (!((DtInput *) lfirst(lc))->capturable)
			an->always_full = true;
	}
	if (an->inputs == NIL)
		an->always_full = true;
	query_tree_walker(query, function_facts_walker, &facts, 0);
	if (OidIsValid(facts.user_stable))
		an->always_full = true;

	an->reason = analyze_grouped_query(query, an);
	if (an->reason == NULL)
	{
		an->strategy = DT_STRATEGY_MERGE;
		return an;
	}
	an->query = query;
	an->from = NIL;
	an->quals = NULL;
	an->keys = an->aggregates = an->aux_tables = NIL;
	an->input_exprs = an->filter_exprs = NIL;
	reason = recompute_functions_reason(query, &facts);
	if (reason == NULL)
		reason = recompute_analyze(an, dtrelid);
	if (reason == NULL)
	{
		an->strategy = DT_STRATEGY_RECOMPUTE;
		an->reason = NULL;
	}
	else if (!merge_shaped(query))
		an->reason = reason;
	return an;
}

/*
 * merge_shaped
 *		Is the query of the shape delta merge maintains, one grouped level
 *		over relations?  Then why merge refused it says more than why no
 *		column partitions it.
 */
static bool
merge_shaped(Query *query)
{
	ListCell   *lc;

	if (query->setOperations != NULL || query->cteList != NIL || query->hasWindowFuncs ||
		query->hasDistinctOn || query->groupingSets != NIL ||
		(!query->hasAggs && query->groupClause == NIL))
		return false;
	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (rte->rtekind != RTE_RELATION && rte->rtekind != RTE_JOIN)
			return false;
	}
	return true;
}

/*
 * recompute_functions_reason
 *		Why the functions of a query rule affected-key recompute out, or
 *		NULL: a user-defined function that is not IMMUTABLE anywhere, the
 *		clock anywhere but in the select list (where it is the time of the
 *		refresh that wrote the row).  facts: those of the whole query.
 */
static char *
recompute_functions_reason(Query *query, FunctionFacts *facts)
{
	Query		rest = *query;
	FunctionFacts outside = {0};

	if (OidIsValid(facts->user_stable))
		return psprintf("function %s, which is not IMMUTABLE", format_procedure(facts->user_stable));
	rest.targetList = NIL;
	query_tree_walker(&rest, function_facts_walker, &outside, 0);
	if (outside.time || clock_in_aggregate_walker((Node *) query->targetList, NULL))
		return pstrdup("the current time (now(), CURRENT_TIMESTAMP, ...) outside the select list");
	return NULL;
}

/* clock_in_aggregate_walker: the clock in an aggregate's or window's arguments? */
static bool
clock_in_aggregate_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Aggref) || IsA(node, WindowFunc))
		return facts_of(node).time;
	return expression_tree_walker(node, clock_in_aggregate_walker, context);
}

/*
 * function_facts_walker
 *		Note time-dependent functions, user-defined non-immutable functions
 *		and whole-row or system column references anywhere below node.
 */
static bool
function_facts_walker(Node *node, FunctionFacts *facts)
{
	if (node == NULL)
		return false;
	if (is_time_function(node))
		facts->time = true;
	if (!OidIsValid(facts->user_stable))
		check_functions_in_node(node, check_user_stable, &facts->user_stable);
	if (IsA(node, Var) && ((Var *) node)->varattno <= 0)
		facts->whole_row = true;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, function_facts_walker, facts, 0);
	return expression_tree_walker(node, function_facts_walker, facts);
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

/* is_time_function: does this node read the clock (now() and friends)? */
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

		return f == F_NOW || f == F_TRANSACTION_TIMESTAMP || f == F_STATEMENT_TIMESTAMP;
	}
	return false;
}

/*
 * analysis_key_reason
 *		Why an expression over a table cannot be a partition key, or NULL:
 *		whole-row references and system columns, or the clock.
 */
char *
analysis_key_reason(Node *expr)
{
	FunctionFacts facts = facts_of(expr);

	if (facts.whole_row)
		return pstrdup("whole-row references and system columns");
	if (facts.time)
		return pstrdup("the current time (now(), CURRENT_TIMESTAMP, ...) in a partition key");
	return NULL;
}

/* facts_of: the function facts of one expression. */
static FunctionFacts
facts_of(Node *node)
{
	FunctionFacts facts = {0};

	function_facts_walker(node, &facts);
	return facts;
}

/*
 * expr_index
 *		Position (1-based) of an expression in a list, compared with equal();
 *		appended if absent.
 */
static int
expr_index(List **list, Expr *expr)
{
	ListCell   *lc;
	int			i = 0;

	foreach(lc, *list)
	{
		i++;
		if (equal(lfirst(lc), expr))
			return i;
	}
	*list = lappend(*list, expr);
	return list_length(*list);
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

/* has_btree_opclass: can values of this type be sorted and indexed? */
static bool
has_btree_opclass(Oid type)
{
	return OidIsValid(GetDefaultOpClass(type, BTREE_AM_OID));
}

/* What aggregate is this, and over which kind of arithmetic? */
typedef struct AggInfo
{
	const char *name;
	DtAggKind	kind;
} AggInfo;

static const AggInfo known_aggregates[] = {
	{"count", DT_AGG_COUNT},
	{"sum", DT_AGG_SUM},
	{"avg", DT_AGG_AVG},
	{"variance", DT_AGG_VAR_SAMP},
	{"var_samp", DT_AGG_VAR_SAMP},
	{"var_pop", DT_AGG_VAR_POP},
	{"stddev", DT_AGG_STDDEV_SAMP},
	{"stddev_samp", DT_AGG_STDDEV_SAMP},
	{"stddev_pop", DT_AGG_STDDEV_POP},
	{"min", DT_AGG_MIN},
	{"max", DT_AGG_MAX},
	{"percentile_cont", DT_AGG_PERCENTILE_CONT},
	{"percentile_disc", DT_AGG_PERCENTILE_DISC},
	{"bool_and", DT_AGG_BOOL_AND},
	{"every", DT_AGG_BOOL_AND},
	{"bool_or", DT_AGG_BOOL_OR},
};

/* sum_domain: the state arithmetic of sum/avg/variance over a type. */
static DtSumDomain
sum_domain(Oid type, DtAggKind kind)
{
	switch (type)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
			return DT_DOMAIN_INTEGER;
		case NUMERICOID:
			return DT_DOMAIN_NUMERIC;
		case FLOAT4OID:
		case FLOAT8OID:
			return DT_DOMAIN_FLOAT;
		case INTERVALOID:
			return (kind == DT_AGG_SUM || kind == DT_AGG_AVG) ? DT_DOMAIN_INTERVAL : DT_DOMAIN_NONE;
		case MONEYOID:
			return kind == DT_AGG_SUM ? DT_DOMAIN_MONEY : DT_DOMAIN_NONE;
		default:
			return DT_DOMAIN_NONE;
	}
}

/* aux_table_for: the auxiliary table holding values of a type, created on demand. */
static DtAuxTable *
aux_table_for(DtAnalysis *an, Oid type, int32 typmod, Oid collation)
{
	ListCell   *lc;
	DtAuxTable *aux;

	foreach(lc, an->aux_tables)
	{
		aux = (DtAuxTable *) lfirst(lc);
		if (aux->valtype == type && aux->valtypmod == typmod &&
			aux->valcollation == collation)
			return aux;
	}
	aux = palloc0(sizeof(DtAuxTable));
	aux->no = list_length(an->aux_tables) + 1;
	aux->valtype = type;
	aux->valtypmod = typmod;
	aux->valcollation = collation;
	an->aux_tables = lappend(an->aux_tables, aux);
	return aux;
}

/* aux_item_for: the item of (argument, filter) in its auxiliary table. */
static void
assign_aux_item(DtAnalysis *an, DtAggregate *agg)
{
	DtAuxTable *aux = aux_table_for(an, agg->argtype, agg->argtypmod, agg->argcollation);
	ListCell   *lc;
	DtAuxItem  *item;

	agg->aux_no = aux->no;
	foreach(lc, aux->items)
	{
		item = (DtAuxItem *) lfirst(lc);
		if (item->input_no == agg->input_no && item->filter_no == agg->filter_no)
		{
			agg->aux_item = item->j;
			return;
		}
	}
	item = palloc0(sizeof(DtAuxItem));
	item->j = list_length(aux->items) + 1;
	item->input_no = agg->input_no;
	item->filter_no = agg->filter_no;
	aux->items = lappend(aux->items, item);
	agg->aux_item = item->j;
}

/*
 * classify_aggregate
 *		Fill in a DtAggregate for an Aggref, or return the reason it cannot
 *		be maintained incrementally.
 */
static char *
classify_aggregate(DtAnalysis *an, Aggref *aggref, DtAggregate *agg)
{
	HeapTuple	proctup;
	Form_pg_proc procform;
	char	   *name;
	bool		found = false;
	int			i;

	if (aggref->agglevelsup != 0)
		return pstrdup("aggregates of an outer query level");

	proctup = SearchSysCache1(PROCOID, ObjectIdGetDatum(aggref->aggfnoid));
	if (!HeapTupleIsValid(proctup))
		elog(ERROR, "cache lookup failed for function %u", aggref->aggfnoid);
	procform = (Form_pg_proc) GETSTRUCT(proctup);
	name = pstrdup(NameStr(procform->proname));
	if (procform->pronamespace == PG_CATALOG_NAMESPACE)
	{
		for (i = 0; i < lengthof(known_aggregates); i++)
		{
			if (strcmp(name, known_aggregates[i].name) == 0)
			{
				agg->kind = known_aggregates[i].kind;
				found = true;
				break;
			}
		}
	}
	ReleaseSysCache(proctup);
	if (!found)
		return psprintf("aggregate function %s()", name);

	agg->aggref = aggref;
	agg->filter = aggref->aggfilter;
	agg->restype = aggref->aggtype;
	agg->restypmod = -1;

	if (agg->kind == DT_AGG_PERCENTILE_CONT || agg->kind == DT_AGG_PERCENTILE_DISC)
	{
		Node	   *direct;
		Const	   *c;

		if (list_length(aggref->aggdirectargs) != 1 || list_length(aggref->args) != 1)
			return psprintf("%s() with this argument list", name);
		direct = eval_const_expressions(NULL, linitial(aggref->aggdirectargs));
		if (!IsA(direct, Const) || ((Const *) direct)->consttype != FLOAT8OID)
			return psprintf("%s() with a fraction that is not a constant number", name);
		c = (Const *) direct;
		if (c->constisnull)
			return psprintf("%s() with a NULL fraction", name);
		agg->fraction = DatumGetFloat8(c->constvalue);
		{
			SortGroupClause *sort = linitial_node(SortGroupClause, aggref->aggorder);
			TypeCacheEntry *tc = lookup_type_cache(exprType((Node *) ((TargetEntry *) linitial(aggref->args))->expr),
												   TYPECACHE_LT_OPR);

			if (sort->sortop != tc->lt_opr)
				return psprintf("%s() ordered by DESC or USING", name);
		}
		if (agg->fraction < 0 || agg->fraction > 1 || isnan(agg->fraction))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("percentile value %g is not between 0 and 1", agg->fraction)));
		agg->arg = ((TargetEntry *) linitial(aggref->args))->expr;
	}
	else
	{
		if (aggref->aggorder != NIL)
			return psprintf("ORDER BY inside aggregate %s()", name);
		if (aggref->aggstar)
		{
			agg->kind = DT_AGG_COUNT_STAR;
			agg->arg = NULL;
		}
		else
		{
			if (list_length(aggref->args) != 1)
				return psprintf("aggregate %s() with %d arguments", name, list_length(aggref->args));
			agg->arg = ((TargetEntry *) linitial(aggref->args))->expr;
		}
		if (aggref->aggdistinct != NIL)
		{
			if (agg->kind == DT_AGG_COUNT)
				agg->kind = DT_AGG_COUNT_DISTINCT;
			else if (agg->kind != DT_AGG_MIN && agg->kind != DT_AGG_MAX)
				return psprintf("DISTINCT inside aggregate %s()", name);
		}
	}

	if (agg->arg != NULL)
	{
		if (type_is_rowtype(exprType((Node *) agg->arg)))
			return psprintf("aggregate %s() over a composite value", name);
		agg->argtype = exprType((Node *) agg->arg);
		agg->argtypmod = exprTypmod((Node *) agg->arg);
		agg->argcollation = exprCollation((Node *) agg->arg);
		agg->input_no = expr_index(&an->input_exprs, agg->arg);
	}
	if (agg->filter != NULL)
		agg->filter_no = expr_index(&an->filter_exprs, agg->filter);

	switch (agg->kind)
	{
		case DT_AGG_SUM:
		case DT_AGG_AVG:
		case DT_AGG_VAR_SAMP:
		case DT_AGG_VAR_POP:
		case DT_AGG_STDDEV_SAMP:
		case DT_AGG_STDDEV_POP:
			agg->domain = sum_domain(agg->argtype, agg->kind);
			if (agg->domain == DT_DOMAIN_NONE)
				return psprintf("aggregate %s() over type %s", name,
								format_type_be(agg->argtype));
			break;
		case DT_AGG_MIN:
		case DT_AGG_MAX:
		case DT_AGG_COUNT_DISTINCT:
		case DT_AGG_PERCENTILE_CONT:
		case DT_AGG_PERCENTILE_DISC:
			if (!has_btree_opclass(agg->argtype))
				return psprintf("aggregate %s() over type %s, which has no default btree operator class",
								name, format_type_be(agg->argtype));
			assign_aux_item(an, agg);
			break;
		default:
			break;
	}
	return NULL;
}

/* Context for replacing group keys and aggregates in output expressions. */
typedef struct OutputCheck
{
	DtAnalysis *an;
	char	   *reason;
	bool		inside_aggregate;
} OutputCheck;

/* collect_aggrefs_walker: classify every Aggref once (deduplicated). */
static bool
collect_aggrefs_walker(Node *node, OutputCheck *ctx)
{
	ListCell   *lc;

	if (node == NULL || ctx->reason != NULL)
		return false;
	if (IsA(node, Aggref))
	{
		DtAggregate *agg;

		foreach(lc, ctx->an->aggregates)
		{
			if (equal(((DtAggregate *) lfirst(lc))->aggref, node))
				return false;
		}
		agg = palloc0(sizeof(DtAggregate));
		agg->no = list_length(ctx->an->aggregates) + 1;
		ctx->reason = classify_aggregate(ctx->an, (Aggref *) node, agg);
		if (ctx->reason == NULL)
			ctx->an->aggregates = lappend(ctx->an->aggregates, agg);
		return false;			/* arguments are checked separately */
	}
	return expression_tree_walker(node, collect_aggrefs_walker, ctx);
}

/*
 * check_output_walker
 *		An output or HAVING expression must be built from group keys and
 *		aggregates only: a Var outside both means a column grouped by
 *		functional dependency, which the state cannot reproduce.
 */
static bool
check_output_walker(Node *node, OutputCheck *ctx)
{
	ListCell   *lc;

	if (node == NULL || ctx->reason != NULL)
		return false;
	if (IsA(node, Aggref))
		return false;
	foreach(lc, ctx->an->keys)
	{
		if (equal(((DtKey *) lfirst(lc))->expr, node))
			return false;
	}
	if (IsA(node, Var))
	{
		ctx->reason = psprintf("column \"%s\" used outside an aggregate without being a GROUP BY expression",
							   get_rte_attribute_name(rt_fetch(((Var *) node)->varno,
															   ctx->an->query->rtable),
													  ((Var *) node)->varattno));
		return false;
	}
	return expression_tree_walker(node, check_output_walker, ctx);
}

/*
 * analysis_from_relation
 *		*rel: the table a FROM item of a query level reads, with its input;
 *		or why the item cannot feed an incremental refresh.
 */
char *
analysis_from_relation(DtAnalysis *an, Query *query, RangeTblRef *item, DtFromRel **rel)
{
	Index		rtindex = item->rtindex;
	RangeTblEntry *rte = rt_fetch(rtindex, query->rtable);
	ListCell   *lc;

	if (rte->rtekind != RTE_RELATION)
		return pstrdup("subqueries, functions and values lists joined with other FROM items");
	if (rte->tablesample != NULL)
		return pstrdup("TABLESAMPLE");
	*rel = palloc0(sizeof(DtFromRel));
	(*rel)->rtindex = rtindex;
	foreach(lc, an->inputs)
	{
		if (((DtInput *) lfirst(lc))->relid == rte->relid)
			(*rel)->input = (DtInput *) lfirst(lc);
	}
	Assert((*rel)->input != NULL);
	return input_reason((*rel)->input);
}

/*
 * input_reason
 *		Why the changes of an input cannot feed an incremental refresh, or
 *		NULL.
 */
static char *
input_reason(DtInput *input)
{
	if (!input->capturable)
		return psprintf("reading \"%s\", whose changes cannot be captured (a system catalog, view, foreign table, "
						"unlogged table, partition or child read directly, or a table read with ONLY)",
						get_rel_name(input->relid));
	if (relation_has_row_security(input->relid))
		return psprintf("row-level security on \"%s\"", get_rel_name(input->relid));
	return NULL;
}

/*
 * collect_from
 *		The relations of a FROM item into an->from, and its join conditions
 *		into *quals; or why the item cannot be maintained incrementally.
 *		Inner joins only: a change on either side of an outer join can add
 *		or remove null-extended rows on the other.
 */
static char *
collect_from(Query *query, Node *item, DtAnalysis *an, List **quals)
{
	if (IsA(item, RangeTblRef))
	{
		DtFromRel  *rel;
		char	   *reason;

		if ((reason = analysis_from_relation(an, query, (RangeTblRef *) item, &rel)) != NULL)
			return reason;
		an->from = lappend(an->from, rel);
		return NULL;
	}
	if (IsA(item, JoinExpr))
	{
		JoinExpr   *join = (JoinExpr *) item;
		char	   *reason;

		if (join->jointype != JOIN_INNER)
			return pstrdup("outer joins (LEFT, RIGHT and FULL JOIN)");
		if ((reason = collect_from(query, join->larg, an, quals)) != NULL ||
			(reason = collect_from(query, join->rarg, an, quals)) != NULL)
			return reason;
		if (join->quals != NULL)
			*quals = lappend(*quals, join->quals);
		return NULL;
	}
	return pstrdup("this kind of FROM item");
}

/* analysis_flatten_joins: node with join alias Vars replaced by what they stand for. */
Node *
analysis_flatten_joins(Query *query, Node *node)
{
#if PG_VERSION_NUM >= 160000
	return flatten_join_alias_vars(NULL, query, node);
#else
	return flatten_join_alias_vars(query, node);
#endif
}

/*
 * analyze_grouped_query
 *		Fill the delta-merge plan of an, or return why the query has none.
 *		Works on a copy of the query whose outputs refer to the joined
 *		relations directly (no join alias Vars), which becomes an->query.
 */
static char *
analyze_grouped_query(Query *query, DtAnalysis *an)
{
	ListCell   *lc;
	List	   *quals = NIL;
	char	   *reason;
	OutputCheck ctx = {an, NULL, false};
	FunctionFacts facts;
	List	   *agg_inputs = NIL;

	if (query->setOperations != NULL)
		return pstrdup("UNION, INTERSECT and EXCEPT");
	if (query->cteList != NIL)
		return pstrdup("WITH queries");
	if (query->hasWindowFuncs)
		return pstrdup("window functions");
	if (query->hasTargetSRFs)
		return pstrdup("set-returning functions in the select list");
	if (query->hasSubLinks)
		return pstrdup("subqueries in expressions");
	if (query->groupingSets != NIL)
		return pstrdup("GROUPING SETS, ROLLUP and CUBE");
	if (query->limitCount != NULL || query->limitOffset != NULL)
		return pstrdup("LIMIT and OFFSET");
	if (query->hasDistinctOn)
		return pstrdup("DISTINCT ON");
	if (query->jointree->fromlist == NIL)
		return pstrdup("queries without FROM");
	foreach(lc, query->jointree->fromlist)
	{
		if ((reason = collect_from(query, (Node *) lfirst(lc), an, &quals)) != NULL)
			return reason;
	}
	if (!query->hasAggs && query->groupClause == NIL)
		return pstrdup("queries without aggregation");

	query = copyObject(query);
	if (query->jointree->quals != NULL)
		quals = lappend(quals, query->jointree->quals);
	an->quals = analysis_flatten_joins(query, (Node *) make_ands_explicit(quals));
	if (quals == NIL)
		an->quals = NULL;
	query->targetList = (List *) analysis_flatten_joins(query, (Node *) query->targetList);
	query->havingQual = analysis_flatten_joins(query, query->havingQual);
	an->query = query;

	/* Group keys: each must be an output column with a btree-sortable type. */
	foreach(lc, query->groupClause)
	{
		SortGroupClause *sgc = lfirst_node(SortGroupClause, lc);
		TargetEntry *tle = get_sortgroupclause_tle(sgc, query->targetList);
		DtKey	   *key;

		if (tle->resjunk)
			return pstrdup("GROUP BY expressions that are not in the select list");
		key = palloc0(sizeof(DtKey));
		key->expr = tle->expr;
		key->resno = tle->resno;
		key->type = exprType((Node *) tle->expr);
		key->typmod = exprTypmod((Node *) tle->expr);
		key->collation = exprCollation((Node *) tle->expr);
		if (!has_btree_opclass(key->type))
			return psprintf("GROUP BY over type %s, which has no default btree operator class",
							format_type_be(key->type));
		if (type_is_rowtype(key->type))
			return pstrdup("GROUP BY a composite value");
		an->keys = lappend(an->keys, key);
	}
	if (query->distinctClause != NIL && an->keys == NIL)
		return pstrdup("DISTINCT over an aggregate without GROUP BY");

	/* Aggregates, then the expressions built over them. */
	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (!tle->resjunk)
			collect_aggrefs_walker((Node *) tle->expr, &ctx);
	}
	collect_aggrefs_walker(query->havingQual, &ctx);
	if (ctx.reason != NULL)
		return ctx.reason;

	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (!tle->resjunk)
			check_output_walker((Node *) tle->expr, &ctx);
	}
	check_output_walker(query->havingQual, &ctx);
	if (ctx.reason != NULL)
		return ctx.reason;

	/*
	 * Only the select list may read the clock: refreshed_at-style columns
	 * take the time of the refresh that writes the row.  Anywhere else the
	 * answer would change without any row changing.
	 */
	foreach(lc, an->aggregates)
	{
		DtAggregate *agg = (DtAggregate *) lfirst(lc);

		agg_inputs = lappend(agg_inputs, agg->aggref);
	}
	foreach(lc, an->keys)
		agg_inputs = lappend(agg_inputs, ((DtKey *) lfirst(lc))->expr);
	agg_inputs = lappend(agg_inputs, an->quals);
	agg_inputs = lappend(agg_inputs, query->havingQual);
	facts = facts_of((Node *) agg_inputs);
	if (facts.time)
		return pstrdup("the current time (now(), CURRENT_TIMESTAMP, ...) outside the select list");
	if (facts.whole_row)
		return pstrdup("whole-row references and system columns");
	facts = facts_of((Node *) query->targetList);
	if (OidIsValid(facts.user_stable))
		return psprintf("function %s, which is not IMMUTABLE", format_procedure(facts.user_stable));
	facts = facts_of((Node *) agg_inputs);
	if (OidIsValid(facts.user_stable))
		return psprintf("function %s, which is not IMMUTABLE", format_procedure(facts.user_stable));

	/* The columns that the change rows must carry, of every relation. */
	foreach(lc, an->from)
	{
		DtFromRel  *rel = (DtFromRel *) lfirst(lc);

		pull_varattnos((Node *) agg_inputs, rel->rtindex, &rel->input->attnums);
	}
	return NULL;
}
