/*-------------------------------------------------------------------------
 *
 * catalog.c
 *		The extension's catalog tables, and running SQL as a given role.
 *
 * The catalog lives in schema dt_internal (see the extension script):
 *
 *	dynamic_table		one row per DT: its query (text and analysed tree),
 *						settings, mode, and its position: the snapshot,
 *						transaction and command of its last refresh
 *	dynamic_table_input	the relations each DT reads
 *	change_log			the change log of each captured relation
 *	refresh_log			one row per refresh (view dt.refresh_history)
 *
 * The catalog tables belong to the extension owner and nobody else may
 * write them; the functions here switch to that role around their SQL,
 * with SECURITY_LOCAL_USERID_CHANGE.  No user-supplied expression ever runs
 * under that role: what runs user expressions (refreshes) switches to the
 * owner of the DT instead, with SECURITY_RESTRICTED_OPERATION, as REFRESH
 * MATERIALIZED VIEW does.  An error restores the role with the transaction
 * or subtransaction, so no PG_TRY is needed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xlog.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "lib/ilist.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/xid8.h"

#include "catalog.h"

/*
 * catalog_parse_mode
 *		Map a refresh_mode argument to DtMode; errors on anything else.
 */
DtMode
catalog_parse_mode(const char *mode)
{
	if (pg_strcasecmp(mode, "auto") == 0)
		return DT_MODE_AUTO;
	if (pg_strcasecmp(mode, "incremental") == 0)
		return DT_MODE_INCREMENTAL;
	if (pg_strcasecmp(mode, "full") == 0)
		return DT_MODE_FULL;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid refresh_mode \"%s\"", mode),
			 errhint("Valid values are \"auto\", \"incremental\" and \"full\".")));
	return DT_MODE_AUTO;		/* keep compiler quiet */
}

/* catalog_mode_name: a DtMode as refresh_mode stores it. */
const char *
catalog_mode_name(DtMode mode)
{
	switch (mode)
	{
		case DT_MODE_AUTO:
			return "AUTO";
		case DT_MODE_INCREMENTAL:
			return "INCREMENTAL";
		case DT_MODE_FULL:
			return "FULL";
	}
	return "AUTO";
}

/* lag_error_context: say which argument a bad interval came from. */
static void
lag_error_context(void *arg)
{
	errcontext("target_lag \"%s\"", (const char *) arg);
}

/*
 * catalog_parse_lag
 *		Validate a target_lag: 'downstream' (returns false, *interval NULL)
 *		or an interval of at least 100 milliseconds and at most
 *		DT_MAX_LAG_SECONDS (returns true).  Its length is what the scheduler
 *		counts, extract(epoch FROM lag): a month is 30 days, a year 365.25.
 */
bool
catalog_parse_lag(const char *lag, Interval **interval)
{
	ErrorContextCallback callback;
	Interval   *iv;
	double		seconds;

	*interval = NULL;
	if (pg_strcasecmp(lag, "downstream") == 0)
		return false;

	callback.callback = lag_error_context;
	callback.arg = (void *) lag;
	callback.previous = error_context_stack;
	error_context_stack = &callback;
	iv = DatumGetIntervalP(DirectFunctionCall3(interval_in,
											   CStringGetDatum(lag),
											   ObjectIdGetDatum(InvalidOid),
											   Int32GetDatum(-1)));
	error_context_stack = callback.previous;

	seconds = DatumGetFloat8(DirectFunctionCall2(interval_part, CStringGetTextDatum("epoch"),
												 IntervalPGetDatum(iv)));
	if (!(seconds >= 0.1 && seconds <= DT_MAX_LAG_SECONDS))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid target_lag \"%s\"", lag),
				 errdetail("A target lag is a duration of at least 100 milliseconds and at most 100 years, or \"downstream\".")));
	*interval = iv;
	return true;
}

/*
 * installed_extension
 *		The version of the extension installed in this database, and its
 *		owner (who owns the catalog tables).
 */
static char *
installed_extension(Oid *owner)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	char	   *version = NULL;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum(DT_EXTENSION_NAME));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, Anum_pg_extension_extversion, RelationGetDescr(rel), &isnull);

		*owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
		version = TextDatumGetCString(d);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (version == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"%s\" is not installed in this database", DT_EXTENSION_NAME)));
	return version;
}

/*
 * catalog_extension_owner
 *		The role that owns the extension, and so the catalog tables.
 */
Oid
catalog_extension_owner(void)
{
	Oid			owner;

	installed_extension(&owner);
	return owner;
}

/*
 * catalog_version_current
 *		Is the extension's SQL at the version of this library?  Between a new
 *		library's installation and ALTER EXTENSION UPDATE, the catalog is
 *		an older version's: capture goes on (its triggers have not
 *		changed), refreshes wait.
 */
bool
catalog_version_current(void)
{
	Oid			owner;

	return strcmp(installed_extension(&owner), DT_VERSION) == 0;
}

/* catalog_require_current_version: error out unless catalog_version_current. */
void
catalog_require_current_version(void)
{
	if (!catalog_version_current())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"%s\" must be updated to version %s", DT_EXTENSION_NAME, DT_VERSION),
				 errdetail("The library installed is version %s; the extension in this database is older.",
						   DT_VERSION),
				 errhint("Run ALTER EXTENSION %s UPDATE.", DT_EXTENSION_NAME)));
}

/* catalog_relation_owner: the owner of a relation. */
Oid
catalog_relation_owner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * catalog_begin_as_owner
 *		Switch the current user to role; restricted adds
 *		SECURITY_RESTRICTED_OPERATION (for running user expressions).
 *		catalog_end_as_owner switches back.
 */
void
catalog_begin_as_owner(Oid role, bool restricted, Oid *saved_user, int *saved_context)
{
	GetUserIdAndSecContext(saved_user, saved_context);
	SetUserIdAndSecContext(role, *saved_context | SECURITY_LOCAL_USERID_CHANGE |
						   (restricted ? SECURITY_RESTRICTED_OPERATION : 0));
}

/* catalog_end_as_owner: back to the role catalog_begin_as_owner saved. */
void
catalog_end_as_owner(Oid saved_user, int saved_context)
{
	SetUserIdAndSecContext(saved_user, saved_context);
}

/*
 * The statements catalog_exec ran in this process, prepared: a refresh
 * runs about fifteen (its entry, its inputs, its position, its history
 * row, the costs adaptive refresh reads, ...), and a scheduled one is
 * their only user in a refresh worker, where parsing and planning them
 * again each time was a good part of the fixed cost of a refresh at a
 * 100 ms lag.  Keyed by the statement's text.  A text naming an object,
 * such as a change log's cleanup, is one statement per object, so a
 * long-lived process meets as many as there are captured relations: at
 * most CATALOG_PLANS_MAX are kept, and preparing one more frees the least
 * recently used that is not running now.  A statement is pinned while it
 * runs, since it can run others (reading a DT runs the ExecutorStart hook,
 * which reads the catalog) that must not free it; if every entry is
 * pinned, the new statement runs unprepared.  The plan cache revalidates
 * them (DDL on what they read, and the extension dropped and created
 * again, replan them); the search_path they run with is always the same.
 */
typedef struct CatalogPlan
{
	dlist_node	node;			/* in catalog_plans, most recently used first */
	uint32		hash;			/* of sql */
	char	   *sql;
	int			nargs;
	Oid		   *types;
	SPIPlanPtr	plan;
	int			pins;			/* runs of plan under way */
} CatalogPlan;

#define CATALOG_PLANS_MAX 128

static dlist_head catalog_plans = DLIST_STATIC_INIT(catalog_plans);
static int	catalog_plan_count = 0;

/*
 * evict_catalog_plan
 *		Free the least recently used entry that is not pinned; false if all
 *		are.
 */
static bool
evict_catalog_plan(void)
{
	dlist_iter	iter;

	dlist_reverse_foreach(iter, &catalog_plans)
	{
		CatalogPlan *cp = dlist_container(CatalogPlan, node, iter.cur);

		if (cp->pins > 0)
			continue;
		dlist_delete(&cp->node);
		catalog_plan_count--;
		SPI_freeplan(cp->plan);
		pfree(cp->sql);
		if (cp->types != NULL)
			pfree(cp->types);
		pfree(cp);
		return true;
	}
	return false;
}

/*
 * catalog_plan
 *		The cache entry of sql, prepared now if it was not, made the most
 *		recently used; NULL if the cache is full of pinned entries.
 */
static CatalogPlan *
catalog_plan(const char *sql, int nargs, Oid *types)
{
	uint32		hash = hash_bytes((const unsigned char *) sql, strlen(sql));
	dlist_iter	iter;
	MemoryContext old;
	CatalogPlan *cp;
	SPIPlanPtr	plan;

	dlist_foreach(iter, &catalog_plans)
	{
		cp = dlist_container(CatalogPlan, node, iter.cur);
		if (cp->hash == hash && cp->nargs == nargs && strcmp(cp->sql, sql) == 0 &&
			(nargs == 0 || memcmp(cp->types, types, sizeof(Oid) * nargs) == 0))
		{
			dlist_move_head(&catalog_plans, &cp->node);
			return cp;
		}
	}
	if (catalog_plan_count >= CATALOG_PLANS_MAX && !evict_catalog_plan())
		return NULL;
	plan = SPI_prepare(sql, nargs, types);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed (%s) for: %s", SPI_result_code_string(SPI_result), sql);
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed for: %s", sql);
	old = MemoryContextSwitchTo(TopMemoryContext);
	cp = palloc(sizeof(CatalogPlan));
	cp->hash = hash;
	cp->sql = pstrdup(sql);
	cp->nargs = nargs;
	cp->types = nargs > 0 ? palloc(sizeof(Oid) * nargs) : NULL;
	if (nargs > 0)
		memcpy(cp->types, types, sizeof(Oid) * nargs);
	cp->plan = plan;
	cp->pins = 0;
	dlist_push_head(&catalog_plans, &cp->node);
	catalog_plan_count++;
	MemoryContextSwitchTo(old);
	return cp;
}

/*
 * run_catalog_plan
 *		SPI_execute_plan of a cache entry, pinned meanwhile; returns SPI's
 *		result code.
 */
static int
run_catalog_plan(CatalogPlan *cp, Datum *values, const char *nulls)
{
	int			rc;

	cp->pins++;
	PG_TRY();
	{
		rc = SPI_execute_plan(cp->plan, values, nulls, false, 0);
	}
	PG_FINALLY();
	{
		cp->pins--;
	}
	PG_END_TRY();
	return rc;
}

/*
 * exec_as_extension_owner
 *		Run sql as the extension owner (restricted: as a security-restricted
 *		operation) with search_path = pg_catalog, pg_temp; error out unless
 *		SPI returns expected.  The caller is connected to SPI.  A statement
 *		that is not a utility command runs prepared (catalog_plan).
 */
static void
exec_as_extension_owner(const char *sql, int nargs, Oid *types, Datum *values,
						const char *nulls, int expected, bool restricted)
{
	Oid			saved_user;
	int			saved_context;
	int			rc;
	int			guc_level;
	CatalogPlan *cp = NULL;

	catalog_begin_as_owner(catalog_extension_owner(), restricted, &saved_user, &saved_context);
	guc_level = NewGUCNestLevel();
	set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
					  GUC_ACTION_SAVE, true, 0, false);
	if (expected != SPI_OK_UTILITY)
		cp = catalog_plan(sql, nargs, types);
	if (cp != NULL)
		rc = run_catalog_plan(cp, values, nulls);
	else
		rc = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);
	AtEOXact_GUC(false, guc_level);
	catalog_end_as_owner(saved_user, saved_context);
	if (rc != expected)
		elog(ERROR, "SPI_execute_with_args failed (%d) for: %s", rc, sql);
}

/*
 * catalog_exec
 *		Run one SQL statement as the extension owner, with search_path =
 *		pg_catalog, pg_temp: the caller's search_path must not choose the
 *		operators and functions the extension owner runs.  expected is the
 *		SPI result code that means success.  Results, if any, are left in
 *		SPI_tuptable: the caller must be connected to SPI.
 */
void
catalog_exec(const char *sql, int nargs, Oid *types, Datum *values,
			 const char *nulls, int expected)
{
	exec_as_extension_owner(sql, nargs, types, values, nulls, expected, false);
}

