/*-------------------------------------------------------------------------
 *
 * refresh.c
 *		The refresh of a dynamic table: one transaction, one snapshot.
 *
 * A refresh
 *	1. takes ExclusiveLock on the DT: one refresh at a time, readers go on
 *	   reading the old content, writers of the inputs are never blocked;
 *	2. takes a snapshot S after the lock, so it sees what the previous
 *	   refresh committed;
 *	3. consumes exactly the changes visible in S that the DT's position
 *	   (the previous refresh) did not (capture.c), reading inputs in S;
 *	4. records S as the new position and a row of refresh history.
 *
 * Its action is NO_DATA (nothing changed: the cost is one scan of each
 * change log), INCREMENTAL (delta merge, deparse.c describes the state),
 * or FULL (the query recomputed; also the first population, and after a
 * rebuild marker such as TRUNCATE).
 *
 * Maintenance SQL runs as the DT's owner with SECURITY_RESTRICTED_OPERATION
 * and the settings recorded when the DT was created (TimeZone, DateStyle,
 * ...; search_path = pg_catalog, which the generated SQL assumes), so the
 * same query gives the same answer whoever triggers the refresh.
 *
 * The generated SQL is prepared once per backend and DT and kept in a plan
 * cache, dropped when any relation it involves changes, or a type or
 * function its query or statements use (not any: every CREATE TABLE makes
 * a type).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/multixact.h"
#include "access/reloptions.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "commands/cluster.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/readfuncs.h"
#include "optimizer/optimizer.h"
#include "portability/instr_time.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteHandler.h"
#include "rewrite/rewriteManip.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/ruleutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/xid8.h"

#include "refresh.h"

/*
 * The prepared statements of one DT in this backend (the plan cache),
 * made from its analysis and SQL (deparse.c).  Dropped when a relation
 * involved changes.
 */
typedef struct DtPlanSet
{
	Oid			relid;			/* hash key */
	bool		valid;
	MemoryContext cxt;
	DtAnalysis *an;
	DtSql	   *sql;
	List	   *watched;		/* relations whose change drops the plans */
	List	   *depends;		/* syscache hash values of the types and
								 * functions whose change drops them */
	bool		building;		/* any type or function change drops them */
	List	   *view_reads;		/* RTEs read as a view's owner: each refresh
								 * checks their policies */
	SPIPlanPtr	full_delete;
	SPIPlanPtr	full_insert;
	SPIPlanPtr	query_insert;
	SPIPlanPtr	full_select;	/* their queries, for parallel workers */
	SPIPlanPtr	query_select;
	SPIPlanPtr	rows_insert;	/* prepared when first run */
	List	   *count_changes;
	int64	   *window_rows;	/* rows in the window, per count_relids */
	int64	   *window_logged;	/* log rows in it, cancelling ones included */
	List	   *window_plans;	/* of WindowPlan, by inputs changed */
	SPIPlanPtr	recompute_delete;
	SPIPlanPtr	recompute_insert;
	DtCursorPlans cursor;		/* what percentile_walk runs */
	SPIPlanPtr	apply;
	SPIPlanPtr	state_clear;
	List	   *state_reset;
	List	   *state_finish;
	SPIPlanPtr	dt_fill;
	bool		merge_prepared; /* those of prepare_merge (merge_plans) */
} DtPlanSet;

static HTAB *plan_cache = NULL;

/*
 * A prepared statement that reads the window of one set of changed inputs
 * (relids): the merge of a delta-merge DT, or the keys of a recompute DT.
 * It was planned for windows of "rows" rows (of each changed input in the
 * order of count_relids): a window of sizes not within WINDOW_SIZE_FACTOR
 * of those gets a plan of its own.
 */
typedef struct WindowPlan
{
	List	   *changed;
	double	   *rows;
	SPIPlanPtr	plan;
} WindowPlan;

/*
 * A window plan serves windows down to 1 / WINDOW_SIZE_FACTOR and up to
 * WINDOW_SIZE_FACTOR times the rows of each input it was planned for.
 * Relative to the plan, not in fixed steps: windows of about one size on
 * either side of a step (3,500 and 4,500 rows of lineitem in rounds of
 * TPC-H at 1%) would otherwise be planned again and again, and planning
 * the merge of a query over several tables costs as much as a refresh of
 * a small change.
 */
#define WINDOW_SIZE_FACTOR 4

/* The parameters of every statement that reads a change window. */
static Oid	window_types[3] = {PG_SNAPSHOTOID, XID8OID, INT4OID};

/* The DTs being refreshed by this backend, innermost last (guard trigger). */
static List *refreshing = NIL;

/*
 * pg_dynamic_tables.adaptive_refresh: whether a refresh that could be
 * incremental may be done in full when its history says that is cheaper
 * (adaptive_full).
 */
bool		refresh_adaptive = true;

/*
 * pg_dynamic_tables.build_state_apart (DtBuildApart): whether a refresh
 * whose history says rebuilding the per-group state set aside would pay
 * refreshes in full instead, for dt.build_state or a refresh worker to
 * build it apart (refresh_build_state): on, always; auto, when a refresh
 * worker would build it (refresh_workers_build), and not after
 * BUILD_APART_PATIENCE such refreshes in a row (decide_action).
 */
int			refresh_build_apart = DT_BUILD_APART_AUTO;

/* Would a refresh worker build it (workers.c)?  NULL: none would. */
RefreshBuildersFn refresh_workers_build = NULL;

/* Whether window_plan planned a statement in the refresh running now. */
static bool planned_window = false;

/*
 * For the refresh running now of a DT whose unit refreshed its internal
 * DTs before it (group_parent): the rows of their change windows, and
 * whether one of their refreshes planned a statement.  Its refresh is
 * timed from theirs, and its history counts their rows with its own
 * (adaptive_full).  Zero and false for any other refresh.
 */
static int64 unit_internal_rows = 0;
static bool unit_internal_planned = false;

/*
 * For the same refresh: why one of those internal DTs left its window to
 * it (leave_to_parent), which makes it full from the query; or NULL.
 */
static const char *unit_left_to_parent = NULL;

/* Why an internal DT of group_parent (below) left its window to it. */
static char *group_left_to_parent = NULL;

/* ---------------------------------------------------------------------
 * Plan cache
 * ---------------------------------------------------------------------
 */

/* refresh_relcache_callback: drop plans that involve a changed relation. */
static void
refresh_relcache_callback(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	DtPlanSet  *p;

	if (plan_cache == NULL)
		return;
	hash_seq_init(&status, plan_cache);
	while ((p = hash_seq_search(&status)) != NULL)
	{
		if (relid == InvalidOid || relid == p->relid || list_member_oid(p->watched, relid))
			p->valid = false;
	}
}

/*
 * refresh_syscache_callback
 *		A type or function changed: drop the plans that depend on it (on
 *		its hash value), and those being built.  An operator, schema or
 *		collation changed, or the cache was reset: drop all plans, as
 *		PostgreSQL's plan cache does.
 */
static void
refresh_syscache_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	HASH_SEQ_STATUS status;
	DtPlanSet  *p;

	if ((cacheid != TYPEOID && cacheid != PROCOID) || hashvalue == 0)
	{
		refresh_relcache_callback(arg, InvalidOid);
		return;
	}
	if (plan_cache == NULL)
		return;
	hash_seq_init(&status, plan_cache);
	while ((p = hash_seq_search(&status)) != NULL)
	{
		if (p->building || list_member_oid(p->depends, (Oid) hashvalue))
			p->valid = false;
	}
}

/*
 * depend_on_hash
 *		Add a syscache hash value (of a type or a function) to what drops
 *		the plans of p.  Hash values of the two caches share one list: a
 *		collision only drops plans once more.
 */
static void
depend_on_hash(DtPlanSet *p, uint32 hashvalue)
{
	MemoryContext old = MemoryContextSwitchTo(p->cxt);

	p->depends = list_append_unique_oid(p->depends, (Oid) hashvalue);
	MemoryContextSwitchTo(old);
}

/*
 * depend_on
 *		A type or function (cacheid TYPEOID or PROCOID) whose change drops
 *		the plans of p, and for a domain its base type, which the
 *		statements name where they read a change log (deparse.c,
 *		log_column_type).
 */
static void
depend_on(DtPlanSet *p, int cacheid, Oid oid)
{
	Oid			base;

	if (!OidIsValid(oid))
		return;
	depend_on_hash(p, GetSysCacheHashValue1(cacheid, ObjectIdGetDatum(oid)));
	if (cacheid == TYPEOID && (base = getBaseType(oid)) != oid)
		depend_on(p, TYPEOID, base);
}

/*
 * depend_on_inputs
 *		The types of the columns the statements read from the inputs'
 *		change logs (a whole-row reference reads every column, whose types
 *		the query's expressions need not show).
 */
static void
depend_on_inputs(DtPlanSet *p)
{
	ListCell   *lc;

	foreach(lc, p->an->inputs)
	{
		DtInput    *input = (DtInput *) lfirst(lc);
		int			attnum = -1;

		while ((attnum = bms_next_member(input->attnums, attnum)) >= 0)
			depend_on(p, TYPEOID, get_atttype(input->relid, attnum + FirstLowInvalidHeapAttributeNumber));
	}
}

/*
 * depend_on_types_walker
 *		The types of a query's expressions and of its range table's
 *		columns, which the generated SQL names (casts, typed NULLs, column
 *		definitions): a renamed one makes its text stale.
 */
static bool
depend_on_types_walker(Node *node, DtPlanSet *p)
{
	ListCell   *lc;

	if (node == NULL)
		return false;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, depend_on_types_walker, p, QTW_EXAMINE_RTES_BEFORE);
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;

		foreach(lc, rte->coltypes)
			depend_on(p, TYPEOID, lfirst_oid(lc));
		foreach(lc, rte->functions)
		{
			ListCell   *t;

			foreach(t, ((RangeTblFunction *) lfirst(lc))->funccoltypes)
				depend_on(p, TYPEOID, lfirst_oid(t));
		}
		return false;
	}
	if (IsA(node, Aggref))
	{
		foreach(lc, ((Aggref *) node)->aggargtypes)
			depend_on(p, TYPEOID, lfirst_oid(lc));
	}
	if (IsA(node, Var) || IsA(node, Const) || IsA(node, Param) || IsA(node, Aggref) ||
		IsA(node, WindowFunc) || IsA(node, FuncExpr) || IsA(node, OpExpr) ||
		IsA(node, FieldSelect) || IsA(node, RelabelType) || IsA(node, CoerceViaIO) ||
		IsA(node, ArrayCoerceExpr) || IsA(node, ConvertRowtypeExpr) || IsA(node, CaseExpr) ||
		IsA(node, ArrayExpr) || IsA(node, RowExpr) || IsA(node, CoalesceExpr) ||
		IsA(node, MinMaxExpr) || IsA(node, CoerceToDomain) || IsA(node, SubscriptingRef))
		depend_on(p, TYPEOID, exprType(node));
	return expression_tree_walker(node, depend_on_types_walker, p);
}

/*
 * depend_on_plan
 *		What PostgreSQL's plan cache invalidates plan on, besides its
 *		relations: the functions it calls (those of the query, of the
 *		operators, of the extension) and the domains it checks.
 */
static void
depend_on_plan(DtPlanSet *p, SPIPlanPtr plan)
{
	ListCell   *lc;

	foreach(lc, SPI_plan_get_plan_sources(plan))
	{
		ListCell   *item;

		foreach(item, ((CachedPlanSource *) lfirst(lc))->invalItems)
			depend_on_hash(p, ((PlanInvalItem *) lfirst(item))->hashValue);
	}
}

/*
 * prepare_with
 *		Prepare and keep one statement of p, with the cursor options
 *		(planner choices) options.  SPI calls leave the SPI procedure context
 *		current; the caller's context is restored.
 */
static SPIPlanPtr
prepare_with(DtPlanSet *p, const char *sql, int nargs, Oid *types, int options)
{
	MemoryContext cxt = CurrentMemoryContext;
	SPIPlanPtr	plan;

	if (sql == NULL)
		return NULL;
	plan = SPI_prepare_cursor(sql, nargs, types, options);
	if (plan == NULL)
		elog(ERROR, "could not prepare refresh statement (%s): %s",
			 SPI_result_code_string(SPI_result), sql);
	SPI_keepplan(plan);
	MemoryContextSwitchTo(cxt);
	depend_on_plan(p, plan);
	return plan;
}

/*
 * prepare
 *		Prepare and keep one statement (prepare_with) with one plan for all
 *		its parameters: a custom plan per execution, which PostgreSQL makes
 *		for the first five, costs more to plan than most refreshes of a
 *		small change cost to run.
 */
static SPIPlanPtr
prepare(DtPlanSet *p, const char *sql, int nargs, Oid *types)
{
	return prepare_with(p, sql, nargs, types, CURSOR_OPT_GENERIC_PLAN);
}

/* free_plan: free a prepared statement, if any. */
static void
free_plan(SPIPlanPtr plan)
{
	if (plan != NULL)
		SPI_freeplan(plan);
}

/* free_plan_list: free a List of prepared statements. */
static void
free_plan_list(List *plans)
{
	ListCell   *lc;

	foreach(lc, plans)
		free_plan((SPIPlanPtr) lfirst(lc));
}

/* release_plans: free every statement of a plan set, and its memory. */
static void
release_plans(DtPlanSet *p)
{
	int			i;
	ListCell   *lc;

	free_plan(p->full_delete);
	free_plan(p->full_insert);
	free_plan(p->query_insert);
	free_plan(p->full_select);
	free_plan(p->query_select);
	free_plan(p->rows_insert);
	free_plan_list(p->count_changes);
	foreach(lc, p->window_plans)
		free_plan(((WindowPlan *) lfirst(lc))->plan);
	free_plan(p->recompute_delete);
	free_plan(p->recompute_insert);
	free_plan(p->cursor.read);
	free_plan(p->apply);
	free_plan(p->dt_fill);
	free_plan(p->state_clear);
	free_plan_list(p->state_reset);
	free_plan_list(p->state_finish);
	for (i = 0; i < p->cursor.naux; i++)
	{
		free_plan(p->cursor.up[i]);
		free_plan(p->cursor.down[i]);
		free_plan(p->cursor.start[i]);
	}
	if (p->cxt != NULL)
		MemoryContextDelete(p->cxt);
}

/* prepare_list: prepare every statement of a list with the same parameters. */
static List *
prepare_list(DtPlanSet *p, List *sqls, int nargs, Oid *types)
{
	List	   *plans = NIL;
	ListCell   *lc;

	foreach(lc, sqls)
		plans = lappend(plans, prepare(p, (char *) lfirst(lc), nargs, types));
	return plans;
}

