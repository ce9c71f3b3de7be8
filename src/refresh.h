/*-------------------------------------------------------------------------
 *
 * refresh.h
 *		Layer 4 of pg_dynamic_tables: refreshing a dynamic table.
 *
 *	refresh.c		the refresh transaction: locks, snapshot, action,
 *					history, and the per-backend cache of prepared plans
 *	percentile.c	walking percentile cursors after a merge (refresh.c
 *					calls it)
 *
 *-------------------------------------------------------------------------
 */
#ifndef DT_REFRESH_H
#define DT_REFRESH_H

#include "deparse.h"

/* ---------------------------------------------------------------------
 * refresh.c
 * ---------------------------------------------------------------------
 */

/*
 * Which DT refresh_dynamic_table was refreshing, for its caller to report
 * the failure of (relid invalid: it failed before any refresh began).
 */
typedef struct DtRefreshAttempt
{
	Oid			relid;
	char	   *name;
} DtRefreshAttempt;

/*
 * A time as of which the scheduler knows DT relid current without a
 * refresh since its last one, or 0 (workers_fresh_as_of): a refresh
 * records it in its history row, so that the stretch before it counts as
 * lag only from then (view dt.dynamic_tables).
 */
typedef TimestampTz (*RefreshFreshFn) (Oid relid);

/*
 * Was the refresh that just failed cancelled on request (workers.c: its
 * DT's owner altering, suspending or dropping it), not failing of its own?
 * The function that cancelled it (dt.suspend, ...), or NULL.  Then it is
 * recorded as CANCELLED, and not counted towards suspension.
 */
typedef const char *(*RefreshCancelledFn) (void);

/*
 * After a rebuild of the per-group state failed on a data exception
 * (rebuild_or_set_aside: a variance's sum of squares beyond float8), the
 * next REBUILD_RETRY_AFTER refreshes run the query without trying it: a
 * rebuild that fails costs its statement, then the query, at every refresh.
 * So does a refresh worker's build apart that failed (workers.c).
 */
#define REBUILD_RETRY_AFTER 10

/*
 * Would a refresh worker of this database build a per-group state set
 * aside apart from the refreshes (workers.c, workers_build_apart)?  If so
 * and at_commit, one is asked to look for it when this transaction
 * commits.  Installed by workers_init; NULL: none would.
 */
typedef bool (*RefreshBuildersFn) (bool at_commit);

/* pg_dynamic_tables.build_state_apart */
typedef enum DtBuildApart
{
	DT_BUILD_APART_OFF,			/* the refresh rebuilds the state */
	DT_BUILD_APART_ON,			/* always built apart (dt.build_state, the
								 * workers) */
	DT_BUILD_APART_AUTO			/* built apart when a refresh worker would
								 * build it; inline after some full refreshes
								 * waited for one (refresh.c) */
} DtBuildApart;

extern bool refresh_adaptive;
extern int	refresh_build_apart;
extern RefreshBuildersFn refresh_workers_build;

extern void refresh_dynamic_table(Oid relid, const char *trigger, DtRefreshStats *stats,
								  volatile DtRefreshAttempt *attempt, RefreshFreshFn fresh);
extern bool refresh_scheduled_unit(List *unit, RefreshFreshFn fresh, RefreshCancelledFn cancelled,
								   bool *settled, bool clean_logs);
extern void refresh_empty(Oid relid);
extern bool refresh_build_state(Oid relid, bool nowait, bool *locked, double *ms);
extern bool refresh_running(void);

/* A row of dt.explain_refresh (refresh_explain). */
typedef struct DtExplainRow
{
	const char *kind;
	char	   *object;
	char	   *detail;
} DtExplainRow;

extern List *refresh_explain(Oid relid, bool show_data);
extern bool refresh_in_progress(Oid relid);
extern bool refresh_reads_input(Oid relid);
extern bool refresh_window_rows(Oid relid, double *rows);
extern void refresh_refuse_nested(const char *what);
extern void refresh_require_read_committed(const char *what);

/* ---------------------------------------------------------------------
 * percentile.c
 * ---------------------------------------------------------------------
 */
/*
 * The prepared statements percentile_walk runs (refresh.c prepares them):
 * cursor_read, and per auxiliary table the three walks of
 * deparse_cursor_walk_sql.
 */
typedef struct DtCursorPlans
{
	SPIPlanPtr	read;
	int			naux;
	SPIPlanPtr *up;
	SPIPlanPtr *down;
	SPIPlanPtr *start;
} DtCursorPlans;

/* A cursor of every group walked, as apply's arrays (DtApplyParam). */
typedef struct DtCursorArrays
{
	Datum		values;			/* DT_APPLY_CURSOR_VALUE */
	Datum		ranks;			/* DT_APPLY_CURSOR_RANK */
	Datum		nexts;			/* DT_APPLY_CURSOR_NEXT, percentile_cont */
} DtCursorArrays;

extern DtCursorArrays *percentile_walk(const DtCursorPlans *plans, List *cursors, Datum gids,
									   int ngroups, int64 **rank_shifts, Snapshot snap);

#endif							/* DT_REFRESH_H */
