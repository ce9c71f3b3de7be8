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
 * cache, dropped when any relation it involves changes.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/readfuncs.h"
#include "rewrite/rewriteHandler.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rls.h"
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
	SPIPlanPtr	full_delete;
	SPIPlanPtr	full_insert;
	List	   *count_changes;
	List	   *window_plans;	/* of WindowPlan, by inputs changed */
	SPIPlanPtr	recompute_delete;
	SPIPlanPtr	recompute_insert;
	DtCursorPlans cursor;		/* what percentile_walk runs */
	SPIPlanPtr	apply;
	List	   *state_rebuild;
	SPIPlanPtr	dt_fill;
} DtPlanSet;

static HTAB *plan_cache = NULL;

/*
 * A prepared statement that reads the window of one set of changed inputs
 * (relids): the merge of a delta-merge DT, or the keys of a recompute DT.
 */
typedef struct WindowPlan
{
	List	   *changed;
	SPIPlanPtr	plan;
} WindowPlan;

/* The parameters of every statement that reads a change window. */
static Oid	window_types[3] = {PG_SNAPSHOTOID, XID8OID, INT4OID};

/* The DTs being refreshed by this backend, innermost last (guard trigger). */
static List *refreshing = NIL;

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

/* refresh_syscache_callback: a function, type or operator changed: drop all plans. */
static void
refresh_syscache_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	refresh_relcache_callback(arg, InvalidOid);
}

/*
 * prepare
 *		Prepare and keep one statement.  SPI calls leave the SPI procedure
 *		context current; the caller's context is restored.
 */
static SPIPlanPtr
prepare(const char *sql, int nargs, Oid *types)
{
	MemoryContext cxt = CurrentMemoryContext;
	SPIPlanPtr	plan;

	if (sql == NULL)
		return NULL;
	plan = SPI_prepare(sql, nargs, types);
	if (plan == NULL)
		elog(ERROR, "could not prepare refresh statement (%s): %s",
			 SPI_result_code_string(SPI_result), sql);
	SPI_keepplan(plan);
	MemoryContextSwitchTo(cxt);
	return plan;
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
	free_plan_list(p->count_changes);
	foreach(lc, p->window_plans)
		free_plan(((WindowPlan *) lfirst(lc))->plan);
	free_plan(p->recompute_delete);
	free_plan(p->recompute_insert);
	free_plan(p->cursor.read);
	free_plan(p->apply);
	free_plan(p->dt_fill);
	free_plan_list(p->state_rebuild);
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
prepare_list(List *sqls, int nargs, Oid *types)
{
	List	   *plans = NIL;
	ListCell   *lc;

	foreach(lc, sqls)
		plans = lappend(plans, prepare((char *) lfirst(lc), nargs, types));
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

	p->cursor.read = prepare(p->sql->cursor_read, 1, gid_types);
	p->dt_fill = prepare(p->sql->dt_fill, 0, NULL);
	p->state_rebuild = prepare_list(p->sql->state_rebuild, 0, NULL);
	for (i = 0; i < p->sql->napply_params; i++)
		apply_types[i] = p->sql->apply_params[i].type;
	p->apply = prepare(p->sql->apply, p->sql->napply_params, apply_types);

	p->cursor.naux = list_length(p->an->aux_tables);
	p->cursor.up = palloc0(sizeof(SPIPlanPtr) * Max(p->cursor.naux, 1));
	p->cursor.down = palloc0(sizeof(SPIPlanPtr) * Max(p->cursor.naux, 1));
	p->cursor.start = palloc0(sizeof(SPIPlanPtr) * Max(p->cursor.naux, 1));
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
		p->cursor.up[i] = prepare(up, 4, walk_types);
		p->cursor.down[i] = prepare(down, 4, walk_types);
		p->cursor.start[i] = prepare(start, 3, start_types);
	}
}

