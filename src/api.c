/*-------------------------------------------------------------------------
 *
 * api.c
 *		The SQL-callable functions: those of schema dt, and those of
 *		dt_internal that the extension's views, refreshes and tests call.
 *
 *	dt.create_dynamic_table(name, query, target_lag, refresh_mode, initialize,
 *							or_replace)
 *	dt.drop_dynamic_table(name)
 *	dt.refresh(name)
 *	dt.alter_dynamic_table(name, target_lag, refresh_mode)
 *	dt.suspend(name), dt.resume(name)
 *	dt.explain_refresh(name)
 *	dt_internal.query_definition(relid)		the text view dt.dynamic_tables shows
 *	dt_internal.read_changes(...)			how a refresh reads a change log
 *	dt_internal.read_changes_support(...)	its rows, for the planner
 *	dt_internal.schedule_plan(now), dt_internal.run_scheduled_refreshes(now)
 *											the scheduler's decisions, driven
 *											by tests with a clock of their own
 *	dt_internal.check_preloaded()			CREATE EXTENSION's preload check
 *	dt_internal.update_to_1_1()				ALTER EXTENSION UPDATE's C part
 *
 * Each checks its arguments and the caller's right, then calls the layers
 * below (src/README.md).  The trigger and event trigger functions are in
 * ddl_guard.c; the fsum functions, which are the arithmetic of a value,
 * in floatsum.c.
 *
 * The library must be loaded through shared_preload_libraries: its DDL
 * guard has to see every utility statement of every backend, and the
 * scheduler's background workers can only be registered at server start.
 * Loaded any other way, _PG_init installs nothing, and every function here
 * (CREATE EXTENSION's check_preloaded included) says so with a hint.
 *
 * Creating a DT is one transaction that leaves either everything (the
 * table, its internal objects, capture on its inputs, its catalog rows and,
 * with initialize => 'on_create', its content) or nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/supportnodes.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/sinvaladt.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/relcache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"

#include "entry.h"

PG_FUNCTION_INFO_V1(dt_create_dynamic_table);
PG_FUNCTION_INFO_V1(dt_drop_dynamic_table);
PG_FUNCTION_INFO_V1(dt_refresh);
PG_FUNCTION_INFO_V1(dt_build_state);
PG_FUNCTION_INFO_V1(dt_alter_dynamic_table);
PG_FUNCTION_INFO_V1(dt_suspend);
PG_FUNCTION_INFO_V1(dt_resume);
PG_FUNCTION_INFO_V1(dt_explain_refresh);
PG_FUNCTION_INFO_V1(dt_query_definition);
PG_FUNCTION_INFO_V1(dt_read_changes);
PG_FUNCTION_INFO_V1(dt_read_changes_support);
PG_FUNCTION_INFO_V1(dt_schedule_plan);
PG_FUNCTION_INFO_V1(dt_run_scheduled_refreshes);
PG_FUNCTION_INFO_V1(dt_check_preloaded);
PG_FUNCTION_INFO_V1(dt_scheduling_delay);
PG_FUNCTION_INFO_V1(dt_fresh_as_of);
PG_FUNCTION_INFO_V1(dt_update_to_1_1);

/* Whether _PG_init ran at server start (api_init). */
static bool loaded_at_startup = false;

/* api_init: from _PG_init at server start: the functions here may run. */
void
api_init(void)
{
	loaded_at_startup = true;
}

/* require_preload: error out unless the library was loaded at server start. */
static void
require_preload(void)
{
	if (!loaded_at_startup)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_dynamic_tables must be loaded via shared_preload_libraries"),
				 errhint("Add pg_dynamic_tables to shared_preload_libraries in postgresql.conf and restart the server.")));
}

/* arg_text: a required text argument; NULL is an error. */
static char *
arg_text(FunctionCallInfo fcinfo, int n, const char *name)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
	return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/*
 * existing_relation
 *		The name of relation relid, which must exist (regclass arguments can
 *		hold OIDs of relations that no longer exist).
 */