/* plan_cache_init: the plan cache, and the invalidations that empty it. */
static void
plan_cache_init(void)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(DtPlanSet);
	plan_cache = hash_create("pg_dynamic_tables plans", 16, &ctl, HASH_ELEM | HASH_BLOBS);
	CacheRegisterRelcacheCallback(refresh_relcache_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(PROCOID, refresh_syscache_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(TYPEOID, refresh_syscache_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(OPEROID, refresh_syscache_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(NAMESPACEOID, refresh_syscache_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(COLLOID, refresh_syscache_callback, (Datum) 0);
}

/*
 * prepare_merge
 *		The statements of a delta-merge DT but its merges (window_plan):
 *		rebuilding the state, filling the DT from it, apply with the
 *		parameters DtSql describes, and the cursor walks of each auxiliary
 *		table, which is watched too.
 */
static void
prepare_merge(DtPlanSet *p)
{
	Oid			gid_types[1] = {INT8ARRAYOID};
	Oid		   *apply_types = palloc(sizeof(Oid) * p->sql->napply_params);
	ListCell   *lc;
	int			i;

	p->cursor.read = prepare(p, p->sql->cursor_read, 1, gid_types);
	p->dt_fill = prepare(p, p->sql->dt_fill, 0, NULL);
	p->state_clear = prepare(p, p->sql->state_clear, 0, NULL);
	p->state_reset = prepare_list(p, p->sql->state_reset, 0, NULL);
	p->state_finish = prepare_list(p, p->sql->state_finish, 0, NULL);
	for (i = 0; i < p->sql->napply_params; i++)
		apply_types[i] = p->sql->apply_params[i].type;
	p->apply = prepare(p, p->sql->apply, p->sql->napply_params, apply_types);

	p->cursor.up = palloc0(sizeof(SPIPlanPtr) * Max(list_length(p->an->aux_tables), 1));
	p->cursor.down = palloc0(sizeof(SPIPlanPtr) * Max(list_length(p->an->aux_tables), 1));
	p->cursor.start = palloc0(sizeof(SPIPlanPtr) * Max(list_length(p->an->aux_tables), 1));
	p->cursor.naux = list_length(p->an->aux_tables);
	foreach(lc, p->an->aux_tables)
	{
		DtAuxTable *aux = (DtAuxTable *) lfirst(lc);
		Oid			walk_types[4] = {INT8OID, INT2OID, aux->valtype, INT8OID};
		Oid			start_types[3] = {INT8OID, INT2OID, INT8OID};
		char	   *up,
				   *down,
				   *start;

		i = foreach_current_index(lc);
		p->watched = lappend_oid(p->watched, names_internal_relid(DT_OBJECT_AUX, p->relid, aux->no));
		deparse_cursor_walk_sql(p->relid, aux, &up, &down, &start);
		p->cursor.up[i] = prepare(p, up, 4, walk_types);
		p->cursor.down[i] = prepare(p, down, 4, walk_types);
		p->cursor.start[i] = prepare(p, start, 3, start_types);
	}
}

/*
 * merge_plans
 *		The plans p with the statements of a delta-merge DT that read or
 *		write its state (prepare_merge), prepared when first needed: a full
 *		refresh from the query while the state is set aside needs none, and
 *		would wait, preparing them, for a build of the state apart
 *		(refresh_build_state), which holds its auxiliary tables.
 */
static DtPlanSet *
merge_plans(DtPlanSet *p)
{
	MemoryContext old;

	if (p->merge_prepared)
		return p;
	old = MemoryContextSwitchTo(p->cxt);
	prepare_merge(p);
	p->merge_prepared = true;
	MemoryContextSwitchTo(old);
	return p;
}

/*
 * get_plans
 *		The prepared statements of a DT, building them if needed (those of
 *		the state of a delta-merge DT when first needed, merge_plans).  Must be
 *		called connected to SPI, with the DT's settings pinned.
 */
static DtPlanSet *
get_plans(DtEntry *entry)
{
	DtPlanSet  *p;
	bool		found;
	MemoryContext old;
	Query	   *query;
	ListCell   *lc;

	if (plan_cache == NULL)
		plan_cache_init();
	p = hash_search(plan_cache, &entry->relid, HASH_ENTER, &found);
	if (found && p->valid && !p->building)
		return p;
	if (found)
		release_plans(p);
	memset(p, 0, sizeof(DtPlanSet));
	p->relid = entry->relid;

	/*
	 * valid from now: an invalidation arriving while building clears it, any
	 * type's or function's too until what the plans depend on is known; a set
	 * whose building failed is built again
	 */
	p->valid = true;
	p->building = true;
	ereport(DEBUG1,
			(errmsg_internal("preparing the refresh statements of dynamic table \"%s\"",
							 get_rel_name(entry->relid))));

	p->cxt = AllocSetContextCreate(CacheMemoryContext, "pg_dynamic_tables plan set",
								   ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(p->cxt);

	query = analysis_stored_query(entry);
	AcquireRewriteLocks(query, true, false);
	depend_on_types_walker((Node *) query, p);
	p->view_reads = analysis_view_reads(query);
	p->an = analysis_analyze(query, entry->relid);
	if (!entry->incremental)
		p->an->strategy = DT_STRATEGY_FULL;
	p->watched = list_make1_oid(entry->relid);
	foreach(lc, p->an->inputs)
		p->watched = lappend_oid(p->watched, ((DtInput *) lfirst(lc))->relid);
	depend_on_inputs(p);
	p->sql = deparse_refresh_sql(entry->relid, p->an);

	p->full_delete = prepare(p, p->sql->full_delete, 0, NULL);
	p->full_insert = prepare(p, p->sql->full_insert, 0, NULL);
	p->query_insert = prepare(p, p->sql->query_insert, 0, NULL);
	p->full_select = prepare_with(p, p->sql->full_query, 0, NULL, CURSOR_OPT_PARALLEL_OK);
	p->query_select = prepare_with(p, p->sql->written_query, 0, NULL, CURSOR_OPT_PARALLEL_OK);
	p->count_changes = prepare_list(p, p->sql->count_changes, 3, window_types);
	p->window_rows = palloc0(sizeof(int64) * Max(list_length(p->sql->count_relids), 1));
	p->window_logged = palloc0(sizeof(int64) * Max(list_length(p->sql->count_relids), 1));
	if (p->an->strategy == DT_STRATEGY_RECOMPUTE)
	{
		int			nkeys = list_length(p->an->recompute->keys);
		Oid		   *key_types = palloc(sizeof(Oid) * 2 * nkeys);

		foreach(lc, p->an->recompute->keys)
		{
			key_types[2 * foreach_current_index(lc)] =
				get_array_type(((DtKeyColumn *) lfirst(lc))->type);
			key_types[2 * foreach_current_index(lc) + 1] = BOOLOID;
		}
		p->recompute_delete = prepare(p, p->sql->recompute_delete, 2 * nkeys, key_types);
		p->recompute_insert = prepare(p, p->sql->recompute_insert, 2 * nkeys, key_types);
	}
	p->building = false;
	MemoryContextSwitchTo(old);
	return p;
}

/* ---------------------------------------------------------------------
 * Running the statements
 * ---------------------------------------------------------------------
 */

/* run_list: run every statement of a list, without parameters. */
static void
run_list(List *plans, Snapshot snap)
{
	ListCell   *lc;

	foreach(lc, plans)
		spi_util_run((SPIPlanPtr) lfirst(lc), NULL, NULL, snap);
}

/*
 * Share of shared_buffers (1 / WARM_SHARE) that the indexes of a DT's
 * auxiliary tables may take when a fill loads them (warm_indexes).
 */
#define WARM_SHARE 4

/*
 * warm_indexes
 *		Read the indexes of the auxiliary tables relids into shared buffers,
 *		each that fits in what is left of 1 / WARM_SHARE of shared_buffers,
 *		as pg_prewarm's buffer mode does.  An index build writes its pages
 *		past the buffer manager, and the values of new rows land on random
 *		leaves: without this a merge after a fill reads a leaf from disk per
 *		changed value, until every leaf was read once (at 10M rows, most of
 *		a 100-row refresh's time).
 */
static void
warm_indexes(List *relids)
{
	BlockNumber budget = NBuffers / WARM_SHARE;
	ListCell   *lc;

	foreach(lc, relids)
	{
		Relation	rel = table_open(lfirst_oid(lc), AccessShareLock);
		List	   *indexes = RelationGetIndexList(rel);
		ListCell   *li;

		foreach(li, indexes)
		{
			Relation	index = index_open(lfirst_oid(li), AccessShareLock);
			BlockNumber blocks = RelationGetNumberOfBlocks(index);
			BlockNumber block;

			if (blocks <= budget)
			{
				budget -= blocks;
				for (block = 0; block < blocks; block++)
				{
					CHECK_FOR_INTERRUPTS();
					ReleaseBuffer(ReadBufferExtended(index, MAIN_FORKNUM, block, RBM_NORMAL, NULL));
				}
			}
			index_close(index, NoLock);
		}
		list_free(indexes);
		table_close(rel, NoLock);
	}
}

/*
 * The fill factor a fill loads the auxiliary tables with: below the one
 * they are made with (deparse.c, AUX_FILLFACTOR), which they keep for the
 * rows a merge adds.  PostgreSQL prunes a page (reads every row on it to
 * free the dead ones) on each visit once its free space is below the
 * table's fill factor's share, so a page filled just to that share was
 * pruned on every visit after a merge had updated a count on it: a whole
 * page read to free one row, a fifth of each update of a count (perf, seed
 * 000's summary at 10M rows).  Filled to 70%, a page takes about 20 updates
 * of its counts before its first prune: 2,000-row merges into a copy of
 * that summary's value counts (2.4M rows) took 17 to 24% less CPU
 * time than at 85%, for 20% more pages.
 */
#define AUX_FILL_FILLFACTOR 70

/*
 * fill_with_room
 *		Give the new heap of an auxiliary table the fill factor its fill
 *		loads it with (AUX_FILL_FILLFACTOR), among the reloptions make_new_heap
 *		copied; the table keeps its own.  Its pg_class row is written here,
 *		not by AlterTableInternal, which takes itself for a subcommand of the
 *		DDL command running: under a command with event triggers (the
 *		extension's sql_drop one is always there), as CREATE TABLE ... AS
 *		SELECT dt.refresh(...), PostgreSQL up to 15.18 crashed there.
 */
static void
fill_with_room(Oid heap)
{
	Relation	classes = table_open(RelationRelationId, RowExclusiveLock);
	HeapTuple	tuple = SearchSysCacheCopy1(RELOID, ObjectIdGetDatum(heap));
	Datum		values[Natts_pg_class] = {0};
	bool		nulls[Natts_pg_class] = {0};
	bool		replace[Natts_pg_class] = {0};
	Datum		options;
	bool		isnull;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", heap);
	options = SysCacheGetAttr(RELOID, tuple, Anum_pg_class_reloptions, &isnull);
	options = transformRelOptions(isnull ? (Datum) 0 : options,
								  list_make1(makeDefElem("fillfactor", (Node *) makeInteger(AUX_FILL_FILLFACTOR), -1)),
								  NULL, NULL, false, false);
	(void) heap_reloptions(RELKIND_RELATION, options, true);
	values[Anum_pg_class_reloptions - 1] = options;
	replace[Anum_pg_class_reloptions - 1] = true;
	tuple = heap_modify_tuple(tuple, RelationGetDescr(classes), values, nulls, replace);
	CatalogTupleUpdate(classes, &tuple->t_self, tuple);
	table_close(classes, RowExclusiveLock);
}

/*
 * The bytes of work_mem a value of an auxiliary table is counted at when a
 * rebuild decides to count them in a hash table (few_values): its entry,
 * key, count and the state of its sum, with room to spare.
 */
#define HASHED_VALUE_BYTES 256

/*
 * few_values
 *		The positions (in aux_relids) of the auxiliary tables whose rows, as
 *		their last ANALYZE counted them, fit in work_mem at
 *		HASHED_VALUE_BYTES each: a rebuild counts their values in a hash
 *		table and sorts only the counts (deparse_state_fill_sql).  A table
 *		never analyzed (a new DT's) or found empty has its values sorted:
 *		a hash table of more values than expected is written to disk in
 *		parts, where the sort reads them in order.  Takes lockmode on each.
 */
static List *
few_values(List *aux_relids, LOCKMODE lockmode)
{
	List	   *hashed = NIL;
	ListCell   *lc;

	foreach(lc, aux_relids)
	{
		Relation	rel = table_open(lfirst_oid(lc), lockmode);
		float4		tuples = rel->rd_rel->reltuples;

		table_close(rel, NoLock);
		if (tuples > 0 && tuples * HASHED_VALUE_BYTES <= work_mem * 1024.0)
			hashed = lappend_int(hashed, foreach_current_index(lc));
	}
	return hashed;
}

/*
 * fill_new_heaps
 *		Run fill (deparse_state_fill_sql's, or a bulk merge, which reads the window
 *		"window" when given) into new heaps of the auxiliary tables, then
 *		swap those in, as REFRESH MATERIALIZED VIEW does: each table keeps
 *		its OID and gets the rows fill wrote, with room left on each page
 *		(AUX_FILL_FILLFACTOR), and its index is built in one
 *		sort instead of one insertion per value, then read into shared
 *		buffers (warm_indexes).  Nothing else reads an auxiliary table, so
 *		the lock taken on it blocks no one.  *fill_ms, if not NULL: the
 *		milliseconds fill ran.
 */
static void
fill_new_heaps(DtPlanSet *p, const char *fill, Datum *window, Snapshot snap, double *fill_ms)
{
	MemoryContext cxt = CurrentMemoryContext;
	List	   *heaps = NIL;
	ListCell   *lc;
	ListCell   *lh;
	SPIPlanPtr	plan;
	instr_time	started;

	foreach(lc, p->sql->aux_relids)
	{
		Relation	rel = table_open(lfirst_oid(lc), AccessExclusiveLock);
		Oid			tablespace = rel->rd_rel->reltablespace;
		Oid			am = rel->rd_rel->relam;

		table_close(rel, NoLock);
		heaps = lappend_oid(heaps, make_new_heap(lfirst_oid(lc), tablespace, am,
												 RELPERSISTENCE_UNLOGGED, ExclusiveLock));
		fill_with_room(llast_oid(heaps));
	}
	/* fill finds the new heaps by name */
	CommandCounterIncrement();
	plan = SPI_prepare(fill, window != NULL ? 3 : 0, window_types);
	if (plan == NULL)
		elog(ERROR, "could not prepare the state fill: %s", SPI_result_code_string(SPI_result));
	INSTR_TIME_SET_CURRENT(started);
	spi_util_run(plan, window, NULL, snap);
	if (fill_ms != NULL)
	{
		instr_time	ran;

		INSTR_TIME_SET_CURRENT(ran);
		INSTR_TIME_SUBTRACT(ran, started);
		*fill_ms = INSTR_TIME_GET_MILLISEC(ran);
	}
	SPI_freeplan(plan);
	MemoryContextSwitchTo(cxt);
	forboth(lc, p->sql->aux_relids, lh, heaps)
		finish_heap_swap(lfirst_oid(lc), lfirst_oid(lh), false, false, false, true,
						 RecentXmin, ReadNextMultiXactId(), RELPERSISTENCE_UNLOGGED);
	warm_indexes(p->sql->aux_relids);
}

/*
 * A full refresh runs its query with parallel workers only where PostgreSQL
 * expects that plan to cost at most this share of the INSERT's (which has
 * none): a worker's start and the parallel plan's extra steps are not paid
 * back by a small saving, and on a busy machine cost more than they save
 * (TPC-H Q8 at scale factor 0.1: expected 14% cheaper in parallel, 65 ms
 * against 28 ms on two shared cores; Q1, expected 39% cheaper, 180 ms
 * against 280 ms).
 */
#define FULL_PARALLEL_SHARE 0.75

/*
 * insert_query_rows
 *		Insert the rows of a DT's query into it: by insert, INSERT INTO the
 *		DT of the query, unless the plan of the query alone (select) uses
 *		parallel workers, which PostgreSQL does not give the query of an
 *		INSERT (REFRESH MATERIALIZED VIEW's gets them), and is expected to
 *		cost at most FULL_PARALLEL_SHARE of the INSERT's: then its rows are
 *		computed by that plan first, kept in a tuplestore, and inserted from
 *		there (rows_insert reads it as DT_QUERY_ROWS), as the same INSERT
 *		into the DT, its triggers and capture included.  Returns the rows
 *		inserted.
 */
static uint64
insert_query_rows(DtPlanSet *p, SPIPlanPtr insert, SPIPlanPtr select, Snapshot snap)
{
	EphemeralNamedRelation rows;
	uint64		inserted;
	Cost		parallel_cost;
	Cost		insert_cost;
	bool		parallel = spi_util_is_parallel(select, &parallel_cost);

	if (parallel)
	{
		spi_util_is_parallel(insert, &insert_cost);
		parallel = parallel_cost <= FULL_PARALLEL_SHARE * insert_cost;
	}
	if (!parallel)
		return spi_util_run(insert, NULL, NULL, snap);
	rows = palloc0(sizeof(EphemeralNamedRelationData));
	rows->reldata = spi_util_run_to_store(select, snap, &rows->md.tupdesc);
	rows->md.name = DT_QUERY_ROWS;
	rows->md.reliddesc = InvalidOid;
	rows->md.enrtype = ENR_NAMED_TUPLESTORE;
	rows->md.enrtuples = tuplestore_tuple_count(rows->reldata);

	/*
	 * The relation lives in an SPI connection of its own, which ends with it:
	 * an error in the insert (an index expression on the DT) inside a
	 * subtransaction of the refresh (incremental_or_full) ends the connection
	 * too, and the full refresh that follows registers it again.
	 */
	SPI_connect();
	if (SPI_register_relation(rows) != SPI_OK_REL_REGISTER)
		elog(ERROR, "could not register the rows of the query");
	if (p->rows_insert == NULL)
		p->rows_insert = prepare(p, p->sql->rows_insert, 0, NULL);
	inserted = spi_util_run(p->rows_insert, NULL, NULL, snap);
	SPI_finish();
	tuplestore_end(rows->reldata);
	return inserted;
}

/*
 * full_refresh
 *		Recompute the DT from its query; for a delta-merge DT, if rebuild,
 *		rebuild its state from the inputs (timed: stats->state_query_ms,
 *		what adaptive refresh expects the query to cost, unless the state
 *		is built from internal DTs) and fill the DT from the state;
 *		a DT with internal DTs reads them if rebuild (the caller refreshed
 *		them), its query as written otherwise.  Without rebuild the caller
 *		sets the state aside (set_aside).
 */
static void
full_refresh(DtPlanSet *p, Snapshot snap, DtRefreshStats *stats, bool rebuild)
{
	stats->action = "FULL";
	if (p->an->strategy == DT_STRATEGY_MERGE && rebuild)
	{
		spi_util_run(merge_plans(p)->state_clear, NULL, NULL, snap);
		fill_new_heaps(p, deparse_state_fill_sql(p->sql, few_values(p->sql->aux_relids, AccessExclusiveLock)),
					   NULL, snap, p->an->internal == 0 ? &stats->state_query_ms : NULL);
		run_list(p->state_finish, snap);
		stats->deleted = spi_util_run(p->full_delete, NULL, NULL, snap);
		stats->inserted = spi_util_run(p->dt_fill, NULL, NULL, snap);
	}
	else
	{
		bool		written = !rebuild && p->query_insert != NULL;

		stats->deleted = spi_util_run(p->full_delete, NULL, NULL, snap);
		stats->inserted = insert_query_rows(p, written ? p->query_insert : p->full_insert,
											written ? p->query_select : p->full_select, snap);
	}
}

/* int8_array: an int8[] datum of n values. */
static Datum
int8_array(int64 *values, int n)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	int			i;

	for (i = 0; i < n; i++)
		elems[i] = Int64GetDatum(values[i]);
	return PointerGetDatum(construct_array(elems, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * window_rows_close
 *		Was plan wp made for windows of inputs "changed" of about the sizes
 *		"rows" (n of them), each within WINDOW_SIZE_FACTOR?
 */
static bool
window_rows_close(WindowPlan *wp, List *changed, double *rows, int n)
{
	int			i;

	if (!equal(wp->changed, changed))
		return false;
	for (i = 0; i < n; i++)
	{
		if (rows[i] > wp->rows[i] * WINDOW_SIZE_FACTOR || wp->rows[i] > rows[i] * WINDOW_SIZE_FACTOR)
			return false;
	}
	return true;
}

/*
 * window_plan
 *		The merge, or the key query, for a window that changed the inputs
 *		"changed" (relids): a join has one term per changed relation, so each
 *		set of changed inputs has its own statement, prepared when first
 *		needed.  The planner reads the rows of each change window from
 *		refresh_window_rows (the support function of
 *		dt_internal.read_changes), so a window much larger or smaller than
 *		those a statement was planned for (window_rows_close) gets a
 *		statement of its own.
 */
static SPIPlanPtr
window_plan(DtPlanSet *p, List *changed)
{
	WindowPlan *wp;
	double	   *rows = palloc(sizeof(double) * Max(list_length(p->sql->count_relids), 1));
	int			n = 0;
	ListCell   *lc;
	MemoryContext old;

	foreach(lc, p->sql->count_relids)
	{
		if (list_member_oid(changed, lfirst_oid(lc)))
			rows[n++] = Max(p->window_rows[foreach_current_index(lc)], 1);
	}
	foreach(lc, p->window_plans)
	{
		wp = (WindowPlan *) lfirst(lc);
		if (window_rows_close(wp, changed, rows, n))
			return wp->plan;
	}
	old = MemoryContextSwitchTo(p->cxt);
	wp = palloc(sizeof(WindowPlan));
	wp->changed = list_copy(changed);
	wp->rows = palloc(sizeof(double) * Max(n, 1));
	memcpy(wp->rows, rows, sizeof(double) * n);

	/*
	 * one plan: the window's position, its only parameters, changes no
	 * estimate
	 */
	wp->plan = prepare_with(p, p->an->strategy == DT_STRATEGY_MERGE ? deparse_merge_sql(p->sql, changed)
							: deparse_recompute_keys_sql(p->an, changed), 3, window_types,
							CURSOR_OPT_GENERIC_PLAN);
	planned_window = true;
	p->window_plans = lappend(p->window_plans, wp);
	MemoryContextSwitchTo(old);
	return wp->plan;
}

/*
 * The random_page_cost the statements that read a change window are
 * planned with, at most.  They join a change set with tables as they are
 * now, by the keys of the change, and the pages they reach (the ones the
 * writers just wrote, the indexes each refresh probes) are in memory: at
 * the default 4, which prices a read from disk, the planner hashes a whole
 * table of 500,000 rows rather than probe its key for 4,000 changed rows,
 * and the refresh costs more than recomputing (issue 13's minimal join).
 */
#define WINDOW_RANDOM_PAGE_COST 1.1

/*
 * run_window
 *		Run the merge, or the key query, of a window that changed the
 *		inputs "changed" (window_plan): the plan is made when it first
 *		runs, so random_page_cost is at most WINDOW_RANDOM_PAGE_COST then.
 */
static void
run_window(DtPlanSet *p, List *changed, Datum *window, Snapshot snap)
{
	int			level = NewGUCNestLevel();

	if (random_page_cost > WINDOW_RANDOM_PAGE_COST)
		set_config_option("random_page_cost", CppAsString2(WINDOW_RANDOM_PAGE_COST), PGC_USERSET,
						  PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	spi_util_run(window_plan(p, changed), window, NULL, snap);
	AtEOXact_GUC(true, level);
}

/*
 * A recompute refresh that touches more than 1 / RECOMPUTE_MAX_SHARE of the
 * DT's keys is done in full: reading most partitions through an index
 * costs more than one scan of everything.
 */
#define RECOMPUTE_MAX_SHARE 4

/*
 * distinct_estimate
 *		The distinct values of column attnum of relation relid as ANALYZE
 *		saw them, of its "tuples" rows; -1 without statistics.
 */
static double
distinct_estimate(Oid relid, AttrNumber attnum, double tuples)
{
	HeapTuple	tup = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(relid), Int16GetDatum(attnum),
									  BoolGetDatum(false));
	float4		distinct = 0;

	if (HeapTupleIsValid(tup))
	{
		distinct = ((Form_pg_statistic) GETSTRUCT(tup))->stadistinct;
		ReleaseSysCache(tup);
	}
	if (distinct > 0)
		return Min(distinct, Max(tuples, 1));
	if (distinct < 0)
		return Max(-distinct * tuples, 1);
	return -1;
}

/*
 * relation_tuples: the planner's estimate of a relation's rows.  It locks
 * the relation as the refresh's statements will: a key column's table may
 * not be locked yet when their plans are cached from an earlier refresh
 * of this backend (opening it unlocked failed an assertion).
 */
static double
relation_tuples(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	BlockNumber pages;
	double		tuples;
	double		allvisfrac;

	table_relation_estimate_size(rel, NULL, &pages, &tuples, &allvisfrac);
	table_close(rel, NoLock);
	return tuples;
}

/*
 * dt_key_estimate
 *		The planner's estimate of the distinct values of key column key
 *		(attnum) of a recompute DT: with adaptive refresh, as ANALYZE saw
 *		them (a key of a few values, a year or a nation, has many rows
 *		each: what a refresh recomputes is the share of the keys it
 *		touched, not of the rows), or, where more, as it saw those of a
 *		leaf's key column in its table (a full refresh reads all those keys,
 *		also those the query keeps no row of: TPC-H Q21 keeps few orders of
 *		many); otherwise, or without statistics, its rows (a choice that
 *		statistics gathered at any moment by autovacuum do not move much,
 *		which tests rely on).
 */
static double
dt_key_estimate(DtPlanSet *p, DtKeyColumn *key, AttrNumber attnum)
{
	double		tuples = relation_tuples(p->relid);
	double		estimate;
	ListCell   *lc;

	if (!refresh_adaptive)
		return tuples;
	estimate = distinct_estimate(p->relid, attnum, tuples);
	if (estimate < 0)
		estimate = tuples;
	foreach(lc, key->leaves)
	{
		DtKeyLeaf  *leaf = (DtKeyLeaf *) lfirst(lc);
		RangeTblEntry *rte;

		if (leaf->key_rtindex == 0 || !IsA(leaf->expr, Var))
			continue;
		rte = rt_fetch(leaf->key_rtindex, leaf->level->rtable);
		/* a partitioned table stores no rows: its size is its partitions' */
		if (rte->rtekind == RTE_RELATION && RELKIND_HAS_TABLE_AM(get_rel_relkind(rte->relid)))
			estimate = Max(estimate, distinct_estimate(rte->relid, ((Var *) leaf->expr)->varattno,
													   relation_tuples(rte->relid)));
	}
	return estimate;
}

/*
 * recompute_refresh
 *		Find the keys the window touched, delete the DT's rows of those keys
 *		and compute them again (recompute.c).  A partition's rows are all
 *		rewritten: they count as deleted and inserted.  With several key
 *		columns, the share of the DT a refresh recomputes is at most that
 *		of its most selective column; with DtRecompute.any (the rows with
 *		a key in any column), at most the sum of the columns' shares.
 */
static void
recompute_refresh(DtPlanSet *p, Datum *window, List *changed, Snapshot snap,
				  DtRefreshStats *stats)
{
	int			nparams = 2 * list_length(p->an->recompute->keys);
	Datum	   *keys = palloc(sizeof(Datum) * nparams);
	char	   *nulls = palloc(nparams);
	bool		isnull;
	int64		most = 0;
	double		share = -1;		/* not yet: the first key column sets it */
	double		estimate = 0;
	int64		selective = 0;
	bool		any = p->an->recompute->any;
	double		any_share = 0;
	int64		any_keys = 0;
	ListCell   *lc;

	stats->action = "INCREMENTAL";
	run_window(p, changed, window, snap);
	foreach(lc, p->an->recompute->keys)
	{
		DtKeyColumn *key = (DtKeyColumn *) lfirst(lc);
		int			i = 2 * foreach_current_index(lc);
		int64		nkeys;
		double		keys_estimate;

		keys[i] = spi_util_datum(0, i + 1, &isnull);
		nulls[i] = isnull ? 'n' : ' ';
		keys[i + 1] = spi_util_datum(0, i + 2, &isnull);
		nulls[i + 1] = ' ';
		if (nulls[i] == 'n' && !DatumGetBool(keys[i + 1]) && !any)
			return;				/* every change was filtered out */
		nkeys = DatumGetBool(keys[i + 1]) ? 1 : 0;
		if (nulls[i] != 'n')
		{
			ArrayType  *arr = DatumGetArrayTypeP(keys[i]);

			nkeys += ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
			keys[i] = datumCopy(keys[i], false, -1);
		}
		keys_estimate = dt_key_estimate(p, key, get_attnum(p->relid, key->name));
		most = Max(most, nkeys);
		any_share += (double) nkeys / Max(keys_estimate, 1);
		any_keys += nkeys;
		estimate = any ? Max(estimate, keys_estimate) : estimate;
		if (!any && (share < 0 || (double) nkeys / Max(keys_estimate, 1) < share))
		{
			share = (double) nkeys / Max(keys_estimate, 1);
			estimate = keys_estimate;
			selective = nkeys;
		}
	}
	if (any && any_keys == 0)
		return;					/* every change was filtered out */
	if (any)
	{
		share = Min(any_share, 1);
		selective = most = any_keys;
	}
	if (most > 1 && share * RECOMPUTE_MAX_SHARE > 1)
	{
		full_refresh(p, snap, stats, true);
		stats->message = psprintf(DT_MESSAGE_KEYS_FULL "%ld keys, of about %.0f; refreshed in full",
								  (long) selective, estimate);
		return;
	}
	stats->deleted = spi_util_run(p->recompute_delete, keys, nulls, snap);
	stats->inserted = spi_util_run(p->recompute_insert, keys, nulls, snap);
}

/* The fewest rows of a window merged in bulk (bulk_window). */
#define BULK_MIN_ROWS DT_BULK_MIN_ROWS

/*
 * aux_rows
 *		The rows of an auxiliary table, as the planner estimates them: its
 *		pages now, at the density ANALYZE saw (the state's rebuild and a
 *		bulk merge end with ANALYZE).
 */
static double
aux_rows(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	BlockNumber pages = RelationGetNumberOfBlocks(rel);
	double		density = BLCKSZ / 64;	/* about the size of a row */

	if (rel->rd_rel->relpages > 0 && rel->rd_rel->reltuples >= 0)
		density = rel->rd_rel->reltuples / rel->rd_rel->relpages;
	table_close(rel, NoLock);
	return density * pages;
}

/*
 * bulk_window
 *		Is the window (of BULK_MIN_ROWS rows or more) to be merged in bulk:
 *		does it bring at least as many values as the auxiliary tables hold
 *		(one per row and item)?  Its values then cost less sorted with the
 *		tables' rows into new tables (deparse_bulk_merge_sql) than upserted
 *		one by one, and what reads the tables (distinct counts, min and
 *		max, cursors) costs less computed again than walked: after a bulk
 *		load into a new or emptied table, always.
 */
static bool
bulk_window(DtPlanSet *p, List *changed)
{
	int64		rows = 0;
	double		held = 0;
	int			items = 0;
	ListCell   *lc;

	if (p->sql->aux_relids == NIL)
		return false;
	foreach(lc, p->sql->count_relids)
	{
		if (list_member_oid(changed, lfirst_oid(lc)))
			rows += p->window_rows[foreach_current_index(lc)];
	}
	if (rows < BULK_MIN_ROWS)
		return false;
	foreach(lc, p->an->aux_tables)
		items += list_length(((DtAuxTable *) lfirst(lc))->items);
	foreach(lc, p->sql->aux_relids)
		held += aux_rows(lfirst_oid(lc));
	return (double) rows * items >= held;
}

/*
 * bulk_merge
 *		The refresh of a large window (bulk_window): the window merged into
 *		the state and, sorted with their rows, into new heaps of the
 *		auxiliary tables; what reads those computed again for every group,
 *		as after a rebuild; the DT filled again from the state.
 */
static void
bulk_merge(DtPlanSet *p, Datum *window, List *changed, Snapshot snap, DtRefreshStats *stats)
{
	fill_new_heaps(p, deparse_bulk_merge_sql(p->sql, changed), window, snap, NULL);
	run_list(p->state_reset, snap);
	run_list(p->state_finish, snap);
	stats->deleted = spi_util_run(p->full_delete, NULL, NULL, snap);
	stats->inserted = spi_util_run(p->dt_fill, NULL, NULL, snap);
	/* rows deleted and written again count as updated */
	stats->updated = Min(stats->deleted, stats->inserted);
	stats->deleted -= stats->updated;
	stats->inserted -= stats->updated;
}

/*
 * merge_refresh
 *		Merge the changes in the window into the state, walk the percentile
 *		cursors, then apply: see deparse.c's merge_sql and apply_sql, whose
 *		columns and parameters DtSql describes (a large window is merged in
 *		bulk instead: bulk_merge).  "changed": the inputs with changes in
 *		the window.
 */
static void
merge_refresh(DtPlanSet *p, Datum *window, List *changed, Snapshot snap,
			  DtRefreshStats *stats)
{
	DtSql	   *sql = p->sql;
	int			ngroups;
	int64	   *gids;
	int64	  **columns;
	int64	  **rank_shifts;
	DtCursorArrays *cursors = NULL;
	Datum	   *params;
	int			g;
	int			c;
	int			i;
	int64		upserted;

	stats->action = "INCREMENTAL";
	merge_plans(p);
	if (bulk_window(p, changed))
	{
		bulk_merge(p, window, changed, snap, stats);
		return;
	}

	/* merge: of each group touched, the gid, then the merge columns */
	run_window(p, changed, window, snap);
	ngroups = (int) SPI_processed;
	if (ngroups == 0)
		return;					/* every change was filtered out */
	gids = palloc(sizeof(int64) * ngroups);
	columns = palloc(sizeof(int64 *) * Max(sql->nmerge_columns, 1));
	rank_shifts = palloc(sizeof(int64 *) * Max(list_length(sql->cursors), 1));
	for (c = 0; c < sql->nmerge_columns; c++)
	{
		Assert(SPI_gettypeid(SPI_tuptable->tupdesc, 2 + c) == INT8OID);
		columns[c] = palloc(sizeof(int64) * ngroups);
		if (sql->merge_columns[c].kind == DT_MERGE_RANK_SHIFT)
			rank_shifts[sql->merge_columns[c].cursor] = columns[c];
	}
	for (g = 0; g < ngroups; g++)
	{
		gids[g] = spi_util_int64(g, 1);
		for (c = 0; c < sql->nmerge_columns; c++)
			columns[c][g] = spi_util_int64(g, 2 + c);
	}

	/* apply's parameters: the gids, distinct deltas, walked cursors */
	params = palloc(sizeof(Datum) * sql->napply_params);
	for (i = 0; i < sql->napply_params; i++)
	{
		DtApplyParam *param = &sql->apply_params[i];

		switch (param->kind)
		{
			case DT_APPLY_GIDS:
				params[i] = int8_array(gids, ngroups);
				if (sql->cursors != NIL)
					cursors = percentile_walk(&p->cursor, sql->cursors, params[i], ngroups,
											  rank_shifts, snap);
				break;
			case DT_APPLY_DISTINCT_DELTA:
			case DT_APPLY_REMOVALS:
				params[i] = int8_array(columns[param->merge_column], ngroups);
				break;
			case DT_APPLY_CURSOR_VALUE:
				params[i] = cursors[param->cursor].values;
				break;
			case DT_APPLY_CURSOR_RANK:
				params[i] = cursors[param->cursor].ranks;
				break;
			case DT_APPLY_CURSOR_NEXT:
				params[i] = cursors[param->cursor].nexts;
				break;
		}
	}

	spi_util_run(p->apply, params, NULL, snap);
	stats->deleted = spi_util_int64(0, DT_APPLY_DELETED);
	upserted = spi_util_int64(0, DT_APPLY_UPSERTED);
	stats->updated = spi_util_int64(0, DT_APPLY_UPDATED);
	if (p->an->keys == NIL)
	{
		/* a one-row aggregate: its row is deleted and written again */
		stats->updated = Min(stats->deleted, upserted);
		stats->deleted -= stats->updated;
	}
	stats->inserted = upserted - stats->updated;
}

/* input_where: the first captured input of p for which test is true, or InvalidOid. */
static Oid
input_where(DtPlanSet *p, bool (*test) (Oid relid))
{
	ListCell   *lc;

	foreach(lc, p->sql->count_relids)
	{
		if (test(lfirst_oid(lc)))
			return lfirst_oid(lc);
	}
	return InvalidOid;
}

/*
 * rls_in_force
 *		Row-level security in force on relid for the owner (the current
 *		user).  Its log does not know which rows the owner may see, so a DT
 *		over it is refreshed in full, through the policies, for as long as
 *		they are in force.
 */
static bool
rls_in_force(Oid relid)
{
	return check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED;
}

/*
 * count_plain_window
 *		The rows and markers in the window of input relid where no row
 *		cancels out (its count statement is NULL: count_sql), counted by
 *		capture_count_window as a statement's read_changes would see them
 *		(spi_util_run: the snapshot with the current command id).
 */
static void
count_plain_window(Oid relid, Datum *window, Snapshot snap, int64 *rows, int64 *markers)
{
	CommandCounterIncrement();
	PushCopiedSnapshot(snap);
	UpdateActiveSnapshotCommandId();
	/* an error pops it with the (sub)transaction, as SPI's */
	capture_count_window(relid, window[0], DatumGetFullTransactionId(window[1]),
						 DatumGetInt32(window[2]), rows, markers);
	PopActiveSnapshot();
}

/*
 * count_window
 *		Count the rows and rebuild markers in the window of every captured
 *		input; *changed: the relids of the inputs with rows in it; if
 *		input_counts is given, the rows and markers of input i go to
 *		input_counts[2i] and [2i + 1].
 */
static void
count_window(DtPlanSet *p, Datum *window, Snapshot snap, int64 *rows, int64 *markers,
			 List **changed, int64 *input_counts)
{
	ListCell   *lc;
	ListCell   *lr;

	*rows = *markers = 0;
	*changed = NIL;
	forboth(lc, p->count_changes, lr, p->sql->count_relids)
	{
		int64		n;
		int64		m;

		if (lfirst(lc) == NULL)
		{
			count_plain_window(lfirst_oid(lr), window, snap, &n, &m);
			p->window_logged[foreach_current_index(lc)] = n + m;
		}
		else
		{
			spi_util_run((SPIPlanPtr) lfirst(lc), window, NULL, snap);
			n = spi_util_int64(0, 1);
			m = spi_util_int64(0, 2);
			p->window_logged[foreach_current_index(lc)] = spi_util_int64(0, 3);
		}
		p->window_rows[foreach_current_index(lc)] = n;
		*rows += n;
		*markers += m;
		if (n > 0)
			*changed = lappend_oid(*changed, lfirst_oid(lr));
		if (input_counts != NULL)
		{
			input_counts[2 * foreach_current_index(lc)] = n;
			input_counts[2 * foreach_current_index(lc) + 1] = m;
		}
	}
}

/* An incremental refresh's arguments, for spi_util_in_subtransaction. */
typedef struct IncrementalRefresh
{
	DtPlanSet  *p;
	Datum	   *window;
	List	   *changed;
	Snapshot	snap;
	DtRefreshStats *stats;
} IncrementalRefresh;

/*
 * incremental_refresh
 *		The refresh of incremental_or_full.  A top-k over one relation that
 *		changed chooses its rows again from it (recompute_top_k): its
 *		query reads k rows of the relation, through an index on its ORDER
 *		BY, and they replace the DT's k rows.
 */
static void
incremental_refresh(void *arg)
{
	IncrementalRefresh *r = (IncrementalRefresh *) arg;

	if (r->p->an->strategy == DT_STRATEGY_RECOMPUTE)
		recompute_refresh(r->p, r->window, r->changed, r->snap, r->stats);
	else if (r->p->an->strategy == DT_STRATEGY_TOP_K)
	{
		r->stats->action = "INCREMENTAL";
		r->stats->deleted = spi_util_run(r->p->full_delete, NULL, NULL, r->snap);
		r->stats->inserted = spi_util_run(r->p->full_insert, NULL, NULL, r->snap);
	}
	else
		merge_refresh(r->p, r->window, r->changed, r->snap, r->stats);
}

/*
 * incremental_or_full
 *		An incremental refresh evaluates the query's expressions on every
 *		row of the window, also on rows inserted and deleted again before
 *		the refresh, which the query itself never sees.  When that raises a
 *		data exception (division by zero, a bad cast, ...) the refresh is
 *		rolled back and done in full instead: if the error came from such a
 *		row, the full refresh succeeds and consumes the window; if not, it
 *		raises the error again.  So does a unique or exclusion violation of
 *		an index on the DT (violated_on_dt): an index of the user's that
 *		holds for the query's result may not hold between the rows an
 *		incremental refresh writes one by one (two groups that swap their
 *		sums), where the full refresh deletes every row before it inserts.
 *		One of an index on the state or another table is raised: nothing
 *		but a fault of the refresh's own statements would make it, and a
 *		full refresh would hide it.  Returns false if the state was set
 *		aside (rebuild_or_set_aside), true if it is valid.
 */
static bool rebuild_or_set_aside(DtPlanSet *p, Snapshot snap, DtRefreshStats *stats);

/*
 * violated_on_dt
 *		Is edata a unique or exclusion violation of a constraint or index on
 *		the DT relid (as the error names its table)?  Of the DT's own
 *		indexes only the key index is unique, the arbiter of its upserts,
 *		which they do not violate: the others are the user's.
 */
static bool
violated_on_dt(Oid relid, ErrorData *edata)
{
	return (edata->sqlerrcode == ERRCODE_UNIQUE_VIOLATION || edata->sqlerrcode == ERRCODE_EXCLUSION_VIOLATION) &&
		edata->schema_name != NULL && edata->table_name != NULL &&
		strcmp(edata->table_name, get_rel_name(relid)) == 0 &&
		strcmp(edata->schema_name, get_namespace_name(get_rel_namespace(relid))) == 0;
}

static bool
incremental_or_full(DtPlanSet *p, Datum *window, List *changed, Snapshot snap,
					DtRefreshStats *stats)
{
	IncrementalRefresh r = {p, window, changed, snap, stats};
	ErrorData  *edata = spi_util_in_subtransaction(incremental_refresh, &r);

	if (edata == NULL)
		return true;
	if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_DATA_EXCEPTION && !violated_on_dt(p->relid, edata))
		ReThrowError(edata);
	memset(stats, 0, sizeof(DtRefreshStats));
	if (!rebuild_or_set_aside(p, snap, stats))
		return false;
	stats->message = psprintf("incremental refresh failed (%s); refreshed in full", edata->message);
	return true;
}

/* ---------------------------------------------------------------------
 * Adaptive refresh
 * ---------------------------------------------------------------------
 */

/* The full refreshes whose median is the expected cost of the next. */
#define ADAPTIVE_FULL_SAMPLES 3

/*
 * The full refresh the history chooses for a DT with state (the per-group
 * state of delta merge, internal DTs: aside_what) runs the query and sets
 * the state aside (rebuilding the state costs several times the query);
 * until the history has one, it is expected to cost this share of the
 * full refreshes that built the state (its creation).
 */
#define ADAPTIVE_QUERY_SHARE 0.5

/*
 * After this many full refreshes in a row chosen by the history, the next
 * may be incremental again: the only way to learn that incremental got
 * cheaper (one slow sample, on a loaded machine, would otherwise hold it
 * full); but only one expected to cost at most ADAPTIVE_PROBE_MARGIN times
 * the full refresh, so that a probe in a long run of large windows does
 * not cost several full refreshes.
 */
#define ADAPTIVE_PROBE_AFTER 10
#define ADAPTIVE_PROBE_MARGIN 1.2

/*
 * Nor would an incremental figure ever be timed again where the windows
 * got much smaller than any incremental refresh timed: it is read off
 * those larger windows (their cheapest is its fixed part), and a DT that
 * went full on a large window, its state set aside, kept paying full
 * refreshes for small windows, its figure always that large window's.
 * After ADAPTIVE_PROBE_AFTER full refreshes in a row chosen by the
 * history, if none of the latest of them (the whole run, up to that
 * number) nor this window read more than 1 / ADAPTIVE_PROBE_SHRINK of the
 * smallest window timed, this refresh is incremental (rebuilding the
 * state set aside, and not setting it aside next time before one was
 * timed): the windows of that size get timed, and decide from then on.
 * Each probe times windows ADAPTIVE_PROBE_SHRINK times smaller than any
 * before, so it can come again only after they shrink that much more.
 */
#define ADAPTIVE_PROBE_SHRINK 10.0

/*
 * A window of at least 1 / ADAPTIVE_COLD_SHARE of the rows its changed
 * inputs hold, and of BULK_MIN_ROWS, larger than twice any the history
 * timed (a bulk load, the first large batch), is expected to cost more
 * incrementally than in full: each changed row costs an incremental
 * refresh several times what a row costs the query.  One statement that
 * large writes a marker instead (capture.c, marker_action).
 */
#define ADAPTIVE_COLD_SHARE DT_BULK_SHARE

/*
 * A DT whose state was set aside rebuilds it (several times the query)
 * only when the next ADAPTIVE_PAYBACK refreshes, incremental instead of
 * full, are expected to save more than the rebuild costs over a full
 * refresh; and it sets its state aside only when the next ADAPTIVE_PAYBACK
 * refreshes, full instead of incremental, are expected to save more than
 * that: a full refresh barely cheaper would cost a rebuild later, if
 * incremental refreshes get cheaper again by that much; one whose cheapest
 * incremental refresh never was goes full for good.
 */
#define ADAPTIVE_PAYBACK 10

/*
 * Under pg_dynamic_tables.build_state_apart auto, the refresh that would
 * rebuild a state set aside, after this many full refreshes in a row left
 * it to be built apart and none built it, rebuilds it inline
 * (decide_action): the history chose the rebuild because the next
 * ADAPTIVE_PAYBACK incremental refreshes are expected to save more than
 * it costs over a full refresh; each full refresh that waited for a build
 * gave up one of those savings, so after ADAPTIVE_PAYBACK of them the wait
 * has cost about what the inline rebuild would have, and a longer one only
 * loses.  A table that never leaves a worker the slack to build it (a short
 * lag under steady writes), or whose builds keep failing, gets its
 * incremental refreshes back that way.  Sooner, once those full refreshes
 * took as long in all as the build is expected to (DtBuildWait): waiting
 * on then costs more than building it would have (a rent paid up to the
 * price, then the purchase: about twice, at most, the cost of knowing
 * when the build would come, as far as its expected time is right).
 * FlakeBench's summary at 2.9M rows under 8 pgbench writers, after a bulk
 * INSERT set its state aside: ten full refreshes of 11 to 18 s each (its
 * incremental ones expected at 0.9 s), run back to back by one worker,
 * waited for a build (expected at 24 s, its last) that came only when the
 * writers stopped (50 s).
 */
#define BUILD_APART_PATIENCE ADAPTIVE_PAYBACK

/*
 * An incremental figure extrapolated (from windows less than half as
 * large) is taken to be off by up to this factor either way: a DT with
 * state sets it aside on such a figure only if it exceeds a full refresh
 * by more, and rebuilds it on one only if it is below a full refresh by
 * more.  Linear from the small windows timed, it ran high: TPC-H Q08 at
 * 1%, after rounds at 0.1%, expected 57 ms where its incremental
 * refreshes took 20 to 27 against a full refresh of 42, went full, and,
 * no window of that size ever timed again, stayed full for good; Q17, 21
 * ms expected against 18, stayed full at 86 to 212 ms.  Only so far:
 * from windows more than ADAPTIVE_ROUGH_REACH times smaller, the figure
 * is no measure at all, and the state is set aside on it as it says, and
 * never rebuilt (figure 10's template statistics, after 125-row refreshes
 * of 18 ms, expected 108 ms for 333,440 rows against a full refresh of
 * 5.6 s, rebuilt its state in 26 s, and that refresh was a full one too).
 */
#define ADAPTIVE_ROUGH_FACTOR 2.0
#define ADAPTIVE_ROUGH_REACH 16.0

/*
 * A DT with state whose full refresh from the query was never timed tries
 * one when even its cheapest incremental refresh took at least this share
 * of what that is guessed to cost: the guess, from its creation, can be
 * off by more than that (TPC-H Q22, its statement building the state
 * timed at creation, cold: 13 ms to over 17 ms for a query of 13 ms and
 * incremental refreshes of 16 to 17 ms, so it stayed incremental in some
 * runs); once timed, the figures decide.  Not less: a wrong try costs a
 * full refresh and a rebuild of the state, both dearer than the
 * incremental refreshes they replace, where one that is right saves less
 * than (1 - this share) of each later refresh (TPC-H Q08 at 1%, tried at
 * half the guess: its incremental refreshes of 20 to 27 ms, a query of 25
 * to 37 ms, a full refresh of 37 ms then a rebuild of 45).
 */
#define ADAPTIVE_TRY_SHARE 0.9

/*
 * It also tries one for a window whose incremental refresh is expected to
 * take at least ADAPTIVE_TRY_LARGE_SHARE of the guess and
 * ADAPTIVE_TRY_GROWTH times its cheapest incremental refresh: a window
 * far larger than most, on a guess that can be several times the query
 * (seed 000's table-type summary at 1M rows: its statement building the
 * state, with the value counts of its percentiles, took 17.6 s, the query
 * 4.9 s; its refreshes of 100,000 changed rows took 5.2 to 9.7 s, its
 * usual ones 30 ms, and it stayed incremental): a bulk change, rare.
 * Not for the usual windows, whose incremental refreshes are timed again
 * and again (a small DT, its fixed cost a quarter of its creation's), nor
 * for one ten times as large: TPC-H at 1% after rounds at 0.1% tried Q05,
 * Q08, Q13 and Q17 at ten times, each then full until its state was built
 * again, the median refresh 2.73 times faster than the query instead of
 * 2.94 (a run of the same load).
 */
#define ADAPTIVE_TRY_LARGE_SHARE 0.25
#define ADAPTIVE_TRY_GROWTH 100.0

/* compare_double: qsort's order of doubles. */
static int
compare_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return x < y ? -1 : x > y ? 1 : 0;
}

/* median: the median of n > 0 values, which it sorts. */
static double
median(double *values, int n)
{
	qsort(values, n, sizeof(double), compare_double);
	return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/*
 * cheapest_incremental_ms
 *		The least an incremental refresh took of the recent ones (costs, at
 *		least one): the fixed part of expected_incremental_ms, below which
 *		none of any window is expected.
 */
static double
cheapest_incremental_ms(const DtRefreshCosts *costs)
{
	double		cheapest = costs->incremental_ms[0];
	int			i;

	for (i = 1; i < costs->nincremental; i++)
		cheapest = Min(cheapest, costs->incremental_ms[i]);
	return cheapest;
}

/*
 * chosen_fulls_ms
 *		What the full refreshes the history chose since the last incremental
 *		one or rebuild took in all (costs: its newest full samples, as many
 *		as costs->adaptive_fulls, at most DT_COST_SAMPLES, before the first
 *		not chosen: a rebuild, a build apart, the first population), or 0;
 *		*counted: how many.  Those before a rebuild waited for a rebuild
 *		that came: counted again, they would rebuild it at the next refresh
 *		that set it aside again.
 */
static double
chosen_fulls_ms(const DtRefreshCosts *costs, int *counted)
{
	double		ms = 0;
	int			i;

	for (i = 0; i < costs->nfull && i < costs->adaptive_fulls && costs->full_chosen[i]; i++)
		ms += costs->full_ms[i];
	*counted = i;
	return ms;
}

/* full_query_timed: was a full refresh chosen by the history timed (costs)? */
static bool
full_query_timed(const DtRefreshCosts *costs)
{
	int			i;

	for (i = 0; i < costs->nfull; i++)
	{
		if (costs->full_chosen[i])
			return true;
	}
	return false;
}

/*
 * shrunk_windows
 *		Were the last full refreshes (ADAPTIVE_PROBE_AFTER of them or more,
 *		in a row, chosen by the history, costs) and this window of
 *		"changes" rows all ADAPTIVE_PROBE_SHRINK times smaller than any
 *		incremental refresh timed?  Then *smallest is that smallest window.
 */
static bool
shrunk_windows(const DtRefreshCosts *costs, int64 changes, double *smallest)
{
	int			i;

	if (costs->adaptive_fulls < ADAPTIVE_PROBE_AFTER || costs->recent_full_changes < 0)
		return false;
	*smallest = costs->changes[0];
	for (i = 1; i < costs->nincremental; i++)
		*smallest = Min(*smallest, costs->changes[i]);
	return Max(costs->recent_full_changes, changes) * ADAPTIVE_PROBE_SHRINK <= *smallest;
}

/*
 * expected_incremental_ms
 *		What an incremental refresh of "changes" rows is expected to cost,
 *		from the recent ones (costs, at least one): a fixed part, the
 *		cheapest of them, and a part proportional to the changes, read off
 *		the refreshes of the smallest window at least as large as this one
 *		(the largest, if none is), the median of those of that size.
 *		*reach: how many times the largest this one is (at most 1 if one
 *		at least as large was timed); the figure is extrapolated beyond 2.
 */
static double
expected_incremental_ms(const DtRefreshCosts *costs, int64 changes, double *reach)
{
	double		fixed = cheapest_incremental_ms(costs);
	double		reference = -1;
	double		same[DT_COST_SAMPLES];
	int			nsame = 0;
	int			i;

	for (i = 0; i < costs->nincremental; i++)
	{
		if (costs->changes[i] >= changes && (reference < 0 || costs->changes[i] < reference))
			reference = costs->changes[i];
	}
	if (reference < 0)
	{
		for (i = 0; i < costs->nincremental; i++)
			reference = Max(reference, costs->changes[i]);
	}
	*reach = reference > 0 ? changes / reference : (changes > 0 ? get_float8_infinity() : 0);
	/* the refreshes of about that size (within a factor of 2) */
	for (i = 0; i < costs->nincremental; i++)
	{
		if (costs->changes[i] >= reference / 2 && costs->changes[i] <= reference * 2)
			same[nsame++] = costs->incremental_ms[i];
	}
	if (reference <= 0)
		return median(same, nsame);
	return fixed + (median(same, nsame) - fixed) * (double) changes / reference;
}

/*
 * expected_full_ms
 *		What a full refresh chosen by the history is expected to cost: the
 *		median of the last ADAPTIVE_FULL_SAMPLES full refreshes (costs, at
 *		least one).  For a DT with state (aside), whose full refresh chosen
 *		by the history runs the query instead of rebuilding the state,
 *		those of that kind, or without one, those that built the state:
 *		if guess, what their statement that built the per-group state from
 *		the inputs took, where it was timed (it computes what the query
 *		does: TPC-H Q08, 39 ms for a query of 29 to 37 ms, whose creation
 *		took 47), or else ADAPTIVE_QUERY_SHARE of their cost (the rest of a
 *		creation, planning and creating tables and indexes, can be most of
 *		it: TPC-H Q22, a query of 13 ms, created in 30 to 88 ms); all of it
 *		otherwise.
 *		*rebuild_ms: with state, what building it is expected to cost, the
 *		median of the last ones that did (-1 if none did); *floor_ms: the
 *		cheapest of the full refreshes whose median it is (the figure
 *		itself if guessed).
 */
static double
expected_full_ms(const DtRefreshCosts *costs, bool aside, bool guess, double *rebuild_ms,
				 double *floor_ms)
{
	double		chosen[DT_COST_SAMPLES];
	double		other[DT_COST_SAMPLES];
	double		query[DT_COST_SAMPLES];
	int			nchosen = 0;
	int			nother = 0;
	int			nquery = 0;
	int			i;

	for (i = 0; i < costs->nfull; i++)
	{
		if (!aside || costs->full_chosen[i])
			chosen[nchosen++] = costs->full_ms[i];
		else
		{
			if (costs->full_query_ms[i] > 0 && nother < ADAPTIVE_FULL_SAMPLES)
				query[nquery++] = costs->full_query_ms[i];
			other[nother++] = costs->full_ms[i];
		}
	}
	*rebuild_ms = nother > 0 ? median(other, Min(nother, ADAPTIVE_FULL_SAMPLES)) : -1;
	if (nchosen > 0)
	{
		nchosen = Min(nchosen, ADAPTIVE_FULL_SAMPLES);
		*floor_ms = chosen[0];
		for (i = 1; i < nchosen; i++)
			*floor_ms = Min(*floor_ms, chosen[i]);
		return median(chosen, nchosen);
	}
	if (!guess)
		*floor_ms = *rebuild_ms;
	else
	{
		*floor_ms = nquery > 0 ? median(query, nquery) : ADAPTIVE_QUERY_SHARE * *rebuild_ms;
	}
	return *floor_ms;
}

/*
 * changed_input_rows
 *		The rows the inputs "changed" (relids) hold now, as the planner
 *		estimates them (their pages now: a bulk load into an emptied table
 *		counts); 0 if one is not a table.
 */
static double
changed_input_rows(List *changed)
{
	double		rows = 0;
	ListCell   *lc;

	foreach(lc, changed)
	{
		Oid			relid = lfirst_oid(lc);

		if (get_rel_relkind(relid) != RELKIND_RELATION)
			return 0;
		rows += relation_tuples(relid);
	}
	return rows;
}

/*
 * cold_window
 *		Is a window of "changes" rows as the history counts them, of "bulk"
 *		rows of the inputs "changed" (relids), larger than twice any timed
 *		(costs: expected_incremental_ms extrapolates it, or none was
 *		timed), of BULK_MIN_ROWS or more and at least
 *		1 / ADAPTIVE_COLD_SHARE of the rows those inputs hold
 *		(changed_input_rows, read only for such a window)?  If so, *why
 *		says so.
 */
static bool
cold_window(const DtRefreshCosts *costs, int64 changes, int64 bulk, List *changed, char **why)
{
	double		input_rows;
	double		reach = 0;

	if (bulk < BULK_MIN_ROWS)
		return false;
	if (costs->nincremental > 0)
		(void) expected_incremental_ms(costs, changes, &reach);
	if (costs->nincremental > 0 && reach <= 2)
		return false;
	input_rows = changed_input_rows(changed);
	if (input_rows <= 0 || bulk * ADAPTIVE_COLD_SHARE < input_rows)
		return false;
	*why = psprintf("%lld changed rows, %.0f%% of the about %.0f rows of the inputs that changed and more "
					"than twice any timed, was expected to cost more than a full refresh",
					(long long) bulk, 100.0 * bulk / input_rows, input_rows);
	return true;
}

/*
 * adaptive_full
 *		Is a full refresh of the DT relid expected to cost less than an
 *		incremental one of "changes" rows as its history counts them
 *		(history_rows), of "bulk" rows of the windows of the inputs
 *		"changed" (relids)?
 *		Learnt from its own history
 *		(catalog_refresh_costs): the incremental cost by
 *		expected_incremental_ms, the full cost by expected_full_ms (what:
 *		the state a full refresh sets aside, aside_what), which guesses the
 *		cost of a kind of full refresh not timed yet only if the
 *		incremental cost is not extrapolated either (trying the full
 *		refresh that sets the state aside costs a rebuild of the state if
 *		it was the wrong guess).
 *		A window larger than any timed, of BULK_MIN_ROWS or more and at
 *		least 1 / ADAPTIVE_COLD_SHARE of the rows the changed inputs hold
 *		(cold_window, which reads them only for such a window), is full
 *		without them (an internal DT with a per-group state leaves it to
 *		its parent before: leave_to_parent).
 *		Otherwise, without a refresh of either kind in the history, or
 *		with pg_dynamic_tables.adaptive_refresh off, it is incremental; so is
 *		an internal DT, which is its parent's state: the parent's history,
 *		which times and counts their refreshes with its own (history_rows),
 *		chooses for them (its full refresh from the query sets them aside).
 *		One that chose on its own history went full when that looked
 *		cheaper for it, which made its parent's window a rebuild marker:
 *		the parent was refreshed in full from the query, then rebuilt
 *		(TPC-H Q13 at 1%: 415 ms, then 340 and 420, against a query of 260);
 *		after ADAPTIVE_PROBE_AFTER full ones it chose in a row, too, if
 *		expected to cost at most ADAPTIVE_PROBE_MARGIN times a full one,
 *		or if their windows and this one are far smaller than any timed
 *		(shrunk_windows), with or without the state set aside: the figure
 *		was read off larger windows, and only an incremental refresh can
 *		time this size.
 *		A figure extrapolated, up to ADAPTIVE_ROUGH_REACH times the
 *		largest window timed, is taken to be off by up to
 *		ADAPTIVE_ROUGH_FACTOR: the state is set aside on one only if it
 *		exceeds the full refresh by more, and rebuilt on one only if it is
 *		below by more; beyond, it is set aside as the figure says and
 *		never rebuilt on one.  Unless the full refreshes the history chose
 *		since the last incremental one or rebuild took as long in all as a
 *		rebuild (chosen_fulls_ms), and the window the rebuild would leave
 *		(the rows written meanwhile, at this window's rate over a full
 *		refresh) is expected to be cheaper incremental than full: waiting on
 *		for a figure to trust then costs more than the rebuild, and may
 *		never end, as a long full refresh leaves a larger window still
 *		(FlakeBench's summary at 3.8M rows under 8 pgbench writers, after a
 *		bulk INSERT: full refreshes of 27 to 36 s in a row, each "too rough
 *		a figure", until the writers stopped).
 *		aside: the state is set aside; an incremental refresh would first
 *		rebuild it, which the next ADAPTIVE_PAYBACK ones must pay back, on
 *		a figure not extrapolated, over the cheapest of the full refreshes
 *		timed (their median going up with the load, the incremental figure
 *		staying as it was timed, the state would be rebuilt for nothing and
 *		set aside again: TPC-H Q22 on a loaded machine).  Not aside, a full refresh that would
 *		set the state aside must pay back its rebuild the same way over
 *		the next ADAPTIVE_PAYBACK ones (a near tie stays incremental), but
 *		only if a rebuild could come: not if even the cheapest incremental
 *		refresh timed (below which none of any window is expected) would
 *		not pay it back, as the state set aside would then never be
 *		rebuilt (TPC-H Q22: its threshold, avg(c_acctbal), moves every
 *		round, so every incremental refresh evaluates every customer before
 *		and after, more than the query).
 *		*message says
 *		why when it is full; otherwise it gives both figures if both were
 *		expected, or is NULL.
 */
static bool
adaptive_full(Oid relid, const char *what, bool aside, int64 changes, int64 bulk,
			  List *changed, char **message)
{
	DtRefreshCosts costs;
	double		full_ms;
	double		incremental_ms = 0;
	double		rebuild_ms;
	double		full_floor_ms;
	char	   *cold;
	bool		extrapolated = true;
	double		reach = 0;
	double		smallest;
	const char *how = what != NULL ? psprintf(" from the query, its %s set aside", what) : "";

	*message = NULL;
	if (!refresh_adaptive)
		return false;
	catalog_refresh_costs(relid, ADAPTIVE_PROBE_AFTER, &costs);
	if (costs.nincremental > 0)
	{
		incremental_ms = expected_incremental_ms(&costs, changes, &reach);
		extrapolated = reach > 2;
	}
	if (cold_window(&costs, changes, bulk, changed, &cold))
	{
		*message = psprintf(DT_MESSAGE_ADAPTIVE_FULL "%s; refreshed in full%s", cold, how);
		return true;
	}
	if (costs.nincremental == 0 || costs.nfull == 0 || OidIsValid(names_internal_parent(relid)))
		return false;
	if (shrunk_windows(&costs, changes, &smallest))
	{
		*message = psprintf("the last %d refreshes were full, none of more than %.0f changed rows (this one "
							"%lld), while the smallest incremental refresh timed read %.0f: an incremental "
							"refresh times windows of this size",
							costs.adaptive_fulls, costs.recent_full_changes, (long long) changes, smallest);
		return false;
	}
	full_ms = expected_full_ms(&costs, what != NULL, !extrapolated, &rebuild_ms, &full_floor_ms);
	if (incremental_ms <= full_ms && aside && extrapolated &&
		(reach > ADAPTIVE_ROUGH_REACH || incremental_ms * ADAPTIVE_ROUGH_FACTOR > full_ms))
	{
		int			waited;
		double		waited_ms = chosen_fulls_ms(&costs, &waited);
		int64		after = (int64) (changes * (rebuild_ms / Max(full_ms, 1)));
		double		after_reach;

		/*
		 * the window a rebuild leaves, of the rows written meanwhile at the
		 * rate of this one over a full refresh, must not set the state aside
		 * again, or rebuilds and full refreshes would take turns
		 */
		if (rebuild_ms > 0 && waited_ms >= rebuild_ms &&
			expected_incremental_ms(&costs, after, &after_reach) <= full_ms)
		{
			*message = psprintf("an incremental refresh of %lld changed rows is expected to take %.0f ms "
								"(from the last %d, none of them half as large), a full refresh %.0f ms: too "
								"rough a figure to rebuild the %s on, but the %d full refreshes since the last "
								"incremental one or rebuild took %.0f ms, as long as rebuilding it (%.0f ms)",
								(long long) changes, incremental_ms, costs.nincremental, full_ms, what,
								waited, waited_ms, rebuild_ms);
			return false;
		}
		*message = psprintf(DT_MESSAGE_ADAPTIVE_FULL "%lld changed rows is expected to take %.0f ms "
							"(from the last %d, none of them half as large), a full refresh %.0f ms: too "
							"rough a figure to rebuild the %s on; refreshed in full%s",
							(long long) changes, incremental_ms, costs.nincremental, full_ms, what, how);
		return true;
	}
	if (incremental_ms <= full_ms && aside && rebuild_ms > 0 &&
		(full_floor_ms - incremental_ms) * ADAPTIVE_PAYBACK < rebuild_ms - full_floor_ms)
	{
		*message = psprintf(DT_MESSAGE_ADAPTIVE_FULL "%lld changed rows is expected to take %.0f ms "
							"(from the last %d), a full refresh %.0f ms, %.0f ms at the cheapest: "
							"the next %d would not pay back rebuilding the %s (%.0f ms); refreshed in full%s",
							(long long) changes, incremental_ms, costs.nincremental, full_ms, full_floor_ms,
							ADAPTIVE_PAYBACK, what, rebuild_ms, how);
		return true;
	}
	if (incremental_ms > full_ms && !aside && what != NULL && rebuild_ms > 0 &&
		(full_ms - cheapest_incremental_ms(&costs)) * ADAPTIVE_PAYBACK < rebuild_ms - full_ms)
	{
		*message = psprintf(DT_MESSAGE_ADAPTIVE_FULL "%lld changed rows was expected to take %.0f ms "
							"(from the last %d, the cheapest %.0f ms), a full refresh %.0f ms: "
							"incremental refreshes cannot win, not even by enough over the next %d to pay "
							"back rebuilding the %s (%.0f ms), so it is not rebuilt; refreshed in full%s",
							(long long) changes, incremental_ms, costs.nincremental,
							cheapest_incremental_ms(&costs), full_ms, ADAPTIVE_PAYBACK, what, rebuild_ms, how);
		return true;
	}
	if (!aside && what != NULL && rebuild_ms > 0 && !extrapolated && !full_query_timed(&costs) &&
		(cheapest_incremental_ms(&costs) >= ADAPTIVE_TRY_SHARE * full_ms ||
		 (incremental_ms >= ADAPTIVE_TRY_LARGE_SHARE * full_ms &&
		  incremental_ms >= ADAPTIVE_TRY_GROWTH * cheapest_incremental_ms(&costs))))
	{
		bool		large = cheapest_incremental_ms(&costs) < ADAPTIVE_TRY_SHARE * full_ms;

		*message = psprintf(DT_MESSAGE_ADAPTIVE_FULL "%lld changed rows was expected to take %.0f ms "
							"(from the last %d, the cheapest %.0f ms), a full refresh from the query %.0f ms, "
							"a guess (never timed) that %s is at least %.0f%% of: tried to time it; "
							"refreshed in full%s",
							(long long) changes, incremental_ms, costs.nincremental,
							cheapest_incremental_ms(&costs), full_ms,
							large ? "this window, far larger than most," : "the cheapest",
							100 * (large ? ADAPTIVE_TRY_LARGE_SHARE : ADAPTIVE_TRY_SHARE), how);
		return true;
	}
	if (incremental_ms > full_ms && !aside && what != NULL && rebuild_ms > 0 &&
		(incremental_ms - full_ms) * ADAPTIVE_PAYBACK < rebuild_ms - full_ms)
	{
		*message = psprintf("an incremental refresh of %lld changed rows is expected to take %.0f ms "
							"(from the last %d), a full refresh %.0f ms: the next %d would not pay back "
							"rebuilding the %s (%.0f ms) it would set aside",
							(long long) changes, incremental_ms, costs.nincremental, full_ms,
							ADAPTIVE_PAYBACK, what, rebuild_ms);
		return false;
	}
	if (incremental_ms <= full_ms ||
		(!aside && costs.adaptive_fulls >= ADAPTIVE_PROBE_AFTER &&
		 incremental_ms <= ADAPTIVE_PROBE_MARGIN * full_ms))
	{
		*message = psprintf("an incremental refresh of %lld changed rows is expected to take %.0f ms "
							"(from the last %d), a full refresh %.0f ms",
							(long long) changes, incremental_ms, costs.nincremental, full_ms);
		return false;
	}
	if (!aside && what != NULL && extrapolated && reach <= ADAPTIVE_ROUGH_REACH &&
		incremental_ms <= ADAPTIVE_ROUGH_FACTOR * full_ms)
	{
		*message = psprintf("an incremental refresh of %lld changed rows is expected to take %.0f ms "
							"(from the last %d, none of them half as large), a full refresh %.0f ms: "
							"too rough a figure to set the %s aside on",
							(long long) changes, incremental_ms, costs.nincremental, full_ms, what);
		return false;
	}
	*message = psprintf(DT_MESSAGE_ADAPTIVE_FULL "%lld changed rows was expected to take %.0f ms "
						"(from the last %d), a full refresh %.0f ms; refreshed in full%s",
						(long long) changes, incremental_ms, costs.nincremental, full_ms, how);
	return true;
}

/* What the next refresh of a DT does, as decide_action finds it. */
typedef enum DtAction
{
	DT_ACTION_NO_DATA,
	DT_ACTION_INCREMENTAL,
	DT_ACTION_FULL
} DtAction;

typedef struct DtDecision
{
	DtAction	action;
	char	   *message;		/* for the history, or NULL */
	char	   *why;			/* why this action, for dt.explain_refresh */
	bool		state_rebuilt;	/* a full refresh that makes the state valid */
	bool		set_aside;		/* a full refresh of a DT with state that runs
								 * the query and sets its state aside */
	Datum		window[3];		/* the position: the window starts there */
	List	   *changed;		/* inputs with rows in the window */
	bool		counted;		/* the window was counted: */
	int64		changes;		/* the rows its history counts (history_rows) */
	bool		catch_up;		/* the window starts at the position of its
								 * state built apart (catch_up): valid after */
	bool		forget_state;	/* the state built apart is of no use */
	bool		refill;			/* a catch-up that fills the DT from the state
								 * after the merge */
	char	   *to_parent;		/* an internal DT that leaves its window to
								 * its parent (leave_to_parent): why */
} DtDecision;

/*
 * aside_what
 *		The state a full refresh of a DT analysed as an can set aside, as
 *		the history names it: the per-group state of delta merge, the
 *		internal DTs its query reads (internal.c), both, or NULL (none: its
 *		full refresh is its query).
 */
static const char *
aside_what(DtAnalysis *an)
{
	bool		internal = an->internal > 0 && an->strategy != DT_STRATEGY_FULL;

	if (an->strategy == DT_STRATEGY_MERGE)
		return internal ? "per-group state and internal tables" : "per-group state";
	return internal ? "internal tables" : NULL;
}

/*
 * said
 *		The word one or many, as the messages about the state what
 *		(aside_what) take it: one for the per-group state alone, many where
 *		internal tables are part of it ("is" or "are").
 */
static const char *
said(const char *what, const char *one, const char *many)
{
	return strcmp(what, "per-group state") == 0 ? one : many;
}

/*
 * internal_unheld
 *		Does this transaction lack the refresh lock of an internal DT of DT
 *		relid?  lock_unit takes those of a DT whose state is aside without
 *		waiting: one it could not take is being built apart
 *		(refresh_build_state), and the refresh leaves them all alone.
 */
static bool
internal_unheld(Oid relid)
{
	ListCell   *lc;

	foreach(lc, catalog_internal_dts(relid))
	{
		if (!CheckRelationOidLockedByMe(lfirst_oid(lc), ExclusiveLock, false))
			return true;
	}
	return false;
}

/*
 * internal_taken
 *		For dt.explain_refresh of DT relid, which takes no refresh lock:
 *		does another transaction hold the refresh lock of an internal DT of
 *		it (a build apart, refresh_build_state, or a refresh of its unit)?
 *		Its full refresh of them truncated their per-group state, which
 *		preparing their statements would wait for until it ends.
 */
static bool
internal_taken(Oid relid)
{
	ListCell   *lc;

	foreach(lc, catalog_internal_dts(relid))
	{
		LOCKTAG		tag;
		VirtualTransactionId *holders;
		bool		taken;

		SET_LOCKTAG_RELATION(tag, MyDatabaseId, lfirst_oid(lc));
		holders = GetLockConflicts(&tag, ExclusiveLock, NULL);
		taken = VirtualTransactionIdIsValid(holders[0]);
		pfree(holders);
		if (taken)
			return true;
	}
	return false;
}

/*
 * rebuild_state
 *		Decide a full refresh of a DT with state (what, aside_what) that
 *		rebuilds it: of a new DT (not populated), or of one whose state was
 *		lost (a crash emptied it) or set aside; expected, if not NULL, says
 *		why incremental refreshes are expected to be cheaper again.  The
 *		message begins with DT_MESSAGE_STATE_REBUILT or
 *		DT_MESSAGE_INTERNAL_REBUILT, which the cost samples count as a
 *		rebuild.
 */
static void
rebuild_state(DtDecision *d, bool populated, const char *expected, const char *what)
{
	bool		merge = strncmp(what, "per-group", 9) == 0;
	const char *verb = said(what, "was", "were");

	d->action = DT_ACTION_FULL;
	d->state_rebuilt = true;
	d->why = merge ? "its per-group state is built from the inputs"
		: "its internal tables are refreshed in full, then it is filled from them";
	if (expected != NULL)
		d->message = d->why = psprintf("the %s (set aside while refreshes were full, or lost) %s rebuilt: %s",
									   what, verb, expected);
	else if (populated)
		d->message = d->why = psprintf("the %s %s lost (crash, promoted standby) or set aside "
									   "(refreshed in full for a while) and %s rebuilt", what, verb, verb);
}

/*
 * rebuild_failed_ago
 *		How many refreshes ago the rebuild of DT relid's per-group state
 *		failed, if fewer than REBUILD_RETRY_AFTER; -1 otherwise, or if its
 *		rebuild is not tried that way (p).
 */
static int
rebuild_failed_ago(DtPlanSet *p, Oid relid)
{
	int			ago;

	if (p->an->strategy != DT_STRATEGY_MERGE || p->an->internal > 0)
		return -1;
	ago = catalog_refreshes_since_failed_rebuild(relid);
	return ago < REBUILD_RETRY_AFTER ? ago : -1;
}

/*
 * position_window
 *		The change window from entry's position (its snapshot, transaction
 *		and command), as count_window and the statements reading a window
 *		take it.
 */
static void
position_window(const DtEntry *entry, Datum *window)
{
	window[0] = entry->position_snapshot;
	window[1] = FullTransactionIdGetDatum(entry->position_xid);
	window[2] = Int32GetDatum((int32) entry->position_cid);
}

static bool leave_to_parent(DtPlanSet *p, DtEntry *entry, DtDecision *d, int64 rows, int64 markers,
							const char *what);

/*
 * internal_window
 *		Add to *rows, *markers and *changed the change window of internal
 *		DT subrelid as of snap (internal_windows): one without a position
 *		counts as a rebuild marker.  With left, and *left NULL, *left says
 *		why if its window would be left to its parent (leave_to_parent).
 */
static void
internal_window(Oid subrelid, Snapshot snap, int64 *rows, int64 *markers, List **changed, char **left)
{
	DtEntry    *sub = catalog_read_entry(subrelid, false);
	Datum		window[3];
	int64		n;
	int64		m;
	List	   *sub_changed;
	MemoryContext old;

	if (!sub->has_position)
	{
		(*markers)++;
		return;
	}
	position_window(sub, window);
	/* its logs are read by its statements (refresh_reads_input) */
	old = MemoryContextSwitchTo(TopMemoryContext);
	refreshing = lappend_oid(refreshing, sub->relid);
	MemoryContextSwitchTo(old);
	PG_TRY();
	{
		count_window(get_plans(sub), window, snap, &n, &m, &sub_changed, NULL);
	}
	PG_FINALLY();
	{
		refreshing = list_delete_last(refreshing);
	}
	PG_END_TRY();
	*rows += n;
	*markers += m;
	*changed = list_concat_unique_oid(*changed, sub_changed);
	if (left != NULL && *left == NULL)
	{
		DtPlanSet  *plans = get_plans(sub);
		DtDecision	d = {0};

		d.changes = n;
		d.changed = sub_changed;
		if (leave_to_parent(plans, sub, &d, n, m, aside_what(plans->an)))
			*left = d.to_parent;
	}
}

/*
 * internal_windows
 *		Add to *rows, *markers and *changed the change windows of the
 *		internal DTs of entry, as of snap: while its state is set aside
 *		they are not refreshed, but moved on with it (set_aside), so their
 *		windows hold what changed under them since its last refresh.  One
 *		without a position counts as a rebuild marker.
 */
static void
internal_windows(DtEntry *entry, Snapshot snap, int64 *rows, int64 *markers, List **changed, char **left)
{
	ListCell   *lc;

	foreach(lc, catalog_internal_dts(entry->relid))
		internal_window(lfirst_oid(lc), snap, rows, markers, changed, left);
}

/*
 * pending_under
 *		For dt.explain_refresh of entry (plans p), whose state is valid: a
 *		refresh would first refresh its internal DTs in its unit, and then
 *		read what they wrote, which is not in its window yet.  The rows of
 *		their windows and their rebuild markers, as its history would count
 *		them (history_rows); if any, the internal DTs it reads join
 *		*changed (what they write is not known before: every one, for the
 *		statements explained).  Before, explain said NO_DATA where only the
 *		inputs of its internal tables had changed, and the refresh was
 *		incremental.  *left as internal_window's: why one would leave its
 *		window to entry, or NULL.
 */
static int64
pending_under(DtPlanSet *p, DtEntry *entry, Snapshot snap, List **changed, char **left)
{
	int64		rows = 0;
	int64		markers = 0;
	List	   *subs = catalog_internal_dts(entry->relid);
	List	   *ignored = NIL;
	ListCell   *lc;

	*left = NULL;
	internal_windows(entry, snap, &rows, &markers, &ignored, left);
	foreach(lc, p->sql->count_relids)
	{
		if (rows + markers > 0 && list_member_oid(subs, lfirst_oid(lc)))
			*changed = list_append_unique_oid(*changed, lfirst_oid(lc));
	}
	return rows + markers;
}

/*
 * A delta-merge DT whose inputs take this many pages or more sets its state
 * aside for a rebuild marker (marker_action): 512 kB, some 10,000 rows of
 * a narrow table.
 */
#define MARKER_ASIDE_PAGES 64

/*
 * input_pages
 *		The pages the inputs of the plans p take now; 0 if one is not a
 *		table.
 */
static BlockNumber
input_pages(DtPlanSet *p)
{
	BlockNumber pages = 0;
	ListCell   *lc;

	foreach(lc, p->sql->count_relids)
	{
		Relation	rel;

		if (get_rel_relkind(lfirst_oid(lc)) != RELKIND_RELATION)
			return 0;
		rel = table_open(lfirst_oid(lc), AccessShareLock);
		pages += RelationGetNumberOfBlocks(rel);
		table_close(rel, NoLock);
	}
	return pages;
}

/*
 * marker_action
 *		The full refresh of a window with a rebuild marker: an input was
 *		truncated or bulk-loaded (capture.c, bulk_statement), or rows arrived
 *		or left without DML (partitions).  A DT with state (what,
 *		aside_what) whose inputs are tables of MARKER_ASIDE_PAGES or more,
 *		with adaptive refresh, runs the query and sets its state aside, as
 *		adaptive_full does for a window that large (rebuilding the state
 *		costs several times the query; it is rebuilt when incremental
 *		refreshes are expected to be cheaper again); otherwise it rebuilds
 *		the state.  Pages, not the
 *		planner's rows: right after a load, VACUUM or ANALYZE may have seen
 *		its pages before its commit, with no rows in them.
 */
static void
marker_action(DtPlanSet *p, DtDecision *d, const char *what)
{
	BlockNumber pages;

	d->why = "an input was truncated or bulk-loaded, or rows arrived or left without DML (partitions)";
	if (what == NULL || !refresh_adaptive)
		return;
	pages = input_pages(p);
	if (pages < MARKER_ASIDE_PAGES)
		return;
	d->set_aside = true;
	d->message = d->why = psprintf(DT_MESSAGE_ADAPTIVE_FULL "a window with a rebuild marker (an input "
								   "truncated or bulk-loaded, or rows that arrived or left without DML) "
								   "cannot be made; the inputs take %u pages: refreshed in full from the "
								   "query, its %s set aside", pages, what);
}

/*
 * history_rows
 *		The rows of changes the history of a DT counts for a refresh whose
 *		window (of "rows" rows, just counted by count_window) follows
 *		internal_rows rows of the windows of its internal DTs: for a DT with
 *		internal DTs, those of its windows over its other inputs, and theirs
 *		instead of what they wrote, as it times its refreshes with theirs
 *		(refresh_one).  Its state set aside, its internal DTs are not
 *		refreshed and their windows hold what changed under them
 *		(internal_windows): that is all it has to go on then.  (Read off the
 *		rows of its own window, none then, such a refresh was expected to
 *		cost its cheapest one, and the state was rebuilt at once however
 *		dear: TPC-H Q13 and Q20 at 1%.)
 */
static int64
history_rows(DtPlanSet *p, Oid relid, int64 rows, int64 internal_rows)
{
	List	   *subs;
	ListCell   *lc;

	if (p->an->internal == 0)
		return rows;
	subs = catalog_internal_dts(relid);
	foreach(lc, p->sql->count_relids)
	{
		if (list_member_oid(subs, lfirst_oid(lc)))
			rows -= p->window_rows[foreach_current_index(lc)];
	}
	return rows + internal_rows;
}

/*
 * full_for_now: are the plans p of entry, a DT refreshed incrementally,
 * full for now (an input made unlogged since)?
 */
static bool
full_for_now(DtPlanSet *p, DtEntry *entry)
{
	return entry->incremental && p->an->reason != NULL;
}

/*
 * reason_now
 *		Why the plans p are full, as their analysis found it now: an input
 *		whose changes cannot be captured now, if one is (the analysis's
 *		reason may only say what the query as written lacks, such as the
 *		LIMIT that its internal tables took), else the analysis's reason.
 */
static char *
reason_now(DtPlanSet *p)
{
	ListCell   *lc;

	foreach(lc, p->an->inputs)
	{
		if (!((DtInput *) lfirst(lc))->capturable)
			return querytree_input_reason((DtInput *) lfirst(lc));
	}
	return p->an->reason != NULL ? p->an->reason : "no strategy";
}

/*
 * full_reason
 *		Why the plans p of entry are full: the catalog's reason, or if they
 *		are full for now, the reason its analysis found now.
 */
static char *
full_reason(DtPlanSet *p, DtEntry *entry)
{
	return full_for_now(p, entry) ? psprintf("%s for now", reason_now(p)) : entry->reason;
}

/*
 * full_why
 *		d's reason for the full refresh the plans p of entry make, and if
 *		they are full for now, the history's message too.
 */
static void
full_why(DtDecision *d, DtPlanSet *p, DtEntry *entry)
{
	d->why = full_reason(p, entry);
	if (full_for_now(p, entry))
		d->message = psprintf("%s; refreshed in full", d->why);
}

/*
 * state_position_covered
 *		Does the position of entry include what the position of its state
 *		built apart (refresh_build_state) saw?  So it does if the
 *		transaction that took the state's position had ended when the DT's
 *		snapshot was taken (everything visible to the one was committed
 *		before, and is visible to the other), or it is the same transaction
 *		at that or a later command.
 */
static bool
state_position_covered(const DtEntry *entry)
{
	if (FullTransactionIdEquals(entry->state_xid, entry->position_xid))
		return entry->state_cid <= entry->position_cid;
	return DatumGetBool(DirectFunctionCall2(pg_visible_in_snapshot,
											FullTransactionIdGetDatum(entry->state_xid),
											entry->position_snapshot));
}

/*
 * built_before
 *		Are the rows of the state of entry built apart (refresh_build_state)
 *		in transaction built_by visible to snap: did it commit before snap
 *		was taken, or is it this transaction?  A refresh whose snapshot came
 *		before it may find its position committed since, but not the rows.
 */
static bool
built_before(FullTransactionId built_by, Snapshot snap)
{
	TransactionId xid = XidFromFullTransactionId(built_by);

	return TransactionIdIsCurrentTransactionId(xid) || !XidInMVCCSnapshot(xid, snap);
}

/*
 * window_log_rows
 *		The rows of the change logs in the window count_window counted last
 *		into p, cancelling ones included.
 */
static int64
window_log_rows(DtPlanSet *p)
{
	int64		n = 0;
	int			i;

	for (i = 0; i < list_length(p->sql->count_relids); i++)
		n += p->window_logged[i];
	return n;
}

/*
 * catch_up
 *		The action of a refresh of entry, a delta-merge DT whose state, set
 *		aside, was built apart as of a position P_s of its own
 *		(refresh_build_state), after the DT's own window from its position
 *		P_d was counted (into p, and d); full
 *		refreshes from the query brought its rows there and left the state
 *		alone.  The refresh is incremental from P_s: it merges the changes
 *		since P_s into the state, which is then right as of now whatever
 *		the DT's rows are; then, if P_d includes P_s (state_position_covered)
 *		and the logs hold no row between them (its window has as many log
 *		rows as the state's, of which it is part), the DT's rows and the
 *		state agree as of P_s = P_d, as after an incremental refresh, and
 *		writing the rows of every group the merge touched from the state
 *		(apply_sql: it sets them, whatever they were) is right; otherwise
 *		(d->refill) its rows are written again from the state, as after a
 *		bulk merge: a group whose changes since P_s cancel out (netted,
 *		net_changes_sql), so that the merge does not touch it, may have
 *		changed after P_d, and its rows as of P_d be wrong now.  Always
 *		refilled with internal DTs: its logs over them get what changed
 *		under them only when they are refreshed, after P_d, netted, so
 *		that a change under them between P_s and P_d (a full refresh from
 *		the query that could not take their locks, internal_unheld, after
 *		the build committed), undone since, is in no log.  A refresh
 *		whose snapshot came before the build committed does not see the
 *		state's rows (built_before): full, from the query, and the next one
 *		catches up.  A rebuild marker since P_s (TRUNCATE, a bulk load)
 *		makes the state of no use: forgotten (d->forget_state), as it is
 *		when the history says a full refresh is cheaper than merging the
 *		changes since P_s.  Returns false when the refresh is to be decided
 *		as for a state set aside (the DT's window counted again into p).
 */
static bool
catch_up(DtPlanSet *p, DtEntry *entry, Snapshot snap, DtDecision *d, int64 *input_counts, bool explaining)
{
	const char *what = aside_what(p->an);
	Datum		window[3];
	int64		rows;
	int64		markers;
	int64		state_rows;
	int64		state_markers;
	List	   *state_changed;
	List	   *changed;
	char	   *message = NULL;
	int64		own_log_rows = window_log_rows(p);
	bool		merged;

	if (!built_before(entry->state_built_by, snap) || (!explaining && p->an->internal > 0 &&
													   internal_unheld(entry->relid)))
	{
		d->forget_state = false;
		d->set_aside = true;
		d->message = d->why = psprintf("its %s %s built apart (dt.build_state) after this refresh began: "
									   "refreshed in full from the query, its %s %s up at the next refresh",
									   what, said(what, "was", "were"), what, said(what, "catches", "catch"));
		return true;
	}
	window[0] = entry->state_snapshot;
	window[1] = FullTransactionIdGetDatum(entry->state_xid);
	window[2] = Int32GetDatum((int32) entry->state_cid);
	count_window(p, window, snap, &state_rows, &state_markers, &state_changed, input_counts);
	merged = state_markers == 0 &&
		!adaptive_full(entry->relid, what, false, state_rows, state_rows, state_changed, &message);
	if (merged && p->an->strategy != DT_STRATEGY_MERGE)
	{
		/* no state of its own: filled from its internal DTs, caught up */
		rebuild_state(d, true, NULL, what);
		d->catch_up = true;
		d->message = d->why = "its internal tables, built apart (dt.build_state), caught up with the changes "
			"since (refreshed first), and the table was filled from them";
		return true;
	}
	if (merged)
	{
		d->refill = p->an->internal > 0 || !state_position_covered(entry) ||
			window_log_rows(p) != own_log_rows;
		d->catch_up = true;
		d->forget_state = false;
		if (state_rows == 0 && !d->refill)
		{
			d->action = DT_ACTION_NO_DATA;
			d->why = psprintf("nothing it reads changed (its %s, built apart, %s valid from now on)", what,
							  said(what, "is", "are"));
			return true;
		}
		d->action = DT_ACTION_INCREMENTAL;
		memcpy(d->window, window, sizeof(window));
		d->changed = state_changed;
		d->changes = state_rows;
		d->message = d->why = d->refill
			? psprintf("its %s, built apart (dt.build_state) as of an earlier position, caught up with the "
					   "changes since, and the table was filled from %s", what, said(what, "it", "them"))
			: psprintf("its %s, built apart (dt.build_state) as of its position, caught up: only the changes "
					   "since are read", what);
		return true;
	}
	/* a marker since, or the history says full is cheaper: forgotten */
	Assert(d->forget_state);

	/*
	 * the DT's own window again: the full refresh reads which logs it had
	 * rows in
	 */
	count_window(p, d->window, snap, &rows, &markers, &changed, input_counts);
	if (message == NULL)
		return false;
	d->message = d->why = message;
	d->set_aside = true;
	return true;
}

/*
 * workers_would_build
 *		Would a refresh worker build the state of entry apart
 *		(refresh_workers_build)?  Not of a suspended DT
 *		(catalog_states_to_build).  If so and at_commit, the workers are
 *		asked to look for it when this transaction commits.
 */
static bool
workers_would_build(DtEntry *entry, bool at_commit)
{
	return !entry->suspended && refresh_workers_build != NULL && refresh_workers_build(at_commit);
}

/*
 * builds_apart
 *		Is the state of entry, set aside, built apart, not by its refreshes:
 *		with pg_dynamic_tables.build_state_apart on, or auto where a refresh
 *		worker would build it (workers_would_build)?  Then a refresh that
 *		reads no change is NO_DATA, not a rebuild: the next one that reads
 *		changes decides (build_apart_or_rebuild), and a rebuild costs
 *		several times a full refresh.
 */
static bool
builds_apart(DtEntry *entry)
{
	return refresh_build_apart == DT_BUILD_APART_ON ||
		(refresh_build_apart == DT_BUILD_APART_AUTO && workers_would_build(entry, false));
}

/*
 * build_apart_or_rebuild
 *		Decide the refresh of entry, a delta-merge DT without internal DTs
 *		whose per-group state is set aside, when its history (message, the
 *		figures) says rebuilding the state would pay: the rebuild (off), or
 *		a full refresh from the query that leaves the state to be built
 *		apart (DT_MESSAGE_BUILD_APART: by dt.build_state, or by an idle
 *		refresh worker, build_state_when_idle, asked to look at commit if
 *		it would), on; under auto, so only while a refresh worker would
 *		build it (workers_would_build: asked to look when the refresh
 *		commits, unless explaining), and for at most
 *		BUILD_APART_PATIENCE refreshes in a row, which took less than the
 *		build is expected to (catalog_build_wait): then, or with no worker
 *		to build it, the refresh rebuilds it inline, its message saying why.
 */
static void
build_apart_or_rebuild(DtDecision *d, DtEntry *entry, const char *message, const char *what, bool explaining)
{
	const char *verb = said(what, "is", "are");
	DtBuildWait wait;

	if (refresh_build_apart == DT_BUILD_APART_OFF)
	{
		rebuild_state(d, true, message, what);
		return;
	}
	if (refresh_build_apart == DT_BUILD_APART_ON)
	{
		/* the workers build it if they would, dt.build_state otherwise */
		(void) workers_would_build(entry, !explaining);
		d->message = d->why = psprintf("%s: its %s, set aside, %s " DT_MESSAGE_BUILD_APART "; refreshed in full "
									   "from the query meanwhile", message, what, verb);
		d->set_aside = true;
		return;
	}
	catalog_build_wait(entry->relid, &wait);
	if (wait.waited >= BUILD_APART_PATIENCE)
		rebuild_state(d, true, psprintf("%s; built inline after %d deferred refreshes: no refresh worker built "
										"it apart meanwhile", message, wait.waited), what);
	else if (wait.waited > 0 && wait.expected_ms >= 0 && wait.waited_ms >= wait.expected_ms)
		rebuild_state(d, true, psprintf("%s; built inline after %d deferred refreshes, which took %.0f ms, as "
										"long as a build apart is expected to (%.0f ms): no refresh worker "
										"built it apart meanwhile", message, wait.waited, wait.waited_ms,
										wait.expected_ms), what);
	else if (!workers_would_build(entry, !explaining))
		rebuild_state(d, true, psprintf("%s; built inline (%s)", message, entry->suspended
										? "the table is suspended"
										: "no refresh worker would build it apart"), what);
	else
	{
		d->message = d->why = psprintf("%s: its %s, set aside, %s " DT_MESSAGE_BUILD_APART " by an idle refresh "
									   "worker; refreshed in full from the query meanwhile (deferred refresh "
									   "%d of at most %d: then it is built inline)", message, what, verb,
									   wait.waited + 1, BUILD_APART_PATIENCE);
		d->set_aside = true;
	}
}

/*
 * leave_to_parent
 *		Does entry, an internal DT with a per-group state (what) whose
 *		parent's unit refreshes it before the parent, leave its window to
 *		the parent?  So where, with adaptive refresh, the window would make
 *		it full from its query and set its state aside: a window larger
 *		than any it timed that holds much of its inputs (cold_window), or a
 *		rebuild marker over inputs of MARKER_ASIDE_PAGES or more
 *		(marker_action).  Its next refresh, inside its parent's, would
 *		rebuild that state inline (several times its query), and its full
 *		refresh cost about its query too, while the parent read what it
 *		wrote.  The parent is refreshed in full from its query instead, its
 *		state set aside, internal DTs with it, to be built apart
 *		(choose_and_refresh); this DT is not refreshed, and its window
 *		stays until they are.  d->to_parent says why, as the parent's
 *		history will (after "an incremental refresh of").
 */
static bool
leave_to_parent(DtPlanSet *p, DtEntry *entry, DtDecision *d, int64 rows, int64 markers, const char *what)
{
	Oid			parent = names_internal_parent(entry->relid);
	DtEntry    *parent_entry;
	DtRefreshCosts costs;
	BlockNumber pages;
	char	   *cold;

	if (!OidIsValid(parent) || what == NULL || !entry->state_valid || !refresh_adaptive ||
		(markers == 0 && rows < BULK_MIN_ROWS))
		return false;
	parent_entry = catalog_read_entry(parent, true);
	if (parent_entry == NULL || !parent_entry->state_valid)
		return false;			/* its parent's rebuild or build refreshes it */
	if (markers > 0)
	{
		pages = input_pages(p);
		if (pages < MARKER_ASIDE_PAGES)
			return false;
		d->to_parent = psprintf("its internal table \"%s\" cannot be made: a rebuild marker under it (an "
								"input truncated or bulk-loaded, or rows that arrived or left without DML), "
								"its inputs taking %u pages", get_rel_name(entry->relid), pages);
	}
	else
	{
		catalog_refresh_costs(entry->relid, ADAPTIVE_PROBE_AFTER, &costs);
		if (!cold_window(&costs, d->changes, rows, d->changed, &cold))
			return false;
		d->to_parent = psprintf("its internal table \"%s\" over %s", get_rel_name(entry->relid), cold);
	}
	d->action = DT_ACTION_NO_DATA;
	d->why = psprintf("left to its parent, refreshed in full from the query: an incremental refresh of %s",
					  d->to_parent);
	return true;
}

/*
 * left_full
 *		Decide the full refresh from the query of a DT (its state what)
 *		that one of its internal DTs left its window to (leave_to_parent,
 *		saying why: left), setting its state aside.
 */
static void
left_full(DtDecision *d, const char *left, const char *what)
{
	d->message = d->why = psprintf(DT_MESSAGE_ADAPTIVE_FULL "%s; refreshed in full from the query, its %s set "
								   "aside", left, what);
	d->set_aside = true;
}

/*
 * decide_action
 *		Choose the action of a refresh of entry as of snap (counting the
 *		change window when it depends on it; input_counts as count_window),
 *		after internal_rows rows of the windows of its internal DTs that its
 *		unit refreshed before it (unit_internal_rows), one of which, if left_by
 *		is not NULL, left its window to it, saying why (unit_left_to_parent);
 *		or if explaining, before they are refreshed (pending_under).
 */
static void
decide_action(DtPlanSet *p, DtEntry *entry, Snapshot snap, DtDecision *d, int64 *input_counts,
			  int64 internal_rows, const char *left_by, bool explaining)
{
	Oid			rls = input_where(p, rls_in_force);
	int64		rows;
	int64		markers;
	int64		under = 0;
	const char *what = aside_what(p->an);
	char	   *message;
	Oid			uncaptured = input_where(p, capture_disabled_within);
	int			failed_ago;
	char	   *left;

	memset(d, 0, sizeof(DtDecision));
	d->action = DT_ACTION_FULL;

	/*
	 * A state built apart that this refresh does not catch up from (catch_up
	 * keeps it only for the next refresh) is of no use: row-level security
	 * forced on an input, its capture disabled, and the like make the
	 * refreshes full for as long as they last, and the logs would keep every
	 * row after its position meanwhile.
	 */
	d->forget_state = entry->has_state_position;
	if (OidIsValid(rls))
	{
		/*
		 * The plans are those of a full DT now (analysis saw the policies):
		 * run_refresh sets the state aside, which misses this refresh and
		 * could not take unfiltered changes after one built through the
		 * policies.
		 */
		d->message = d->why = psprintf(DT_MESSAGE_RLS "is in force on \"%s\"; refreshed in full",
									   get_rel_name(rls));
		return;
	}
	if (OidIsValid(uncaptured) || capture_triggers_disabled(entry->relid, true))
	{
		/*
		 * ALTER TABLE ... DISABLE TRIGGER ALL: a log misses changes, or the
		 * DT was writable
		 */
		d->message = d->why = OidIsValid(uncaptured)
			? psprintf("the capture triggers of \"%s\" are disabled; refreshed in full",
					   get_rel_name(uncaptured))
			: pstrdup("its dt_guard trigger is disabled; refreshed in full");
		return;
	}
	if (p->an->strategy == DT_STRATEGY_FULL && catalog_internal_dts(entry->relid) != NIL)
	{
		/*
		 * Full for now (row-level security enabled on an input, even one
		 * whose policies do not apply to the owner): its plans run the query
		 * as written, over the inputs of its internal DTs, whose logs their
		 * refreshes consume, and not over the internal DTs whose logs it
		 * reads: no window says whether anything changed. run_refresh sets
		 * them aside; a rebuild refreshes them in full.
		 */
		d->message = d->why = psprintf("its query is refreshed in full for now (%s), over the inputs "
									   "of its internal tables", reason_now(p));
		return;
	}
	if (!entry->has_position)
	{
		/*
		 * restored, suspended, or its guard was disabled: no position; the
		 * logs kept no rows for a state built apart meanwhile (forgotten)
		 */
		d->state_rebuilt = what != NULL;
		d->message = d->why = entry->no_position_reason != NULL ? entry->no_position_reason
			: "the first refresh after a restore is full";
		return;
	}
	if (left_by != NULL && what != NULL)
	{
		/* its state is no longer valid (choose_and_refresh) */
		left_full(d, left_by, what);
		return;
	}
	failed_ago = what != NULL && !entry->state_valid && entry->populated ? rebuild_failed_ago(p, entry->relid) : -1;
	if (what != NULL && !entry->state_valid &&
		(!entry->populated || p->an->always_full ||
		 (!refresh_adaptive && failed_ago < 0 && !entry->has_state_position)))
	{
		/* a new DT, or its unlogged state was emptied by a crash */
		rebuild_state(d, entry->populated, NULL, what);
		return;
	}
	if (!entry->populated || p->an->always_full)
	{
		if (!entry->populated)
			d->why = "it is populated for the first time";
		else
			full_why(d, p, entry);
		return;
	}
	position_window(entry, d->window);
	count_window(p, d->window, snap, &rows, &markers, &d->changed, input_counts);
	d->counted = true;
	if (explaining && p->an->internal > 0 && entry->state_valid)
	{
		internal_rows = under = pending_under(p, entry, snap, &d->changed, &left);
		if (left != NULL && what != NULL)
		{
			left_full(d, left, what);
			return;
		}
	}
	d->changes = history_rows(p, entry->relid, rows, internal_rows);
	if (!explaining && leave_to_parent(p, entry, d, rows, markers, what))
		return;
	if (what != NULL && !entry->state_valid && entry->has_state_position &&
		catch_up(p, entry, snap, d, input_counts, explaining))
		return;
	if (what != NULL && !entry->state_valid)
	{
		/* set aside by the history (or lost): the query, or a rebuild */
		int64		under = 0;
		bool		has_changes;

		if (p->an->internal > 0 &&
			(explaining ? internal_taken(entry->relid) : internal_unheld(entry->relid)))
		{
			/*
			 * a build apart holds its internal DTs: their windows are not
			 * counted (preparing their statements would wait for the build,
			 * whose full refresh of them truncated their state), and it is
			 * refreshed in full from the query, leaving them alone
			 */
			d->message = d->why = psprintf("its %s are being built apart (dt.build_state): refreshed in full "
										   "from the query, its %s set aside", what, what);
			d->set_aside = true;
			return;
		}
		if (p->an->internal > 0)
			internal_windows(entry, snap, &under, &markers, &d->changed, NULL);
		d->changes += under;
		has_changes = rows + under > 0 && markers == 0;
		if (has_changes && adaptive_full(entry->relid, what, true, d->changes, rows + under, d->changed, &message))
		{
			d->message = d->why = message;
			d->set_aside = true;
		}
		else if (failed_ago >= 0 && rows + under == 0 && markers == 0)
		{
			d->action = DT_ACTION_NO_DATA;
			d->why = "nothing it reads changed";
		}
		else if (failed_ago >= 0)
		{
			d->message = d->why = psprintf("the last rebuild of its %s failed (see the history); refreshed in "
										   "full from the query (%d of %d refreshes before it is tried again), "
										   "its %s set aside", what, failed_ago + 1, REBUILD_RETRY_AFTER, what);
			d->set_aside = true;
		}
		else if (has_changes && (message != NULL ||
								 (builds_apart(entry) && !OidIsValid(names_internal_parent(entry->relid)))))
		{
			/*
			 * without figures (no incremental refresh timed yet), built apart
			 * all the same where it would be, counted as a full refresh the
			 * history chose (its message starts so), not as a rebuild; not an
			 * internal DT, which has none of its own (adaptive_full):
			 * dt.build_state refuses it, and its parent, its state valid
			 * (rebuilt inline over a rebuild marker after a crash), has
			 * nothing to build, so it was refreshed in full from its query
			 * for good
			 */
			build_apart_or_rebuild(d, entry, message != NULL ? message
								   : psprintf(DT_MESSAGE_ADAPTIVE_FULL "it has no figures yet (none was "
											  "timed), and its %s %s lost (crash, promoted standby) or set "
											  "aside (refreshed in full for a while)", what,
											  said(what, "was", "were")), what, explaining);
		}
		else if (rows + under == 0 && markers == 0 && builds_apart(entry))
		{
			d->action = DT_ACTION_NO_DATA;
			d->why = psprintf("nothing it reads changed (its %s, set aside, %s built apart when a refresh "
							  "needs %s)", what, said(what, "is", "are"), said(what, "it", "them"));
		}
		else
			rebuild_state(d, true, has_changes ? message : NULL, what);
	}
	else if (rows == 0 && markers == 0 && under == 0)
	{
		d->action = DT_ACTION_NO_DATA;
		d->why = "nothing it reads changed";
	}
	else if (markers > 0)
		marker_action(p, d, what);
	else if (p->an->strategy == DT_STRATEGY_FULL)
	{
		full_why(d, p, entry);
	}
	else if (adaptive_full(entry->relid, what, false, d->changes, rows, d->changed, &message))
	{
		d->message = d->why = message;
		d->set_aside = what != NULL;
	}
	else
	{
		d->action = DT_ACTION_INCREMENTAL;
		d->why = under > 0 && rows == 0
			? psprintf("only the changes are read: its internal tables are refreshed first (under them, "
					   "changes of %lld rows), then it reads what they changed (nothing, if they changed "
					   "nothing)", (long long) under)
			: "only the changes are read";
	}
}

/*
 * What refresh_one was called with, for the refreshes of internal DTs it
 * runs itself (refresh_internal), and what those did: whether the refresh
 * running refreshed its internal DTs (its position then comes after their
 * writes), or moved them on unrefreshed (set_aside: their inputs' logs are
 * cleaned with its own).
 */
typedef struct RefreshCall
{
	TimestampTz data_timestamp;
	const char *trigger;
	RefreshFreshFn fresh;
	bool		clean_logs;
	bool		internal_refreshed;
	bool		internal_moved;
	bool		left_to_parent; /* an internal DT that did nothing
								 * (leave_to_parent) */
} RefreshCall;

static RefreshCall current_call;

static void refresh_one(Oid relid, Snapshot snap, TimestampTz data_timestamp, const char *trigger,
						RefreshFreshFn fresh, bool clean_logs, DtRefreshStats *stats);

/*
 * refresh_internal
 *		Refresh the internal DTs of DT relid, in the order they were made
 *		(a later one may read an earlier one), each a refresh of its own
 *		with its row of history, before relid's full refresh reads them:
 *		its state was set aside or lost, and its unit skipped them
 *		(internal_set_aside).  One set aside is not populated: its refresh
 *		is full.
 */
static void
refresh_internal(Oid relid, Snapshot snap)
{
	RefreshCall call = current_call;
	bool		planned = planned_window;
	ListCell   *lc;

	foreach(lc, catalog_internal_dts(relid))
	{
		DtRefreshStats stats;

		refresh_one(lfirst_oid(lc), snap, call.data_timestamp, call.trigger, call.fresh,
					call.clean_logs, &stats);
	}
	current_call = call;
	current_call.internal_refreshed = true;
	planned_window = planned;
}

/*
 * set_aside
 *		Set the state of DT relid aside: it is no longer valid, and its
 *		internal DTs, which its unit skips from now on (internal_set_aside),
 *		are moved on to snap unrefreshed and marked not populated: the
 *		changes they would read next are those since now, counted while
 *		the state is aside (internal_windows), and their next refresh,
 *		when the state is rebuilt (refresh_internal), is full.  Their
 *		stale rows are read by nothing: not by relid, whose incremental
 *		refreshes wait for a rebuild (decide_action), nor by anyone else
 *		(read_guard.c), which a relcache invalidation tells when one stops
 *		being populated.  Only then: it would also drop their prepared
 *		statements and relid's, which reads them (refresh_relcache_callback),
 *		and each full refresh of a DT whose state stays aside would prepare
 *		them all again (TPC-H Q02 at 1%: 8 ms of CPU of a 42 ms refresh).
 *		Not when they are built apart (refresh_build_state), kept for the
 *		refresh that catches up from them, or being built (lock_unit did
 *		not get their locks): the build moves them on.
 */
static void
set_aside(Oid relid, Snapshot snap)
{
	List	   *subs = catalog_internal_dts(relid);
	ListCell   *lc;

	catalog_set_state_valid(relid, false);
	if (subs == NIL)
		return;
	CommandCounterIncrement();
	/* built apart, kept for the next refresh (catch_up), or being built */
	if (catalog_read_entry(relid, false)->has_state_position || internal_unheld(relid))
		return;
	foreach(lc, subs)
	{
		bool		populated = catalog_is_populated(lfirst_oid(lc));

		catalog_save_position(lfirst_oid(lc), snap, GetCurrentCommandId(false),
							  current_call.data_timestamp, false);
		if (populated)
			CacheInvalidateRelcacheByRelid(lfirst_oid(lc));
	}
	current_call.internal_moved = true;
}

/* full_rebuild: the full refresh of rebuild_or_set_aside. */
static void
full_rebuild(void *arg)
{
	IncrementalRefresh *r = (IncrementalRefresh *) arg;

	full_refresh(r->p, r->snap, r->stats, true);
}

/*
 * rebuild_or_set_aside
 *		A full refresh that rebuilds the per-group state of a delta-merge
 *		DT; returns whether it did.  The state cannot hold every result of
 *		the query: the exact sums of squares of the variance family over
 *		float8 overflow for values above about 1.3e154 in magnitude, where
 *		PostgreSQL squares distances from the mean and may give a result.
 *		On such a data exception the DT is refreshed from its query and
 *		its state set aside, as adaptive refresh does; the refreshes after
 *		the next REBUILD_RETRY_AFTER try to rebuild it (decide_action), so
 *		the DT refreshes incrementally again once its values allow.  If the query itself
 *		fails too (a division by zero in the data, or PostgreSQL's own
 *		variance overflowing), its error is the refresh's, not the state's
 *		(whose hint to refresh in full would not help).  (A DT with
 *		internal DTs, whose state is theirs too, fails as its rebuild
 *		does.)
 */
static bool
rebuild_or_set_aside(DtPlanSet *p, Snapshot snap, DtRefreshStats *stats)
{
	IncrementalRefresh r = {p, NULL, NIL, snap, stats};
	ErrorData  *edata;

	if (p->an->strategy != DT_STRATEGY_MERGE || p->an->internal > 0)
	{
		full_refresh(p, snap, stats, true);
		return true;
	}
	edata = spi_util_in_subtransaction(full_rebuild, &r);
	if (edata == NULL)
		return true;
	if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_DATA_EXCEPTION)
		ReThrowError(edata);
	memset(stats, 0, sizeof(DtRefreshStats));
	full_refresh(p, snap, stats, false);
	set_aside(p->relid, snap);
	stats->message = psprintf(DT_MESSAGE_STATE_NOT_BUILT " (%s); refreshed in full from the query, "
							  "its per-group state set aside", edata->message);
	return false;
}

/*
 * caught_up
 *		The incremental refresh of a catch-up (catch_up, d): the merge of
 *		the changes since the position of the state built apart, if any,
 *		then, if d->refill, the DT filled again from the state.  Returns
 *		whether the state is valid then (incremental_or_full).
 */
static bool
caught_up(DtPlanSet *p, DtDecision *d, Snapshot snap, DtRefreshStats *stats)
{
	stats->action = "INCREMENTAL";
	if (d->changes > 0 && !incremental_or_full(p, d->window, d->changed, snap, stats))
		return false;
	if (d->refill && strcmp(stats->action, "INCREMENTAL") == 0)
	{
		stats->deleted = spi_util_run(p->full_delete, NULL, NULL, snap);
		stats->inserted = spi_util_run(merge_plans(p)->dt_fill, NULL, NULL, snap);
		stats->updated = Min(stats->deleted, stats->inserted);
		stats->deleted -= stats->updated;
		stats->inserted -= stats->updated;
	}
	return true;
}

/*
 * state_being_built
 *		Would a rebuild of the state of entry (whose state is not valid) by
 *		this refresh, as of snap, race a build apart (refresh_build_state)?
 *		Of a DT with internal DTs: the build holds their refresh locks,
 *		which lock_unit did not wait for (internal_unheld).  Of a
 *		delta-merge DT without internal DTs: one running holds the state's
 *		ExclusiveLock, which the rebuild would wait for, then miss the rows
 *		it wrote, invisible to snap: not waited for.  Taken here, the lock
 *		keeps a build from starting until this refresh ends; one that
 *		committed before is seen now, and this refresh may rebuild only if
 *		it committed before snap.
 */
static bool
state_being_built(DtPlanSet *p, DtEntry *entry, Snapshot snap)
{
	Oid			state = names_internal_relid(DT_OBJECT_STATE, entry->relid, 0);
	DtEntry    *now;

	if (entry->state_valid)
		return false;
	if (p->an->internal > 0)
		return internal_unheld(entry->relid);
	if (p->an->strategy != DT_STRATEGY_MERGE || !OidIsValid(state))
		return false;
	if (!ConditionalLockRelationOid(state, ExclusiveLock))
		return true;
	now = catalog_read_entry(entry->relid, false);
	if (now->has_state_position)
		return !built_before(now->state_built_by, snap);
	return entry->has_state_position && !built_before(entry->state_built_by, snap);
}

/* choose_and_refresh: choose the action and do it (run_refresh). */
static void
choose_and_refresh(DtPlanSet *p, DtEntry *entry, Snapshot snap, DtRefreshStats *stats)
{
	DtDecision	d;
	bool		internal_planned = unit_internal_planned;

	decide_action(p, entry, snap, &d, NULL, unit_internal_rows, unit_left_to_parent, false);
	if (d.to_parent != NULL)
	{
		/* its parent, refreshed next, sets its state aside */
		catalog_set_state_valid(names_internal_parent(entry->relid), false);
		CommandCounterIncrement();
		group_left_to_parent = MemoryContextStrdup(TopTransactionContext, d.to_parent);
		current_call.left_to_parent = true;
		return;
	}
	if (d.forget_state)
		catalog_clear_state_position(entry->relid);
	if (d.action == DT_ACTION_NO_DATA)
	{
		stats->action = "NO_DATA";
		if (d.catch_up)
			catalog_set_state_valid(entry->relid, true);
	}
	else if (d.action == DT_ACTION_INCREMENTAL)
	{
		Assert(aside_what(p->an) == NULL || entry->state_valid || d.catch_up);
		if (!d.catch_up)
			incremental_or_full(p, d.window, d.changed, snap, stats);
		else if (caught_up(p, &d, snap, stats))
		{
			catalog_set_state_valid(entry->relid, true);
			if (stats->message == NULL)
				stats->message = d.message;
		}
		else
		{
			/*
			 * the merge and a rebuild failed (a data exception): the next
			 * refreshes wait before they try a rebuild again, and the logs
			 * need not keep the rows after the state's position meanwhile
			 */
			catalog_clear_state_position(entry->relid);
		}
	}
	else
	{
		if (!d.set_aside && state_being_built(p, entry, snap))
		{
			d.set_aside = true;
			d.state_rebuilt = false;
			d.message = psprintf("its %s %s being built apart (dt.build_state), or %s after this refresh "
								 "began: refreshed in full from the query, its %s set aside", aside_what(p->an),
								 said(aside_what(p->an), "is", "are"), said(aside_what(p->an), "was", "were"),
								 aside_what(p->an));
		}
		/* the internal DTs its unit skipped, read by the full refresh */
		if (!d.set_aside && !d.catch_up && p->an->internal > 0 && !entry->state_valid)
			refresh_internal(entry->relid, snap);
		if (d.set_aside)
		{
			full_refresh(p, snap, stats, false);
			set_aside(entry->relid, snap);
			stats->message = d.message;
		}
		else if (rebuild_or_set_aside(p, snap, stats))
		{
			if (d.state_rebuilt)
				catalog_set_state_valid(entry->relid, true);
			stats->message = d.message;
		}
	}
	/* a refresh that planned a statement is no measure of the next ones */
	stats->windowed = d.counted;
	if (d.counted)
	{
		ListCell   *lc;

		stats->changes = d.changes;
		/* nor is a catch-up that filled the DT again */
		stats->counted = !planned_window && !internal_planned && !d.refill;
		foreach(lc, p->sql->count_relids)
		{
			if (p->window_logged[foreach_current_index(lc)] == 0)
				stats->unread_logs = lappend_oid(stats->unread_logs, lfirst_oid(lc));
		}
	}
}

/*
 * run_refresh
 *		Choose the action and do it.  A DT with state whose plans are full
 *		for now (an input that cannot be captured for the time being, such
 *		as one with an unlogged partition) moves on without its state: that
 *		is set aside, and rebuilt once it is maintained again.
 */
static void
run_refresh(DtPlanSet *p, DtEntry *entry, Snapshot snap, DtRefreshStats *stats)
{
	choose_and_refresh(p, entry, snap, stats);
	if (aside_what(p->an) == NULL && entry->state_valid &&
		stats->action != NULL && strcmp(stats->action, "NO_DATA") != 0)
		set_aside(entry->relid, snap);
}

/*
 * internal_set_aside
 *		Is relid an internal DT whose parent's state is set aside (or lost,
 *		or not built yet), and not built apart (refresh_build_state), or
 *		being built still (its refresh lock not held: lock_unit)?  Its
 *		parent's unit does not refresh it then: the parent's full refresh
 *		runs its query as written, or its rebuild refreshes it first
 *		(refresh_internal).  Built apart, it is refreshed as any, from the
 *		build's position: its parent catches up from it (catch_up), or
 *		refreshes in full from the query and leaves it to the next refresh.
 */
static bool
internal_set_aside(Oid relid)
{
	Oid			parent = names_internal_parent(relid);
	DtEntry    *entry;

	if (!OidIsValid(parent))
		return false;
	entry = catalog_read_entry(parent, true);
	if (entry == NULL || entry->state_valid)
		return false;
	return !entry->has_state_position || !CheckRelationOidLockedByMe(relid, ExclusiveLock, false);
}

/*
 * refresh_require_read_committed
 *		A refresh, and the creation of a DT, must take their snapshot after
 *		their locks: a transaction snapshot taken earlier could miss changes
 *		that are neither visible to it nor left for the next refresh.
 */
void
refresh_require_read_committed(const char *what)
{
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot %s in a REPEATABLE READ or SERIALIZABLE transaction", what),
				 errdetail("It must see the changes committed before it starts, which a transaction snapshot may not."),
				 errhint("Run it in a READ COMMITTED transaction.")));
}

/* refresh_running: is this backend running the statements of a refresh? */
bool
refresh_running(void)
{
	return refreshing != NIL;
}

/* refresh_in_progress: is this backend refreshing relid right now? */
bool
refresh_in_progress(Oid relid)
{
	return list_member_oid(refreshing, relid);
}

/*
 * running_plan_set
 *		The plan set of the refresh this backend is running (the innermost
 *		one), or NULL.
 */
static DtPlanSet *
running_plan_set(void)
{
	Oid			dt;

	if (refreshing == NIL || plan_cache == NULL)
		return NULL;
	dt = llast_oid(refreshing);
	return hash_search(plan_cache, &dt, HASH_FIND, NULL);
}

/*
 * refresh_reads_input
 *		Is this backend running the statements of a refresh (the innermost
 *		one), as the owner of that DT, and does that DT read relid?  Only
 *		those statements may read relid's change log (dt_read_changes).
 */
bool
refresh_reads_input(Oid relid)
{
	DtPlanSet  *p = running_plan_set();
	ListCell   *lc;

	if (p == NULL || p->an == NULL || catalog_relation_owner(llast_oid(refreshing)) != GetUserId())
		return false;
	foreach(lc, p->an->inputs)
	{
		DtInput    *input = (DtInput *) lfirst(lc);

		if (input->relid == relid && input->capturable)
			return true;
	}
	return false;
}

/*
 * refresh_window_rows
 *		The rows (markers left out) in the change window of relid that the
 *		refresh this backend is running counted (count_window), for the
 *		planner's estimate of dt_internal.read_changes: false when no
 *		refresh is running or it did not count relid's.
 */
bool
refresh_window_rows(Oid relid, double *rows)
{
	DtPlanSet  *p = running_plan_set();
	ListCell   *lc;

	if (p == NULL || p->sql == NULL || p->window_rows == NULL)
		return false;
	foreach(lc, p->sql->count_relids)
	{
		if (lfirst_oid(lc) == relid)
		{
			*rows = (double) p->window_rows[foreach_current_index(lc)];
			return true;
		}
	}
	return false;
}

/*
 * refresh_refuse_nested
 *		The functions of schema dt cannot be called from within a refresh (by
 *		a function its query calls): they would change the DT, its plans or
 *		its inputs under the refresh that is using them.
 */
void
refresh_refuse_nested(const char *what)
{
	if (refreshing != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot %s during the refresh of dynamic table \"%s\"",
						what, get_rel_name(llast_oid(refreshing))),
				 errdetail("A function called by the query of a dynamic table cannot use the functions of schema dt.")));
}

/* ---------------------------------------------------------------------
 * dt.explain_refresh
 * ---------------------------------------------------------------------
 */

/* explain_row: append a row (kind, object, detail) to rows. */
static List *
explain_row(List *rows, const char *kind, const char *object, const char *detail)
{
	DtExplainRow *row = palloc(sizeof(DtExplainRow));

	row->kind = kind;
	row->object = object ? pstrdup(object) : NULL;
	row->detail = detail ? pstrdup(detail) : NULL;
	return lappend(rows, row);
}

/*
 * explain_rows_copy
 *		rows (of DtExplainRow) made anew in memory context cxt: those made
 *		within the SPI connection of refresh_explain go with it.
 */
static List *
explain_rows_copy(List *rows, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	List	   *copy = NIL;
	ListCell   *lc;

	foreach(lc, rows)
	{
		DtExplainRow *row = (DtExplainRow *) lfirst(lc);

		copy = explain_row(copy, row->kind, row->object, row->detail);
	}
	MemoryContextSwitchTo(old);
	return copy;
}

/* aggregate_upkeep: how delta merge keeps an aggregate of kind. */
static const char *
aggregate_upkeep(DtAggKind kind)
{
	switch (kind)
	{
		case DT_AGG_COUNT_STAR:
		case DT_AGG_COUNT:
			return "merged: a count per group, changed by the changes";
		case DT_AGG_SUM:
		case DT_AGG_AVG:
			return "merged: a count and an exact sum per group, changed by the changes";
		case DT_AGG_VAR_SAMP:
		case DT_AGG_VAR_POP:
		case DT_AGG_STDDEV_SAMP:
		case DT_AGG_STDDEV_POP:
			return "merged: a count, an exact sum and sum of squares per group";
		case DT_AGG_MIN:
		case DT_AGG_MAX:
			return "per-group value counts; when the current one goes, the next is read from their index";
		case DT_AGG_COUNT_DISTINCT:
			return "per-group value counts: a value counts while its count is above zero";
		case DT_AGG_PERCENTILE_CONT:
		case DT_AGG_PERCENTILE_DISC:
			return "per-group value counts and a cursor on the rank, moved by at most as many values as changed";
		case DT_AGG_BOOL_AND:
		case DT_AGG_BOOL_OR:
			return "merged: counts of true and false values per group";
		case DT_AGG_RANKED:
			return "over a group's first rows in a window's order: computed again for the groups the changes touch, "
				"reading those rows only";
	}
	return NULL;
}

/* explain_leaf: where a key column (named if name is not NULL) reads its key. */
static List *
explain_leaf(List *rows, DtKeyLeaf *leaf, const char *name)
{
	const char *prefix = name != NULL ? psprintf("column %s: ", quote_identifier(name)) : "";
	Oid			relid = InvalidOid;
	Node	   *expr;
	ListCell   *lc;

	if (leaf->key_rtindex == 0)
		return explain_row(rows, "key", NULL,
						   psprintf("%sthe key is %s, a constant: its rows are computed again when any table they read changes",
									prefix, deparse_expression((Node *) leaf->expr, NIL, false, false)));
	if (leaf->key_rtindex2 != 0)
	{
		DtKeyLeaf	side = *leaf;

		side.key_rtindex = leaf->key_rtindex2;
		side.expr = leaf->expr2;
		side.key_rtindex2 = 0;
		rows = explain_leaf(rows, &side, name);
	}
	foreach(lc, leaf->rels)
	{
		if (((DtFromRel *) lfirst(lc))->rtindex == leaf->key_rtindex)
			relid = ((DtFromRel *) lfirst(lc))->input->relid;
	}
	expr = deparse_semantic_vars((Node *) leaf->expr);
	ChangeVarNodes(expr, leaf->key_rtindex, 1, 0);
	return explain_row(rows, "key", names_qualified(relid),
					   psprintf("%sthe key is %s, over this table", prefix,
								deparse_expression(expr, deparse_context_for(get_rel_name(relid), relid),
												   false, false)));
}

/* explain_parts: how each part of the query is maintained. */
static List *
explain_parts(List *rows, DtPlanSet *p, DtEntry *entry)
{
	ListCell   *lc;

	if (p->an->strategy == DT_STRATEGY_FULL)
		return explain_row(rows, "strategy", NULL, psprintf("FULL: %s", full_reason(p, entry)));
	if (p->an->strategy == DT_STRATEGY_RECOMPUTE)
	{
		ListCell   *lk;

		rows = explain_row(rows, "strategy", recompute_key_columns(p->an),
						   "RECOMPUTE BY KEY: the rows of the key values the changes touch are deleted and computed again");
		foreach(lk, p->an->recompute->keys)
		{
			DtKeyColumn *key = (DtKeyColumn *) lfirst(lk);

			foreach(lc, key->leaves)
				rows = explain_leaf(rows, (DtKeyLeaf *) lfirst(lc),
									list_length(p->an->recompute->keys) > 1 ? key->name : NULL);
		}
		return rows;
	}
	if (p->an->strategy == DT_STRATEGY_CONSTANT)
		return explain_row(rows, "strategy", NULL,
						   "CONSTANT: it reads no table, so its rows never change and a refresh has nothing to do");
	if (p->an->strategy == DT_STRATEGY_TOP_K)
		return explain_row(rows, "strategy", NULL,
						   "TOP-K: the rows within the LIMIT are chosen again from the relation it reads when that changed");
	rows = explain_row(rows, "strategy", NULL,
					   "DELTA MERGE: the changes are aggregated and merged into per-group state");
	foreach(lc, p->an->keys)
		rows = explain_row(rows, "group key",
						   get_tle_by_resno(p->an->query->targetList, ((DtKey *) lfirst(lc))->resno)->resname,
						   "a group of the per-group state; its row of the table is found through the key index");
	foreach(lc, p->an->aggregates)
	{
		DtAggregate *agg = (DtAggregate *) lfirst(lc);

		const char *name = agg->kind == DT_AGG_RANKED ? "subquery" : get_func_name(agg->aggref->aggfnoid);

		rows = explain_row(rows, "aggregate", psprintf("%s (aggregate %d)", name, agg->no),
						   aggregate_upkeep(agg->kind));
	}
	return rows;
}

/*
 * explain_statements
 *		The statements a refresh of entry that takes decision d runs; a
 *		full one that refreshes its internal DTs first (refresh_internal)
 *		names each.  A catch-up with no change since the position of the
 *		state built apart (caught_up: with internal DTs, the explanation
 *		does not refresh them, and counts none of what changed under them)
 *		merges nothing, and fills the DT from the state.
 */
static List *
explain_statements(List *rows, DtPlanSet *p, DtEntry *entry, DtDecision *d)
{
	ListCell   *lc;

	if (d->action == DT_ACTION_NO_DATA)
		return rows;
	if (d->action == DT_ACTION_INCREMENTAL && d->catch_up && d->changes == 0)
	{
		/* nothing to merge since the state built apart: filled from it */
		rows = explain_row(rows, "statement", "delete", p->sql->full_delete);
		return explain_row(rows, "statement", "insert", p->sql->dt_fill);
	}
	if (d->action == DT_ACTION_INCREMENTAL && p->an->strategy == DT_STRATEGY_RECOMPUTE)
	{
		rows = explain_row(rows, "statement", "keys", deparse_recompute_keys_sql(p->an, d->changed));
		rows = explain_row(rows, "statement", "delete", p->sql->recompute_delete);
		return explain_row(rows, "statement", "insert", p->sql->recompute_insert);
	}
	if (d->action == DT_ACTION_INCREMENTAL && p->an->strategy == DT_STRATEGY_MERGE && bulk_window(p, d->changed))
	{
		rows = explain_row(rows, "statement", "bulk merge", deparse_bulk_merge_sql(p->sql, d->changed));
		foreach(lc, list_concat_copy(p->sql->state_reset, p->sql->state_finish))
			rows = explain_row(rows, "statement", "bulk merge", (char *) lfirst(lc));
		rows = explain_row(rows, "statement", "delete", p->sql->full_delete);
		return explain_row(rows, "statement", "insert", p->sql->dt_fill);
	}
	if (d->action == DT_ACTION_INCREMENTAL && p->an->strategy == DT_STRATEGY_MERGE)
	{
		rows = explain_row(rows, "statement", "merge", deparse_merge_sql(p->sql, d->changed));
		if (p->sql->cursor_read != NULL)
			rows = explain_row(rows, "statement", "walk percentile cursors", p->sql->cursor_read);
		return explain_row(rows, "statement", "apply", p->sql->apply);
	}
	if (!d->set_aside && p->an->internal > 0 && !entry->state_valid)
	{
		foreach(lc, catalog_internal_dts(entry->relid))
			rows = explain_row(rows, "statement", "refresh internal table",
							   names_qualified(lfirst_oid(lc)));
	}
	if (p->an->strategy == DT_STRATEGY_MERGE && !d->set_aside)
	{
		rows = explain_row(rows, "statement", "rebuild state", p->sql->state_clear);
		rows = explain_row(rows, "statement", "rebuild state",
						   deparse_state_fill_sql(p->sql, few_values(p->sql->aux_relids, AccessShareLock)));
		foreach(lc, p->sql->state_finish)
			rows = explain_row(rows, "statement", "rebuild state", (char *) lfirst(lc));
		rows = explain_row(rows, "statement", "delete", p->sql->full_delete);
		return explain_row(rows, "statement", "insert", p->sql->dt_fill);
	}
	rows = explain_row(rows, "statement", "delete", p->sql->full_delete);
	return explain_row(rows, "statement", "insert", d->set_aside && p->sql->query_insert != NULL
					   ? p->sql->query_insert : p->sql->full_insert);
}

/* explain_decision: the action, the pending changes per input, the statements. */
static List *
explain_decision(List *rows, DtPlanSet *p, DtEntry *entry, bool show_data)
{
	static const char *const names[] = {"NO_DATA", "INCREMENTAL", "FULL"};
	int64	   *counts = palloc0(sizeof(int64) * 2 * Max(list_length(p->sql->count_relids), 1));
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
	DtDecision	d;
	ListCell   *lc;

	decide_action(p, entry, snap, &d, counts, 0, NULL, true);
	UnregisterSnapshot(snap);
	rows = explain_row(rows, "action", show_data ? names[d.action] : NULL, show_data ? d.why : NULL);
	foreach(lc, p->sql->count_relids)
	{
		int			i = foreach_current_index(lc);
		char	   *detail = NULL;

		if (show_data && d.window[0] == (Datum) 0)
			detail = "its changes are not read: the refresh is full";
		else if (show_data)
			detail = psprintf(counts[2 * i + 1] > 0 ? "changes pending: %lld rows, and a rebuild marker"
							  : "changes pending: %lld rows", (long long) counts[2 * i]);
		rows = explain_row(rows, "input", names_qualified(lfirst_oid(lc)), detail);
	}
	if (!show_data)
		return explain_row(rows, "statement", NULL, NULL);
	return explain_statements(rows, p, entry, &d);
}

/*
 * refresh_explain
 *		What a refresh of DT relid would do now, without doing it: rows of
 *		(kind, object, detail): how each part of its query is maintained,
 *		the action it would take and why, the changes pending per input,
 *		and the statements it would run.  The action, the counts and the
 *		statements (which quote constants of the query) only if show_data;
 *		NULL otherwise.  The changes are counted as a refresh counts them,
 *		as the DT's owner; nothing is locked but what reading takes.
 */
List *
refresh_explain(Oid relid, bool show_data)
{
	DtEntry    *entry;
	DtPlanSet  *plans;
	List	   *rows = NIL;
	Oid			saved_user;
	int			saved_context;
	int			guc_level;
	MemoryContext old;
	MemoryContext caller = CurrentMemoryContext;

	refresh_refuse_nested("explain a refresh");
	LockRelationOid(relid, AccessShareLock);
	entry = catalog_read_entry(relid, false);
	SPI_connect();
	catalog_begin_as_owner(catalog_relation_owner(relid), true, &saved_user, &saved_context);
	guc_level = settings_pin(entry->settings);
	plans = get_plans(entry);
	old = MemoryContextSwitchTo(TopMemoryContext);
	refreshing = lappend_oid(refreshing, relid);
	MemoryContextSwitchTo(old);
	PG_TRY();
	{
		rows = explain_parts(rows, plans, entry);
		rows = explain_decision(rows, plans, entry, show_data);
	}
	PG_FINALLY();
	{
		refreshing = list_delete_last(refreshing);
	}
	PG_END_TRY();
	AtEOXact_GUC(false, guc_level);
	catalog_end_as_owner(saved_user, saved_context);
	rows = explain_rows_copy(rows, caller);
	SPI_finish();
	return rows;
}

/*
 * refresh_empty
 *		Delete every row of DT relid as its owner, as a refresh does (its
 *		dt_guard trigger lets only refreshes write): before its definition
 *		changes (lifecycle_redefine); its next refresh fills it.  Readers
 *		see the old rows until the transaction commits, and the DTs that
 *		read it get the deletes as changes.
 */
void
refresh_empty(Oid relid)
{
	Oid			saved_user;
	int			saved_context;
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

	refreshing = lappend_oid(refreshing, relid);
	MemoryContextSwitchTo(old);
	PG_TRY();
	{
		SPI_connect();
		catalog_begin_as_owner(catalog_relation_owner(relid), true, &saved_user, &saved_context);
		if (SPI_execute(psprintf("DELETE FROM %s", names_qualified(relid)), false, 0) != SPI_OK_DELETE)
			elog(ERROR, "could not empty dynamic table %u", relid);
		catalog_end_as_owner(saved_user, saved_context);
		SPI_finish();
	}
	PG_FINALLY();
	{
		refreshing = list_delete_last(refreshing);
	}
	PG_END_TRY();
	CommandCounterIncrement();
}

/*
 * without_internal_sql
 *		An error context without the lines naming the generated statements
 *		(internal names, OIDs), but with the DT the error happened in.
 */
static char *
without_internal_sql(const char *context, Oid relid)
{
	StringInfoData s;
	char	   *copy = context ? pstrdup(context) : pstrdup("");
	char	   *line;
	char	   *save;

	initStringInfo(&s);
	appendStringInfo(&s, "refresh of dynamic table \"%s\"", get_rel_name(relid));
	for (line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
	{
		if (strncmp(line, "SQL statement \"", 15) == 0 && strstr(line, DT_INTERNAL_SCHEMA ".") != NULL)
			continue;
		if (strncmp(line, "refresh of dynamic table", 24) == 0)
			continue;
		appendStringInfo(&s, "\n%s", line);
	}
	return s.data;
}

/*
 * The DT whose internal DTs its unit is refreshing (before it), and when
 * the first of them began: its refresh counts from then, in its history
 * and so in the costs adaptive refresh reads, as what a refresh of it
 * costs (its full refresh from the query refreshes none of them).  But
 * not a full refresh from the query that sets them aside after they were
 * refreshed (refresh_one): the next ones skip them, and the cost of theirs
 * made the first look dear and the state rebuilt at once (TPC-H Q13 at
 * 1%: 561 ms, the query 336).
 */
static Oid	group_parent = InvalidOid;
static TimestampTz group_start;
static int64 group_rows;		/* their windows' rows */
static bool group_planned;		/* one of them planned a statement */

/*
 * refuse_unsafe_refresh
 *		Refuse to refresh a DT whose refresh would write anything but its
 *		query's result.  A DT has no triggers but dt_guard and the internal capture triggers
 *		(ddl_guard.c refuses CREATE TRIGGER on it), but one made by 1.0, or
 *		by a restore of its dump before dt_guard, is still there: the
 *		refresh would fire it, and a trigger that changes, skips or writes
 *		rows would leave the DT different from its query.  Nor may another
 *		table's foreign key reference it (its internal triggers are on the
 *		DT): a full refresh deletes every row before it writes the result
 *		again, which the key refused, or cascaded to delete or change the
 *		referencing rows though the DT's rows came back.  (A disabled
 *		trigger does not fire.)  Nor may row-level security be forced on
 *		its owner (ddl_guard.c refuses it; dropping dt_guard and making it
 *		again, as a restore does, let it through): the refresh's DELETE
 *		missed the rows the policies hid, and its INSERT wrote them again.
 */
static void
refuse_unsafe_refresh(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TriggerDesc *triggers = rel->trigdesc;
	int			i;

	if (rel->rd_rel->relrowsecurity && rel->rd_rel->relforcerowsecurity)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("dynamic table \"%s\" has row-level security forced on its owner", RelationGetRelationName(rel)),
				 errdetail("Its refreshes run as its owner, and must see and write all of its rows."),
				 errhint("ALTER TABLE %s NO FORCE ROW LEVEL SECURITY.", names_qualified(relid))));
	for (i = 0; triggers != NULL && i < triggers->numtriggers; i++)
	{
		Trigger    *t = &triggers->triggers[i];

		if (t->tgenabled == TRIGGER_DISABLED)
			continue;
		if (!t->tgisinternal && strcmp(t->tgname, DT_GUARD_TRIGGER) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("dynamic table \"%s\" has trigger \"%s\"", RelationGetRelationName(rel), t->tgname),
					 errdetail("A dynamic table holds the result of its query; its refreshes would fire the trigger, which could change what it holds."),
					 errhint("Drop the trigger (or disable it): DROP TRIGGER %s ON %s.", quote_identifier(t->tgname),
							 names_qualified(relid))));
		if (t->tgisinternal && OidIsValid(t->tgconstraint))
		{
			HeapTuple	tuple = SearchSysCache1(CONSTROID, ObjectIdGetDatum(t->tgconstraint));
			Form_pg_constraint con;

			if (!HeapTupleIsValid(tuple))
				elog(ERROR, "cache lookup failed for constraint %u", t->tgconstraint);
			con = (Form_pg_constraint) GETSTRUCT(tuple);
			if (con->contype == CONSTRAINT_FOREIGN)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("dynamic table \"%s\" is in foreign key \"%s\" of \"%s\"",
								RelationGetRelationName(rel), NameStr(con->conname), get_rel_name(con->conrelid)),
						 errdetail("A dynamic table holds the result of its query; a full refresh deletes all of its rows before it writes that again, which the foreign key would refuse or act on."),
						 errhint("Drop the constraint: ALTER TABLE %s DROP CONSTRAINT %s.",
								 names_qualified(con->conrelid), quote_identifier(NameStr(con->conname)))));
			ReleaseSysCache(tuple);
		}
	}
	table_close(rel, AccessShareLock);
}