/*
 * get_plans
 *		The prepared statements of a DT, building them if needed.  Must be
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
	if (found && p->valid)
		return p;
	if (found)
		release_plans(p);
	memset(p, 0, sizeof(DtPlanSet));
	p->relid = entry->relid;
	/* valid from now: an invalidation arriving while building clears it */
	p->valid = true;

	p->cxt = AllocSetContextCreate(CacheMemoryContext, "pg_dynamic_tables plan set",
								   ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(p->cxt);

	query = analysis_stored_query(entry);
	AcquireRewriteLocks(query, true, false);
	p->an = analysis_analyze(query, entry->relid);
	if (!entry->incremental)
		p->an->strategy = DT_STRATEGY_FULL;
	p->watched = list_make1_oid(entry->relid);
	foreach(lc, p->an->inputs)
		p->watched = lappend_oid(p->watched, ((DtInput *) lfirst(lc))->relid);
	p->sql = deparse_refresh_sql(entry->relid, p->an);

	p->full_delete = prepare(p->sql->full_delete, 0, NULL);
	p->full_insert = prepare(p->sql->full_insert, 0, NULL);
	p->count_changes = prepare_list(p->sql->count_changes, 3, window_types);
	if (p->an->strategy == DT_STRATEGY_RECOMPUTE)
	{
		Oid			key_types[2] = {get_array_type(p->an->recompute->type), BOOLOID};

		p->recompute_delete = prepare(p->sql->recompute_delete, 2, key_types);
		p->recompute_insert = prepare(p->sql->recompute_insert, 2, key_types);
	}
	if (p->an->strategy == DT_STRATEGY_MERGE)
		prepare_merge(p);
	MemoryContextSwitchTo(old);
	return p;
}

/* ---------------------------------------------------------------------
 * Running the statements
 * ---------------------------------------------------------------------
 */

/*
 * full_refresh
 *		Recompute the DT from its query; for a delta-merge DT, rebuild its
 *		state from the inputs and fill the DT from the state.
 */