static char *
existing_relation(Oid relid)
{
	char	   *name = get_rel_name(relid);

	if (name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	return name;
}

/* require_dynamic_table: relid names a dynamic table. */
static void
require_dynamic_table(Oid relid)
{
	char	   *name = existing_relation(relid);

	if (!catalog_is_dynamic_table(relid))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a dynamic table", name)));
}

/*
 * refresh_recording_failure
 *		refresh_dynamic_table, and if it fails, the failure handed to the
 *		scheduler (workers_report_failure), which records it in the history:
 *		the failing transaction cannot.  The error quotes the data of the DT
 *		whose refresh failed, so its history gets it; when that was a DT
 *		upstream, the DT asked for gets a row that names it, without the
 *		error, which quotes data of the other DT's inputs.
 */
static void
refresh_recording_failure(Oid relid, const char *trigger, DtRefreshStats *stats)
{
	TimestampTz start = GetCurrentTimestamp();
	MemoryContext cxt = CurrentMemoryContext;
	volatile DtRefreshAttempt attempt = {InvalidOid, NULL};

	PG_TRY();
	{
		refresh_dynamic_table(relid, trigger, stats, &attempt, workers_fresh_as_of);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		if (OidIsValid(attempt.relid))
		{
			workers_report_failure(attempt.relid, trigger, start, NULL);
			if (attempt.relid != relid)
				workers_report_failure(relid, trigger, start,
									   psprintf("the refresh of \"%s\" failed", attempt.name));
		}
		PG_RE_THROW();
	}
	PG_END_TRY();
}

/*
 * held_by_others
 *		Whether a backend other than a refresh worker holds a lock on relid
 *		that conflicts with mode (a manual refresh, an ALTER, a prepared
 *		transaction).
 */
static bool
held_by_others(Oid relid, LOCKMODE mode)
{
	LOCKTAG		tag;
	VirtualTransactionId *holders;
	VirtualTransactionId *h;
	bool		others = false;

	SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
	holders = GetLockConflicts(&tag, mode, NULL);
	for (h = holders; VirtualTransactionIdIsValid(*h) && !others; h++)
	{
		PGPROC	   *proc = BackendIdGetProc(h->backendId);

		others = proc == NULL || !workers_is_refresh_worker(proc->pid);
	}
	pfree(holders);
	return others;
}

/*
 * lock_cancelling_refresh
 *		Lock DT relid in mode, cancelling the scheduled refresh a worker may
 *		be running on it (workers_cancel_refresh, naming function "by" in
 *		the history) as often as it takes: a
 *		worker retries a cancelled refresh at once, and could take the lock
 *		again first.  When another backend holds the lock (a manual refresh,
 *		say), it waits for the lock as any statement does: in the lock's
 *		queue, where the deadlock detector and lock_timeout see it (and a
 *		worker asking for the lock then queues behind it).
 */
static void
lock_cancelling_refresh(Oid relid, LOCKMODE mode, const char *by)
{
	for (;;)
	{
		workers_cancel_refresh(relid, by);
		if (ConditionalLockRelationOid(relid, mode))
			return;
		if (held_by_others(relid, mode))
		{
			LockRelationOid(relid, mode);
			return;
		}
		CHECK_FOR_INTERRUPTS();
		pg_usleep(10 * 1000L);
	}
}

/*
 * refuse_internal
 *		Refuse to do what to an internal DT (internal.c): the life of the DT
 *		whose subquery it is decides its own.  The error names that DT (the
 *		one its owner made, above internal DTs of internal DTs).
 */
static void
refuse_internal(Oid relid, const char *what, const char *hint)
{
	Oid			top = relid;
	Oid			parent;

	if (get_rel_namespace(relid) != names_internal_namespace())
		return;
	while (OidIsValid(parent = names_internal_parent(top)))
		top = parent;
	if (top == relid)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot %s: \"%s\" is an internal dynamic table", what, get_rel_name(relid))));
	ereport(ERROR,
			(errcode(ERRCODE_WRONG_OBJECT_TYPE),
			 errmsg("cannot %s: \"%s\" is an internal dynamic table", what, get_rel_name(relid)),
			 errdetail("It is part of dynamic table %s, made for a subquery of its query.", names_qualified(top)),
			 errhint("%s", hint)));
}