/*
 * read_locked_entry
 *		The catalog entry of DT relid, whose lock the caller took: it may
 *		have been dropped while the caller waited for it.
 */
static DtEntry *
read_locked_entry(Oid relid)
{
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("dynamic table with OID %u does not exist", relid)));
	return catalog_read_entry(relid, false);
}

/*
 * refresh_error_context
 *		The line of an error's context that names the DT being refreshed
 *		(arg: its name, read before): a refresh of a unit refreshes other
 *		DTs than the one asked for, as other roles, whose errors ("permission
 *		denied for schema") would not say which.  An error of its statements
 *		is given it again first, without theirs (without_internal_sql).
 */
static void
refresh_error_context(void *arg)
{
	if (arg != NULL)			/* dropped meanwhile: read_locked_entry says */
		errcontext("refresh of dynamic table \"%s\"", (const char *) arg);
}

/*
 * refresh_one
 *		Refresh one DT, already locked by the caller, as of snapshot snap;
 *		then, with clean_logs, delete the rows of the logs it read that
 *		every reader has consumed (capture_cleanup).
 *
 * Changes the current transaction made before this call count as
 * consumed: in a unit, a DT downstream reads what its upstream DTs wrote
 * moments before, in the same transaction.
 */
static void
refresh_one(Oid relid, Snapshot snap, TimestampTz data_timestamp, const char *trigger,
			RefreshFreshFn fresh, bool clean_logs, DtRefreshStats *stats)
{
	TimestampTz own_start = GetCurrentTimestamp();
	TimestampTz start = own_start;
	Oid			parent = names_internal_parent(relid);
	TimestampTz fresh_before = fresh != NULL ? fresh(relid) : 0;
	DtEntry    *entry;
	DtPlanSet  *plans;
	Oid			owner;
	Oid			saved_user;
	int			saved_context;
	int			guc_level;
	CommandId	cid;
	List	   *logs;
	ListCell   *lc;
	MemoryContext cxt = CurrentMemoryContext;
	RefreshCall call = {data_timestamp, trigger, fresh, clean_logs, false, false, false};
	bool		after_internal = false; /* its unit refreshed its internal DTs */
	ErrorContextCallback context;

	memset(stats, 0, sizeof(DtRefreshStats));
	context.callback = refresh_error_context;
	context.arg = get_rel_name(relid);
	context.previous = error_context_stack;
	error_context_stack = &context;
	planned_window = false;
	current_call = call;
	capture_forget_windows();
	if (refreshing == NIL && OidIsValid(parent) && parent != group_parent)
	{
		group_parent = parent;
		group_start = start;
		group_rows = 0;
		group_planned = false;
		group_left_to_parent = NULL;
	}
	else if (refreshing == NIL && relid == group_parent)
	{
		after_internal = true;
		start = group_start;
	}
	unit_internal_rows = after_internal ? group_rows : 0;
	unit_internal_planned = after_internal && group_planned;
	unit_left_to_parent = after_internal ? group_left_to_parent : NULL;
	entry = read_locked_entry(relid);
	refuse_unsafe_refresh(relid);
	/* after pg_upgrade: the tree stored again, from the definition */
	analysis_renew_tree(entry);
	owner = catalog_relation_owner(relid);
	CommandCounterIncrement();
	cid = GetCurrentCommandId(false);

	SPI_connect();
	catalog_begin_as_owner(owner, true, &saved_user, &saved_context);
	guc_level = settings_pin(entry->settings);
	plans = get_plans(entry);
	/* policies enabled since it was made, or applying to other roles now */
	analysis_refuse_view_policies(plans->view_reads);
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		refreshing = lappend_oid(refreshing, relid);
		MemoryContextSwitchTo(old);
	}
	PG_TRY();
	{
		run_refresh(plans, entry, snap, stats);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		refreshing = list_delete_last(refreshing);
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		edata->context = without_internal_sql(edata->context, relid);
		ReThrowError(edata);
	}
	PG_END_TRY();
	refreshing = list_delete_last(refreshing);
	if (refreshing == NIL && OidIsValid(parent) && parent == group_parent)
	{
		group_rows += stats->windowed ? stats->changes : 0;
		group_planned = group_planned || planned_window;
	}
	call = current_call;
	if (call.internal_moved)
		start = own_start;		/* they were refreshed for nothing */
	if (call.internal_refreshed)
	{
		/* their writes, which it read, are consumed */
		CommandCounterIncrement();
		cid = GetCurrentCommandId(false);
	}
	AtEOXact_GUC(false, guc_level);
	catalog_end_as_owner(saved_user, saved_context);
	if (call.left_to_parent)
	{
		/* not refreshed: its window stays, and its parent's row says why */
		SPI_finish();
		error_context_stack = context.previous;
		return;
	}
	catalog_save_position(relid, snap, cid, data_timestamp, true);
	/* made in the SPI connection's memory, which goes with it */
	if (stats->message != NULL)
		stats->message = MemoryContextStrdup(cxt, stats->message);
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);

		stats->unread_logs = list_copy(stats->unread_logs);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	/* populated now: backends that refused to read it must learn it */
	if (!entry->populated)
		CacheInvalidateRelcacheByRelid(relid);

	/*
	 * A log in which the window held no row has no row that this refresh made
	 * consumed by all: its cleanup, a statement, is skipped (rows another way
	 * left, by a reader dropped or suspended, go with the next window that
	 * has rows, or the scheduler's cleanup).  Not so where internal DTs were
	 * refreshed or moved on: they wrote or consumed after the count, and what
	 * they consumed is not this refresh's window, whose transactions
	 * read_changes recorded (capture_cleanup_consumed) otherwise.
	 */
	logs = clean_logs ? catalog_input_relids(relid) : NIL;
	foreach(lc, clean_logs && call.internal_moved ? catalog_internal_dts(relid) : NIL)
		logs = list_concat_unique_oid(logs, catalog_input_relids(lfirst_oid(lc)));
	foreach(lc, logs)
	{
		if (call.internal_refreshed || call.internal_moved)
			capture_cleanup(lfirst_oid(lc));
		else if (!list_member_oid(stats->unread_logs, lfirst_oid(lc)))
			capture_cleanup_consumed(lfirst_oid(lc));
	}
	catalog_insert_history(relid, trigger, start, GetCurrentTimestamp(), data_timestamp,
						   fresh_before, stats, "SUCCEEDED", stats->message);
	error_context_stack = context.previous;
}

