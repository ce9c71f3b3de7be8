/*-------------------------------------------------------------------------
 *
 * pg_dynamic_tables.c
 *		Module load: hooks, settings, and the preload requirement.
 *
 * The library must be loaded through shared_preload_libraries: its DDL
 * guard has to see every utility statement of every backend, and the
 * scheduler's background workers can only be registered at server start.
 * Loaded any other way it installs nothing, and every function of the
 * extension (CREATE EXTENSION included) says so with a hint.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"

#include "pg_dynamic_tables.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(dt_check_preloaded);

static bool loaded_at_startup = false;

void		_PG_init(void);

/*
 * _PG_init
 *		Install the hooks, when loaded by the postmaster at startup.
 */
void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	loaded_at_startup = true;
	workers_init();
	ddl_guard_install();
}

/* dt_require_preload: error out unless loaded at server start. */
void
dt_require_preload(void)
{
	if (!loaded_at_startup)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_dynamic_tables must be loaded via shared_preload_libraries"),
				 errhint("Add pg_dynamic_tables to shared_preload_libraries in postgresql.conf and restart the server.")));
}

/*
 * dt_check_preloaded
 *		Called by the extension script, so that CREATE EXTENSION fails with
 *		the same message.
 */
Datum
dt_check_preloaded(PG_FUNCTION_ARGS)
{
	dt_require_preload();
	PG_RETURN_VOID();
}