/*
 * refuse_read_only
 *		Refuse to do what in a read-only transaction (on a standby, every
 *		transaction is), as PostgreSQL refuses REFRESH MATERIALIZED VIEW,
 *		before any work or lock that recovery would refuse with a less clear
 *		error.
 */
static void
refuse_read_only(const char *what)
{
	if (XactReadOnly)
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot %s in a read-only transaction", what)));
}

/*
 * owned_dynamic_table
 *		Check that relid is a DT the current user owns, not an internal DT
 *		(internal.c: its parent's life decides its own), and lock it against
 *		refreshes (whose end updates the same catalog row), cancelling the
 *		scheduled one a worker may be running (lock_cancelling_refresh, for
 *		function "by").
 */
static void
owned_dynamic_table(Oid relid, const char *what, const char *by)
{
	require_preload();
	refresh_refuse_nested(what);
	refuse_read_only(what);
	require_dynamic_table(relid);
	refuse_internal(relid, what, "Change that dynamic table instead.");
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));
	lock_cancelling_refresh(relid, ExclusiveLock, by);
}

/*
 * create_options
 *		The refresh_mode, target_lag and initialize arguments of
 *		dt.create_dynamic_table, checked, into entry.
 */
static void
create_options(FunctionCallInfo fcinfo, const char *lag, const char *initialize, DtEntry *entry)
{
	entry->requested_mode = catalog_parse_mode(arg_text(fcinfo, 3, "refresh_mode"));
	entry->lag_downstream = !catalog_parse_lag(lag, &entry->target_lag);
	if (pg_strcasecmp(initialize, "on_create") == 0)
		entry->on_create = true;
	else if (pg_strcasecmp(initialize, "on_schedule") == 0)
		entry->on_create = false;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid initialize \"%s\"", initialize),
				 errhint("Valid values are \"on_create\" and \"on_schedule\".")));
}

/*
 * new_table_name
 *		The name of a DT to create, parsed; *nsp: the schema it is created
 *		in, as CREATE TABLE would choose it.  A DT is neither temporary nor
 *		in dt_internal, and its name is free, or with or_replace may be an
 *		existing DT's, whose OID is *existing (else InvalidOid).
 */
static RangeVar *
new_table_name(const char *name, bool or_replace, Oid *nsp, Oid *existing)
{
	RangeVar   *rv = makeRangeVarFromNameList(names_parse_new(name));

	*nsp = RangeVarGetCreationNamespace(rv);
	if (isAnyTempNamespace(*nsp))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("dynamic tables cannot be temporary")));
	if (*nsp == get_namespace_oid(DT_INTERNAL_SCHEMA, true))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_SCHEMA_NAME),
				 errmsg("cannot create a dynamic table in schema \"%s\"", DT_INTERNAL_SCHEMA)));
	*existing = get_relname_relid(rv->relname, *nsp);
	if (OidIsValid(*existing) && !(or_replace && catalog_is_dynamic_table(*existing)))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("relation \"%s\" already exists", rv->relname),
				 or_replace ? errdetail("It is not a dynamic table.") : 0));
	return rv;
}

/*
 * create_table
 *		CREATE TABLE relname in schema nsp, as the caller, with the query's
 *		columns; returns its OID.
 */
