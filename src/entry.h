/*-------------------------------------------------------------------------
 *
 * entry.h
 *		Layer 7 of pg_dynamic_tables: what PostgreSQL calls.
 *
 *	api.c			the SQL-callable functions (schema dt, and those of
 *					dt_internal that views, refreshes and tests call)
 *	ddl_guard.c		the ProcessUtility hook, the trigger and event trigger
 *					functions
 *	read_guard.c	the ExecutorStart and ExecutorFinish hooks: reads of
 *					unpopulated DTs refused, MERGEs that may move rows
 *					between partitions marked, statements writing tables
 *					followed until their rows are captured
 *
 * Above it, pg_dynamic_tables.c (_PG_init) installs them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DT_ENTRY_H
#define DT_ENTRY_H

#include "scheduler.h"

/* ---------------------------------------------------------------------
 * api.c
 * ---------------------------------------------------------------------
 */
extern void api_init(void);

/* ---------------------------------------------------------------------
 * read_guard.c
 * ---------------------------------------------------------------------
 */
extern void read_guard_install(void);

/* ---------------------------------------------------------------------
 * ddl_guard.c
 * ---------------------------------------------------------------------
 */
extern void ddl_guard_install(void);

#endif							/* DT_ENTRY_H */