/*
 * lock_inputs
 *		AccessShareLock on what the DTs of a unit read, and their children,
 *		before the snapshot is taken: a table rewritten by DDL that commits
 *		while a refresh waits for its lock would look empty to an older
 *		snapshot.  With nowait, returns false if one of them is locked, or
 *		waited for, in a mode that conflicts (DDL, LOCK TABLE): a scheduled
 *		refresh does not wait, since a worker that waited would serve no
 *		other table of the server meanwhile, however long the lock is held.
 *		The locks taken are kept until the transaction ends.
 */
static bool
lock_inputs(List *unit, bool nowait)
{
	ListCell   *lc;
	ListCell   *lc2;
	ListCell   *lc3;

	foreach(lc, unit)
	{
		foreach(lc2, catalog_input_relids(lfirst_oid(lc)))
		{
			Oid			input = lfirst_oid(lc2);
			bool		tree;

			if (list_member_oid(unit, input) || get_rel_name(input) == NULL)
				continue;
			tree = get_rel_relkind(input) == RELKIND_PARTITIONED_TABLE || has_subclass(input);
			if (!nowait && tree)
				(void) find_all_inheritors(input, AccessShareLock, NULL);
			else if (!nowait)
				LockRelationOid(input, AccessShareLock);
			else if (!ConditionalLockRelationOid(input, AccessShareLock))
				return false;
			else if (tree)
			{
				/* the parent first, as find_all_inheritors takes them */
				foreach(lc3, find_all_inheritors(input, NoLock, NULL))
				{
					if (lfirst_oid(lc3) != input &&
						!ConditionalLockRelationOid(lfirst_oid(lc3), AccessShareLock))
						return false;
				}
			}
		}
	}
	return true;
}

