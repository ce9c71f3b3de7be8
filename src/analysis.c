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
 *	  with inner joins (simple subqueries in FROM merged into it first,
 *	  querytree_pull_up), whose aggregates all have a maintainable state
 *	  (merge.c);
 *	- affected-key recompute: a query that an output column partitions
 *	  (recompute.c);
 *	- top-k: ORDER BY ... LIMIT over one relation, chosen again when it
 *	  changed (recompute_top_k);
 *	- full: anything else, with the reason in words for refresh_mode_reason.
 *
 * The walks over the tree that these share are in querytree.c.
 *
 * The result, a DtAnalysis, is rebuilt from the stored Query tree in every
 * backend that refreshes the table; it holds no catalog state of its own.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/sysattr.h"
#include "access/xlog.h"
#include "catalog/heap.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/analyze.h"
#include "rewrite/rewriteHandler.h"
#include "rewrite/rewriteManip.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/rls.h"
#include "utils/ruleutils.h"

#include "analysis.h"

static bool find_volatile_walker(Node *node, Oid *funcid);
static bool check_volatile_func(Oid funcid, void *context);
static bool reads_search_path_walker(Node *node, void *context);

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
	DtQueryInputs inputs;
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
	querytree_inputs(query, &inputs);
	if (inputs.locking)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("dynamic table query cannot use FOR UPDATE or FOR SHARE"),
				 errdetail("Every refresh would lock the rows it reads against their writers.")));

	error_context_stack = callback.previous;
	return query;
}

/*
 * analysis_refuse_search_path
 *		Refuse a new defining query that reads the search path
 *		(reads_search_path_walker).  Only a new query: a DT made before this
 *		check is restored and upgraded with the query it has.
 */
void
analysis_refuse_search_path(Query *query)
{
	if (reads_search_path_walker((Node *) query, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("dynamic table query cannot read the search path"),
				 errdetail("A refresh runs with search_path = pg_catalog, not the session's: what reads it "
						   "(current_schema(), current_setting('search_path')) or resolves or prints names by it "
						   "(to_regclass(), a cast of text to or from regclass, format_type()) would give another answer."),
				 errhint("Write the schema's name in the query instead.")));
}

/*
 * analysis_print_definition
 *		The query as PostgreSQL prints it, for parsing again later (after a
 *		restore, or pg_upgrade to another major version, whose stored trees
 *		differ): with the DT's settings pinned (settings_pin), so
 *		search_path is pg_catalog and every other name is qualified, and
 *		not "pretty", which could leave out parentheses a later version
 *		needs (as pg_dump prints views and triggers).
 */
char *
analysis_print_definition(Query *query)
{
	return settings_print_query(query);
}

/*
 * analysis_set_tree
 *		Keep query as the stored tree of entry, written by this cluster.
 */
void
analysis_set_tree(DtEntry *entry, Query *query)
{
	entry->query_tree = nodeToString(query);
	entry->tree_major = PG_MAJORVERSION_NUM;
	entry->tree_system = (int64) GetSystemIdentifier();
}

/*
 * analysis_tree_current
 *		Can the stored tree of a DT be read?  Only if this cluster wrote it:
 *		a tree holds the OIDs of the functions, operators and collations
 *		the query uses, which pg_upgrade does not keep (it keeps those of
 *		relations and types), and its format is a major version's.
 */
bool
analysis_tree_current(DtEntry *entry)
{
	return entry->tree_major == PG_MAJORVERSION_NUM &&
		entry->tree_system == (int64) GetSystemIdentifier();
}

/*
 * analysis_stored_query
 *		The analysed query of a DT: its stored tree, or, when another
 *		cluster wrote that tree (analysis_tree_current), its definition
 *		parsed again under its settings.
 */
Query *
analysis_stored_query(DtEntry *entry)
{
	Query	   *query;
	int			guc_level;

	if (analysis_tree_current(entry))
		return (Query *) stringToNode(entry->query_tree);
	if (entry->definition == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot read the query of dynamic table \"%s\"", get_rel_name(entry->relid)),
				 errdetail("It was stored by another cluster, without the text to parse it again."),
				 errhint("Drop the dynamic table and create it again.")));
	guc_level = settings_pin(entry->settings);
	query = analysis_parse_query(entry->definition);
	AtEOXact_GUC(false, guc_level);
	return query;
}