static Oid
create_table(const char *relname, Oid nsp, Query *query)
{
	StringInfoData ddl;
	ListCell   *lc;

	initStringInfo(&ddl);
	appendStringInfo(&ddl, "CREATE TABLE %s (", quote_qualified_identifier(get_namespace_name(nsp), relname));
	foreach(lc, deparse_dt_columns(query))
		appendStringInfo(&ddl, "%s%s", foreach_current_index(lc) > 0 ? ", " : "", (char *) lfirst(lc));
	appendStringInfoChar(&ddl, ')');
	SPI_connect();
	if (SPI_execute(ddl.data, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not create the dynamic table: %s", ddl.data);
	SPI_finish();
	CommandCounterIncrement();
	return get_relname_relid(relname, nsp);
}

/*
 * set_options
 *		Store the target lag and initialize choice of entry as DT relid's,
 *		and in its dt_guard trigger's copy of its definition.
 */
static void
set_options(Oid relid, DtEntry *entry)
{
	Oid			types[3] = {OIDOID, INTERVALOID, TEXTOID};
	Datum		values[3];
	char		nulls[3] = "   ";

	values[0] = ObjectIdGetDatum(relid);
	if (entry->lag_downstream)
		nulls[1] = 'n';
	else
		values[1] = IntervalPGetDatum(entry->target_lag);
	values[2] = CStringGetTextDatum(entry->on_create ? "on_create" : "on_schedule");
	SPI_connect();
	catalog_exec("UPDATE " DT_INTERNAL_SCHEMA ".dynamic_table SET target_lag = $2, initialize = $3 "
				 "WHERE relid = $1", 3, types, values, nulls, SPI_OK_UPDATE);
	SPI_finish();
	CommandCounterIncrement();
	catalog_write_guard(relid);
}

/*
 * same_definition
 *		Would entry, with query, define DT old as it is defined now?  The
 *		query as printed under old's settings, the settings and the
 *		requested mode decide; the target lag and initialize can change in
 *		place.
 */
static bool
same_definition(DtEntry *old, DtEntry *entry, Query *query)
{
	ListCell   *a;
	ListCell   *b;
	int			guc_level;
	char	   *definition;

	if (old->definition == NULL || old->requested_mode != entry->requested_mode ||
		list_length(old->settings) != list_length(entry->settings))
		return false;
	forboth(a, old->settings, b, entry->settings)
	{
		if (strcmp(lfirst(a), lfirst(b)) != 0)
			return false;
	}
	guc_level = settings_pin(old->settings);
	definition = analysis_print_definition(query);
	AtEOXact_GUC(false, guc_level);
	return strcmp(definition, old->definition) == 0;
}

/*
 * redefine
 *		Give DT old (owned and locked by the caller) the definition entry
 *		with query, in place (lifecycle_redefine: it keeps its OID and
 *		history), and refresh it in full within the call, unless it is to
 *		be populated on schedule and was not populated yet.  Its suspension
 *		stays.
 */
static void
redefine(DtEntry *old, DtEntry *entry, Query *query)
{
	int			guc_level;

	entry->suspended = old->suspended;
	entry->suspended_by = old->suspended_by;
	entry->populated = false;
	entry->has_position = true;
	guc_level = settings_pin(entry->settings);
	lifecycle_redefine(old->relid, entry, query);
	AtEOXact_GUC(false, guc_level);
	workers_wake_scheduler(old->relid);
	if (entry->on_create || old->populated)
	{
		DtRefreshStats stats;

		refresh_recording_failure(old->relid, "ALTER", &stats);
	}
}

/*
 * dt_create_dynamic_table
 *		dt.create_dynamic_table(name text, query text, target_lag text,
 *		refresh_mode text, initialize text, or_replace boolean) RETURNS
 *		regclass
 *
 * The query is parsed with the caller's search_path, like CREATE VIEW; the
 * table belongs to the caller.  With or_replace, an existing DT of that
 * name that the caller owns is given the definition instead, as CREATE OR
 * REPLACE VIEW does: with the same query and mode, only its target lag and
 * initialize choice change; otherwise it is redefined and refreshed
 * (redefine), keeping its history.
 */
Datum
dt_create_dynamic_table(PG_FUNCTION_ARGS)
{
	char	   *name = arg_text(fcinfo, 0, "name");
	char	   *sql = arg_text(fcinfo, 1, "query");
	char	   *lag = arg_text(fcinfo, 2, "target_lag");
	char	   *initialize = arg_text(fcinfo, 4, "initialize");
	bool		or_replace = false;
	DtEntry		entry = {0};
	RangeVar   *rv;
	Oid			nsp;
	Oid			relid;
	Query	   *query;
	DtAnalysis *an;

	require_preload();
	catalog_require_current_version();
	refresh_refuse_nested("create a dynamic table");
	refuse_read_only("create a dynamic table");
	refresh_require_read_committed("create a dynamic table");
	if (PG_NARGS() > 5)
	{
		if (PG_ARGISNULL(5))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("or_replace must not be null")));
		or_replace = PG_GETARG_BOOL(5);
	}
	create_options(fcinfo, lag, initialize, &entry);
	rv = new_table_name(name, or_replace, &nsp, &relid);
	entry.query_text = sql;
	entry.settings = settings_current();

	query = analysis_parse_query(sql);
	analysis_refuse_search_path(query);
	lifecycle_refuse_inputs(query, false);
	if (OidIsValid(relid))
	{
		DtEntry    *old;

		owned_dynamic_table(relid, "replace a dynamic table", "dt.create_dynamic_table");
		old = catalog_read_entry(relid, false);
		lifecycle_check_privileges(query);
		if (same_definition(old, &entry, query))
			set_options(relid, &entry);
		else
			redefine(old, &entry, query);
		workers_wake_scheduler(relid);
		PG_RETURN_OID(relid);
	}
	lifecycle_check_privileges(query);
	relid = create_table(rv->relname, nsp, query);
	entry.has_position = true;
	an = lifecycle_analyze(relid, &entry, query);
	lifecycle_make_dynamic(relid, &entry, query, an);
	workers_wake_scheduler(relid);
	if (entry.on_create)
	{
		DtRefreshStats stats;

		refresh_recording_failure(relid, "CREATION", &stats);
	}
	PG_RETURN_OID(relid);
}