/*
 * lock_unit
 *		ExclusiveLock on every DT of a unit, in OID order so that units that
 *		share DTs cannot deadlock; then on the internal DTs whose parent is
 *		in the unit, once the parent is locked: where its state is aside,
 *		without waiting, since a build apart of it may be refreshing them
 *		(refresh_build_state), and the refresh leaves them alone then
 *		(internal_unheld: its own full refresh reads none of them), rather
 *		than wait for the build.  With nowait, returns false (holding
 *		nothing new) if one of them is being refreshed.
 */
/*
 * unit_lock
 *		ExclusiveLock on DT relid for lock_unit; with nowait, only if free
 *		(added to *locked), else false.
 */
static bool
unit_lock(Oid relid, bool nowait, List **locked)
{
	if (!nowait)
		LockRelationOid(relid, ExclusiveLock);
	else if (ConditionalLockRelationOid(relid, ExclusiveLock))
		*locked = lappend_oid(*locked, relid);
	else
		return false;
	return true;
}

static bool
lock_unit(List *unit, bool nowait)
{
	List	   *sorted = list_copy(unit);
	List	   *internal = NIL;
	List	   *locked = NIL;
	ListCell   *lc;

	list_sort(sorted, list_oid_cmp);
	foreach(lc, sorted)
	{
		Oid			relid = lfirst_oid(lc);
		Oid			parent = names_internal_parent(relid);

		if (OidIsValid(parent) && list_member_oid(unit, parent))
			internal = lappend_oid(internal, relid);
		else if (!unit_lock(relid, nowait, &locked))
			break;
	}
	if (lc == NULL)
	{
		foreach(lc, internal)
		{
			Oid			relid = lfirst_oid(lc);
			DtEntry    *parent = catalog_read_entry(names_internal_parent(relid), true);

			if (parent != NULL && !parent->state_valid)
			{
				if (ConditionalLockRelationOid(relid, ExclusiveLock))
					locked = lappend_oid(locked, relid);
			}
			else if (!unit_lock(relid, nowait, &locked))
				break;
		}
		if (lc == NULL)
			return true;
	}
	foreach(lc, locked)
		UnlockRelationOid(lfirst_oid(lc), ExclusiveLock);
	return false;
}