/* catalog_exec_relid: catalog_exec of sql with one parameter, $1 = relid. */
void
catalog_exec_relid(const char *sql, Oid relid, int expected)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};

	catalog_exec(sql, 1, types, values, NULL, expected);
}

/* How many catalog_exec_ddl calls are running. */
static int	internal_ddl_depth = 0;

/*
 * catalog_exec_ddl
 *		Run one utility statement of the extension's own (internal objects,
 *		capture triggers) as the extension owner, as a security-restricted
 *		operation.  ddl_guard.c lets these through, and the sql_drop event
 *		trigger ignores them: catalog_internal_ddl_running() is true
 *		meanwhile.
 */
void
catalog_exec_ddl(const char *sql)
{
	SPI_connect();
	internal_ddl_depth++;
	PG_TRY();
	{
		exec_as_extension_owner(sql, 0, NULL, NULL, NULL, SPI_OK_UTILITY, true);
	}
	PG_FINALLY();
	{
		internal_ddl_depth--;
	}
	PG_END_TRY();
	SPI_finish();
}

/* catalog_internal_ddl_running: is catalog_exec_ddl running a statement? */
bool
catalog_internal_ddl_running(void)
{
	return internal_ddl_depth > 0;
}

/*
 * query_oids
 *		Run a query of the catalog as the extension owner, with relid as $1
 *		if it is valid (else without parameters), and return the first
 *		column of its rows, oids, in the caller's memory context.
 */
static List *
query_oids(const char *sql, Oid relid)
{
	MemoryContext caller = CurrentMemoryContext;
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	List	   *oids;

	SPI_connect();
	catalog_exec(sql, OidIsValid(relid) ? 1 : 0, types, values, NULL, SPI_OK_SELECT);
	oids = spi_util_oids(caller);
	SPI_finish();
	return oids;
}

/* text_or_null: a column of an SPI row as a C string, NULL for NULL. */
static char *
text_or_null(HeapTuple tup, TupleDesc desc, int col)
{
	return SPI_getvalue(tup, desc, col);
}

/*
 * catalog_read_entry
 *		The catalog row of a DT, allocated in the caller's memory context,
 *		or NULL if relid is not a DT and missing_ok.  Reads with a fresh
 *		snapshot in READ COMMITTED, so call it after locking the DT.
 */
DtEntry *
catalog_read_entry(Oid relid, bool missing_ok)
{
	MemoryContext caller = CurrentMemoryContext;
	DtEntry    *entry = NULL;

#define ENTRY_SELECT(state_valid, state_position) \
	"SELECT query_text, query_tree, target_lag, requested_mode, refresh_mode, " \
	"refresh_mode_reason, settings, populated, position_snapshot, " \
	"position_xid, position_cid, " state_valid ", tree_major, definition, initialize = 'on_create', " \
	"scheduling_state = 'SUSPENDED', suspended_by, tree_system, no_position_reason, suspend_reason, " \
	"consecutive_failures, s.state_snapshot, s.state_xid, s.state_cid, s.state_built_by " \
	"FROM " DT_INTERNAL_SCHEMA ".dynamic_table d " state_position " WHERE d.relid = $1"

	catalog_require_current_version();
	SPI_connect();
	/* a standby cannot read an unlogged table (and refreshes nothing) */
	if (RecoveryInProgress())
		catalog_exec_relid(ENTRY_SELECT("false", ", LATERAL (SELECT NULL::pg_catalog.pg_snapshot AS state_snapshot, "
										"NULL::pg_catalog.xid8 AS state_xid, NULL::int4 AS state_cid, "
										"NULL::pg_catalog.xid8 AS state_built_by) s"),
						   relid, SPI_OK_SELECT);
	else
		catalog_exec_relid(ENTRY_SELECT("EXISTS (SELECT FROM " DT_INTERNAL_SCHEMA ".state_valid v "
										"WHERE v.relid = d.relid)",
										"LEFT JOIN LATERAL (SELECT p.position_snapshot AS state_snapshot, "
										"p.position_xid AS state_xid, p.position_cid AS state_cid, "
										"p.built_by AS state_built_by FROM "
										DT_INTERNAL_SCHEMA ".state_position p WHERE p.relid = d.relid) s ON true"),
						   relid, SPI_OK_SELECT);
	if (SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		d;
		MemoryContext spicxt = MemoryContextSwitchTo(caller);
		char	   *mode;

		entry = palloc0(sizeof(DtEntry));
		entry->relid = relid;
		entry->query_text = text_or_null(tup, desc, 1);
		entry->query_tree = text_or_null(tup, desc, 2);
		d = SPI_getbinval(tup, desc, 3, &isnull);
		entry->lag_downstream = isnull;
		if (!isnull)
		{
			entry->target_lag = palloc(sizeof(Interval));
			memcpy(entry->target_lag, DatumGetIntervalP(d), sizeof(Interval));
		}
		entry->requested_mode = catalog_parse_mode(text_or_null(tup, desc, 4));
		mode = text_or_null(tup, desc, 5);
		entry->incremental = (strcmp(mode, "INCREMENTAL") == 0);
		entry->reason = text_or_null(tup, desc, 6);
		d = SPI_getbinval(tup, desc, 7, &isnull);
		if (!isnull)
		{
			Datum	   *elems;
			int			nelems;
			int			i;

			deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT,
							  &elems, NULL, &nelems);
			for (i = 0; i < nelems; i++)
				entry->settings = lappend(entry->settings, TextDatumGetCString(elems[i]));
		}
		entry->populated = DatumGetBool(SPI_getbinval(tup, desc, 8, &isnull));
		d = SPI_getbinval(tup, desc, 9, &isnull);
		entry->has_position = !isnull;
		if (!isnull)
		{
			entry->position_snapshot = datumCopy(d, false, -1);
			entry->position_xid = DatumGetFullTransactionId(SPI_getbinval(tup, desc, 10, &isnull));
			entry->position_cid = (CommandId) DatumGetInt32(SPI_getbinval(tup, desc, 11, &isnull));
		}
		entry->state_valid = DatumGetBool(SPI_getbinval(tup, desc, 12, &isnull));
		entry->tree_major = DatumGetInt32(SPI_getbinval(tup, desc, 13, &isnull));
		entry->definition = text_or_null(tup, desc, 14);
		entry->on_create = DatumGetBool(SPI_getbinval(tup, desc, 15, &isnull));
		entry->suspended = DatumGetBool(SPI_getbinval(tup, desc, 16, &isnull));
		d = SPI_getbinval(tup, desc, 17, &isnull);
		entry->suspended_by = isnull ? InvalidOid : DatumGetObjectId(d);
		d = SPI_getbinval(tup, desc, 18, &isnull);
		entry->tree_system = isnull ? 0 : DatumGetInt64(d);
		entry->no_position_reason = text_or_null(tup, desc, 19);
		entry->suspend_reason = text_or_null(tup, desc, 20);
		entry->consecutive_failures = DatumGetInt32(SPI_getbinval(tup, desc, 21, &isnull));
		d = SPI_getbinval(tup, desc, 22, &isnull);
		entry->has_state_position = !isnull;
		if (!isnull)
		{
			entry->state_snapshot = datumCopy(d, false, -1);
			entry->state_xid = DatumGetFullTransactionId(SPI_getbinval(tup, desc, 23, &isnull));
			entry->state_cid = (CommandId) DatumGetInt32(SPI_getbinval(tup, desc, 24, &isnull));
			entry->state_built_by = DatumGetFullTransactionId(SPI_getbinval(tup, desc, 25, &isnull));
		}
		MemoryContextSwitchTo(spicxt);
	}
	SPI_finish();

	if (entry == NULL && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a dynamic table", get_rel_name(relid) ? get_rel_name(relid) : "?")));
	return entry;
}

/* catalog_is_dynamic_table: is relid registered as a DT? */
bool
catalog_is_dynamic_table(Oid relid)
{
	bool		found;

	SPI_connect();
	catalog_exec_relid("SELECT FROM " DT_INTERNAL_SCHEMA ".dynamic_table WHERE relid = $1", relid, SPI_OK_SELECT);
	found = (SPI_processed > 0);
	SPI_finish();
	return found;
}

/* In the reason of a suspension by failures, what precedes the error. */
#define LAST_FAILURE "; the last one: "

/* Why a suspended DT has no position, as an SQL literal. */
#define RELEASED_POSITION "'it was suspended, which released its position in the change logs'"

