/*-------------------------------------------------------------------------
 *
 * scheduler.h
 *		Layer 6 of pg_dynamic_tables: scheduling and background workers.
 *
 *	schedule.c		which DTs are due, and the units they are refreshed in
 *	workers.c		the launcher and the refresh workers, which schedule
 *					their database (calls schedule.c)
 *
 *-------------------------------------------------------------------------
 */
#ifndef DT_SCHEDULER_H
#define DT_SCHEDULER_H

#include "lifecycle.h"

/* ---------------------------------------------------------------------
 * schedule.c
 * ---------------------------------------------------------------------
 */
typedef bool (*ScheduleFreshFn) (Oid relid, TimestampTz *as_of, bool *due_now, void *arg);

extern List *schedule_load(void);
extern List *schedule_plan(List *entries, TimestampTz now, int64 start_delay_us, List *busy,
						   TimestampTz *wake, ScheduleFreshFn fresh, void *arg);
extern List *schedule_tables_read(List *entries, Oid relid);
extern List *schedule_dts_read(List *entries, Oid relid);
extern int64 schedule_due_after(List *entries, Oid relid, int64 start_delay_us);
extern TimestampTz schedule_due_at(List *entries, Oid relid);
extern bool schedule_unit_refreshed(List *entries, List *unit);
extern int64 schedule_expected(List *entries, Oid relid);
extern bool schedule_any_shorter(List *entries, int64 us);

/* ---------------------------------------------------------------------
 * workers.c
 * ---------------------------------------------------------------------
 */
/* The settings (GUCs) of the scheduler, defined by _PG_init. */
extern bool workers_scheduler_enabled;	/* pg_dynamic_tables.enabled */
extern int	workers_max_refreshes;	/* pg_dynamic_tables.max_concurrent_refreshes */
extern int	workers_history_size;	/* pg_dynamic_tables.refresh_history_size */
extern int	workers_refresh_timeout;	/* pg_dynamic_tables.refresh_timeout,
										 * ms */

extern void workers_init(void);
extern void workers_wake_scheduler(Oid relid);
extern void workers_note_write(Oid relid, bool rebuild);
extern void workers_note_utility(void);
extern void workers_note_prepare(const char *gid);
extern bool workers_finish_prepared(const char *gid, bool committed);
extern bool workers_prepared_known(const char *gid);
extern TimestampTz workers_fresh_as_of(Oid relid);
extern void workers_extension_created(void);
extern void workers_database_changed(Oid dboid);
extern void workers_release_database(Oid dboid);
extern void workers_cancel_refresh(Oid relid, const char *by);
extern bool workers_is_refresh_worker(pid_t pid);
extern char *workers_lag_reason(void);
extern void workers_report_failure(Oid relid, const char *trigger, TimestampTz start,
								   const char *message);

#endif							/* DT_SCHEDULER_H */