/*
 * refuse_uncaptured_writes
 *		A build or a refresh (what) from within a statement writing input
 *		relid (or one of its partitions or children), from its triggers or
 *		a function it calls, would read its rows from the table, whose
 *		capture, at the end of the statement, comes after the position: the
 *		next refresh would merge them again (a build's catch-up, or the
 *		incremental refresh after a full one or a rebuild).  Refused while
 *		the statement runs or its trigger events are pending
 *		(capture_writes_uncaptured; TRUNCATE refuses a table whose events
 *		are pending).
 */
static void
refuse_uncaptured_writes(Oid relid, const char *what)
{
	ListCell   *lc;

	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
	{
		if (capture_writes_uncaptured(lfirst_oid(lc)))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_IN_USE),
					 errmsg("cannot %s while a statement writing \"%s\" runs", what, get_rel_name(lfirst_oid(lc))),
					 errdetail("Its changes are captured when it ends, after the %s would have read them.",
							   strcmp(what, "refresh a dynamic table") == 0 ? "refresh" : "state"),
					 errhint("Do it after the statement, not from its triggers or the functions it calls.")));
	}
}

/*
 * refresh_dynamic_table
 *		Bring a DT up to date now, in the current transaction: first the DTs
 *		it reads (directly or not), then the DT itself, all as of one
 *		snapshot, so that they share one data timestamp.
 *
 * The caller must own the DT.  trigger (CREATION, MANUAL) is recorded in
 * the history, with what fresh (NULL: nothing) knows of each DT's content
 * before; stats describe the DT itself.  An error is raised as usual;
 * *attempt then says which DT's refresh raised it (relid, or a DT
 * upstream), or has an invalid relid if it came from the checks before
 * any refresh began, so that the caller can have the failure recorded in
 * the history (the failing transaction cannot write it).
 */