/* settings_array: entry->settings as a text[] datum. */
static Datum
settings_array(List *settings)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(settings), 1));
	ListCell   *lc;
	int			i = 0;

	foreach(lc, settings)
		elems[i++] = CStringGetTextDatum((char *) lfirst(lc));
	return PointerGetDatum(construct_array(elems, i, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * catalog_insert_entry
 *		Register a new DT and the relations it reads, or a DT's new
 *		definition (after catalog_forget_inputs): its data timestamp,
 *		creation time, failure count and suspension reason stay.
 */
void
catalog_insert_entry(DtEntry *entry, List *inputs)
{
	Oid			types[17] = {OIDOID, TEXTOID, TEXTOID, INTERVALOID, TEXTOID, TEXTOID, TEXTOID,
	TEXTARRAYOID, INT4OID, TEXTOID, TEXTOID, TEXTOID, OIDOID, BOOLOID, BOOLOID, INT8OID, TEXTOID};
	Datum		values[17];
	char		nulls[17] = "                 ";
	ListCell   *lc;

	catalog_require_current_version();
	values[0] = ObjectIdGetDatum(entry->relid);
	values[1] = CStringGetTextDatum(entry->query_text);
	values[2] = CStringGetTextDatum(entry->query_tree);
	if (entry->lag_downstream)
		nulls[3] = 'n';
	else
		values[3] = IntervalPGetDatum(entry->target_lag);
	values[4] = CStringGetTextDatum(catalog_mode_name(entry->requested_mode));
	values[5] = CStringGetTextDatum(entry->incremental ? "INCREMENTAL" : "FULL");
	if (entry->reason == NULL)
		nulls[6] = 'n';
	else
		values[6] = CStringGetTextDatum(entry->reason);
	values[7] = settings_array(entry->settings);
	values[8] = Int32GetDatum(entry->tree_major);
	values[9] = CStringGetTextDatum(entry->definition);
	values[10] = CStringGetTextDatum(entry->on_create ? "on_create" : "on_schedule");
	values[11] = CStringGetTextDatum(entry->suspended ? "SUSPENDED" : "ACTIVE");
	if (OidIsValid(entry->suspended_by))
		values[12] = ObjectIdGetDatum(entry->suspended_by);
	else
		nulls[12] = 'n';
	values[13] = BoolGetDatum(entry->populated);
	values[14] = BoolGetDatum(entry->has_position);
	values[15] = Int64GetDatum(entry->tree_system);
	if (entry->suspend_reason != NULL)
		values[16] = CStringGetTextDatum(entry->suspend_reason);
	else
		nulls[16] = 'n';

	SPI_connect();
	catalog_exec("INSERT INTO " DT_INTERNAL_SCHEMA ".dynamic_table (relid, query_text, query_tree, "
				 "target_lag, requested_mode, refresh_mode, refresh_mode_reason, settings, "
				 "tree_major, definition, initialize, scheduling_state, suspended_by, populated, suspend_reason, "
				 "position_snapshot, position_xid, position_cid, tree_system, no_position_reason) "
				 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
				 "CASE WHEN $12 <> 'SUSPENDED' THEN NULL WHEN $13 IS NULL "
				 "THEN coalesce($17, 'suspended when the database was dumped') "
				 "ELSE pg_catalog.format('%s, which it reads, is suspended', $13::pg_catalog.regclass) END, "
				 "CASE WHEN $15 THEN pg_catalog.pg_current_snapshot() END, "
				 "CASE WHEN $15 THEN pg_catalog.pg_current_xact_id() END, CASE WHEN $15 THEN 0 END, $16, "
				 "CASE WHEN NOT $15 THEN 'the first refresh after a restore is full' END) "
				 "ON CONFLICT (relid) DO UPDATE SET query_text = excluded.query_text, "
				 "query_tree = excluded.query_tree, target_lag = excluded.target_lag, "
				 "requested_mode = excluded.requested_mode, refresh_mode = excluded.refresh_mode, "
				 "refresh_mode_reason = excluded.refresh_mode_reason, settings = excluded.settings, "
				 "tree_major = excluded.tree_major, definition = excluded.definition, "
				 "initialize = excluded.initialize, populated = excluded.populated, "
				 "position_snapshot = excluded.position_snapshot, position_xid = excluded.position_xid, "
				 "position_cid = excluded.position_cid, tree_system = excluded.tree_system, "
				 "no_position_reason = excluded.no_position_reason",
				 17, types, values, nulls, SPI_OK_INSERT);
	foreach(lc, inputs)
	{
		DtInput    *input = (DtInput *) lfirst(lc);
		Oid			itypes[3] = {OIDOID, OIDOID, INT2ARRAYOID};
		Datum		ivalues[3];
		Datum	   *cols = palloc(sizeof(Datum) * (bms_num_members(input->attnums) + 1));
		int			ncols = 0;
		int			a = -1;

		while ((a = bms_next_member(input->attnums, a)) >= 0)
			cols[ncols++] = Int16GetDatum(a + FirstLowInvalidHeapAttributeNumber);
		ivalues[0] = ObjectIdGetDatum(entry->relid);
		ivalues[1] = ObjectIdGetDatum(input->relid);
		ivalues[2] = PointerGetDatum(construct_array(cols, ncols, INT2OID, 2, true, TYPALIGN_SHORT));
		catalog_exec("INSERT INTO " DT_INTERNAL_SCHEMA ".dynamic_table_input (relid, input_relid, columns) "
					 "VALUES ($1, $2, $3)",
					 3, itypes, ivalues, NULL, SPI_OK_INSERT);
	}
	SPI_finish();
}

/* Forget the state built apart of DT $1 (refresh_build_state). */
#define STATE_POSITION_DELETE "DELETE FROM " DT_INTERNAL_SCHEMA ".state_position WHERE relid = $1"

/*
 * catalog_forget_inputs
 *		Before a DT's new definition is registered: forget the relations it
 *		read and that its per-group state was intact or built apart.
 */
void
catalog_forget_inputs(Oid relid)
{
	SPI_connect();
	catalog_exec_relid("DELETE FROM " DT_INTERNAL_SCHEMA ".dynamic_table_input WHERE relid = $1", relid, SPI_OK_DELETE);
	catalog_exec_relid("DELETE FROM " DT_INTERNAL_SCHEMA ".state_valid WHERE relid = $1", relid, SPI_OK_DELETE);
	catalog_exec_relid(STATE_POSITION_DELETE, relid, SPI_OK_DELETE);
	SPI_finish();
	CommandCounterIncrement();
}

/*
 * catalog_is_guard_function
 *		Is function funcid dt_internal.guard_dynamic_table, the dt_guard
 *		trigger's?
 */
bool
catalog_is_guard_function(Oid funcid)
{
	char	   *name = get_func_name(funcid);
	char	   *schema;

	if (name == NULL || strcmp(name, "guard_dynamic_table") != 0)
		return false;
	schema = get_namespace_name(get_func_namespace(funcid));
	return schema != NULL && strcmp(schema, DT_INTERNAL_SCHEMA) == 0;
}

/*
 * catalog_is_populated
 *		False if relid is a DT that has not been populated yet; true for a
 *		populated DT and anything else.
 */
bool
catalog_is_populated(Oid relid)
{
	bool		populated = true;

	SPI_connect();
	catalog_exec_relid("SELECT populated FROM " DT_INTERNAL_SCHEMA ".dynamic_table WHERE relid = $1", relid, SPI_OK_SELECT);
	if (SPI_processed > 0)
	{
		bool		isnull;

		populated = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	SPI_finish();
	return populated;
}

/*
 * catalog_column_dependent
 *		The description of an object that depends on column attnum of
 *		relid as a view does (a view, a DT that reads it), or NULL.
 */
char *
catalog_column_dependent(Oid relid, AttrNumber attnum)
{
	MemoryContext caller = CurrentMemoryContext;
	Oid			types[2] = {OIDOID, INT4OID};
	Datum		values[2] = {ObjectIdGetDatum(relid), Int32GetDatum(attnum)};
	char	   *what = NULL;

	SPI_connect();
	catalog_exec("SELECT coalesce((SELECT pg_catalog.pg_describe_object('pg_catalog.pg_class'::pg_catalog.regclass, r.ev_class, 0) "
				 "FROM pg_catalog.pg_rewrite r WHERE d.classid = r.tableoid AND r.oid = d.objid), "
				 "pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid)) FROM pg_catalog.pg_depend d "
				 "WHERE d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = $1 "
				 "AND d.refobjsubid = $2 AND d.deptype = 'n' ORDER BY d.classid, d.objid LIMIT 1",
				 2, types, values, NULL, SPI_OK_SELECT);
	if (SPI_processed > 0)
		what = MemoryContextStrdup(caller, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	SPI_finish();
	return what;
}

/*
 * catalog_save_position
 *		Record that a DT now equals its query as of snapshot: the snapshot,
 *		the current transaction and cid, the first command whose changes
 *		were not consumed.  A successful refresh also ends a run of failures.
 *		A suspended DT keeps no position (catalog_set_suspended): its next
 *		refresh is full.  Not populated: an internal DT its parent set
 *		aside (refreshed in full from its query) is moved on to snapshot
 *		without being refreshed, so that the changes it would read next
 *		are those since then, but its rows are stale: its next refresh is
 *		full, and nothing but a refresh reads it (read_guard.c).
 */
void
catalog_save_position(Oid relid, Snapshot snapshot, CommandId cid, TimestampTz data_timestamp,
					  bool populated)
{
	Oid			types[6] = {OIDOID, PG_SNAPSHOTOID, XID8OID, INT4OID, TIMESTAMPTZOID, BOOLOID};
	Datum		values[6];
	SPIPlanPtr	plan;
	bool		isnull;

	SPI_connect();
	/* pg_current_snapshot() reports the active snapshot: make it ours. */
	plan = SPI_prepare("SELECT pg_catalog.pg_current_snapshot()", 0, NULL);
	if (plan == NULL ||
		SPI_execute_snapshot(plan, NULL, NULL, snapshot, InvalidSnapshot, true, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the refresh snapshot");
	values[0] = ObjectIdGetDatum(relid);
	values[1] = spi_util_datum(0, 1, &isnull);
	values[2] = FullTransactionIdGetDatum(GetTopFullTransactionId());
	values[3] = Int32GetDatum((int32) cid);
	values[4] = TimestampTzGetDatum(data_timestamp);
	values[5] = BoolGetDatum(populated);
	catalog_exec("UPDATE " DT_INTERNAL_SCHEMA ".dynamic_table SET "
				 "position_snapshot = CASE WHEN scheduling_state = 'ACTIVE' THEN $2 END, "
				 "position_xid = CASE WHEN scheduling_state = 'ACTIVE' THEN $3 END, "
				 "position_cid = CASE WHEN scheduling_state = 'ACTIVE' THEN $4 END, "
				 "no_position_reason = CASE WHEN scheduling_state <> 'ACTIVE' THEN " RELEASED_POSITION " END, "
				 "data_timestamp = $5, populated = $6, consecutive_failures = 0 WHERE relid = $1",
				 6, types, values, NULL, SPI_OK_UPDATE);
	SPI_finish();
}

/*
 * catalog_set_state_valid
 *		Record whether the per-group state of relid can be merged into: true
 *		after a rebuild (or a catch-up from its own position: the state
 *		position, if any, goes), false after one that row-level security
 *		filtered, or set aside (a state built apart keeps its position).
 */
void
catalog_set_state_valid(Oid relid, bool valid)
{
	SPI_connect();
	if (valid)
	{
		catalog_exec_relid("INSERT INTO " DT_INTERNAL_SCHEMA ".state_valid (relid) VALUES ($1) ON CONFLICT DO NOTHING", relid, SPI_OK_INSERT);
		catalog_exec_relid(STATE_POSITION_DELETE, relid, SPI_OK_DELETE);
	}
	else
		catalog_exec_relid("DELETE FROM " DT_INTERNAL_SCHEMA ".state_valid WHERE relid = $1", relid, SPI_OK_DELETE);
	SPI_finish();
}

/*
 * catalog_save_state_position
 *		Record that the per-group state of DT relid, set aside, was built
 *		apart (refresh_build_state) as of snapshot and cid in the current
 *		transaction, or, if at is not NULL, as of at's position (the DT's,
 *		when nothing it reads changed between that and snapshot).  The
 *		change logs keep the rows after it (capture_cleanup), and the next
 *		refresh merges them into the state.  Unlogged, as state_valid: a
 *		crash empties it with the state.
 */
void
catalog_save_state_position(Oid relid, Snapshot snapshot, CommandId cid, const DtEntry *at)
{
	Oid			types[5] = {OIDOID, PG_SNAPSHOTOID, XID8OID, INT4OID, XID8OID};
	Datum		values[5];
	bool		isnull;

	SPI_connect();
	values[0] = ObjectIdGetDatum(relid);
	if (at != NULL)
	{
		values[1] = at->position_snapshot;
		values[2] = FullTransactionIdGetDatum(at->position_xid);
		values[3] = Int32GetDatum((int32) at->position_cid);
	}
	else
	{
		SPIPlanPtr	plan = SPI_prepare("SELECT pg_catalog.pg_current_snapshot()", 0, NULL);

		/* pg_current_snapshot() reports the active snapshot: make it ours. */
		if (plan == NULL ||
			SPI_execute_snapshot(plan, NULL, NULL, snapshot, InvalidSnapshot, true, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read the build's snapshot");
		values[1] = spi_util_datum(0, 1, &isnull);
		values[2] = FullTransactionIdGetDatum(GetTopFullTransactionId());
		values[3] = Int32GetDatum((int32) cid);
	}
	values[4] = FullTransactionIdGetDatum(GetTopFullTransactionId());
	catalog_exec("INSERT INTO " DT_INTERNAL_SCHEMA ".state_position AS s (relid, position_snapshot, "
				 "position_xid, position_cid, built_by) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (relid) "
				 "DO UPDATE SET position_snapshot = excluded.position_snapshot, "
				 "position_xid = excluded.position_xid, position_cid = excluded.position_cid, "
				 "built_by = excluded.built_by",
				 5, types, values, NULL, SPI_OK_INSERT);
	SPI_finish();
}

/*
 * catalog_clear_state_position
 *		Forget the state of DT relid built apart: it stays set aside, and
 *		the change logs no longer keep rows for it.
 */
void
catalog_clear_state_position(Oid relid)
{
	SPI_connect();
	catalog_exec_relid(STATE_POSITION_DELETE, relid, SPI_OK_DELETE);
	SPI_finish();
}

/*
 * catalog_rows_filtered
 *		Did the latest refresh that wrote the rows of DT relid (not NO_DATA)
 *		run its query with row-level security on an input (its message
 *		begins with DT_MESSAGE_RLS)?  Its rows may then be the query's as
 *		the policies let its owner see it, not the query's.
 */
bool
catalog_rows_filtered(Oid relid)
{
	bool		filtered;
	bool		isnull;

	SPI_connect();
	catalog_exec_relid("SELECT pg_catalog.starts_with(coalesce(r.state_message, ''), '" DT_MESSAGE_RLS "') "
					   "FROM " DT_INTERNAL_SCHEMA ".refresh_log r WHERE r.relid = $1 AND r.state = 'SUCCEEDED' "
					   "AND r.refresh_action <> 'NO_DATA' ORDER BY r.refresh_id DESC LIMIT 1",
					   relid, SPI_OK_SELECT);
	filtered = SPI_processed > 0 && DatumGetBool(spi_util_datum(0, 1, &isnull));
	SPI_finish();
	return filtered;
}

/* ---------------------------------------------------------------------
 * Which DTs read which
 * ---------------------------------------------------------------------
 *
 * The DTs and what they read form a graph that must have no cycle: a
 * refresh brings a DT's inputs up to date first.  Registration refuses a
 * DT that would close one (catalog_refuse_cycle), on every path that
 * makes a DT (creation, restore); the walks below still end on one, and
 * each relation is walked once, so that a lattice of DTs costs its edges,
 * not its paths.
 */

/* What catalog_walk_upstream keeps while it walks. */
typedef struct UpstreamWalk
{
	DtInputsOf	inputs_of;
	void	   *arg;
	HTAB	   *seen;			/* of UpstreamNode */
	List	   *path;			/* the relations whose walk is open */
	List	   *order;			/* what was walked, each after its inputs */
	List	   *cycle;			/* the first cycle met, or NIL */
} UpstreamWalk;

typedef struct UpstreamNode
{
	Oid			relid;			/* the key */
	bool		open;			/* on the path being walked */
} UpstreamNode;

/* walk_upstream: catalog_walk_upstream from relid. */
static void
walk_upstream(UpstreamWalk *w, Oid relid)
{
	UpstreamNode *node;
	bool		found;
	ListCell   *lc;

	check_stack_depth();
	CHECK_FOR_INTERRUPTS();
	node = (UpstreamNode *) hash_search(w->seen, &relid, HASH_ENTER, &found);
	if (found)
	{
		/*
		 * an open relation met again closes a cycle: from it to the end of
		 * the path
		 */
		if (node->open && w->cycle == NIL)
		{
			foreach(lc, w->path)
			{
				if (w->cycle != NIL || lfirst_oid(lc) == relid)
					w->cycle = lappend_oid(w->cycle, lfirst_oid(lc));
			}
		}
		return;
	}
	node->open = true;
	w->path = lappend_oid(w->path, relid);
	foreach(lc, w->inputs_of(relid, w->arg))
		walk_upstream(w, lfirst_oid(lc));
	w->path = list_delete_last(w->path);
	node = (UpstreamNode *) hash_search(w->seen, &relid, HASH_FIND, NULL);
	node->open = false;
	w->order = lappend_oid(w->order, relid);
}

/*
 * catalog_walk_upstream
 *		Every relation reachable from starts through inputs_of(relid, arg),
 *		the relations relid reads, starts included: each once, each after
 *		those it reads (depth first, post-order), in the caller's memory
 *		context.  An edge that closes a cycle is not followed; *cycle (if
 *		cycle is not NULL) is set to the relations on the first cycle met,
 *		each reading the next and the last the first, or NIL.
 */
List *
catalog_walk_upstream(List *starts, DtInputsOf inputs_of, void *arg, List **cycle)
{
	UpstreamWalk w = {inputs_of, arg, NULL, NIL, NIL, NIL};
	HASHCTL		ctl = {0};
	ListCell   *lc;

	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(UpstreamNode);
	ctl.hcxt = CurrentMemoryContext;
	w.seen = hash_create("pg_dynamic_tables upstream walk", 64, &ctl,
						 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	foreach(lc, starts)
		walk_upstream(&w, lfirst_oid(lc));
	hash_destroy(w.seen);
	if (cycle != NULL)
		*cycle = w.cycle;
	return w.order;
}

/* An entry of the graph load_inputs reads: a DT and what it reads. */
typedef struct InputsEntry
{
	Oid			relid;			/* the key */
	List	   *inputs;
} InputsEntry;

/* add_input: load_inputs's row function, one (DT, input) pair. */
static void
add_input(HeapTuple tup, TupleDesc desc, void *arg)
{
	bool		isnull;
	Oid			relid = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
	Oid			input = DatumGetObjectId(SPI_getbinval(tup, desc, 2, &isnull));
	bool		found;
	InputsEntry *entry = (InputsEntry *) hash_search((HTAB *) arg, &relid, HASH_ENTER, &found);

	entry->inputs = lappend_oid(found ? entry->inputs : NIL, input);
}

/*
 * load_inputs
 *		What every DT reads, as recorded (only the DTs it reads, if
 *		dts_only), in a hash table of InputsEntry in the caller's context.
 */
static HTAB *
load_inputs(bool dts_only)
{
	MemoryContext caller = CurrentMemoryContext;
	HASHCTL		ctl = {0};
	HTAB	   *graph;

	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(InputsEntry);
	ctl.hcxt = caller;
	graph = hash_create("pg_dynamic_tables inputs", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	SPI_connect();
	catalog_exec(dts_only
				 ? "SELECT i.relid, i.input_relid FROM " DT_INTERNAL_SCHEMA ".dynamic_table_input i"
				 " JOIN " DT_INTERNAL_SCHEMA ".dynamic_table d ON d.relid = i.input_relid"
				 " ORDER BY i.relid, i.input_relid"
				 : "SELECT relid, input_relid FROM " DT_INTERNAL_SCHEMA ".dynamic_table_input"
				 " ORDER BY relid, input_relid",
				 0, NULL, NULL, NULL, SPI_OK_SELECT);
	/* the entries are made in the caller's context too (hcxt) */
	spi_util_foreach_row(caller, add_input, graph);
	SPI_finish();
	return graph;
}

/* recorded_inputs: inputs_of for catalog_walk_upstream over load_inputs's graph. */
static List *
recorded_inputs(Oid relid, void *arg)
{
	InputsEntry *entry = (InputsEntry *) hash_search((HTAB *) arg, &relid, HASH_FIND, NULL);

	return entry != NULL ? entry->inputs : NIL;
}

/* cycle_text: the relations of a cycle as "a" reads "b", which reads "a". */
static char *
cycle_text(List *cycle)
{
	StringInfoData s;
	ListCell   *lc;

	initStringInfo(&s);
	foreach(lc, cycle)
	{
		char	   *name = get_rel_name(lfirst_oid(lc));

		appendStringInfo(&s, foreach_current_index(lc) == 0 ? "\"%s\" reads " : "\"%s\", which reads ",
						 name != NULL ? name : "?");
	}
	appendStringInfo(&s, "\"%s\"", get_rel_name(linitial_oid(cycle)) ? get_rel_name(linitial_oid(cycle)) : "?");
	return s.data;
}

/*
 * catalog_refuse_cycle
 *		Table relid (named name), about to become a DT reading inputs (a List
 *		of relids), must not read itself: directly, or through the DTs it
 *		reads (a DT over a DT over relid), which is how a hand-made or
 *		crafted dt_guard trigger (dump.c) would close a cycle.
 */
void
catalog_refuse_cycle(Oid relid, const char *name, List *inputs)
{
	HTAB	   *graph = load_inputs(false);
	InputsEntry *entry = (InputsEntry *) hash_search(graph, &relid, HASH_ENTER, NULL);
	List	   *cycle;

	entry->inputs = inputs;
	(void) catalog_walk_upstream(list_make1_oid(relid), recorded_inputs, graph, &cycle);
	if (cycle != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("dynamic table \"%s\" cannot read itself", name),
				 errdetail("%s.", cycle_text(cycle)),
				 errhint("The dynamic tables a dynamic table reads are refreshed before it: they cannot read it.")));
	hash_destroy(graph);
}

/*
 * catalog_refresh_unit
 *		relid and the DTs it reads, directly or through other DTs, in an
 *		order where every DT comes after the DTs it reads.  Errors if they
 *		read each other, which registration refuses.
 */
List *
catalog_refresh_unit(Oid relid)
{
	HTAB	   *graph = load_inputs(true);
	List	   *cycle;
	List	   *unit = catalog_walk_upstream(list_make1_oid(relid), recorded_inputs, graph, &cycle);

	if (cycle != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("dynamic table \"%s\" reads itself", get_rel_name(relid)),
				 errdetail("%s.", cycle_text(cycle)),
				 errhint("Drop one of these dynamic tables.")));
	hash_destroy(graph);
	return unit;
}

/*
 * internal_dts_array: the internal DTs of relid, as an oid[] Datum.
 */
static Datum
internal_dts_array(Oid relid)
{
	List	   *subs = catalog_internal_dts(relid);
	Datum	   *oids = palloc(sizeof(Datum) * (list_length(subs) + 1));
	ListCell   *lc;

	foreach(lc, subs)
		oids[foreach_current_index(lc)] = ObjectIdGetDatum(lfirst_oid(lc));
	return PointerGetDatum(construct_array(oids, list_length(subs), OIDOID, sizeof(Oid), true,
										   TYPALIGN_INT));
}

/*
 * catalog_set_suspended
 *		Suspend a DT and, transitively, the DTs that read it (recording
 *		which suspension caused theirs), or resume it and the DTs its
 *		suspension had suspended.  Resuming a DT whose input DT is
 *		suspended is refused.  A suspended DT gives up its position: the
 *		change logs it reads are emptied without it (capture_cleanup), and
 *		its next refresh is full.  The internal DTs of a DT, refreshed only
 *		with it, are suspended and resumed with it.
 */
void
catalog_set_suspended(Oid relid, bool suspend, const char *reason)
{
	MemoryContext caller = CurrentMemoryContext;
	Oid			types[3] = {OIDOID, TEXTOID, OIDARRAYOID};
	Datum		values[3];
	char		nulls[3] = "   ";
	List	   *changed;
	ListCell   *lc;

	values[0] = ObjectIdGetDatum(relid);
	if (reason != NULL)
		values[1] = CStringGetTextDatum(reason);
	else
		nulls[1] = 'n';
	values[2] = internal_dts_array(relid);

	SPI_connect();
	if (suspend)
		catalog_exec("WITH RECURSIVE down (relid) AS ("
					 " SELECT i.relid FROM " DT_INTERNAL_SCHEMA ".dynamic_table_input i WHERE i.input_relid = $1"
					 " UNION"
					 " SELECT i.relid FROM down JOIN " DT_INTERNAL_SCHEMA ".dynamic_table_input i"
					 "   ON i.input_relid = down.relid)"
					 " UPDATE " DT_INTERNAL_SCHEMA ".dynamic_table d SET scheduling_state = 'SUSPENDED',"
					 " suspend_reason = CASE WHEN d.relid = $1 THEN $2"
					 "   WHEN d.relid = ANY ($3) THEN format('%s, which it is part of, is suspended', $1::regclass)"
					 "   ELSE format('%s, which it reads, is suspended', $1::regclass) END,"
					 " suspended_by = CASE WHEN d.relid = $1 THEN NULL ELSE $1 END,"
					 " position_snapshot = NULL, position_xid = NULL, position_cid = NULL,"
					 " no_position_reason = " RELEASED_POSITION
					 " WHERE (d.relid = $1 OR d.relid IN (SELECT relid FROM down) OR d.relid = ANY ($3))"
					 "   AND (d.relid = $1 OR d.scheduling_state = 'ACTIVE')"
					 " RETURNING d.relid",
					 3, types, values, nulls, SPI_OK_UPDATE_RETURNING);
	else
	{
		catalog_exec("SELECT i.input_relid::regclass::text FROM " DT_INTERNAL_SCHEMA ".dynamic_table_input i"
					 " JOIN " DT_INTERNAL_SCHEMA ".dynamic_table d ON d.relid = i.input_relid"
					 " WHERE i.relid = $1 AND d.scheduling_state = 'SUSPENDED'"
					 "   AND d.relid <> ALL ($3) LIMIT 1",
					 3, types, values, nulls, SPI_OK_SELECT);
		if (SPI_processed > 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot resume dynamic table \"%s\"", get_rel_name(relid)),
					 errdetail("It reads dynamic table \"%s\", which is suspended.",
							   SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)),
					 errhint("Resume that dynamic table first.")));
		catalog_exec("UPDATE " DT_INTERNAL_SCHEMA ".dynamic_table SET scheduling_state = 'ACTIVE',"
					 " suspend_reason = NULL, suspended_by = NULL, consecutive_failures = 0"
					 " WHERE relid = $1 OR suspended_by = $1 OR relid = ANY ($3) RETURNING relid",
					 3, types, values, nulls, SPI_OK_UPDATE_RETURNING);
	}
	changed = spi_util_oids(caller);
	SPI_finish();

	/* the dumped copy of the scheduling state follows */
	CommandCounterIncrement();
	foreach(lc, changed)
		catalog_write_guard(lfirst_oid(lc));
}

/*
 * catalog_record_failure
 *		Count a failed scheduled refresh; at DT_MAX_FAILURES in a row the DT
 *		suspends itself (and the DTs that read it), with the last error as
 *		the reason.
 */
void
catalog_record_failure(Oid relid, const char *message)
{
	int			failures = 0;

	SPI_connect();
	catalog_exec_relid("UPDATE " DT_INTERNAL_SCHEMA ".dynamic_table SET consecutive_failures = consecutive_failures + 1"
					   " WHERE relid = $1 RETURNING consecutive_failures", relid, SPI_OK_UPDATE_RETURNING);
	if (SPI_processed == 1)
	{
		bool		isnull;

		failures = DatumGetInt32(spi_util_datum(0, 1, &isnull));
	}
	SPI_finish();
	if (failures >= DT_MAX_FAILURES)
		catalog_set_suspended(relid, true,
							  psprintf("suspended after %d failed refreshes in a row" LAST_FAILURE "%s",
									   failures, message));
}

/*
 * catalog_failure_backoff_until
 *		When relid may be refreshed by the scheduler again after the failures
 *		in a row it has (0: none): its last failure plus a back-off that
 *		doubles from 100 ms per failure, up to 10 seconds.  Read from the
 *		catalog, so that every worker of the database keeps it: a failed
 *		refresh was tried again at once, by whichever worker was free, and
 *		five failures in a few milliseconds suspended the DT however
 *		short-lived their cause.
 */
TimestampTz
catalog_failure_backoff_until(Oid relid)
{
	TimestampTz until = 0;

	SPI_connect();
	catalog_exec_relid("SELECT r.refresh_end_time + least(interval '100 milliseconds' * "
					   "power(2, d.consecutive_failures - 1), interval '10 seconds')"
					   " FROM " DT_INTERNAL_SCHEMA ".dynamic_table d,"
					   " LATERAL (SELECT refresh_end_time FROM " DT_INTERNAL_SCHEMA ".refresh_log l"
					   "          WHERE l.relid = d.relid AND l.state = 'FAILED'"
					   "          ORDER BY l.refresh_id DESC LIMIT 1) r"
					   " WHERE d.relid = $1 AND d.consecutive_failures > 0", relid, SPI_OK_SELECT);
	if (SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = spi_util_datum(0, 1, &isnull);

		if (!isnull)
			until = DatumGetTimestampTz(d);
	}
	SPI_finish();
	return until;
}

/*
 * refresh_duration_ms
 *		The milliseconds from start to end, the very double that
 *		extract(epoch FROM end - start)::float8 * 1000 gives (the exact
 *		decimal of the microseconds divided by 10^6, rounded to the nearest
 *		double, as the division of two exact doubles is), without its
 *		numeric arithmetic.
 */
static double
refresh_duration_ms(TimestampTz start, TimestampTz end)
{
	return (double) (end - start) / USECS_PER_SEC * 1000;
}

/*
 * The refreshes whose durations adaptive refresh reads (catalog_refresh_costs),
 * as SQL conditions on a row of the history that SUCCEEDED: an incremental
 * sample, a full one, and a full one the history chose.
 */
#define COST_SAMPLE_INCREMENTAL \
	"(changes IS NOT NULL AND (refresh_action = 'INCREMENTAL' OR " \
	"(refresh_action = 'FULL' AND starts_with(state_message, '" DT_MESSAGE_KEYS_FULL "'))))"
#define COST_SAMPLE_FULL \
	"(refresh_action = 'FULL' AND (state_message IS NULL OR " \
	"starts_with(state_message, '" DT_MESSAGE_ADAPTIVE_FULL "') OR " \
	"starts_with(state_message, '" DT_MESSAGE_STATE_REBUILT "') OR " \
	"starts_with(state_message, '" DT_MESSAGE_INTERNAL_REBUILT "')))"
#define COST_SAMPLE_CHOSEN "coalesce(starts_with(state_message, '" DT_MESSAGE_ADAPTIVE_FULL "'), false)"
/*
 * The full refreshes catalog_refresh_costs reads of DT $1, and the builds
 * of its per-group state apart (state_build_ms, recorded on its full
 * refresh before each: catalog_note_state_built), which cost what a
 * rebuild does: each with its start and end, or a build its milliseconds,
 * whether the history chose it, and its state_query_ms.  (A build and the
 * refresh it is recorded on, of one refresh_id, are of two kinds, chosen
 * and not: their order does not matter.)
 */
#define COST_FULL_SAMPLES \
	"(SELECT refresh_id, refresh_start_time, refresh_end_time, " COST_SAMPLE_CHOSEN " AS chosen, " \
	"coalesce(state_query_ms, 0) AS query_ms, NULL::float8 AS build_ms FROM " DT_INTERNAL_SCHEMA ".refresh_log " \
	"WHERE relid = $1 AND state = 'SUCCEEDED' AND " COST_SAMPLE_FULL " UNION ALL " \
	"SELECT refresh_id, NULL, NULL, false, 0, state_build_ms FROM " DT_INTERNAL_SCHEMA ".refresh_log " \
	"WHERE relid = $1 AND refresh_action = 'FULL' AND state_build_ms IS NOT NULL) f"
/* What catalog_refresh_costs reads of a full refresh (COST_FULL_SAMPLES). */
#define COST_FULL_COLUMNS "refresh_start_time, refresh_end_time, chosen, query_ms, build_ms"

/*
 * full_sample_ms
 *		The milliseconds of the full refresh or build of row i of a read of
 *		COST_FULL_COLUMNS from column "first" on.
 */
static double
full_sample_ms(uint64 i, int first)
{
	bool		isnull;
	Datum		build_ms = spi_util_datum(i, first + 4, &isnull);

	if (!isnull)
		return DatumGetFloat8(build_ms);
	return refresh_duration_ms(DatumGetTimestampTz(spi_util_datum(i, first, &isnull)),
							   DatumGetTimestampTz(spi_util_datum(i, first + 1, &isnull)));
}

/*
 * latest_full_of_missing_kind
 *		With DT_COST_SAMPLES full refreshes read into costs, all chosen by
 *		the history or none, the latest of the other kind in place of the
 *		oldest of them (within SPI): thirty refreshes from the query did
 *		not make the last rebuild's cost unknown (payback checks skipped),
 *		nor did thirty rebuilds make a DT that timed its refresh from the
 *		query try it again.
 */
static void
latest_full_of_missing_kind(Oid relid, DtRefreshCosts *costs)
{
	Oid			types[2] = {OIDOID, BOOLOID};
	Datum		values[2] = {ObjectIdGetDatum(relid), BoolGetDatum(!costs->full_chosen[0])};
	bool		isnull;
	int			i;

	if (costs->nfull < DT_COST_SAMPLES)
		return;
	for (i = 1; i < costs->nfull; i++)
	{
		if (costs->full_chosen[i] != costs->full_chosen[0])
			return;
	}
	catalog_exec("SELECT " COST_FULL_COLUMNS " FROM " COST_FULL_SAMPLES
				 " WHERE chosen = $2 ORDER BY refresh_id DESC LIMIT 1",
				 2, types, values, NULL, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return;
	i = DT_COST_SAMPLES - 1;
	costs->full_ms[i] = full_sample_ms(0, 1);
	costs->full_chosen[i] = spi_util_bool(0, 3);
	costs->full_query_ms[i] = DatumGetFloat8(spi_util_datum(0, 4, &isnull));
}

/*
 * catalog_refresh_costs
 *		The durations of the last DT_COST_SAMPLES successful refreshes of
 *		relid that took the incremental path, with the rows of changes they
 *		read (those whose window was counted: incremental ones, and full
 *		ones the recompute strategy chose after finding the keys, which is
 *		what trying incremental cost), and of its last DT_COST_SAMPLES full
 *		ones with no other reason than the first population, a rebuild of
 *		the per-group state or internal DTs, or the history (a full refresh after a failed
 *		incremental one, or after TRUNCATE, is no measure), newest first,
 *		each marked if the history chose it (a rebuild is not: it is what
 *		building the state costs), with the time of a rebuild's statement
 *		that built the per-group state (state_query_ms, 0 if none); the
 *		latest of each kind among them however many of the other came after
 *		(latest_full_of_missing_kind).  catalog_trim_history keeps these
 *		rows.  Also how many full refreshes the history chose since the
 *		last incremental one, and the most rows of changes one of the
 *		latest "recent" of them read (-1 if none was counted).
 */
void
catalog_refresh_costs(Oid relid, int recent, DtRefreshCosts *costs)
{
	Oid			types[3] = {OIDOID, INT4OID, INT4OID};
	Datum		values[3] = {ObjectIdGetDatum(relid), Int32GetDatum(DT_COST_SAMPLES), Int32GetDatum(recent)};
	uint64		i;

	memset(costs, 0, sizeof(DtRefreshCosts));
	SPI_connect();

	/*
	 * One statement, the samples of each kind newest first, then the count
	 * (one statement less at every refresh); a duration in milliseconds as
	 * refresh_duration_ms computes it.  The rows of relid newest first are
	 * read from the index on (relid, refresh_id) backwards: with "relid = $1
	 * ... ORDER BY refresh_id DESC" the planner walked the primary key
	 * backwards through the newer rows of every other DT (as many as 30 times
	 * the DTs refreshed as often), its estimate preferring the order of the
	 * heap; a range of one value and an order by (relid, refresh_id) leave
	 * only the index on both.
	 */
	catalog_exec("(SELECT 1, changes::float8, refresh_start_time, refresh_end_time, false, 0::float8, "
				 "NULL::float8 FROM " DT_INTERNAL_SCHEMA ".refresh_log WHERE relid >= $1 AND relid <= $1 "
				 "AND state = 'SUCCEEDED' "
				 "AND " COST_SAMPLE_INCREMENTAL " ORDER BY relid DESC, refresh_id DESC LIMIT $2) UNION ALL "
				 "(SELECT 2, 0, " COST_FULL_COLUMNS " FROM " COST_FULL_SAMPLES
				 " ORDER BY refresh_id DESC LIMIT $2) UNION ALL "
				 "SELECT 3, count(*), NULL, NULL, false, coalesce(max(changes) FILTER (WHERE n <= $3), -1), "
				 "NULL "
				 "FROM (SELECT r.changes::float8, row_number() OVER (ORDER BY r.refresh_id DESC) AS n "
				 "FROM " DT_INTERNAL_SCHEMA ".refresh_log r WHERE r.relid = $1 "
				 "AND r.refresh_action = 'FULL' "
				 "AND starts_with(r.state_message, '" DT_MESSAGE_ADAPTIVE_FULL "') "
				 "AND r.refresh_id > coalesce((SELECT i.refresh_id FROM " DT_INTERNAL_SCHEMA
				 ".refresh_log i WHERE i.relid >= $1 AND i.relid <= $1 AND i.refresh_action = 'INCREMENTAL' "
				 "ORDER BY i.relid DESC, i.refresh_id DESC LIMIT 1), 0)) a",
				 3, types, values, NULL, SPI_OK_SELECT);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int			kind = DatumGetInt32(spi_util_datum(i, 1, &isnull));
		double		number = DatumGetFloat8(spi_util_datum(i, 2, &isnull));
		double		ms = 0;

		if (kind != 3)
			ms = full_sample_ms(i, 3);
		if (kind == 1)
		{
			costs->changes[costs->nincremental] = number;
			costs->incremental_ms[costs->nincremental++] = ms;
		}
		else if (kind == 2)
		{
			costs->full_chosen[costs->nfull] = spi_util_bool(i, 5);
			costs->full_query_ms[costs->nfull] = DatumGetFloat8(spi_util_datum(i, 6, &isnull));
			costs->full_ms[costs->nfull++] = ms;
		}
		else
		{
			costs->adaptive_fulls = (int) number;
			costs->recent_full_changes = DatumGetFloat8(spi_util_datum(i, 6, &isnull));
		}
	}
	latest_full_of_missing_kind(relid, costs);
	SPI_finish();
}

/*
 * catalog_refreshes_since_failed_rebuild
 *		How many successful refreshes of relid came after the last whose
 *		rebuild of the per-group state failed (DT_MESSAGE_STATE_NOT_BUILT),
 *		or -1 if none did in its history.
 */
int
catalog_refreshes_since_failed_rebuild(Oid relid)
{
	int			since = -1;

	SPI_connect();
	catalog_exec_relid("SELECT (SELECT count(*) FROM " DT_INTERNAL_SCHEMA ".refresh_log a"
					   "         WHERE a.relid = $1 AND a.state = 'SUCCEEDED' AND a.refresh_id > f.id)"
					   " FROM (SELECT max(refresh_id) AS id FROM " DT_INTERNAL_SCHEMA ".refresh_log"
					   "       WHERE relid = $1 AND refresh_action = 'FULL' AND state = 'SUCCEEDED'"
					   "       AND starts_with(state_message, '" DT_MESSAGE_STATE_NOT_BUILT "')) f"
					   " WHERE f.id IS NOT NULL", relid, SPI_OK_SELECT);
	if (SPI_processed == 1)
		since = (int) spi_util_int64(0, 1);
	SPI_finish();
	return since;
}

/*
 * WAITED_FOR_BUILD(relid): the condition on a row r of the history that
 * it is one of the full refreshes of DT relid (an SQL expression) in a row,
 * the latest last, that left its per-group state to be built apart (their
 * message says DT_MESSAGE_BUILD_APART) with no build apart recorded on one
 * (catalog_note_state_built) but the first: an incremental refresh, a
 * full one of another kind or a build ends a row; refreshes that read no
 * change, skipped or failed do not.
 */
#define WAITED_FOR_BUILD(relid) \
	"r.relid = " relid " AND r.state = 'SUCCEEDED' AND r.refresh_action = 'FULL'" \
	" AND strpos(r.state_message, '" DT_MESSAGE_BUILD_APART "') > 0" \
	" AND r.refresh_id >= coalesce((SELECT max(e.refresh_id) FROM " DT_INTERNAL_SCHEMA \
	".refresh_log e WHERE e.relid = " relid " AND e.state = 'SUCCEEDED'" \
	" AND (e.refresh_action = 'INCREMENTAL' OR (e.refresh_action = 'FULL'" \
	" AND (coalesce(strpos(e.state_message, '" DT_MESSAGE_BUILD_APART "'), 0) = 0" \
	" OR e.state_build_ms IS NOT NULL)))), 0)" \
	" AND r.state_build_ms IS NULL"

/*
 * BUILD_WAIT_COLUMNS(relid): four columns of the wait of DT relid (an SQL
 * expression) for a build of its state apart, read by read_build_wait: the
 * longest of its last three rebuilds (of its per-group state or of its
 * internal tables, DT_MESSAGE_STATE_REBUILT or DT_MESSAGE_INTERNAL_REBUILT,
 * as the cost samples count them) or builds apart of the state, of its
 * last three full refreshes of any kind, in milliseconds (NULL: none), and
 * the count and milliseconds in all of the full refreshes that waited for
 * the build (WAITED_FOR_BUILD).  relid >= x AND relid <= x, not =, so that
 * the history's index is read backwards from the latest row.
 */
#define BUILD_WAIT_COLUMNS(relid) \
	"(SELECT max(r.ms) FROM (SELECT coalesce(r.state_build_ms, " \
	" extract(epoch FROM r.refresh_end_time - r.refresh_start_time) * 1000) AS ms " \
	" FROM " DT_INTERNAL_SCHEMA ".refresh_log r WHERE r.relid >= " relid \
	" AND r.relid <= " relid " AND r.state = 'SUCCEEDED' AND r.refresh_action = 'FULL' " \
	" AND (starts_with(r.state_message, '" DT_MESSAGE_STATE_REBUILT "') " \
	" OR starts_with(r.state_message, '" DT_MESSAGE_INTERNAL_REBUILT "') " \
	" OR r.state_build_ms IS NOT NULL) " \
	" ORDER BY r.relid DESC, r.refresh_id DESC LIMIT 3) r)::float8, " \
	"(SELECT max(extract(epoch FROM r.refresh_end_time - r.refresh_start_time) * 1000) " \
	" FROM (SELECT * FROM " DT_INTERNAL_SCHEMA ".refresh_log r WHERE r.relid >= " relid \
	" AND r.relid <= " relid " AND r.state = 'SUCCEEDED' AND r.refresh_action = 'FULL' " \
	" ORDER BY r.relid DESC, r.refresh_id DESC LIMIT 3) r)::float8, " \
	"(SELECT count(*) FROM " DT_INTERNAL_SCHEMA ".refresh_log r WHERE " WAITED_FOR_BUILD(relid) "), " \
	"(SELECT sum(extract(epoch FROM r.refresh_end_time - r.refresh_start_time) * 1000) " \
	" FROM " DT_INTERNAL_SCHEMA ".refresh_log r WHERE " WAITED_FOR_BUILD(relid) ")::float8"

/*
 * How long a build of a DT's state apart is taken to last, as a multiple of
 * its full refresh, when its history holds no rebuild of the state: the
 * most figure 10 measured (README.md, benchmark results).
 */
#define BUILD_COST_FACTOR 6

/*
 * read_build_wait
 *		The DtBuildWait of the columns BUILD_WAIT_COLUMNS put at column col
 *		(from 1) of row i of SPI's result: what the build is expected to
 *		take, the longest of the last three rebuilds or builds, or without
 *		one BUILD_COST_FACTOR times the longest of the last three full
 *		refreshes (-1: none), and the refreshes that waited for it.
 */
static void
read_build_wait(uint64 i, int col, DtBuildWait *wait)
{
	bool		rebuilt_null;
	bool		full_null;
	bool		waited_null;
	double		rebuild_ms = DatumGetFloat8(spi_util_datum(i, col, &rebuilt_null));
	double		full_ms = DatumGetFloat8(spi_util_datum(i, col + 1, &full_null));
	Datum		waited_ms = spi_util_datum(i, col + 3, &waited_null);

	wait->expected_ms = !rebuilt_null ? rebuild_ms : !full_null ? BUILD_COST_FACTOR * full_ms : -1;
	wait->waited = (int) spi_util_int64(i, col + 2);
	wait->waited_ms = waited_null ? 0 : DatumGetFloat8(waited_ms);
}

/*
 * catalog_build_wait
 *		How DT relid waits for a build of its per-group state apart
 *		(read_build_wait), as catalog_states_to_build finds it.
 */
void
catalog_build_wait(Oid relid, DtBuildWait *wait)
{
	SPI_connect();
	catalog_exec_relid("SELECT " BUILD_WAIT_COLUMNS("$1"), relid, SPI_OK_SELECT);
	read_build_wait(0, 1, wait);
	SPI_finish();
}

/*
 * catalog_note_state_built
 *		The per-group state of relid was built apart in ms milliseconds
 *		(refresh_build_state): recorded on its latest successful full
 *		refresh (the one that left it to be built, as a rule), where
 *		catalog_refresh_costs reads it as what a rebuild costs, and
 *		WAITED_FOR_BUILD as the end of a wait.
 */
void
catalog_note_state_built(Oid relid, double ms)
{
	Oid			types[2] = {OIDOID, FLOAT8OID};
	Datum		values[2] = {ObjectIdGetDatum(relid), Float8GetDatum(ms)};

	SPI_connect();
	catalog_exec("UPDATE " DT_INTERNAL_SCHEMA ".refresh_log SET state_build_ms = $2 WHERE refresh_id = "
				 "(SELECT max(refresh_id) FROM " DT_INTERNAL_SCHEMA ".refresh_log WHERE relid = $1 "
				 "AND refresh_action = 'FULL' AND state = 'SUCCEEDED')",
				 2, types, values, NULL, SPI_OK_UPDATE);
	SPI_finish();
}

/*
 * catalog_states_to_build
 *		The active incremental DTs with a position whose last refresh that
 *		read changes (not NO_DATA, nor a skip) left their per-group state set
 *		aside to be built apart (its message says DT_MESSAGE_BUILD_APART),
 *		not built since (no state_position), oldest request first: a
 *		DtStateToBuild each, palloc'd in the caller's context.
 */
List *
catalog_states_to_build(void)
{
	MemoryContext caller = CurrentMemoryContext;
	List	   *builds = NIL;
	uint64		i;

	SPI_connect();
	catalog_exec("SELECT d.relid, l.refresh_id, " BUILD_WAIT_COLUMNS("d.relid") " "
				 "FROM " DT_INTERNAL_SCHEMA ".dynamic_table d, LATERAL (SELECT r.refresh_id, r.state, "
				 "r.refresh_action, r.state_message FROM " DT_INTERNAL_SCHEMA ".refresh_log r "
				 "WHERE r.relid >= d.relid AND r.relid <= d.relid AND r.state <> 'SKIPPED' "
				 "AND r.refresh_action IS DISTINCT FROM 'NO_DATA' "
				 "ORDER BY r.relid DESC, r.refresh_id DESC LIMIT 1) l "
				 "WHERE d.scheduling_state = 'ACTIVE' AND d.populated AND d.refresh_mode = 'INCREMENTAL' "
				 "AND d.position_snapshot IS NOT NULL AND l.state = 'SUCCEEDED' "
				 "AND l.refresh_action = 'FULL' AND strpos(l.state_message, '" DT_MESSAGE_BUILD_APART "') > 0 "
				 "AND NOT EXISTS (SELECT FROM " DT_INTERNAL_SCHEMA ".state_valid v WHERE v.relid = d.relid) "
				 "AND NOT EXISTS (SELECT FROM " DT_INTERNAL_SCHEMA ".state_position p WHERE p.relid = d.relid) "
				 "ORDER BY l.refresh_id", 0, NULL, NULL, NULL, SPI_OK_SELECT);
	for (i = 0; i < SPI_processed; i++)
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);
		DtStateToBuild *b = palloc0(sizeof(DtStateToBuild));

		b->relid = spi_util_oid(i, 1);
		b->refresh_id = spi_util_int64(i, 2);
		read_build_wait(i, 3, &b->wait);
		builds = lappend(builds, b);
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	return builds;
}

/*
 * catalog_refreshes_after
 *		How many successful refreshes of relid came after its refresh_id.
 */
int64
catalog_refreshes_after(Oid relid, int64 refresh_id)
{
	Oid			types[2] = {OIDOID, INT8OID};
	Datum		values[2] = {ObjectIdGetDatum(relid), Int64GetDatum(refresh_id)};
	int64		n;

	SPI_connect();
	catalog_exec("SELECT count(*) FROM " DT_INTERNAL_SCHEMA ".refresh_log WHERE relid = $1 "
				 "AND refresh_id > $2 AND state = 'SUCCEEDED'", 2, types, values, NULL, SPI_OK_SELECT);
	n = spi_util_int64(0, 1);
	SPI_finish();
	return n;
}

/*
 * catalog_trim_history
 *		Keep the last "keep" rows of the history of each DT, and besides
 *		them the latest row of each kind catalog_refresh_costs reads
 *		(incremental, full chosen by the history, other full): with the
 *		timed full refresh from the query trimmed, a DT tried one again
 *		every "keep" refreshes; with its rebuild, it chose as if rebuilding
 *		the state cost nothing.  Those rows are looked for only when there
 *		is something to trim.
 */
void
catalog_trim_history(int keep)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(keep)};

	SPI_connect();
	catalog_exec("DELETE FROM " DT_INTERNAL_SCHEMA ".refresh_log r USING"
				 " (SELECT refresh_id FROM (SELECT refresh_id, row_number() OVER"
				 "   (PARTITION BY relid ORDER BY refresh_id DESC) AS n"
				 "   FROM " DT_INTERNAL_SCHEMA ".refresh_log) x WHERE n > $1 AND refresh_id NOT IN"
				 "   (SELECT id FROM (SELECT unnest(ARRAY["
				 "     max(refresh_id) FILTER (WHERE " COST_SAMPLE_INCREMENTAL "),"
				 "     max(refresh_id) FILTER (WHERE " COST_SAMPLE_FULL " AND " COST_SAMPLE_CHOSEN "),"
				 "     max(refresh_id) FILTER (WHERE " COST_SAMPLE_FULL " AND NOT " COST_SAMPLE_CHOSEN ")]) AS id"
				 "     FROM " DT_INTERNAL_SCHEMA ".refresh_log WHERE state = 'SUCCEEDED' GROUP BY relid) k"
				 "    WHERE id IS NOT NULL)) old"
				 " WHERE r.refresh_id = old.refresh_id",
				 1, types, values, NULL, SPI_OK_DELETE);
	SPI_finish();
}

/*
 * catalog_insert_history
 *		Append a row to the refresh history.  fresh_before (0: unknown) is
 *		the time until which the DT's content before this refresh was known
 *		current (nothing it reads had changed since it was refreshed).
 */
void
catalog_insert_history(Oid relid, const char *trigger, TimestampTz start, TimestampTz end,
					   TimestampTz data_timestamp, TimestampTz fresh_before,
					   const DtRefreshStats *stats, const char *state, const char *message)
{
	Oid			types[15] = {OIDOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID,
	TEXTOID, TEXTOID, TEXTOID, INT8OID, INT8OID, INT8OID, TEXTOID, INT8OID, TIMESTAMPTZOID, FLOAT8OID};
	Datum		values[15];
	char		nulls[16] = "               ";
	char	   *name = get_rel_name(relid) ? names_qualified(relid) : psprintf("%u", relid);

	values[0] = ObjectIdGetDatum(relid);
	values[1] = CStringGetTextDatum(name);
	values[2] = TimestampTzGetDatum(start);
	values[3] = TimestampTzGetDatum(end);
	values[4] = TimestampTzGetDatum(data_timestamp);
	if (data_timestamp == 0)
		nulls[4] = 'n';
	if (stats && stats->action)
		values[5] = CStringGetTextDatum(stats->action);
	else
		nulls[5] = 'n';
	values[6] = CStringGetTextDatum(trigger);
	values[7] = CStringGetTextDatum(state);
	if (stats)
	{
		values[8] = Int64GetDatum(stats->inserted);
		values[9] = Int64GetDatum(stats->deleted);
		values[10] = Int64GetDatum(stats->updated);
	}
	else
		nulls[8] = nulls[9] = nulls[10] = 'n';
	if (message == NULL)
		nulls[11] = 'n';
	else
		values[11] = CStringGetTextDatum(message);
	if (stats && stats->counted)
		values[12] = Int64GetDatum(stats->changes);
	else
		nulls[12] = 'n';
	values[13] = TimestampTzGetDatum(fresh_before);
	if (fresh_before == 0)
		nulls[13] = 'n';
	values[14] = Float8GetDatum(stats ? stats->state_query_ms : 0);
	if (stats == NULL || stats->state_query_ms <= 0)
		nulls[14] = 'n';

	SPI_connect();
	catalog_exec("INSERT INTO " DT_INTERNAL_SCHEMA ".refresh_log (relid, table_name, "
				 "refresh_start_time, refresh_end_time, data_timestamp, refresh_action, "
				 "refresh_trigger, state, rows_inserted, rows_deleted, rows_updated, "
				 "state_message, changes, previous_fresh_as_of, state_query_ms) "
				 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
				 15, types, values, nulls, SPI_OK_INSERT);
	SPI_finish();
}

/*
 * catalog_note_skipped
 *		A scheduled refresh of relid was skipped from start to end: extend
 *		the DT's SKIPPED row to end if it is its latest history row and
 *		gives the same reason (one row per stretch of skips, so that they do
 *		not push its refreshes out of the bounded history; dt.dynamic_tables
 *		quotes the reason of the latest), or else append one.
 */
void
catalog_note_skipped(Oid relid, TimestampTz start, TimestampTz end, const char *message)
{
	Oid			types[3] = {OIDOID, TIMESTAMPTZOID, TEXTOID};
	Datum		values[3] = {ObjectIdGetDatum(relid), TimestampTzGetDatum(end), CStringGetTextDatum(message)};
	uint64		extended;

	SPI_connect();
	catalog_exec("UPDATE " DT_INTERNAL_SCHEMA ".refresh_log r SET refresh_end_time = $2"
				 " FROM (SELECT refresh_id, state, refresh_trigger, state_message FROM " DT_INTERNAL_SCHEMA ".refresh_log"
				 "       WHERE relid = $1 ORDER BY refresh_id DESC LIMIT 1) l"
				 " WHERE r.refresh_id = l.refresh_id AND l.state = 'SKIPPED'"
				 " AND l.refresh_trigger = 'SCHEDULED' AND l.state_message = $3",
				 3, types, values, NULL, SPI_OK_UPDATE);
	extended = SPI_processed;
	SPI_finish();
	if (extended == 0)
		catalog_insert_history(relid, "SCHEDULED", start, end, 0, 0, NULL, "SKIPPED", message);
}

/* catalog_input_relids: the relations a DT reads, as a List of Oids. */
List *
catalog_input_relids(Oid relid)
{
	return query_oids("SELECT input_relid FROM " DT_INTERNAL_SCHEMA ".dynamic_table_input WHERE relid = $1",
					  relid);
}

/*
 * dt_name_by
 *		The name of the first DT the query sql finds, given relid ($1) and a
 *		column number ($2), or NULL.
 */
static char *
dt_name_by(const char *sql, Oid relid, AttrNumber attnum)
{
	MemoryContext caller = CurrentMemoryContext;
	Oid			types[2] = {OIDOID, INT4OID};
	Datum		values[2] = {ObjectIdGetDatum(relid), Int32GetDatum(attnum)};
	char	   *name = NULL;

	SPI_connect();
	catalog_exec(sql, 2, types, values, NULL, SPI_OK_SELECT);
	if (SPI_processed > 0)
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);

		name = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	return name;
}

/*
 * catalog_dt_reading_column
 *		The name of a DT whose query reads column attnum of relid (any of
 *		relid if attnum is 0; as recorded in pg_depend), or NULL.
 */
char *
catalog_dt_reading_column(Oid relid, AttrNumber attnum)
{
	return dt_name_by("SELECT d.relid::regclass::text FROM " DT_INTERNAL_SCHEMA ".dynamic_table d "
					  "JOIN pg_catalog.pg_depend p ON p.classid = 'pg_catalog.pg_class'::pg_catalog.regclass "
					  "AND p.objid = d.relid WHERE p.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
					  "AND p.refobjid = $1 AND ($2 = 0 OR p.refobjsubid = $2) LIMIT 1",
					  relid, attnum);
}

/*
 * catalog_dt_reading_whole_rows
 *		The name of a DT (not an internal one) that reads column attnum of
 *		relid (any of its columns if attnum is 0) through a reference to
 *		its whole rows only: its input records the column, which pg_depend
 *		does not (a whole-row reference depends on the table), or NULL.
 */
char *
catalog_dt_reading_whole_rows(Oid relid, AttrNumber attnum)
{
	return dt_name_by("SELECT i.relid::regclass::text FROM " DT_INTERNAL_SCHEMA ".dynamic_table_input i "
					  "JOIN pg_catalog.pg_class c ON c.oid = i.relid, pg_catalog.unnest(i.columns) a(attnum) "
					  "WHERE i.input_relid = $1 AND ($2 = 0 OR a.attnum = $2) "
					  "AND c.relnamespace <> '" DT_INTERNAL_SCHEMA "'::pg_catalog.regnamespace "
					  "AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend p "
					  "WHERE p.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND p.objid = i.relid "
					  "AND p.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
					  "AND p.refobjid = $1 AND p.refobjsubid = a.attnum) LIMIT 1",
					  relid, attnum);
}

/* ---------------------------------------------------------------------
 * Internal objects: members of the extension
 * ---------------------------------------------------------------------
 *
 * The objects the extension makes for a DT in dt_internal (its change
 * logs, and for delta merge its key type, state table, auxiliary tables
 * and final view) are members of the extension, as if its script had
 * created them: pg_dump leaves them out (a restore makes them anew, see
 * dump.c), pg_upgrade carries them over, DROP EXTENSION drops them.  They
 * have no pg_depend entry on user objects: PostgreSQL turns the cascaded
 * drop of an extension member into a drop of the extension.  Instead,
 * dropping what they serve leaves them behind, and the sql_drop event
 * trigger drops them (lifecycle_forget_dropped); to drop a member its
 * membership is removed first, as ALTER EXTENSION ... DROP does.
 *
 * A DT's own state objects belong to the DT's owner, whose refreshes
 * write them (a grant would be dumped: pg_dump dumps the privileges of
 * extension members).  Change logs belong to the extension owner.
 */

/* catalog_add_member: make an object a member of the extension. */
void
catalog_add_member(Oid classid, Oid objid)
{
	ObjectAddress object;
	ObjectAddress extension;

	ObjectAddressSet(object, classid, objid);
	ObjectAddressSet(extension, ExtensionRelationId, get_extension_oid(DT_EXTENSION_NAME, false));
	recordDependencyOn(&object, &extension, DEPENDENCY_EXTENSION);
	/* its privileges now are its initial ones: pg_dump dumps changes */
	recordExtObjInitPriv(objid, classid);
}

/*
 * catalog_remove_members
 *		Take objects (a List of ObjectAddress) out of the extension, as ALTER
 *		EXTENSION ... DROP does.
 */
void
catalog_remove_members(List *objects)
{
	ListCell   *lc;

	foreach(lc, objects)
	{
		ObjectAddress *object = (ObjectAddress *) lfirst(lc);

		deleteDependencyRecordsForClass(object->classId, object->objectId,
										ExtensionRelationId, DEPENDENCY_EXTENSION);
		removeExtObjInitPriv(object->objectId, object->classId);
	}
	CommandCounterIncrement();
}

/*
 * catalog_drop_members
 *		Drop objects (a List of ObjectAddress) made by the extension, after
 *		taking them out of it.
 */
void
catalog_drop_members(List *objects)
{
	ObjectAddresses *addrs = new_object_addresses();
	ListCell   *lc;

	if (objects == NIL)
		return;
	catalog_remove_members(objects);
	foreach(lc, objects)
		add_exact_object_address((ObjectAddress *) lfirst(lc), addrs);
	performMultipleDeletions(addrs, DROP_RESTRICT, PERFORM_DELETION_INTERNAL);
	CommandCounterIncrement();
}

/* object_address: a palloc'd ObjectAddress. */
static ObjectAddress *
object_address(Oid classid, Oid objid)
{
	ObjectAddress *object = palloc(sizeof(ObjectAddress));

	ObjectAddressSet(*object, classid, objid);
	return object;
}

/*
 * catalog_internal_dts
 *		The internal DTs of DT relid (sub_<relid>_<n>, made for its
 *		subqueries), in the order they were made.
 */
List *
catalog_internal_dts(Oid relid)
{
	List	   *subs = NIL;
	Oid			oid;
	int			n;

	for (n = 1; OidIsValid(oid = names_internal_relid(DT_OBJECT_SUB, relid, n)); n++)
		subs = lappend_oid(subs, oid);
	return subs;
}

/*
 * catalog_state_objects
 *		The state objects of a DT that exist, as ObjectAddresses, in an
 *		order in which they can be dropped: its internal DTs, each after
 *		its own state objects; for delta merge its final view, auxiliary
 *		tables, state table, key type.
 */
List *
catalog_state_objects(Oid relid)
{
	List	   *objects = NIL;
	Oid			oid;
	int			a;
	ListCell   *lc;

	foreach(lc, catalog_internal_dts(relid))
	{
		objects = list_concat(objects, catalog_state_objects(lfirst_oid(lc)));
		objects = lappend(objects, object_address(RelationRelationId, lfirst_oid(lc)));
	}
	if (OidIsValid(oid = names_internal_relid(DT_OBJECT_FINAL, relid, 0)))
		objects = lappend(objects, object_address(RelationRelationId, oid));
	for (a = 1; OidIsValid(oid = names_internal_relid(DT_OBJECT_AUX, relid, a)); a++)
		objects = lappend(objects, object_address(RelationRelationId, oid));
	if (OidIsValid(oid = names_internal_relid(DT_OBJECT_STATE, relid, 0)))
		objects = lappend(objects, object_address(RelationRelationId, oid));
	if (OidIsValid(oid = names_internal_typid(relid)))
		objects = lappend(objects, object_address(TypeRelationId, oid));
	return objects;
}

/*
 * catalog_follow_owner
 *		After ALTER TABLE ... OWNER TO on a DT, give its state objects to the
 *		new owner too: refreshes run as the owner and write them.  After
 *		REASSIGN OWNED, which gave them already, record their privileges
 *		again.
 */
void
catalog_follow_owner(Oid relid)
{
	const char *role = quote_identifier(GetUserNameFromId(catalog_relation_owner(relid), false));
	ListCell   *lc;

	foreach(lc, catalog_state_objects(relid))
	{
		ObjectAddress *object = (ObjectAddress *) lfirst(lc);

		if (object->classId == TypeRelationId)
			catalog_exec_ddl(psprintf("ALTER TYPE %s OWNER TO %s",
									  format_type_be_qualified(object->objectId), role));
		else
			catalog_exec_ddl(psprintf("ALTER TABLE %s OWNER TO %s",
									  names_qualified(object->objectId), role));
		/* the owner is in its privileges: a member's are its initial ones */
		if (OidIsValid(getExtensionOfObject(object->classId, object->objectId)))
		{
			removeExtObjInitPriv(object->objectId, object->classId);
			recordExtObjInitPriv(object->objectId, object->classId);
		}
	}
}

/* catalog_set_definition: store a DT's definition as printed now. */
void
catalog_set_definition(Oid relid, const char *definition)
{
	Oid			types[2] = {OIDOID, TEXTOID};
	Datum		values[2] = {ObjectIdGetDatum(relid), CStringGetTextDatum(definition)};

	SPI_connect();
	catalog_exec("UPDATE " DT_INTERNAL_SCHEMA ".dynamic_table SET definition = $2 WHERE relid = $1",
				 2, types, values, NULL, SPI_OK_UPDATE);
	SPI_finish();
	CommandCounterIncrement();
}

/*
 * catalog_set_tree
 *		Store the analysed query of a DT (entry's query_tree, tree_major and
 *		tree_system), written again by this cluster.
 */
void
catalog_set_tree(DtEntry *entry)
{
	Oid			types[4] = {OIDOID, TEXTOID, INT4OID, INT8OID};
	Datum		values[4] = {ObjectIdGetDatum(entry->relid), CStringGetTextDatum(entry->query_tree),
	Int32GetDatum(entry->tree_major), Int64GetDatum(entry->tree_system)};

	SPI_connect();
	catalog_exec("UPDATE " DT_INTERNAL_SCHEMA ".dynamic_table SET query_tree = $2, tree_major = $3, "
				 "tree_system = $4 WHERE relid = $1",
				 4, types, values, NULL, SPI_OK_UPDATE);
	SPI_finish();
	CommandCounterIncrement();
}

/*
 * catalog_stale_trees
 *		The relids of the DTs whose stored tree this cluster did not write
 *		(another major version, another cluster: pg_upgrade).
 */
List *
catalog_stale_trees(void)
{
	MemoryContext caller = CurrentMemoryContext;
	Oid			types[2] = {INT4OID, INT8OID};
	Datum		values[2] = {Int32GetDatum(PG_MAJORVERSION_NUM), Int64GetDatum((int64) GetSystemIdentifier())};
	List	   *oids;

	SPI_connect();
	catalog_exec("SELECT relid FROM " DT_INTERNAL_SCHEMA ".dynamic_table "
				 "WHERE tree_major <> $1 OR tree_system IS DISTINCT FROM $2 ORDER BY relid",
				 2, types, values, NULL, SPI_OK_SELECT);
	oids = spi_util_oids(caller);
	SPI_finish();
	return oids;
}

/* catalog_set_settings: store a DT's pinned settings ("name=value" strings). */
void
catalog_set_settings(Oid relid, List *settings)
{
	Oid			types[2] = {OIDOID, TEXTARRAYOID};
	Datum		values[2] = {ObjectIdGetDatum(relid), settings_array(settings)};

	SPI_connect();
	catalog_exec("UPDATE " DT_INTERNAL_SCHEMA ".dynamic_table SET settings = $2 WHERE relid = $1",
				 2, types, values, NULL, SPI_OK_UPDATE);
	SPI_finish();
	CommandCounterIncrement();
}

/*
 * catalog_dts_naming
 *		The DTs whose dt_guard arguments may name object (classid, objid),
 *		which a rename or a move to another schema just renamed: those
 *		that depend on it (pg_depend), those it suspended (a relation), for
 *		a schema those in it or depending on an object in it, for an
 *		extension those depending on a member of it.
 */
List *
catalog_dts_naming(Oid classid, Oid objid)
{
	MemoryContext caller = CurrentMemoryContext;
	Oid			types[2] = {OIDOID, OIDOID};
	Datum		values[2] = {ObjectIdGetDatum(classid), ObjectIdGetDatum(objid)};
	List	   *oids;

	SPI_connect();
	catalog_exec("SELECT d.relid FROM " DT_INTERNAL_SCHEMA ".dynamic_table d"
				 " JOIN pg_catalog.pg_class c ON c.oid = d.relid"
				 " WHERE ($1 = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.suspended_by = $2)"
				 " OR ($1 = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND (c.relnamespace = $2"
				 "     OR d.suspended_by IN (SELECT s.oid FROM pg_catalog.pg_class s WHERE s.relnamespace = $2)))"
				 " OR EXISTS (SELECT FROM pg_catalog.pg_depend p"
				 "     WHERE p.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND p.objid = d.relid"
				 "     AND ((p.refclassid = $1 AND p.refobjid = $2)"
				 "       OR CASE WHEN $1 = 'pg_catalog.pg_namespace'::pg_catalog.regclass"
				 "          THEN (pg_catalog.pg_identify_object(p.refclassid, p.refobjid, 0)).schema"
				 "               = (SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE n.oid = $2)"
				 "          WHEN $1 = 'pg_catalog.pg_extension'::pg_catalog.regclass"
				 "          THEN EXISTS (SELECT FROM pg_catalog.pg_depend e"
				 "               WHERE e.classid = p.refclassid AND e.objid = p.refobjid AND e.deptype = 'e'"
				 "               AND e.refclassid = $1 AND e.refobjid = $2)"
				 "          ELSE false END))"
				 " ORDER BY d.relid",
				 2, types, values, NULL, SPI_OK_SELECT);
	oids = spi_util_oids(caller);
	SPI_finish();
	return oids;
}

/*
 * catalog_referenced
 *		The objects of class refclassid that DT relid depends on
 *		(pg_depend), as a List of OIDs.
 */
List *
catalog_referenced(Oid relid, Oid refclassid)
{
	MemoryContext caller = CurrentMemoryContext;
	Oid			types[2] = {OIDOID, OIDOID};
	Datum		values[2] = {ObjectIdGetDatum(relid), ObjectIdGetDatum(refclassid)};
	List	   *oids;

	SPI_connect();
	catalog_exec("SELECT refobjid FROM pg_catalog.pg_depend WHERE classid = 'pg_catalog.pg_class'::pg_catalog.regclass"
				 " AND objid = $1 AND refclassid = $2 ORDER BY refobjid",
				 2, types, values, NULL, SPI_OK_SELECT);
	oids = spi_util_oids(caller);
	SPI_finish();
	return oids;
}

/* catalog_captured_relations: the relids of every relation with a change log. */
List *
catalog_captured_relations(void)
{
	return query_oids("SELECT input_relid FROM " DT_INTERNAL_SCHEMA ".change_log ORDER BY input_relid",
					  InvalidOid);
}

/* catalog_dynamic_tables: the relids of every DT. */
List *
catalog_dynamic_tables(void)
{
	return query_oids("SELECT relid FROM " DT_INTERNAL_SCHEMA ".dynamic_table ORDER BY relid",
					  InvalidOid);
}

/*
 * catalog_delete_dropped
 *		Delete the catalog rows of DTs that no longer exist (DROP TABLE, DROP
 *		... CASCADE of an input, DROP OWNED) and the change_log rows of
 *		relations that no longer exist; *dts and *inputs are their relids.
 *		What was made for them is the caller's to drop.
 */
void
catalog_delete_dropped(List **dts, List **inputs)
{
	MemoryContext caller = CurrentMemoryContext;

	SPI_connect();
	catalog_exec("DELETE FROM " DT_INTERNAL_SCHEMA ".dynamic_table d WHERE NOT EXISTS "
				 "(SELECT FROM pg_catalog.pg_class c WHERE c.oid = d.relid) RETURNING d.relid",
				 0, NULL, NULL, NULL, SPI_OK_DELETE_RETURNING);
	*dts = spi_util_oids(caller);
	catalog_exec("DELETE FROM " DT_INTERNAL_SCHEMA ".change_log l WHERE NOT EXISTS "
				 "(SELECT FROM pg_catalog.pg_class c WHERE c.oid = l.input_relid) RETURNING l.log_relid",
				 0, NULL, NULL, NULL, SPI_OK_DELETE_RETURNING);
	*inputs = spi_util_oids(caller);
	SPI_finish();
}

/*
 * catalog_delete_entry
 *		Delete the catalog rows of DT relid, which stays as a plain table
 *		(its inputs and state_valid rows go with them); its history stays,
 *		as a dropped DT's does.
 */
void
catalog_delete_entry(Oid relid)
{
	SPI_connect();
	catalog_exec_relid("DELETE FROM " DT_INTERNAL_SCHEMA ".dynamic_table WHERE relid = $1", relid, SPI_OK_DELETE);
	SPI_finish();
	CommandCounterIncrement();
}

/*
 * catalog_forget_position
 *		The rows of DT relid may have been written by anything (its dt_guard
 *		trigger was disabled): like a restored DT, it has no position, and
 *		its next refresh is full.
 */
void
catalog_forget_position(Oid relid)
{
	SPI_connect();
	catalog_exec_relid("UPDATE " DT_INTERNAL_SCHEMA ".dynamic_table SET position_snapshot = NULL,"
					   " position_xid = NULL, position_cid = NULL, no_position_reason ="
					   " 'its dt_guard trigger was disabled, so its rows may differ from its query;"
					   " refreshed in full' WHERE relid = $1",
					   relid, SPI_OK_UPDATE);
	SPI_finish();
}

/* ---------------------------------------------------------------------
 * The dt_guard trigger
 * ---------------------------------------------------------------------
 */

/*
 * dumped_reason
 *		The reason of a DT's suspension as dt_guard carries it: "" unless it
 *		suspended itself or was suspended by its owner, and without the
 *		error of a failed refresh (data only some roles may see).
 */
static char *
dumped_reason(DtEntry *entry)
{
	char	   *reason;
	char	   *last;

	if (!entry->suspended || OidIsValid(entry->suspended_by) || entry->suspend_reason == NULL)
		return pstrdup("");
	reason = pstrdup(entry->suspend_reason);
	if ((last = strstr(reason, LAST_FAILURE)) != NULL)
		*last = '\0';
	return reason;
}

/*
 * catalog_guard_arguments
 *		The arguments the dt_guard trigger of a DT has (DtGuardArg), as
 *		its catalog row says now: a List of C strings.
 */
List *
catalog_guard_arguments(Oid relid)
{
	DtEntry    *entry = catalog_read_entry(relid, false);
	char	   *lag;
	char	   *state;
	int			guc_level;

	/* the lag is read back under the same settings */
	guc_level = settings_pin(entry->settings);
	lag = entry->lag_downstream ? "downstream"
		: DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(entry->target_lag)));
	AtEOXact_GUC(false, guc_level);
	if (!entry->suspended)
		state = "ACTIVE";
	else if (OidIsValid(entry->suspended_by) && get_rel_name(entry->suspended_by) != NULL)
		state = psprintf("SUSPENDED BY %s", names_qualified(entry->suspended_by));
	else
		state = "SUSPENDED";
	return list_concat(list_make4(pstrdup(DT_GUARD_FORMAT), entry->definition, pstrdup(lag),
								  pstrdup(catalog_mode_name(entry->requested_mode))),
					   list_concat(list_make3(pstrdup(entry->on_create ? "on_create" : "on_schedule"),
											  pstrdup(state), dumped_reason(entry)),
								   entry->settings));
}