static void
full_refresh(DtPlanSet *p, Snapshot snap, DtRefreshStats *stats)
{
	ListCell   *lc;

	stats->action = "FULL";
	if (p->an->strategy == DT_STRATEGY_MERGE)
	{
		foreach(lc, p->state_rebuild)
			spi_util_run((SPIPlanPtr) lfirst(lc), NULL, NULL, snap);
		stats->deleted = spi_util_run(p->full_delete, NULL, NULL, snap);
		stats->inserted = spi_util_run(p->dt_fill, NULL, NULL, snap);
	}
	else
	{
		stats->deleted = spi_util_run(p->full_delete, NULL, NULL, snap);
		stats->inserted = spi_util_run(p->full_insert, NULL, NULL, snap);
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
 * window_plan
 *		The merge, or the key query, for a window that changed the inputs
 *		"changed" (relids): a join has one term per changed relation, so each
 *		set of changed inputs has its own statement, prepared when first
 *		needed.
 */
static SPIPlanPtr
window_plan(DtPlanSet *p, List *changed)
{
	WindowPlan *wp;
	ListCell   *lc;
	MemoryContext old;

	foreach(lc, p->window_plans)
	{
		wp = (WindowPlan *) lfirst(lc);
		if (equal(wp->changed, changed))
			return wp->plan;
	}
	old = MemoryContextSwitchTo(p->cxt);
	wp = palloc(sizeof(WindowPlan));
	wp->changed = list_copy(changed);
	wp->plan = prepare(p->an->strategy == DT_STRATEGY_MERGE ? deparse_merge_sql(p->sql, changed)
					   : deparse_recompute_keys_sql(p->an, changed), 3, window_types);
	p->window_plans = lappend(p->window_plans, wp);
	MemoryContextSwitchTo(old);
	return wp->plan;
}

/*
 * A recompute refresh that touches more than 1 / RECOMPUTE_MAX_SHARE of the
 * DT's rows' keys is done in full: reading most partitions through an
 * index costs more than one scan of everything.
 */
#define RECOMPUTE_MAX_SHARE 4

/* dt_row_estimate: the planner's estimate of the rows of a DT. */
static double
dt_row_estimate(Oid relid)
{
	Relation	rel = table_open(relid, NoLock);
	BlockNumber pages;
	double		tuples;
	double		allvisfrac;

	table_relation_estimate_size(rel, NULL, &pages, &tuples, &allvisfrac);
	table_close(rel, NoLock);
	return tuples;
}

/*
 * recompute_refresh
 *		Find the keys the window touched, delete the DT's rows of those keys
 *		and compute them again (recompute.c).  A partition's rows are all
 *		rewritten: they count as deleted and inserted.
 */
static void
recompute_refresh(DtPlanSet *p, Datum *window, List *changed, Snapshot snap,
				  DtRefreshStats *stats)
{
	Datum		keys[2];
	char		nulls[2] = {' ', ' '};
	bool		isnull;
	int64		nkeys;
	double		rows;

	stats->action = "INCREMENTAL";
	spi_util_run(window_plan(p, changed), window, NULL, snap);
	keys[0] = spi_util_datum(0, 1, &isnull);
	if (isnull)
		nulls[0] = 'n';
	keys[1] = spi_util_datum(0, 2, &isnull);
	if (nulls[0] == 'n' && !DatumGetBool(keys[1]))
		return;					/* every change was filtered out */
	nkeys = DatumGetBool(keys[1]) ? 1 : 0;
	if (nulls[0] != 'n')
	{
		ArrayType  *arr = DatumGetArrayTypeP(keys[0]);

		nkeys += ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
	}
	rows = dt_row_estimate(p->relid);
	if (nkeys > 1 && (double) nkeys * RECOMPUTE_MAX_SHARE > rows)
	{
		full_refresh(p, snap, stats);
		stats->message = psprintf("the changes touched %ld keys, of about %.0f rows; refreshed in full",
								  (long) nkeys, rows);
		return;
	}
	if (nulls[0] != 'n')
		keys[0] = datumCopy(keys[0], false, -1);
	stats->deleted = spi_util_run(p->recompute_delete, keys, nulls, snap);
	stats->inserted = spi_util_run(p->recompute_insert, keys, nulls, snap);
}

/*
 * merge_refresh
 *		Merge the changes in the window into the state, walk the percentile
 *		cursors, then apply: see deparse.c's merge_sql and apply_sql, whose
 *		columns and parameters DtSql describes.  "changed": the inputs with
 *		changes in the window.
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

	/* merge: of each group touched, the gid, then the merge columns */
	spi_util_run(window_plan(p, changed), window, NULL, snap);
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
 * count_window
 *		Count the rows and rebuild markers in the window of every captured
 *		input; *changed: the relids of the inputs with rows in it.
 */
static void
count_window(DtPlanSet *p, Datum *window, Snapshot snap, int64 *rows, int64 *markers,
			 List **changed)
{
	ListCell   *lc;
	ListCell   *lr;

	*rows = *markers = 0;
	*changed = NIL;
	forboth(lc, p->count_changes, lr, p->sql->count_relids)
	{
		int64		n;

		spi_util_run((SPIPlanPtr) lfirst(lc), window, NULL, snap);
		n = spi_util_int64(0, 1);
		*rows += n;
		*markers += spi_util_int64(0, 2);
		if (n > 0)
			*changed = lappend_oid(*changed, lfirst_oid(lr));
	}
}

/*
 * in_subtransaction
 *		Run work(arg) in a subtransaction of its own.  Returns NULL when it
 *		succeeded (the subtransaction is committed), or the error it raised,
 *		copied, after rolling the subtransaction back.  Either way the
 *		caller's memory context and resource owner are current again.
 */
static ErrorData *
in_subtransaction(void (*work) (void *arg), void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		work(arg);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_END_TRY();
	return edata;
}

/* An incremental refresh's arguments, for in_subtransaction. */
typedef struct IncrementalRefresh
{
	DtPlanSet  *p;
	Datum	   *window;
	List	   *changed;
	Snapshot	snap;
	DtRefreshStats *stats;
} IncrementalRefresh;

/* incremental_refresh: the refresh of incremental_or_full. */
static void
incremental_refresh(void *arg)
{
	IncrementalRefresh *r = (IncrementalRefresh *) arg;

	if (r->p->an->strategy == DT_STRATEGY_RECOMPUTE)
		recompute_refresh(r->p, r->window, r->changed, r->snap, r->stats);
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
 *		raises the error again.
 */
static void
incremental_or_full(DtPlanSet *p, Datum *window, List *changed, Snapshot snap,
					DtRefreshStats *stats)
{
	IncrementalRefresh r = {p, window, changed, snap, stats};
	ErrorData  *edata = in_subtransaction(incremental_refresh, &r);

	if (edata == NULL)
		return;
	if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_DATA_EXCEPTION)
		ReThrowError(edata);
	memset(stats, 0, sizeof(DtRefreshStats));
	full_refresh(p, snap, stats);
	stats->message = psprintf("incremental refresh failed (%s); refreshed in full", edata->message);
}

/* choose_and_refresh: choose the action and do it (run_refresh). */
static void
choose_and_refresh(DtPlanSet *p, DtEntry *entry, Snapshot snap, DtRefreshStats *stats)
{
	Datum		window[3];
	int64		rows;
	int64		markers;
	List	   *changed;
	Oid			rls = input_where(p, rls_in_force);
	Oid			uncaptured = input_where(p, capture_disabled_within);

	if (OidIsValid(rls))
	{
		/*
		 * The plans are those of a full DT now (analysis saw the policies):
		 * run_refresh sets the state aside, which misses this refresh and
		 * could not take unfiltered changes after one built through the
		 * policies.
		 */
		full_refresh(p, snap, stats);
		stats->message = psprintf("row-level security is in force on \"%s\"; refreshed in full",
								  get_rel_name(rls));
		return;
	}
	if (OidIsValid(uncaptured) || capture_triggers_disabled(entry->relid, true))
	{
		/*
		 * ALTER TABLE ... DISABLE TRIGGER ALL: a log misses changes, or the
		 * DT was writable
		 */
		full_refresh(p, snap, stats);
		stats->message = OidIsValid(uncaptured)
			? psprintf("the capture triggers of \"%s\" are disabled; refreshed in full",
					   get_rel_name(uncaptured))
			: pstrdup("its dt_guard trigger is disabled; refreshed in full");
		return;
	}
	if (!entry->has_position)
	{
		/* restored, or its guard was disabled: its rows match no position */
		full_refresh(p, snap, stats);
		if (p->an->strategy == DT_STRATEGY_MERGE)
			catalog_set_state_valid(entry->relid, true);
		stats->message = "the first refresh after a restore, or after its triggers were disabled, is full";
		return;
	}
	if (p->an->strategy == DT_STRATEGY_MERGE && !entry->state_valid)
	{
		/* a new DT, or its unlogged state was emptied by a crash */
		full_refresh(p, snap, stats);
		catalog_set_state_valid(entry->relid, true);
		if (entry->populated)
			stats->message = "the per-group state was lost (crash, promoted standby) or set aside "
				"(refreshed in full for a while) and was rebuilt";
		return;
	}
	if (!entry->populated || p->an->always_full)
	{
		full_refresh(p, snap, stats);
		return;
	}
	window[0] = entry->position_snapshot;
	window[1] = FullTransactionIdGetDatum(entry->position_xid);
	window[2] = Int32GetDatum((int32) entry->position_cid);
	count_window(p, window, snap, &rows, &markers, &changed);
	if (rows == 0 && markers == 0)
		stats->action = "NO_DATA";
	else if (markers > 0 || p->an->strategy == DT_STRATEGY_FULL)
		full_refresh(p, snap, stats);
	else
		incremental_or_full(p, window, changed, snap, stats);
}

/*
 * run_refresh
 *		Choose the action and do it.  A delta-merge DT whose plans are full
 *		for now (an input that cannot be captured for the time being, such
 *		as one with an unlogged partition) moves on without its per-group
 *		state: that is set aside, and rebuilt once it is merged again.
 */
static void
run_refresh(DtPlanSet *p, DtEntry *entry, Snapshot snap, DtRefreshStats *stats)
{
	choose_and_refresh(p, entry, snap, stats);
	if (p->an->strategy != DT_STRATEGY_MERGE && entry->state_valid &&
		stats->action != NULL && strcmp(stats->action, "NO_DATA") != 0)
		catalog_set_state_valid(entry->relid, false);
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

/* refresh_in_progress: is this backend refreshing relid right now? */
bool
refresh_in_progress(Oid relid)
{
	return list_member_oid(refreshing, relid);
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
	Oid			dt;
	DtPlanSet  *p;
	ListCell   *lc;

	if (refreshing == NIL || plan_cache == NULL)
		return false;
	dt = llast_oid(refreshing);
	p = hash_search(plan_cache, &dt, HASH_FIND, NULL);
	if (p == NULL || p->an == NULL || catalog_relation_owner(dt) != GetUserId())
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
 * refresh_one
 *		Refresh one DT, already locked by the caller, as of snapshot snap.
 *
 * Changes the current transaction made before this call count as
 * consumed: in a unit, a DT downstream reads what its upstream DTs wrote
 * moments before, in the same transaction.
 */
static void
refresh_one(Oid relid, Snapshot snap, TimestampTz data_timestamp, const char *trigger,
			DtRefreshStats *stats)
{
	TimestampTz start = GetCurrentTimestamp();
	DtEntry    *entry;
	DtPlanSet  *plans;
	Oid			owner;
	Oid			saved_user;
	int			saved_context;
	int			guc_level;
	CommandId	cid;
	ListCell   *lc;
	MemoryContext cxt = CurrentMemoryContext;

	memset(stats, 0, sizeof(DtRefreshStats));
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("dynamic table with OID %u does not exist", relid)));
	entry = catalog_read_entry(relid, false);
	owner = catalog_relation_owner(relid);
	CommandCounterIncrement();
	cid = GetCurrentCommandId(false);

	SPI_connect();
	catalog_begin_as_owner(owner, true, &saved_user, &saved_context);
	guc_level = settings_pin(entry->settings);
	plans = get_plans(entry);
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
	AtEOXact_GUC(false, guc_level);
	catalog_end_as_owner(saved_user, saved_context);
	catalog_save_position(relid, snap, cid, data_timestamp);
	SPI_finish();

	foreach(lc, catalog_input_relids(relid))
		capture_cleanup(lfirst_oid(lc));
	catalog_insert_history(relid, trigger, start, GetCurrentTimestamp(), data_timestamp,
						   stats, "SUCCEEDED", stats->message);
}

/*
 * lock_inputs
 *		AccessShareLock on what the DTs of a unit read, and their children,
 *		before the snapshot is taken: a table rewritten by DDL that commits
 *		while a refresh waits for its lock would look empty to an older
 *		snapshot.
 */
static void
lock_inputs(List *unit)
{
	ListCell   *lc;
	ListCell   *lc2;

	foreach(lc, unit)
	{
		foreach(lc2, catalog_input_relids(lfirst_oid(lc)))
		{
			Oid			input = lfirst_oid(lc2);

			if (list_member_oid(unit, input) || get_rel_name(input) == NULL)
				continue;
			if (get_rel_relkind(input) == RELKIND_PARTITIONED_TABLE || has_subclass(input))
				(void) find_all_inheritors(input, AccessShareLock, NULL);
			else
				LockRelationOid(input, AccessShareLock);
		}
	}
}

/*
 * lock_unit
 *		ExclusiveLock on every DT of a unit, in OID order so that units that
 *		share DTs cannot deadlock.  With nowait, returns false (holding
 *		nothing new) if one of them is being refreshed.
 */
static bool
lock_unit(List *unit, bool nowait)
{
	List	   *sorted = list_copy(unit);
	ListCell   *lc;

	list_sort(sorted, list_oid_cmp);
	foreach(lc, sorted)
	{
		Oid			relid = lfirst_oid(lc);

		if (!nowait)
			LockRelationOid(relid, ExclusiveLock);
		else if (!ConditionalLockRelationOid(relid, ExclusiveLock))
		{
			ListCell   *lc2;

			foreach(lc2, sorted)
			{
				if (lfirst_oid(lc2) == relid)
					break;
				UnlockRelationOid(lfirst_oid(lc2), ExclusiveLock);
			}
			return false;
		}
	}
	return true;
}

/*
 * refresh_dynamic_table
 *		Bring a DT up to date now, in the current transaction: first the DTs
 *		it reads (directly or not), then the DT itself, all as of one
 *		snapshot, so that they share one data timestamp.
 *
 * The caller must own the DT.  trigger (CREATION, MANUAL) is recorded in
 * the history; stats describe the DT itself.  An error is raised as usual;
 * *attempt then says which DT's refresh raised it (relid, or a DT
 * upstream), or has an invalid relid if it came from the checks before
 * any refresh began, so that the caller can have the failure recorded in
 * the history (the failing transaction cannot write it).
 */
void
refresh_dynamic_table(Oid relid, const char *trigger, DtRefreshStats *stats,
					  volatile DtRefreshAttempt *attempt)
{
	List	   *unit = NIL;
	Snapshot	snap;
	TimestampTz data_timestamp;
	ListCell   *lc;

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
	lock_inputs(unit);
	/* After the locks: S sees everything earlier refreshes committed. */
	snap = RegisterSnapshot(GetLatestSnapshot());
	data_timestamp = GetCurrentTimestamp();
	foreach(lc, unit)
	{
		DtRefreshStats unit_stats;

		attempt->relid = lfirst_oid(lc);
		attempt->name = get_rel_name(attempt->relid);
		refresh_one(lfirst_oid(lc), snap, data_timestamp, trigger,
					lfirst_oid(lc) == relid ? stats : &unit_stats);
	}
	UnregisterSnapshot(snap);
}

/* A scheduled refresh of one DT of a unit, for in_subtransaction. */
typedef struct ScheduledRefresh
{
	Oid			relid;
	Snapshot	snap;
	TimestampTz data_timestamp;
} ScheduledRefresh;

/* scheduled_refresh: refresh_one of a scheduled unit's DT. */
static void
scheduled_refresh(void *arg)
{
	ScheduledRefresh *r = (ScheduledRefresh *) arg;
	DtRefreshStats stats;

	refresh_one(r->relid, r->snap, r->data_timestamp, "SCHEDULED", &stats);
}

/*
 * refresh_scheduled_unit
 *		The scheduler's refresh of a unit: DTs upstream first, one snapshot.
 *
 * A unit whose DTs are locked by another refresh is skipped, not waited
 * for.  Each DT runs in a subtransaction: a failure is recorded in the
 * history and counted (catalog_record_failure suspends the DT at the
 * threshold), and the DTs downstream of it in the unit are not refreshed
 * (UPSTREAM_FAILED), so none refreshes from an input that is not current.
 * Returns false if the unit was skipped.
 */
bool
refresh_scheduled_unit(List *unit)
{
	TimestampTz start = GetCurrentTimestamp();
	List	   *failed = NIL;
	Snapshot	snap;
	TimestampTz data_timestamp;
	ListCell   *lc;

	if (!lock_unit(unit, true))
	{
		catalog_insert_history(llast_oid(unit), "SCHEDULED", start, GetCurrentTimestamp(), 0,
							   NULL, "SKIPPED", "another refresh of this dynamic table or one it reads was running");
		return false;
	}
	lock_inputs(unit);
	snap = RegisterSnapshot(GetLatestSnapshot());
	data_timestamp = GetCurrentTimestamp();
	foreach(lc, unit)
	{
		Oid			relid = lfirst_oid(lc);
		List	   *inputs = catalog_input_relids(relid);
		ScheduledRefresh r = {relid, snap, data_timestamp};
		ErrorData  *edata;
		ListCell   *lc2;
		Oid			broken = InvalidOid;

		foreach(lc2, inputs)
		{
			if (list_member_oid(failed, lfirst_oid(lc2)))
				broken = lfirst_oid(lc2);
		}
		if (OidIsValid(broken))
		{
			catalog_insert_history(relid, "SCHEDULED", GetCurrentTimestamp(), GetCurrentTimestamp(), 0,
								   NULL, "UPSTREAM_FAILED",
								   psprintf("the refresh of \"%s\" failed", get_rel_name(broken)));
			failed = lappend_oid(failed, relid);
			continue;
		}
		edata = in_subtransaction(scheduled_refresh, &r);
		if (edata != NULL)
		{
			catalog_insert_history(relid, "SCHEDULED", start, GetCurrentTimestamp(), 0,
								   NULL, "FAILED", edata->message);
			catalog_record_failure(relid, edata->message);
			failed = lappend_oid(failed, relid);
		}
	}
	UnregisterSnapshot(snap);
	return true;
}