/*
 * dt_drop_dynamic_table
 *		dt.drop_dynamic_table(name regclass): DROP TABLE, with the checks and
 *		cleanup of any DROP TABLE of a DT.
 */
Datum
dt_drop_dynamic_table(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ListCell   *lc;

	require_preload();
	refresh_refuse_nested("drop a dynamic table");
	refuse_read_only("drop a dynamic table");
	require_dynamic_table(relid);
	if (pg_class_ownercheck(relid, GetUserId()))
		lock_cancelling_refresh(relid, AccessExclusiveLock, "dt.drop_dynamic_table");
	SPI_connect();
	if (SPI_execute(psprintf("DROP TABLE %s", names_qualified(relid)), false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not drop dynamic table");
	SPI_finish();
	/* as the sql_drop event trigger did (unless event triggers are off) */
	foreach(lc, lifecycle_forget_dropped())
		workers_wake_scheduler(lfirst_oid(lc));
	PG_RETURN_VOID();
}

/*
 * dt_refresh
 *		dt.refresh(name regclass) RETURNS (action, rows_inserted,
 *		rows_deleted, rows_updated, duration)
 */
Datum
dt_refresh(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	TimestampTz start = GetCurrentTimestamp();
	DtRefreshStats stats;
	TupleDesc	desc;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	require_preload();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	refuse_read_only("refresh a dynamic table");
	require_dynamic_table(relid);
	refuse_internal(relid, "refresh a dynamic table",
					"Refresh that dynamic table instead: its refresh refreshes its internal tables.");
	refresh_recording_failure(relid, "MANUAL", &stats);

	values[0] = CStringGetTextDatum(stats.action);
	values[1] = Int64GetDatum(stats.inserted);
	values[2] = Int64GetDatum(stats.deleted);
	values[3] = Int64GetDatum(stats.updated);
	values[4] = DirectFunctionCall2(timestamp_mi, TimestampTzGetDatum(GetCurrentTimestamp()),
									TimestampTzGetDatum(start));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

/*
 * dt_build_state
 *		dt.build_state(name regclass) RETURNS boolean: build the per-group
 *		state of a DT that refreshes in full for now (adaptive refresh set
 *		it aside) apart from its refreshes, which go on meanwhile; its next
 *		refresh catches up from it incrementally (refresh_build_state).
 *		False if there was nothing to build: a DT of another kind, or whose
 *		state is valid or built already.
 */
Datum
dt_build_state(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	double		ms;
	bool		locked;

	require_preload();
	refuse_read_only("build the state of a dynamic table");
	require_dynamic_table(relid);
	refuse_internal(relid, "build the state of a dynamic table",
					"Its internal tables are refreshed with that dynamic table.");
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));
	PG_RETURN_BOOL(refresh_build_state(relid, false, &locked, &ms));
}

/*
 * dt_alter_dynamic_table
 *		dt.alter_dynamic_table(name regclass, target_lag text DEFAULT NULL,
 *		refresh_mode text DEFAULT NULL): change what is given, keep the
 *		rest.  Another refresh mode redefines the DT with its query
 *		(redefine: its internal objects are made anew, and it is refreshed
 *		in full in the call).
 */
Datum
dt_alter_dynamic_table(PG_FUNCTION_ARGS)
{
	Oid			relid;
	DtEntry    *old;
	DtEntry		entry;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("name must not be null")));
	relid = PG_GETARG_OID(0);
	owned_dynamic_table(relid, "alter a dynamic table", "dt.alter_dynamic_table");
	old = catalog_read_entry(relid, false);
	entry = *old;
	if (!PG_ARGISNULL(1))
		entry.lag_downstream = !catalog_parse_lag(text_to_cstring(PG_GETARG_TEXT_PP(1)),
												  &entry.target_lag);
	if (PG_NARGS() > 2 && !PG_ARGISNULL(2))
		entry.requested_mode = catalog_parse_mode(text_to_cstring(PG_GETARG_TEXT_PP(2)));
	if (entry.requested_mode != old->requested_mode)
	{
		Query	   *query = analysis_stored_query(old);

		refresh_require_read_committed("alter a dynamic table");
		lifecycle_check_privileges(query);
		redefine(old, &entry, query);
	}
	else if (!PG_ARGISNULL(1))
		set_options(relid, &entry);
	workers_wake_scheduler(relid);
	PG_RETURN_VOID();
}