/*
 * catalog_write_guard
 *		Create or replace the dt_guard trigger of a DT from its catalog row.
 *
 * The trigger keeps every writer but a refresh out of the DT (ddl_guard.c).
 * Its arguments are a copy of the DT's definition (DtGuardArg): pg_dump
 * dumps the trigger with the table, and when a restore creates it, the
 * table becomes a DT again (dump.c).  So the copy is rewritten whenever
 * what it holds changes.  CREATE OR REPLACE TRIGGER takes
 * ShareRowExclusiveLock: readers of the DT go on.
 */
void
catalog_write_guard(Oid relid)
{
	char	   *dt = names_qualified(relid);
	StringInfoData sql;
	ListCell   *lc;

	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE OR REPLACE TRIGGER " DT_GUARD_TRIGGER " BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE "
					 "ON %s FOR EACH STATEMENT EXECUTE FUNCTION " DT_INTERNAL_SCHEMA ".guard_dynamic_table(", dt);
	foreach(lc, catalog_guard_arguments(relid))
		appendStringInfo(&sql, "%s%s", foreach_current_index(lc) > 0 ? ", " : "",
						 quote_literal_cstr((char *) lfirst(lc)));
	appendStringInfoChar(&sql, ')');
	catalog_exec_ddl(sql.data);
	catalog_exec_ddl(psprintf("ALTER TABLE %s ENABLE ALWAYS TRIGGER " DT_GUARD_TRIGGER, dt));
}