/*
 * analysis_renew_tree
 *		A DT whose stored tree another cluster wrote: parse its definition
 *		again and store the tree (catalog_set_tree), so that the next
 *		reader, and a rename that changes the definition, find it current.
 *		The pg_depend entries of the query were recorded again by
 *		pg_upgrade's restore (dump_upgrade_dynamic_table).
 */
void
analysis_renew_tree(DtEntry *entry)
{
	if (analysis_tree_current(entry))
		return;
	analysis_set_tree(entry, analysis_stored_query(entry));
	catalog_set_tree(entry);
}

/*
 * analysis_check_permissions
 *		The current user may read every relation the query reads, at every
 *		level (a subquery, a CTE, a sublink) and every column it uses.
 */
void
analysis_check_permissions(Query *query)
{
	DtQueryInputs inputs;

	querytree_inputs(query, &inputs);
#if PG_VERSION_NUM >= 160000
	ExecCheckPermissions(inputs.rtes, inputs.perminfos, true);
#else
	ExecCheckRTPerms(inputs.rtes, true);
#endif
}

/*
 * analysis_view_reads
 *		The relations query reads through a view, as the view's owner (not
 *		security_invoker): the RTEs of its tables whose checkAsUser is set.
 */
List *
analysis_view_reads(Query *query)
{
	DtQueryInputs inputs;
	List	   *result = NIL;
	ListCell   *lc;

	querytree_inputs(query, &inputs);
	foreach(lc, inputs.rtes)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (OidIsValid(rte->checkAsUser) && get_rel_relkind(rte->relid) != RELKIND_VIEW)
			result = lappend(result, rte);
	}
	return result;
}

/*
 * analysis_refuse_view_policies
 *		Refuse a table with row-level security read through a view of
 *		another role than the current user (the DT's owner), unless neither
 *		is subject to its policies (its owner, a superuser, BYPASSRLS): the
 *		view's owner is the user its policies see, but a DT's query is kept
 *		with the view expanded and run as the DT's owner, whose policies
 *		give other rows.  rtes: the relations of the query
 *		(analysis_view_reads, or all of them).  Checked when a DT is made,
 *		and by each refresh, since the policies may come later (ALTER TABLE
 *		... ENABLE ROW LEVEL SECURITY, a role losing BYPASSRLS): it fails
 *		rather than write rows the view would not show.
 */
void
analysis_refuse_view_policies(List *rtes)
{
	ListCell   *lc;

	foreach(lc, rtes)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (OidIsValid(rte->checkAsUser) && rte->checkAsUser != GetUserId() &&
			(check_enable_rls(rte->relid, rte->checkAsUser, true) == RLS_ENABLED ||
			 check_enable_rls(rte->relid, InvalidOid, true) == RLS_ENABLED))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("dynamic table query cannot read \"%s\", which has row-level security, through a view of role \"%s\"",
							get_rel_name(rte->relid), GetUserNameFromId(rte->checkAsUser, false)),
					 errdetail("A dynamic table's query is kept and run with the policies that apply to the table's owner, not to the view's owner."),
					 errhint("Make the view security_invoker, or read the table directly.")));
	}
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

/*
 * Built-in functions that read the search path (current_schema(),
 * current_schemas()) or resolve or print names by it: a
 * name found in it is printed unqualified (regclassout, format_type), an
 * unqualified name is looked up in it (regclassin, to_regclass), or they
 * say whether an object is found in it (pg_table_is_visible).
 */
static const Oid search_path_funcs[] = {
	F_CURRENT_SCHEMA, F_CURRENT_SCHEMAS,
	F_TO_REGCLASS, F_TO_REGPROC, F_TO_REGPROCEDURE, F_TO_REGOPER, F_TO_REGOPERATOR,
	F_TO_REGTYPE, F_TO_REGCOLLATION, F_REGCLASS,
	F_REGPROCIN, F_REGPROCOUT, F_REGPROCEDUREIN, F_REGPROCEDUREOUT, F_REGOPERIN, F_REGOPEROUT,
	F_REGOPERATORIN, F_REGOPERATOROUT, F_REGCLASSIN, F_REGCLASSOUT, F_REGTYPEIN, F_REGTYPEOUT,
	F_REGCONFIGIN, F_REGCONFIGOUT, F_REGDICTIONARYIN, F_REGDICTIONARYOUT, F_REGCOLLATIONIN,
	F_REGCOLLATIONOUT,
	F_PG_TABLE_IS_VISIBLE, F_PG_TYPE_IS_VISIBLE, F_PG_FUNCTION_IS_VISIBLE, F_PG_OPERATOR_IS_VISIBLE,
	F_PG_OPCLASS_IS_VISIBLE, F_PG_OPFAMILY_IS_VISIBLE, F_PG_COLLATION_IS_VISIBLE,
	F_PG_CONVERSION_IS_VISIBLE, F_PG_STATISTICS_OBJ_IS_VISIBLE, F_PG_TS_PARSER_IS_VISIBLE,
	F_PG_TS_DICT_IS_VISIBLE, F_PG_TS_TEMPLATE_IS_VISIBLE, F_PG_TS_CONFIG_IS_VISIBLE,
	F_FORMAT_TYPE, F_PG_DESCRIBE_OBJECT
};

