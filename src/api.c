/*-------------------------------------------------------------------------
 *
 * api.c
 *		The SQL-callable functions of schema dt.
 *
 *	dt.create_dynamic_table(name, query, target_lag, refresh_mode, initialize)
 *	dt.drop_dynamic_table(name)
 *	dt.refresh(name)
 *	dt.alter_dynamic_table(name, target_lag)
 *	dt.suspend(name), dt.resume(name)
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
#include "storage/lmgr.h"
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

#include "pg_dynamic_tables.h"

PG_FUNCTION_INFO_V1(dt_create_dynamic_table);
PG_FUNCTION_INFO_V1(dt_drop_dynamic_table);
PG_FUNCTION_INFO_V1(dt_refresh);
PG_FUNCTION_INFO_V1(dt_alter_dynamic_table);
PG_FUNCTION_INFO_V1(dt_suspend);
PG_FUNCTION_INFO_V1(dt_resume);

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
 * require_dynamic_table
 *		relid names a dynamic table (regclass arguments can hold OIDs of
 *		relations that no longer exist).
 */
static void
require_dynamic_table(Oid relid)
{
	char	   *name = get_rel_name(relid);

	if (name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	if (!catalog_is_dynamic_table(relid))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a dynamic table", name)));
}

/*
 * dt_create_dynamic_table
 *		dt.create_dynamic_table(name text, query text, target_lag text,
 *		refresh_mode text, initialize text) RETURNS regclass
 *
 * The query is parsed with the caller's search_path, like CREATE VIEW; the
 * table belongs to the caller.
 */
Datum
dt_create_dynamic_table(PG_FUNCTION_ARGS)
{
	char	   *name = arg_text(fcinfo, 0, "name");
	char	   *sql = arg_text(fcinfo, 1, "query");
	char	   *lag = arg_text(fcinfo, 2, "target_lag");
	char	   *initialize = arg_text(fcinfo, 4, "initialize");
	DtEntry		entry = {0};
	RangeVar   *rv;
	Oid			nsp;
	Oid			relid;
	Query	   *query;
	DtAnalysis *an;
	StringInfoData ddl;
	ListCell   *lc;

	dt_require_preload();
	catalog_require_current_version();
	refresh_refuse_nested("create a dynamic table");
	refresh_require_read_committed("create a dynamic table");
	entry.requested_mode = analysis_parse_mode(arg_text(fcinfo, 3, "refresh_mode"));
	entry.lag_downstream = !analysis_parse_lag(lag, &entry.target_lag);
	if (pg_strcasecmp(initialize, "on_create") == 0)
		entry.on_create = true;
	else if (pg_strcasecmp(initialize, "on_schedule") == 0)
		entry.on_create = false;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid initialize \"%s\"", initialize),
				 errhint("Valid values are \"on_create\" and \"on_schedule\".")));

	rv = makeRangeVarFromNameList(dt_name_list(name));
	nsp = RangeVarGetCreationNamespace(rv);
	if (isAnyTempNamespace(nsp))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("dynamic tables cannot be temporary")));
	if (nsp == get_namespace_oid(DT_INTERNAL_SCHEMA, true))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_SCHEMA_NAME),
				 errmsg("cannot create a dynamic table in schema \"%s\"", DT_INTERNAL_SCHEMA)));
	if (OidIsValid(get_relname_relid(rv->relname, nsp)))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("relation \"%s\" already exists", rv->relname)));

	query = analysis_parse_query(sql);
	lifecycle_check_privileges(query);
	an = analysis_analyze(query, InvalidOid);
	lifecycle_choose_strategy(&entry, an, rv->relname);

	/* The table itself, as the caller, with the query's columns. */
	initStringInfo(&ddl);
	appendStringInfo(&ddl, "CREATE TABLE %s (", quote_qualified_identifier(get_namespace_name(nsp), rv->relname));
	foreach(lc, deparse_dt_columns(query))
		appendStringInfo(&ddl, "%s%s", foreach_current_index(lc) > 0 ? ", " : "", (char *) lfirst(lc));
	appendStringInfoChar(&ddl, ')');
	SPI_connect();
	if (SPI_execute(ddl.data, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not create the dynamic table: %s", ddl.data);
	SPI_finish();
	CommandCounterIncrement();
	relid = get_relname_relid(rv->relname, nsp);

	entry.query_text = sql;
	entry.settings = settings_current();
	entry.has_position = true;
	lifecycle_make_dynamic(relid, &entry, query, an);
	if (entry.on_create)
	{
		DtRefreshStats stats;

		refresh_dynamic_table(relid, "CREATION", &stats);
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

	dt_require_preload();
	refresh_refuse_nested("drop a dynamic table");
	require_dynamic_table(relid);
	SPI_connect();
	if (SPI_execute(psprintf("DROP TABLE %s", names_qualified(relid)), false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not drop dynamic table");
	SPI_finish();
	lifecycle_forget_dropped();
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

	dt_require_preload();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	require_dynamic_table(relid);
	refresh_dynamic_table(relid, "MANUAL", &stats);

	values[0] = CStringGetTextDatum(stats.action);
	values[1] = Int64GetDatum(stats.inserted);
	values[2] = Int64GetDatum(stats.deleted);
	values[3] = Int64GetDatum(stats.updated);
	values[4] = DirectFunctionCall2(timestamp_mi, TimestampTzGetDatum(GetCurrentTimestamp()),
									TimestampTzGetDatum(start));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

/*
 * owned_dynamic_table
 *		Check that relid is a DT the current user owns, and lock it against
 *		refreshes (whose end updates the same catalog row).
 */
static void
owned_dynamic_table(Oid relid, const char *what)
{
	dt_require_preload();
	refresh_refuse_nested(what);
	require_dynamic_table(relid);
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));
	LockRelationOid(relid, ExclusiveLock);
}

/*
 * dt_alter_dynamic_table
 *		dt.alter_dynamic_table(name regclass, target_lag text DEFAULT NULL):
 *		change what is given, keep the rest.
 */
Datum
dt_alter_dynamic_table(PG_FUNCTION_ARGS)
{
	Oid			relid;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("name must not be null")));
	relid = PG_GETARG_OID(0);
	owned_dynamic_table(relid, "alter a dynamic table");
	if (!PG_ARGISNULL(1))
	{
		char	   *lag = text_to_cstring(PG_GETARG_TEXT_PP(1));
		Interval   *interval;
		Oid			types[2] = {OIDOID, INTERVALOID};
		Datum		values[2];
		char		nulls[2] = "  ";

		values[0] = ObjectIdGetDatum(relid);
		if (analysis_parse_lag(lag, &interval))
			values[1] = IntervalPGetDatum(interval);
		else
			nulls[1] = 'n';
		SPI_connect();
		catalog_exec("UPDATE " DT_INTERNAL_SCHEMA ".dynamic_table SET target_lag = $2 WHERE relid = $1",
					 2, types, values, nulls, SPI_OK_UPDATE);
		SPI_finish();
		CommandCounterIncrement();
		catalog_write_guard(relid);
	}
	workers_wake_scheduler();
	PG_RETURN_VOID();
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

	owned_dynamic_table(relid, "suspend a dynamic table");
	catalog_set_suspended(relid, true, "suspended by the user");
	workers_wake_scheduler();
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

	owned_dynamic_table(relid, "resume a dynamic table");
	catalog_set_suspended(relid, false, NULL);
	workers_wake_scheduler();
	PG_RETURN_VOID();
}

/*
 * dt_query_definition
 *		dt_internal.query_definition(relid oid) RETURNS text: the defining
 *		query as PostgreSQL prints it from its stored tree, qualified as
 *		search_path requires, with the current names of what it reads.
 */
PG_FUNCTION_INFO_V1(dt_query_definition);

Datum
dt_query_definition(PG_FUNCTION_ARGS)
{
	DtEntry    *entry = catalog_read_entry(PG_GETARG_OID(0), true);

	if (entry == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(pg_get_querydef(analysis_stored_query(entry), true)));
}

/*
 * dt_update_to_1_1
 *		dt_internal.update_to_1_1(): the part of the update from 1.0 that SQL
 *		cannot do (dump_convert_from_1_0); run by the update script only.
 */
PG_FUNCTION_INFO_V1(dt_update_to_1_1);

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