void
refresh_dynamic_table(Oid relid, const char *trigger, DtRefreshStats *stats,
					  volatile DtRefreshAttempt *attempt, RefreshFreshFn fresh)
{
	List	   *unit = NIL;
	Snapshot	snap;
	TimestampTz data_timestamp;
	ListCell   *lc;
	ListCell   *lc2;

	attempt->relid = InvalidOid;
	attempt->name = NULL;
	refresh_refuse_nested("refresh a dynamic table");
	refresh_require_read_committed("refresh a dynamic table");
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));

	attempt->relid = relid;
	attempt->name = get_rel_name(relid);
	foreach(lc, catalog_refresh_unit(relid))
	{
		/* upstream DTs the caller may not refresh are read as they are */
		if (lfirst_oid(lc) == relid || pg_class_ownercheck(lfirst_oid(lc), GetUserId()))
			unit = lappend_oid(unit, lfirst_oid(lc));
	}
	lock_unit(unit, false);
	(void) lock_inputs(unit, false);
	foreach(lc, unit)
	{
		foreach(lc2, catalog_input_relids(lfirst_oid(lc)))
		{
			if (!list_member_oid(unit, lfirst_oid(lc2)))
				refuse_uncaptured_writes(lfirst_oid(lc2), "refresh a dynamic table");
		}
	}
	/* After the locks: S sees everything earlier refreshes committed. */
	snap = RegisterSnapshot(GetLatestSnapshot());
	group_parent = InvalidOid;
	data_timestamp = GetCurrentTimestamp();
	foreach(lc, unit)
	{
		DtRefreshStats unit_stats;

		if (internal_set_aside(lfirst_oid(lc)))
			continue;
		attempt->relid = lfirst_oid(lc);
		attempt->name = get_rel_name(attempt->relid);
		refresh_one(lfirst_oid(lc), snap, data_timestamp, trigger, fresh, true,
					lfirst_oid(lc) == relid ? stats : &unit_stats);
	}
	UnregisterSnapshot(snap);
}