/*
 * name_type_by_search_path: is type a reg* type whose text form is a
 * name resolved or printed by the search path?
 */
static bool
name_type_by_search_path(Oid type)
{
	switch (type)
	{
		case REGPROCOID:
		case REGPROCEDUREOID:
		case REGOPEROID:
		case REGOPERATOROID:
		case REGCLASSOID:
		case REGTYPEOID:
		case REGCONFIGOID:
		case REGDICTIONARYOID:
		case REGCOLLATIONOID:
			return true;
		default:
			return false;
	}
}

/* search_path_func: is funcid one of search_path_funcs? */
static bool
search_path_func(Oid funcid, void *context)
{
	int			i;

	for (i = 0; i < lengthof(search_path_funcs); i++)
	{
		if (search_path_funcs[i] == funcid)
			return true;
	}
	return false;
}

/*
 * reads_search_path_walker
 *		True at the first expression that reads the search path:
 *		current_schema, current_setting of search_path (or of a name that
 *		is not a constant), a function that reads it or resolves or prints
 *		names by it (search_path_funcs), or a text cast from or to a
 *		reg* type (name_type_by_search_path).  A refresh runs with
 *		search_path = pg_catalog (settings_pin), so such a query's table
 *		would differ from the query run by its user.
 */
static bool
reads_search_path_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, SQLValueFunction) && ((SQLValueFunction *) node)->op == SVFOP_CURRENT_SCHEMA)
		return true;
	if (IsA(node, CoerceViaIO) &&
		(name_type_by_search_path(((CoerceViaIO *) node)->resulttype) ||
		 name_type_by_search_path(exprType((Node *) ((CoerceViaIO *) node)->arg))))
		return true;
	if (check_functions_in_node(node, search_path_func, NULL))
		return true;
	if (IsA(node, FuncExpr))
	{
		FuncExpr   *func = (FuncExpr *) node;
		Node	   *name = func->args != NIL ? (Node *) linitial(func->args) : NULL;

		if ((func->funcid == F_CURRENT_SETTING_TEXT || func->funcid == F_CURRENT_SETTING_TEXT_BOOL) &&
			(!IsA(name, Const) || (!((Const *) name)->constisnull &&
								   pg_strcasecmp(TextDatumGetCString(((Const *) name)->constvalue),
												 "search_path") == 0)))
			return true;
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, reads_search_path_walker, context, 0);
	return expression_tree_walker(node, reads_search_path_walker, context);
}

/* check_volatile_func: is funcid volatile?  Then *context is funcid. */
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

/*
 * recompute_flattened
 *		Where no column of query partitions it as written, whether one does
 *		once its simple subqueries and WITH queries in FROM are merged into
 *		the levels that read them (querytree_flatten: pg_ivm's subqueries
 *		and WITH queries joined with tables): then an->query is that, and
 *		*reason NULL.
 */
static void
recompute_flattened(DtAnalysis *an, Oid dtrelid, Query *query, char **reason)
{
	Query	   *flat = querytree_flatten(query);
	DtQueryInputs walk;
	int			nrelations = an->nrelations;

	if (flat == NULL || equal(flat, query))
		return;
	querytree_inputs(flat, &walk);
	an->query = flat;
	an->nrelations = walk.nrelations;
	if (recompute_analyze(an, dtrelid) == NULL)
	{
		*reason = NULL;
		return;
	}
	an->query = query;
	an->nrelations = nrelations;
}

/*
 * rows_alike
 *		Is query a projection over its FROM whose select list reads nothing
 *		(SELECT 1 FROM t: one row per row read, all alike)?  No column of
 *		it partitions the query, and merging a change would mean adding or
 *		deleting some of many equal rows, which no strategy does: refreshed
 *		in full, with this said rather than the partition key that failed.
 */