/*
 * dt_explain_refresh
 *		dt.explain_refresh(name regclass) RETURNS TABLE (step int, kind
 *		text, object text, detail text): what a refresh would do now
 *		(refresh_explain), without doing it.  Roles that may read the
 *		table (SELECT on it) see how it is maintained: its strategy, keys,
 *		inputs and internal tables; others are refused, as reading it
 *		would refuse them.  The action, the pending changes and the
 *		statements (which quote the query's constants) are shown only to
 *		the roles that see the messages of failed refreshes: those with the
 *		privileges of the table's owner and members of pg_read_all_stats
 *		(who may call it on any DT, as they see every DT's messages).
 */
Datum
dt_explain_refresh(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			relid = PG_GETARG_OID(0);
	bool		show_data;
	ListCell   *lc;

	require_preload();
	catalog_require_current_version();
	require_dynamic_table(relid);
	show_data = has_privs_of_role(GetUserId(), catalog_relation_owner(relid)) ||
		has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS);
	if (!show_data && pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", get_rel_name(relid)),
				 errdetail("Explaining the refresh of a dynamic table takes the SELECT privilege on it.")));
	InitMaterializedSRF(fcinfo, 0);
	foreach(lc, refresh_explain(relid, show_data))
	{
		DtExplainRow *row = (DtExplainRow *) lfirst(lc);
		Datum		values[4];
		bool		nulls[4] = {false, false, row->object == NULL, row->detail == NULL};

		values[0] = Int32GetDatum(foreach_current_index(lc) + 1);
		values[1] = CStringGetTextDatum(row->kind);
		values[2] = row->object ? CStringGetTextDatum(row->object) : (Datum) 0;
		values[3] = row->detail ? CStringGetTextDatum(row->detail) : (Datum) 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * dt_suspend
 *		dt.suspend(name regclass): no scheduled refreshes of it, nor of the
 *		DTs that read it, until dt.resume.
 */
Datum
dt_suspend(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);

	owned_dynamic_table(relid, "suspend a dynamic table", "dt.suspend");
	catalog_set_suspended(relid, true, "suspended by the user");
	workers_wake_scheduler(relid);
	PG_RETURN_VOID();
}

