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

/* capitalized: a reason phrase as the start of a sentence. */
static char *
capitalized(const char *phrase)
{
	char	   *s = pstrdup(phrase);

	s[0] = pg_toupper((unsigned char) s[0]);
	return s;
}

/* record_dependency: depender depends on referenced (both pg_class rows). */
static void
record_dependency(Oid classid, Oid depender, Oid referenced, DependencyType type)
{
	ObjectAddress dep;
	ObjectAddress ref;

	ObjectAddressSet(dep, classid, depender);
	ObjectAddressSet(ref, RelationRelationId, referenced);
	recordDependencyOn(&dep, &ref, type);
}

/*
 * create_internal_objects
 *		The state of a delta-merge DT in dt_internal, owned by the DT's
 *		owner and dropped with the DT.
 */
static void
create_internal_objects(Oid relid, DtAnalysis *an, Oid owner)
{
	Oid			nsp = get_namespace_oid(DT_INTERNAL_SCHEMA, false);
	const char *role = quote_identifier(GetUserNameFromId(owner, false));
	ListCell   *lc;
	Oid			reloid;

	foreach(lc, deparse_internal_objects(relid, an))
		catalog_exec_ddl((char *) lfirst(lc));
	CommandCounterIncrement();

	catalog_exec_ddl(psprintf("ALTER TYPE %s OWNER TO %s", deparse_internal_name("key", relid, 0), role));
	record_dependency(TypeRelationId,
					  GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
									  CStringGetDatum(psprintf("key_%u", relid)),
									  ObjectIdGetDatum(nsp)),
					  relid, DEPENDENCY_AUTO);
	foreach(lc, list_make2("state", "final"))
	{
		char	   *kind = (char *) lfirst(lc);

		catalog_exec_ddl(psprintf("ALTER TABLE %s OWNER TO %s", deparse_internal_name(kind, relid, 0), role));
		reloid = get_relname_relid(psprintf("%s_%u", kind, relid), nsp);
		record_dependency(RelationRelationId, reloid, relid, DEPENDENCY_AUTO);
	}
	foreach(lc, an->aux_tables)
	{
		DtAuxTable *aux = (DtAuxTable *) lfirst(lc);

		catalog_exec_ddl(psprintf("ALTER TABLE %s OWNER TO %s", deparse_internal_name("aux", relid, aux->no), role));
		reloid = get_relname_relid(psprintf("aux_%u_%d", relid, aux->no), nsp);
		record_dependency(RelationRelationId, reloid, relid, DEPENDENCY_AUTO);
	}

}

/*
 * create_key_index
 *		The index of an incremental DT on its key, which a refresh finds the
 *		rows it rewrites with, and which cannot be dropped without the DT.
 */
static void
create_key_index(Oid relid, DtAnalysis *an)
{
	char	   *key_index = deparse_key_index(relid, an);
	Relation	rel;
	ListCell   *lc;

	if (key_index == NULL)
		return;
	catalog_exec_ddl(key_index);
	CommandCounterIncrement();
	/* the DT was just created: the key index is its only index */
	rel = table_open(relid, NoLock);
	foreach(lc, RelationGetIndexList(rel))
		record_dependency(RelationRelationId, lfirst_oid(lc), relid, DEPENDENCY_INTERNAL);
	table_close(rel, NoLock);
}

/*
 * recompute_reason
 *		refresh_mode_reason of a DT maintained by affected-key recompute;
 *		a NOTICE when no index finds the base rows of a key, so that every
 *		refresh scans a table.
 */
static char *
recompute_reason(DtAnalysis *an)
{
	const char *col = recompute_key_column(an);

	if (!an->recompute->indexed)
	{
		ereport(NOTICE,
				(errmsg("no index finds the rows of one \"%s\" in the tables the dynamic table reads", col),
				 errdetail("Each incremental refresh will scan them."),
				 errhint("Create an index on the expression the column is computed from.")));
		return psprintf("the rows of the \"%s\" values that the changes touch are recomputed; "
						"no index finds their base rows", col);
	}
	return psprintf("the rows of the \"%s\" values that the changes touch are recomputed", col);
}