/* A scheduled refresh of one DT of a unit, for spi_util_in_subtransaction. */
typedef struct ScheduledRefresh
{
	Oid			relid;
	Snapshot	snap;
	TimestampTz data_timestamp;
	RefreshFreshFn fresh;
	bool		clean_logs;
	bool		windowed;		/* set: its action followed from the window */
} ScheduledRefresh;

/* scheduled_refresh: refresh_one of a scheduled unit's DT. */
static void
scheduled_refresh(void *arg)
{
	ScheduledRefresh *r = (ScheduledRefresh *) arg;
	DtRefreshStats stats;

	refresh_one(r->relid, r->snap, r->data_timestamp, "SCHEDULED", r->fresh, r->clean_logs, &stats);
	r->windowed = stats.windowed;
}

/*
 * note_unit_skipped
 *		A scheduled refresh of a unit was skipped since start: every DT of it
 *		says so in its history (catalog_note_skipped), the DTs upstream too,
 *		which are held back with it.
 */
static void
note_unit_skipped(List *unit, TimestampTz start, const char *message)
{
	ListCell   *lc;

	foreach(lc, unit)
		catalog_note_skipped(lfirst_oid(lc), start, GetCurrentTimestamp(), message);
}

/*
 * refresh_scheduled_unit
 *		The scheduler's refresh of a unit: DTs upstream first, one snapshot.
 *
 * A unit whose DTs are locked by another refresh, or one of whose inputs
 * is locked by DDL or LOCK TABLE, is skipped, not waited for; the history
 * keeps one SKIPPED row per stretch of skips.  A unit one of whose DTs
 * failed is skipped until its back-off ends (catalog_failure_backoff_until).  Each DT
 * runs in a subtransaction: a failure is recorded in the history and
 * counted (catalog_record_failure suspends the DT at the
 * threshold) unless cancelled says it was a cancel on request (recorded as
 * CANCELLED, naming who cancelled it), and the DTs downstream of it in the unit are not refreshed
 * (UPSTREAM_FAILED), so none refreshes from an input that is not current.
 * Returns false if the unit was skipped.  *settled (if not NULL) is set to
 * whether every DT of the unit was refreshed and chose its action from
 * its change window: none had a reason to be refreshed in full whatever
 * changed (row-level security, capture triggers disabled, a query
 * always refreshed in full), so that with nothing captured since, the
 * next refresh of each would be NO_DATA (the scheduler then skips it).
 * Without clean_logs, the caller deletes what the refreshes consumed from
 * the logs they read (capture_cleanup) later: a refresh worker does it at
 * most once a second, since each cleanup scans a whole log, and a table
 * refreshed ten times a second paid most of its refresh for it.
 */
bool
refresh_scheduled_unit(List *unit, RefreshFreshFn fresh, RefreshCancelledFn cancelled,
					   bool *settled, bool clean_logs)
{
	TimestampTz start = GetCurrentTimestamp();
	List	   *failed = NIL;
	List	   *cancelled_ones = NIL;	/* of failed, those cancelled */
	bool		backing_off = false;
	Snapshot	snap;
	TimestampTz data_timestamp;
	ListCell   *lc;

	if (settled != NULL)
		*settled = false;
	if (!lock_unit(unit, true))
	{
		note_unit_skipped(unit, start, "another refresh of this dynamic table or one it reads was running");
		return false;
	}

	/*
	 * Suspended since the unit was planned (by the failure of a refresh that
	 * held the lock): not refreshed.  The lock is held now, so no suspension
	 * can commit after this.  Failed in the last try: not before its
	 * back-off, whichever worker tried (catalog_failure_backoff_until);
	 * skipped, with no history row: the failures are there.
	 */
	foreach(lc, unit)
	{
		DtEntry    *entry = catalog_read_entry(lfirst_oid(lc), false);

		if (entry->suspended)
			return true;
		if (entry->consecutive_failures > 0 && catalog_failure_backoff_until(entry->relid) > start)
			backing_off = true;
	}
	if (backing_off)
		return false;
	if (!lock_inputs(unit, true))
	{
		note_unit_skipped(unit, start, "a table it reads was locked by another transaction (DDL or LOCK TABLE)");
		return false;
	}
	snap = RegisterSnapshot(GetLatestSnapshot());
	data_timestamp = GetCurrentTimestamp();
	group_parent = InvalidOid;
	if (settled != NULL)
		*settled = true;
	foreach(lc, unit)
	{
		Oid			relid = lfirst_oid(lc);
		List	   *inputs = catalog_input_relids(relid);
		ScheduledRefresh r = {relid, snap, data_timestamp, fresh, clean_logs, false};
		ErrorData  *edata;
		ListCell   *lc2;
		Oid			broken = InvalidOid;

		if (internal_set_aside(relid))
			continue;
		foreach(lc2, inputs)
		{
			if (list_member_oid(failed, lfirst_oid(lc2)))
				broken = lfirst_oid(lc2);
		}
		if (OidIsValid(broken))
		{
			catalog_insert_history(relid, "SCHEDULED", GetCurrentTimestamp(), GetCurrentTimestamp(), 0, 0,
								   NULL, "UPSTREAM_FAILED",
								   psprintf("the refresh of \"%s\" %s", get_rel_name(broken),
											list_member_oid(cancelled_ones, broken) ? "was cancelled" : "failed"));
			failed = lappend_oid(failed, relid);
			continue;
		}
		edata = spi_util_in_subtransaction(scheduled_refresh, &r);
		if (settled != NULL && (edata != NULL || !r.windowed))
			*settled = false;
		if (edata != NULL)
		{
			const char *by = cancelled != NULL ? cancelled() : NULL;
			bool		on_request = by != NULL && edata->sqlerrcode == ERRCODE_QUERY_CANCELED;

			catalog_insert_history(relid, "SCHEDULED", start, GetCurrentTimestamp(), 0, 0, NULL,
								   on_request ? "CANCELLED" : "FAILED",
								   on_request ? psprintf("cancelled by %s", by) : edata->message);
			if (on_request)
				cancelled_ones = lappend_oid(cancelled_ones, relid);
			if (by == NULL)
				catalog_record_failure(relid, edata->message);
			failed = lappend_oid(failed, relid);
		}
	}
	UnregisterSnapshot(snap);
	return true;
}

/*
 * build_wanted
 *		Can the state of DT entry be built apart (refresh_build_state), as
 *		the catalog says: set aside, not built yet, the DT populated, with a
 *		position, incremental, not suspended?  (Its kind is the analysis's.)
 */
static bool
build_wanted(DtEntry *entry)
{
	return !entry->state_valid && !entry->has_state_position && entry->populated && entry->has_position &&
		entry->incremental && !entry->suspended;
}

/*
 * run_once
 *		Run the statement sql, without parameters, as of snap, unprepared:
 *		the statements of a delta-merge DT that merge_plans prepares include
 *		some that write the DT, whose preparation alone would lock it
 *		against its refreshes.
 */
static void
run_once(const char *sql, Snapshot snap)
{
	SPIPlanPtr	plan = SPI_prepare(sql, 0, NULL);

	if (plan == NULL)
		elog(ERROR, "could not prepare a statement of the state's build: %s",
			 SPI_result_code_string(SPI_result));
	spi_util_run(plan, NULL, NULL, snap);
	SPI_freeplan(plan);
}

/*
 * lock_or_try
 *		Lock relid in mode, or with nowait only if that needs no wait;
 *		returns whether it is locked (*locked set if it was not free).
 */
static bool
lock_or_try(Oid relid, LOCKMODE mode, bool nowait, bool *locked)
{
	if (!nowait)
		LockRelationOid(relid, mode);
	else if (!ConditionalLockRelationOid(relid, mode))
		*locked = true;
	return !*locked;
}

/*
 * refresh_build_state
 *		Build the state of DT relid, set aside while its refreshes are full,
 *		apart from them (dt.build_state): in the current transaction, as of
 *		a snapshot of its own, without the DT's refresh lock, so that its
 *		full refreshes go on meanwhile (they leave the state alone while it
 *		is aside); its position is recorded (catalog_save_state_position),
 *		and the next refresh catches up from it (catch_up).  The state is
 *		its internal DTs, each refreshed here as of the snapshot (set
 *		aside, not populated, in full; history trigger BUILD), then, of a
 *		delta-merge DT, its per-group state, built from the inputs (its
 *		internal DTs among them).  Only a DT with such state, populated,
 *		with a position; returns false (nothing built) for another, or one
 *		whose state is valid or built apart already, and, with nowait (a
 *		refresh worker's build), for one whose build would wait for a lock
 *		(*locked then: the worker tries again later).  *ms: the
 *		milliseconds the build took.
 *
 * Locks, in this order: AccessShareLock on the DT (a DROP or redefinition
 * waits for the build, which then finds the DT as it is), ExclusiveLock on
 * its internal DTs (their refresh lock: the DT's refreshes, which do not
 * wait for it while the state is aside, leave them alone meanwhile,
 * lock_unit), AccessShareLock on the inputs (as a refresh: none rewritten
 * under it), ShareUpdateExclusiveLock on their change logs, which keeps
 * capture_cleanup (which does not wait for it) from deleting rows after
 * the build's position before that is committed, as for a DT being
 * created (capture_attach_input), and ExclusiveLock on the per-group
 * state, which serializes builds, and makes a refresh that would rebuild
 * the state itself wait for the build (which never waits for a refresh's
 * locks once it holds the state's).  The snapshot is taken after them.
 * When nothing the DT reads changed between its position and the
 * snapshot, the per-group state of a DT without internal DTs is recorded
 * as of the DT's position: the next refresh then catches up even if it
 * comes before the next full one; not if the DT's last refresh ran its
 * query with row-level security on an input (catalog_rows_filtered): its
 * rows may be filtered, and only a catch-up from a position of the
 * build's own fills it from the state.
 */
bool
refresh_build_state(Oid relid, bool nowait, bool *locked, double *ms)
{
	DtEntry    *entry;
	DtPlanSet	plans;
	DtPlanSet  *p = &plans;
	Query	   *query;
	Oid			state;
	Oid			saved_user;
	int			saved_context;
	int			guc_level;
	Snapshot	snap;
	Datum		window[3];
	int64		rows = 0;
	int64		markers = 0;
	List	   *subs;
	List	   *unit;
	bool		built;
	ListCell   *lc;
	ListCell   *lc2;
	instr_time	started;
	instr_time	ended;

	*ms = 0;
	*locked = false;
	refresh_refuse_nested("build the state of a dynamic table");
	refresh_require_read_committed("build the state of a dynamic table");
	INSTR_TIME_SET_CURRENT(started);
	if (!lock_or_try(relid, AccessShareLock, nowait, locked))
		return false;
	entry = read_locked_entry(relid);
	if (!build_wanted(entry))
		return false;
	subs = catalog_internal_dts(relid);
	foreach(lc, subs)
	{
		if (!lock_or_try(lfirst_oid(lc), ExclusiveLock, nowait, locked))
			return false;
	}
	unit = lappend_oid(list_copy(subs), relid);
	if (!lock_inputs(unit, nowait))
	{
		*locked = true;
		return false;
	}
	foreach(lc, unit)
	{
		foreach(lc2, catalog_input_relids(lfirst_oid(lc)))
		{
			Oid			log = capture_log_relid(lfirst_oid(lc2));

			refuse_uncaptured_writes(lfirst_oid(lc2), "build the state of a dynamic table");
			if (OidIsValid(log) && !lock_or_try(log, ShareUpdateExclusiveLock, nowait, locked))
				return false;
		}
	}
	state = names_internal_relid(DT_OBJECT_STATE, relid, 0);
	if (OidIsValid(state) && !lock_or_try(state, ExclusiveLock, nowait, locked))
		return false;
	/* a refresh may have rebuilt it, or a build built it, meanwhile */
	entry = catalog_read_entry(relid, false);
	if (!build_wanted(entry))
		return false;
	snap = RegisterSnapshot(GetLatestSnapshot());
	SPI_connect();
	catalog_begin_as_owner(catalog_relation_owner(relid), true, &saved_user, &saved_context);
	guc_level = settings_pin(entry->settings);

	/*
	 * Its statements, not its prepared plans (get_plans): preparing those
	 * that write the DT would lock it against its refreshes.
	 */
	memset(p, 0, sizeof(DtPlanSet));
	p->relid = relid;
	query = analysis_stored_query(entry);
	AcquireRewriteLocks(query, true, false);
	analysis_refuse_view_policies(analysis_view_reads(query));
	p->an = analysis_analyze(query, relid);
	built = aside_what(p->an) != NULL && !p->an->always_full &&
		(p->an->strategy != DT_STRATEGY_MERGE || OidIsValid(state));
	if (built && subs != NIL)
	{
		TimestampTz now = GetCurrentTimestamp();

		foreach(lc, subs)
		{
			DtRefreshStats stats;

			refresh_one(lfirst_oid(lc), snap, now, "BUILD", NULL, false, &stats);
		}
		group_parent = InvalidOid;
		/* the per-group state reads what they wrote */
		CommandCounterIncrement();
	}
	if (built && p->an->strategy == DT_STRATEGY_MERGE)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		/* its statements are a refresh's (ddl_guard.c, read_guard.c) */
		refreshing = lappend_oid(refreshing, relid);
		MemoryContextSwitchTo(old);
		PG_TRY();
		{
			p->sql = deparse_refresh_sql(relid, p->an);
			position_window(entry, window);
			foreach(lc, subs == NIL ? p->sql->count_relids : NIL)
			{
				int64		n;
				int64		m;

				count_plain_window(lfirst_oid(lc), window, snap, &n, &m);
				rows += n;
				markers += m;
			}
			/* not state_clear's TRUNCATE: refreshes open the state to plan */
			run_once(psprintf("DELETE FROM %s", names_internal_qualified(DT_OBJECT_STATE, relid, 0)), snap);
			fill_new_heaps(p, deparse_state_fill_sql(p->sql, few_values(p->sql->aux_relids, AccessExclusiveLock)),
						   NULL, snap, NULL);
			foreach(lc, p->sql->state_finish)
				run_once((char *) lfirst(lc), snap);
		}
		PG_FINALLY();
		{
			refreshing = list_delete_last(refreshing);
		}
		PG_END_TRY();
	}
	AtEOXact_GUC(false, guc_level);
	catalog_end_as_owner(saved_user, saved_context);
	if (built)
	{
		/*
		 * as of the DT's position only if its rows are the query's there, and
		 * it has no internal DTs, which the build moved on
		 */
		bool		at_position = subs == NIL && rows == 0 && markers == 0 && !catalog_rows_filtered(relid);

		CommandCounterIncrement();
		catalog_save_state_position(relid, snap, GetCurrentCommandId(false), at_position ? entry : NULL);
	}
	SPI_finish();
	UnregisterSnapshot(snap);
	INSTR_TIME_SET_CURRENT(ended);
	INSTR_TIME_SUBTRACT(ended, started);
	*ms = INSTR_TIME_GET_MILLISEC(ended);
	/* what a rebuild costs, for adaptive refresh (catalog_refresh_costs) */
	if (built)
		catalog_note_state_built(relid, *ms);
	return built;
}
