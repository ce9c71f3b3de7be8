/*-------------------------------------------------------------------------
 *
 * pg_dynamic_tables.c
 *		Module load: the settings, and what the library installs when the
 *		postmaster loads it.
 *
 * _PG_init defines the settings (GUCs pg_dynamic_tables.*, their variables
 * live with the scheduler that reads them, workers.c), requests shared
 * memory and registers the launcher (workers_init), installs the
 * ProcessUtility hook (ddl_guard_install) and lets the SQL-callable
 * functions run (api_init).  It does all of it only when loaded through
 * shared_preload_libraries: the DDL guard has to see every utility
 * statement of every backend, and background workers can only be
 * registered at server start.  Loaded any other way it installs nothing,
 * and every function of the extension (CREATE EXTENSION included) says so
 * with a hint (api.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "entry.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * The values of pg_dynamic_tables.build_state_apart, and the spellings of a
 * boolean for on and off, hidden, as PostgreSQL's own enum settings with
 * boolean-like values take them (constraint_exclusion, huge_pages).
 */
static const struct config_enum_entry build_apart_options[] = {
	{"auto", DT_BUILD_APART_AUTO, false},
	{"on", DT_BUILD_APART_ON, false},
	{"off", DT_BUILD_APART_OFF, false},
	{"true", DT_BUILD_APART_ON, true},
	{"false", DT_BUILD_APART_OFF, true},
	{"yes", DT_BUILD_APART_ON, true},
	{"no", DT_BUILD_APART_OFF, true},
	{"1", DT_BUILD_APART_ON, true},
	{"0", DT_BUILD_APART_OFF, true},
	{NULL, 0, false}
};

/* define_settings: the GUCs pg_dynamic_tables.*, the prefix reserved. */
static void
define_settings(void)
{
	DefineCustomBoolVariable("pg_dynamic_tables.enabled",
							 "Refreshes dynamic tables on schedule.",
							 "Off for the server in postgresql.conf, or for a database with "
							 "ALTER DATABASE ... SET.  Manual refreshes still work.",
							 &workers_scheduler_enabled, true, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_dynamic_tables.max_concurrent_refreshes",
							"Refreshes that may run at once in the whole server.",
							"Each is a background worker: max_worker_processes must leave room.",
							&workers_max_refreshes, 2, 1, 64, PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_dynamic_tables.refresh_history_size",
							"Refresh history rows kept per dynamic table.",
							NULL, &workers_history_size, 1000, 10, 1000000, PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_dynamic_tables.refresh_timeout",
							"Cancels a scheduled refresh that runs longer than this.",
							"0 (the default) turns the limit off.  The refresh fails with a "
							"statement timeout, recorded in the history.",
							&workers_refresh_timeout, 0, 0, INT_MAX, PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomBoolVariable("pg_dynamic_tables.adaptive_refresh",
							 "Refreshes in full when the history says that is cheaper than incrementally.",
							 "Each refresh that could be incremental compares the expected cost of both, "
							 "learnt from the dynamic table's recent refreshes.  Off: always incremental.",
							 &refresh_adaptive, true, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("pg_dynamic_tables.build_state_apart",
							 "Builds the per-group state set aside by adaptive refresh apart from the refreshes.",
							 "On: a refresh whose history says rebuilding the state would pay refreshes in full "
							 "from the query instead, and dt.build_state or an idle refresh worker builds the "
							 "state apart; the next refresh catches up from it.  Auto: so when a refresh worker "
							 "would build it, and rebuilt by the refresh after ten refreshes waited for one.  "
							 "Off: that refresh rebuilds it.",
							 &refresh_build_apart, DT_BUILD_APART_AUTO, build_apart_options, PGC_USERSET, 0,
							 NULL, NULL, NULL);
	MarkGUCPrefixReserved("pg_dynamic_tables");
}

/*
 * _PG_init
 *		Define the settings and install everything, when loaded by the
 *		postmaster at startup; otherwise nothing.
 */
void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	api_init();
	define_settings();
	workers_init();
	ddl_guard_install();
	read_guard_install();
}