/*
 * dt_resume
 *		dt.resume(name regclass): scheduled again, with the DTs its
 *		suspension had suspended; its failure count starts over.
 */
Datum
dt_resume(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);

	owned_dynamic_table(relid, "resume a dynamic table", "dt.resume");
	catalog_set_suspended(relid, false, NULL);
	workers_wake_scheduler(relid);
	PG_RETURN_VOID();
}

/*
 * dt_query_definition
 *		dt_internal.query_definition(relid oid) RETURNS text: the defining
 *		query as PostgreSQL prints it from its stored tree, qualified as
 *		search_path requires, with the current names of what it reads.
 *		NULL before ALTER EXTENSION UPDATE (the catalog of an older
 *		version), so that view dt.dynamic_tables can still be read.
 */
Datum
dt_query_definition(PG_FUNCTION_ARGS)
{
	DtEntry    *entry;

	if (!catalog_version_current())
		PG_RETURN_NULL();
	entry = catalog_read_entry(PG_GETARG_OID(0), true);
	if (entry == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(pg_get_querydef(analysis_stored_query(entry), true)));
}

/*
 * dt_update_to_1_1
 *		dt_internal.update_to_1_1(): the part of the update from 1.0 that SQL
 *		cannot do (dump_convert_from_1_0); run by the update script only.
 */
Datum
dt_update_to_1_1(PG_FUNCTION_ARGS)
{
	if (!creating_extension)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("dt_internal.update_to_1_1() may only be called by ALTER EXTENSION pg_dynamic_tables UPDATE")));
	dump_convert_from_1_0();
	PG_RETURN_VOID();
}

/*
 * dt_read_changes
 *		dt_internal.read_changes(input regclass, since pg_snapshot, since_xid
 *		xid8, since_cid int4, columns int2[]) RETURNS SETOF record: the rows
 *		of input's change log not consumed at a position, as (sign, the
 *		given columns), markers included (capture_read_changes).
 *
 * This is how refreshes read changes, as the owner of the DT: nobody is
 * granted anything on the logs.  Who may call it: only the statements of a
 * refresh that this backend is running, as the owner of a DT that reads
 * input (refresh_reads_input), since only those know what the log holds;
 * it is executable by PUBLIC because refreshes run as the DT's owner,
 * whoever that is.  Called any other way it fails.  NULL arguments return
 * no rows (the function is STRICT).
 */
Datum
dt_read_changes(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Datum		since = PG_GETARG_DATUM(1);
	FullTransactionId since_xid = PG_GETARG_FULLTRANSACTIONID(2);
	int32		since_cid = PG_GETARG_INT32(3);
	ArrayType  *columns = PG_GETARG_ARRAYTYPE_P(4);
	char	   *relname = existing_relation(relid);

	if (!refresh_reads_input(relid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read the changes of \"%s\"", relname),
				 errdetail("Only the refresh of a dynamic table that reads it, running as the table's owner, reads its changes.")));
	capture_read_changes(fcinfo, relid, since, since_xid, since_cid, columns);
	return (Datum) 0;
}

/*
 * dt_read_changes_support
 *		The planner support function of dt_internal.read_changes: the rows
 *		of a change window, as the refresh running it counted them
 *		(refresh_window_rows), instead of the default estimate of 1000 rows
 *		of a set-returning function, which made the planner scan whole
 *		tables to join a few changed rows.  Any other request, or a call
 *		outside a refresh, gets no answer (NULL), the planner's default.
 */
Datum
dt_read_changes_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);
	SupportRequestRows *req;
	FuncExpr   *func;
	Const	   *input;
	double		rows;

	if (!IsA(rawreq, SupportRequestRows))
		PG_RETURN_POINTER(NULL);
	req = (SupportRequestRows *) rawreq;
	if (req->node == NULL || !IsA(req->node, FuncExpr))
		PG_RETURN_POINTER(NULL);
	func = (FuncExpr *) req->node;
	if (list_length(func->args) < 1 || !IsA(linitial(func->args), Const))
		PG_RETURN_POINTER(NULL);
	input = (Const *) linitial(func->args);
	if (input->constisnull || input->consttype != REGCLASSOID ||
		!refresh_window_rows(DatumGetObjectId(input->constvalue), &rows))
		PG_RETURN_POINTER(NULL);
	req->rows = Max(rows, 1.0);
	PG_RETURN_POINTER(req);
}