static bool
rows_alike(Query *query)
{
	ListCell   *lc;

	if (query->jointree->fromlist == NIL || query->hasAggs || query->groupClause != NIL ||
		query->groupingSets != NIL || query->distinctClause != NIL || query->hasWindowFuncs ||
		query->setOperations != NULL || query->hasTargetSRFs)
		return false;
	foreach(lc, query->targetList)
	{
		TargetEntry *tle = (TargetEntry *) lfirst(lc);

		if (!tle->resjunk && (contain_vars_of_level((Node *) tle->expr, 0) ||
							  checkExprHasSubLink((Node *) tle->expr)))
			return false;
	}
	return true;
}

/*
 * analyze_query
 *		analysis_analyze of a query as it reads its relations.
 */
static DtAnalysis *
analyze_query(Query *query, Oid dtrelid)
{
	DtAnalysis *an = palloc0(sizeof(DtAnalysis));
	DtFunctionFacts facts;
	ListCell   *lc;
	char	   *reason;
	Query	   *rewritten;

	an->defining = query;
	query = querytree_drop_exists_lists(query);
	an->query = query;
	{
		DtQueryInputs walk;

		querytree_inputs(query, &walk);
		an->inputs = walk.inputs;
		an->nrelations = walk.nrelations;

		/*
		 * A DT's input that was not captured when the DT was made (say an
		 * unlogged table, since SET LOGGED) has no log to read: refreshed in
		 * full.  (A table a restore is making a DT has none yet, nor the
		 * internal DTs a redefinition is making for it.)
		 */
		if (OidIsValid(dtrelid) && catalog_is_dynamic_table(dtrelid))
		{
			foreach(lc, an->inputs)
			{
				DtInput    *input = (DtInput *) lfirst(lc);

				if (input->capturable && !capture_relation_is_captured(input->relid) &&
					names_internal_parent(input->relid) != dtrelid)
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
	if (an->inputs == NIL && querytree_is_constant((Node *) query))
	{
		an->strategy = DT_STRATEGY_CONSTANT;
		return an;
	}
	if (an->inputs == NIL)
		an->always_full = true;
	facts = querytree_facts((Node *) query);
	if (OidIsValid(facts.user_stable) || querytree_clock_outside_select_list(query))
		an->always_full = true;

	/*
	 * simple subqueries in FROM are read as the joins they are; aggregates
	 * over the first rows of a window's partitions as subqueries of a group
	 */
	rewritten = window_rank_rewrite(query, &an->rank_index);
	an->rank_subqueries = (rewritten != NULL);
	an->reason = merge_analyze(querytree_pull_up(rewritten != NULL ? rewritten : query), an);
	if (an->reason == NULL)
	{
		an->strategy = DT_STRATEGY_MERGE;
		return an;
	}
	an->query = query;
	an->rank_subqueries = false;
	an->rank_index = NULL;
	an->from = NIL;
	an->quals = NULL;
	an->keys = an->aggregates = an->aux_tables = an->grouping_sets = NIL;
	an->empty_set = 0;
	an->input_exprs = an->filter_exprs = NIL;
	reason = recompute_analyze(an, dtrelid);
	if (reason != NULL)
		recompute_flattened(an, dtrelid, query, &reason);
	if (reason == NULL || recompute_top_k(query))
	{
		an->strategy = reason == NULL ? DT_STRATEGY_RECOMPUTE : DT_STRATEGY_TOP_K;
		an->reason = NULL;
	}
	else if (rows_alike(query))
		an->reason = pstrdup("a select list that reads no column of a table (SELECT 1 FROM t: equal rows, "
							 "one per row read, that no key tells apart)");
	else if (!merge_shaped(query))
		an->reason = reason;
	return an;
}

/*
 * maintained_rels
 *		The relations through which an incremental refresh reads the change
 *		windows of an: the FROM list of delta merge, the leaves of every
 *		key column of affected-key recompute (a relation of a leaf once per
 *		key column); NIL for other strategies.
 */
static List *
maintained_rels(DtAnalysis *an)
{
	List	   *rels = NIL;
	ListCell   *lk;
	ListCell   *ll;

	if (an->strategy == DT_STRATEGY_MERGE)
		return an->from;
	if (an->strategy != DT_STRATEGY_RECOMPUTE)
		return NIL;
	foreach(lk, an->recompute->keys)
	{
		foreach(ll, ((DtKeyColumn *) lfirst(lk))->leaves)
			rels = list_concat(list_concat(rels, ((DtKeyLeaf *) lfirst(ll))->rels),
							   ((DtKeyLeaf *) lfirst(ll))->subs);
	}
	return rels;
}

/*
 * same_reference: are two relations of maintained_rels one range table entry?
 */
static bool
same_reference(DtFromRel *a, DtFromRel *b)
{
	return a->input == b->input && a->level == b->level &&
		(a->semi != NULL ? a->semi->sub_rtindex : a->rtindex) ==
		(b->semi != NULL ? b->semi->sub_rtindex : b->rtindex);
}

/*
 * net_per_reference
 *		Where a table is read through several references with different
 *		columns (TPC-H Q8's nation: n1 for its region, n2 for its name), net
 *		each one's change window over its own columns (input->net_sets,
 *		rel->net_no; deparse.c): an UPDATE of a column only one of them
 *		reads is no change of the others.  Only where every read of the
 *		table is such a reference (rank subqueries of window.c, the
 *		constant leaves of recompute and subqueries in expressions read it
 *		otherwise, and rely on the window netted over every column the
 *		query reads).  The columns of each reference are captured.
 */
static void
net_per_reference(DtAnalysis *an)
{
	List	   *rels = maintained_rels(an);
	Query	   *query = an->strategy == DT_STRATEGY_RECOMPUTE ? an->recompute->query : an->query;
	ListCell   *li;
	ListCell   *lc;

	foreach(lc, rels)
	{
		DtFromRel  *rel = (DtFromRel *) lfirst(lc);

		if (rel->input != NULL)
			rel->input->attnums = bms_add_members(rel->input->attnums, rel->attnums);
	}
	foreach(li, an->inputs)
	{
		DtInput    *input = (DtInput *) lfirst(li);
		List	   *refs = NIL;
		bool		differ = false;

		foreach(lc, rels)
		{
			DtFromRel  *rel = (DtFromRel *) lfirst(lc);
			ListCell   *lr;
			bool		seen = false;

			if (rel->input != input)
				continue;
			differ = differ || !bms_equal(rel->attnums, input->attnums);
			foreach(lr, refs)
				seen = seen || same_reference(rel, (DtFromRel *) lfirst(lr));
			if (!seen)
				refs = lappend(refs, rel);
		}
		if (!differ || list_length(refs) != querytree_count_reads(query, input->relid))
			continue;
		foreach(lc, rels)
		{
			DtFromRel  *rel = (DtFromRel *) lfirst(lc);
			ListCell   *ls;

			if (rel->input != input)
				continue;
			foreach(ls, input->net_sets)
			{
				if (bms_equal(rel->attnums, (Bitmapset *) lfirst(ls)))
					rel->net_no = foreach_current_index(ls) + 1;
			}
			if (rel->net_no == 0)
			{
				input->net_sets = lappend(input->net_sets, rel->attnums);
				rel->net_no = list_length(input->net_sets);
			}
		}
	}
}

/*
 * analysis_analyze
 *		Decide how a parsed defining query is maintained; dtrelid is the DT
 *		(InvalidOid while it is being created).
 *
 * Always succeeds: a query that cannot be maintained incrementally gets
 * strategy DT_STRATEGY_FULL and the reason.  The caller decides whether the
 * requested refresh_mode allows that.  A DT that has internal DTs for
 * subqueries no strategy maintains (internal.c), or for the thresholds of
 * a query delta merge maintains, is analysed as reading them
 * (an->internal) where that query is maintained.
 */
DtAnalysis *
analysis_analyze(Query *query, Oid dtrelid)
{
	DtAnalysis *an = analyze_query(query, dtrelid);
	Query	   *read;
	DtAnalysis *through;

	if (an->always_full || !OidIsValid(dtrelid) || (read = internal_read(query, dtrelid)) == NULL)
	{
		net_per_reference(an);
		return an;
	}
	through = analyze_query(read, dtrelid);
	if (through->strategy == DT_STRATEGY_FULL)
	{
		net_per_reference(an);
		return an;
	}
	for (through->internal = 0;
		 OidIsValid(names_internal_relid(DT_OBJECT_SUB, dtrelid, through->internal + 1));
		 through->internal++)
		;
	through->written = an->defining;
	net_per_reference(through);
	return through;
}