/* install_guard: the trigger that keeps everybody but refreshes out. */
static void
install_guard(Oid relid)
{
	char	   *dt = deparse_qualified_name(relid);

	catalog_exec_ddl(psprintf("CREATE TRIGGER dt_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE "
							  "ON %s FOR EACH STATEMENT EXECUTE FUNCTION " DT_INTERNAL_SCHEMA ".guard_dynamic_table()",
							  dt));
	catalog_exec_ddl(psprintf("ALTER TABLE %s ENABLE ALWAYS TRIGGER dt_guard", dt));
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
	DtMode		mode = analysis_parse_mode(arg_text(fcinfo, 3, "refresh_mode"));
	char	   *initialize = arg_text(fcinfo, 4, "initialize");
	bool		on_create;
	DtEntry		entry = {0};
	RangeVar   *rv;
	Oid			nsp;
	Oid			relid;
	Query	   *query;
	DtAnalysis *an;
	StringInfoData ddl;
	ListCell   *lc;
	int			guc_level;
	ObjectAddress dtaddr;

	dt_require_preload();
	refresh_refuse_nested("create a dynamic table");
	refresh_require_read_committed("create a dynamic table");
	entry.lag_downstream = !analysis_parse_lag(lag, &entry.target_lag);
	if (pg_strcasecmp(initialize, "on_create") == 0)
		on_create = true;
	else if (pg_strcasecmp(initialize, "on_schedule") == 0)
		on_create = false;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid initialize \"%s\"", initialize),
				 errhint("Valid values are \"on_create\" and \"on_schedule\".")));

	rv = makeRangeVarFromNameList(stringToQualifiedNameList(name));
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
	an = analysis_analyze(query, InvalidOid);
	if (mode == DT_MODE_INCREMENTAL && an->strategy == DT_STRATEGY_FULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("query of dynamic table \"%s\" cannot be refreshed incrementally", rv->relname),
				 errdetail("%s cannot be maintained incrementally.", capitalized(an->reason)),
				 errhint("Use refresh_mode => 'auto' to fall back to full refreshes.")));
	if (mode == DT_MODE_FULL)
	{
		an->strategy = DT_STRATEGY_FULL;
		entry.reason = pstrdup("refresh_mode FULL was requested");
	}
	else if (an->strategy == DT_STRATEGY_FULL)
		entry.reason = psprintf("%s cannot be maintained incrementally", an->reason);
	else if (an->strategy == DT_STRATEGY_MERGE)
		entry.reason = pstrdup("aggregates are merged from the changes; min, max, count distinct "
							   "and percentiles from per-group value counts");
	else
		entry.reason = recompute_reason(an);
	/* the creator reads every input; capturing them is checked per input */
	analysis_check_permissions(query);

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

	/* Internal SQL is generated for search_path = pg_catalog. */
	entry.settings = refresh_current_settings();
	guc_level = refresh_pin_settings(entry.settings);
	if (an->strategy == DT_STRATEGY_MERGE)
		create_internal_objects(relid, an, GetUserId());
	if (an->strategy != DT_STRATEGY_FULL)
		create_key_index(relid, an);
	install_guard(relid);
	foreach(lc, an->inputs)
		capture_attach_input(relid, (DtInput *) lfirst(lc));
	AtEOXact_GUC(false, guc_level);

	ObjectAddressSet(dtaddr, RelationRelationId, relid);
	recordDependencyOnExpr(&dtaddr, (Node *) query, NIL, DEPENDENCY_NORMAL);

	entry.relid = relid;
	entry.query_text = sql;
	entry.query_tree = nodeToString(query);
	entry.requested_mode = mode;
	entry.incremental = (an->strategy != DT_STRATEGY_FULL);
	catalog_insert_entry(&entry, an->inputs);
	CommandCounterIncrement();

	if (on_create)
	{
		DtRefreshStats stats;

		refresh_dynamic_table(relid, "CREATION", &stats);
	}
	workers_wake_scheduler();
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
	if (SPI_execute(psprintf("DROP TABLE %s", deparse_qualified_name(relid)), false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not drop dynamic table");
	SPI_finish();
	catalog_forget_dropped();
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
	PG_RETURN_TEXT_P(cstring_to_text(pg_get_querydef((Query *) stringToNode(entry->query_tree), true)));
}