/* finite_now: the "now" argument of the functions below, a finite time. */
static TimestampTz
finite_now(FunctionCallInfo fcinfo)
{
	TimestampTz now = PG_GETARG_TIMESTAMPTZ(0);

	if (TIMESTAMP_NOT_FINITE(now))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("now must be a finite time")));
	return now;
}

/*
 * dt_schedule_plan
 *		dt_internal.schedule_plan(now timestamptz) RETURNS TABLE (unit int,
 *		step int, name regclass): what the scheduler would refresh at now.
 *		Revoked from PUBLIC: tests and the extension owner use it.
 */
Datum
dt_schedule_plan(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TimestampTz now;
	TimestampTz wake = DT_NOEND;
	ListCell   *lc;
	int			u = 0;

	require_preload();
	now = finite_now(fcinfo);
	InitMaterializedSRF(fcinfo, 0);
	foreach(lc, schedule_plan(schedule_load(), now, 0, NIL, &wake, NULL, NULL))
	{
		ListCell   *lc2;

		u++;
		foreach(lc2, (List *) lfirst(lc))
		{
			Datum		values[3];
			bool		nulls[3] = {false, false, false};

			values[0] = Int32GetDatum(u);
			values[1] = Int32GetDatum(foreach_current_index(lc2) + 1);
			values[2] = ObjectIdGetDatum(lfirst_oid(lc2));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}

/*
 * dt_run_scheduled_refreshes
 *		dt_internal.run_scheduled_refreshes(now timestamptz) RETURNS int:
 *		carry out the plan for now in this session, as the scheduler would
 *		(trigger SCHEDULED, failures counted).  Returns the units run.
 */
Datum
dt_run_scheduled_refreshes(PG_FUNCTION_ARGS)
{
	TimestampTz now;
	TimestampTz wake = DT_NOEND;
	ListCell   *lc;
	int			n = 0;

	require_preload();
	now = finite_now(fcinfo);
	refresh_refuse_nested("run scheduled refreshes");
	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to run scheduled refreshes"),
				 errdetail("Only superusers, like the scheduler, refresh every dynamic table.")));
	refresh_require_read_committed("run scheduled refreshes");
	foreach(lc, schedule_plan(schedule_load(), now, 0, NIL, &wake, NULL, NULL))
	{
		if (refresh_scheduled_unit((List *) lfirst(lc), NULL, NULL, NULL, true))
			n++;
	}
	PG_RETURN_INT32(n);
}

/*
 * dt_scheduling_delay
 *		dt_internal.scheduling_delay() RETURNS text: why this database's
 *		due refreshes wait for a refresh worker (workers_lag_reason), or
 *		NULL.  For view dt.dynamic_tables; it shows no data, and takes no
 *		argument to check.
 */
Datum
dt_scheduling_delay(PG_FUNCTION_ARGS)
{
	char	   *reason = workers_lag_reason();

	if (reason == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(reason));
}

/*
 * dt_check_preloaded
 *		dt_internal.check_preloaded(): called by the extension script, so
 *		that CREATE EXTENSION fails with the same message.
 */
Datum
dt_check_preloaded(PG_FUNCTION_ARGS)
{
	require_preload();
	PG_RETURN_VOID();
}

/*
 * dt_fresh_as_of
 *		dt_internal.fresh_as_of(relid oid) RETURNS timestamptz: a time as of
 *		which the scheduler knows the DT of this database current, later
 *		than its data timestamp in the catalog perhaps (workers_fresh_as_of),
 *		or NULL.  View dt.dynamic_tables shows the later of the two.
 */
Datum
dt_fresh_as_of(PG_FUNCTION_ARGS)
{
	TimestampTz as_of = workers_fresh_as_of(PG_GETARG_OID(0));

	if (as_of == 0)
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMPTZ(as_of);
}
