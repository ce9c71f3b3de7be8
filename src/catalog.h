/*-------------------------------------------------------------------------
 *
 * catalog.h
 *		Layer 1 of pg_dynamic_tables: the catalog and change capture.
 *
 *	catalog.c		the catalog tables (a DT's row, its inputs, its history),
 *					the extension's members, the dt_guard trigger's
 *					arguments, and running SQL as the extension owner
 *	capture.c		change logs, the triggers that fill them, reading them
 *
 * capture.c uses catalog.c, never the reverse.  Both see only layer 0
 * (common.h) below them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DT_CATALOG_H
#define DT_CATALOG_H

#include "common.h"

#include "access/xact.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/array.h"

/*
 * The longest target lag, in seconds (100 years as extract(epoch FROM ...)
 * counts an interval): far from the ends of timestamps and of int64
 * microseconds, for the sums the scheduler and view dt.dynamic_tables make.
 * The 1.0 -> 1.1 update script caps the lags stored before to it.
 */
#define DT_MAX_LAG_SECONDS	3155760000.0

/* Scheduled refreshes that fail this many times in a row suspend the DT. */
#define DT_MAX_FAILURES		5

/* Meta columns of a change log and of the rows fed to a refresh. */
#define DT_COL_XID			"dt$xid"
#define DT_COL_CID			"dt$cid"
#define DT_COL_SIGN			"dt$sign"

/*
 * Sign of a change log row: an inserted row counts +1, a deleted row -1.
 * A row with sign 0 is a marker: the table was truncated, rows arrived
 * or left without DML (ATTACH/DETACH PARTITION), or a statement changed
 * too many rows to log (DT_BULK_MIN_ROWS), so consumers rebuild.
 */
#define DT_SIGN_INSERT		1
#define DT_SIGN_DELETE		(-1)
#define DT_SIGN_REBUILD		0

/*
 * A change of at least DT_BULK_MIN_ROWS rows and 1 / DT_BULK_SHARE of the
 * rows of the tables it changed is a bulk load: a full refresh costs less
 * than an incremental one (refresh.c, adaptive refresh), and a statement
 * that large into a table with adaptive refresh on writes a marker
 * instead of its rows (capture.c).
 */
#define DT_BULK_MIN_ROWS	10000
#define DT_BULK_SHARE		5

/* ---------------------------------------------------------------------
 * catalog.c
 * ---------------------------------------------------------------------
 */

/* How a DT is refreshed (refresh_mode as stored). */
typedef enum DtMode
{
	DT_MODE_AUTO,
	DT_MODE_INCREMENTAL,
	DT_MODE_FULL
} DtMode;

/*
 * A relation a DT reads, whether its inheritance children are read too,
 * and the columns the DT reads (a row of dt_internal.dynamic_table_input;
 * analysis.c finds them).  Bits of attnums are attribute numbers offset
 * by FirstLowInvalidHeapAttributeNumber, as pull_varattnos sets them.
 */
typedef struct DtInput
{
	Oid			relid;
	bool		inh;
	bool		capturable;		/* a table whose changes we can capture */
	Bitmapset  *attnums;		/* columns the refresh reads from changes */
	List	   *net_sets;		/* of Bitmapset: the columns each reference
								 * reads, where its changes are netted over
								 * those (analysis.c); NIL: over attnums */
} DtInput;

/* The catalog row of a DT (dt_internal.dynamic_table). */
typedef struct DtEntry
{
	Oid			relid;
	char	   *query_text;
	char	   *query_tree;		/* nodeToString of the analysed query */
	int			tree_major;		/* the PostgreSQL major version that wrote it */
	int64		tree_system;	/* the system identifier of the cluster that
								 * wrote it (0: unknown) */
	char	   *definition;		/* the query as printed, fully qualified */
	bool		on_create;		/* initialize => 'on_create' */
	bool		suspended;
	Oid			suspended_by;	/* the suspended input that caused it */
	char	   *suspend_reason; /* why it is suspended, or NULL */
	int			consecutive_failures;	/* scheduled refreshes failed in a row */
	bool		lag_downstream;
	Interval   *target_lag;		/* NULL when downstream */
	DtMode		requested_mode;
	bool		incremental;	/* effective refresh mode */
	char	   *reason;
	List	   *settings;		/* "name=value" strings */
	bool		populated;
	bool		has_position;
	char	   *no_position_reason; /* why not, if known */
	Datum		position_snapshot;	/* pg_snapshot */
	FullTransactionId position_xid;
	CommandId	position_cid;
	bool		state_valid;	/* the unlogged per-group state is intact */
	bool		has_state_position; /* its state, set aside, was built apart
									 * (refresh_build_state) as of: */
	Datum		state_snapshot; /* pg_snapshot */
	FullTransactionId state_xid;
	CommandId	state_cid;
	FullTransactionId state_built_by;	/* the transaction that built it */
} DtEntry;

/* What a refresh did. */
typedef struct DtRefreshStats
{
	const char *action;			/* NO_DATA, INCREMENTAL, FULL */
	int64		inserted;
	int64		deleted;
	int64		updated;
	int64		changes;		/* rows in the change window, if counted */
	bool		counted;		/* the window was counted */
	bool		windowed;		/* the action followed from the change window:
								 * with none, the next refresh is NO_DATA */
	List	   *unread_logs;	/* counted inputs with no row in the window */
	double		state_query_ms; /* a rebuild of the per-group state (no
								 * internal DTs): its statement over the
								 * inputs, about the query (0: none) */
	char	   *message;		/* for the history, or NULL */
} DtRefreshStats;

/*
 * The durations of a DT's recent successful refreshes (the history),
 * from which a refresh predicts what its action will cost: per incremental
 * refresh its rows of changes and milliseconds, newest first; the
 * milliseconds of the full ones, and whether each was chosen by the
 * history (a full refresh that runs the query: for a delta-merge DT, one
 * that sets its state aside instead of rebuilding it).
 */
#define DT_COST_SAMPLES 30

/*
 * How the messages of two kinds of full refreshes begin, which the cost
 * samples tell apart: one that the recompute strategy chose after finding
 * the keys a window touched (what trying incremental cost), one that
 * the history chose (what a full refresh costs), and one that rebuilt the
 * state set aside (the per-group state, the internal DTs).
 */
#define DT_MESSAGE_KEYS_FULL	"the changes touched "
#define DT_MESSAGE_ADAPTIVE_FULL	"an incremental refresh of "
#define DT_MESSAGE_STATE_REBUILT	"the per-group state "
#define DT_MESSAGE_INTERNAL_REBUILT	"the internal tables "

/*
 * How the message of a full refresh begins whose rebuild of the per-group
 * state failed on a data exception (refresh.c, rebuild_or_set_aside): it
 * ran the query instead, and the next refreshes do for a while
 * (catalog_refreshes_since_failed_rebuild).
 */
#define DT_MESSAGE_STATE_NOT_BUILT	"its per-group state could not be built"

/*
 * What the message of a full refresh says whose history found that
 * rebuilding the state (per-group state, internal tables) would pay, with
 * pg_dynamic_tables.build_state_apart on, or auto where a refresh worker
 * would build it: dt.build_state or a refresh worker is to build it ("is"
 * or "are" before it).
 */
#define DT_MESSAGE_BUILD_APART	"to be built apart (dt.build_state)"

/*
 * How the reason begins of a full refresh that ran its query with
 * row-level security on an input (querytree_input_reason, and refresh.c's
 * decide_action when the policies apply to the owner): its rows may be
 * filtered, not the query's as of its position (catalog_rows_filtered).
 */
#define DT_MESSAGE_RLS	"row-level security "

/*
 * How a DT waits for a build of its per-group state apart
 * (catalog_build_wait): what the build is expected to take, in
 * milliseconds (-1: no figure), and how many full refreshes waited for it,
 * taking waited_ms in all.
 */
typedef struct DtBuildWait
{
	double		expected_ms;
	int			waited;
	double		waited_ms;
} DtBuildWait;

/*
 * A DT whose last refresh left its per-group state to be built apart
 * (catalog_states_to_build): that refresh, and its wait.
 */
typedef struct DtStateToBuild
{
	Oid			relid;
	int64		refresh_id;
	DtBuildWait wait;
} DtStateToBuild;

typedef struct DtRefreshCosts
{
	int			nincremental;
	double		changes[DT_COST_SAMPLES];
	double		incremental_ms[DT_COST_SAMPLES];
	int			nfull;
	double		full_ms[DT_COST_SAMPLES];
	bool		full_chosen[DT_COST_SAMPLES];
	double		full_query_ms[DT_COST_SAMPLES]; /* a rebuild's state_query_ms,
												 * or 0 */
	int			adaptive_fulls; /* full by that choice since the last
								 * incremental one */
	double		recent_full_changes;	/* the most rows of changes of the
										 * latest of those (-1: none counted) */
} DtRefreshCosts;

/*
 * The arguments of a DT's dt_guard trigger, which carry its definition
 * into pg_dump's output (catalog_write_guard, dump.c): the format, the
 * query as printed, the target lag, the requested refresh mode, the
 * initialize choice, the scheduling state ("ACTIVE", "SUSPENDED" or
 * "SUSPENDED BY <qualified name of the input>"), the reason of a
 * suspension not caused by an input ("" if none; without the error of a
 * failed refresh, which pg_trigger would show to everyone), then the
 * pinned settings.
 */
#define DT_GUARD_FORMAT		"pg_dynamic_tables 1.1"
typedef enum DtGuardArg
{
	DT_GUARD_ARG_FORMAT,
	DT_GUARD_ARG_DEFINITION,
	DT_GUARD_ARG_LAG,
	DT_GUARD_ARG_MODE,
	DT_GUARD_ARG_INITIALIZE,
	DT_GUARD_ARG_STATE,
	DT_GUARD_ARG_REASON,
	DT_GUARD_ARG_SETTINGS		/* and every argument after it */
} DtGuardArg;

extern DtMode catalog_parse_mode(const char *mode);
extern const char *catalog_mode_name(DtMode mode);
extern bool catalog_parse_lag(const char *lag, Interval **interval);
extern Oid	catalog_extension_owner(void);
extern bool catalog_version_current(void);
extern void catalog_require_current_version(void);
extern Oid	catalog_relation_owner(Oid relid);
extern void catalog_begin_as_owner(Oid role, bool restricted, Oid *saved_user,
								   int *saved_context);
extern void catalog_end_as_owner(Oid saved_user, int saved_context);
extern void catalog_exec(const char *sql, int nargs, Oid *types, Datum *values,
						 const char *nulls, int expected);
extern void catalog_exec_relid(const char *sql, Oid relid, int expected);
extern void catalog_exec_ddl(const char *sql);
extern bool catalog_internal_ddl_running(void);
extern DtEntry *catalog_read_entry(Oid relid, bool missing_ok);
extern bool catalog_is_dynamic_table(Oid relid);
extern void catalog_insert_entry(DtEntry *entry, List *inputs);
extern void catalog_forget_inputs(Oid relid);
extern char *catalog_column_dependent(Oid relid, AttrNumber attnum);
extern bool catalog_is_guard_function(Oid funcid);
extern bool catalog_is_populated(Oid relid);
extern void catalog_set_state_valid(Oid relid, bool valid);
extern void catalog_save_state_position(Oid relid, Snapshot snapshot, CommandId cid, const DtEntry *at);
extern void catalog_clear_state_position(Oid relid);
extern bool catalog_rows_filtered(Oid relid);
extern void catalog_save_position(Oid relid, Snapshot snapshot, CommandId cid,
								  TimestampTz data_timestamp, bool populated);
typedef List *(*DtInputsOf) (Oid relid, void *arg);
extern List *catalog_walk_upstream(List *starts, DtInputsOf inputs_of, void *arg, List **cycle);
extern void catalog_refuse_cycle(Oid relid, const char *name, List *inputs);
extern List *catalog_refresh_unit(Oid relid);
extern void catalog_set_suspended(Oid relid, bool suspend, const char *reason);
extern void catalog_record_failure(Oid relid, const char *message);
extern TimestampTz catalog_failure_backoff_until(Oid relid);
extern void catalog_refresh_costs(Oid relid, int recent, DtRefreshCosts *costs);
extern void catalog_trim_history(int keep);
extern void catalog_build_wait(Oid relid, DtBuildWait *wait);
extern void catalog_note_state_built(Oid relid, double ms);
extern List *catalog_states_to_build(void);
extern int64 catalog_refreshes_after(Oid relid, int64 refresh_id);
extern int	catalog_refreshes_since_failed_rebuild(Oid relid);
extern void catalog_insert_history(Oid relid, const char *trigger,
								   TimestampTz start, TimestampTz end,
								   TimestampTz data_timestamp,
								   TimestampTz fresh_before,
								   const DtRefreshStats *stats,
								   const char *state, const char *message);
extern void catalog_note_skipped(Oid relid, TimestampTz start, TimestampTz end,
								 const char *message);
extern List *catalog_input_relids(Oid relid);
extern char *catalog_dt_reading_column(Oid relid, AttrNumber attnum);
extern char *catalog_dt_reading_whole_rows(Oid relid, AttrNumber attnum);
extern void catalog_add_member(Oid classid, Oid objid);
extern void catalog_remove_members(List *objects);
extern void catalog_drop_members(List *objects);
extern List *catalog_dynamic_tables(void);
extern List *catalog_captured_relations(void);
extern void catalog_set_definition(Oid relid, const char *definition);
extern void catalog_set_settings(Oid relid, List *settings);
extern List *catalog_dts_naming(Oid classid, Oid objid);
extern List *catalog_referenced(Oid relid, Oid refclassid);
extern void catalog_set_tree(DtEntry *entry);
extern List *catalog_stale_trees(void);
extern List *catalog_internal_dts(Oid relid);
extern List *catalog_state_objects(Oid relid);
extern void catalog_follow_owner(Oid relid);
extern void catalog_delete_dropped(List **dts, List **logs);
extern List *catalog_guard_arguments(Oid relid);
extern void catalog_delete_entry(Oid relid);
extern void catalog_forget_position(Oid relid);
extern void catalog_write_guard(Oid relid);

/* ---------------------------------------------------------------------
 * capture.c
 * ---------------------------------------------------------------------
 */
extern bool capture_write_changes(TriggerData *td, bool bulk_markers, bool *marker);
extern void capture_attach_input(DtInput *input);
extern void capture_drop_logs(List *logoids);
extern void capture_reinstall_triggers(Oid relid);
extern bool capture_is_capture_function(List *funcname);
extern void capture_convert_from_1_0(Oid relid);
extern bool capture_release_column(Oid relid, AttrNumber attnum);
extern bool capture_may_change(Oid relid);
extern void capture_release_unused_inputs(bool nowait);
extern void capture_follow_new_child(Oid child, bool brought_rows);
extern List *capture_ancestors_of(Oid child);
extern void capture_forget_child(Oid child, List *ancestors);
extern void capture_mark_rebuild(Oid relid);
extern bool capture_triggers_disabled(Oid relid, bool guard);
extern bool capture_disabled_within(Oid relid);
extern void capture_mark_captured_rebuild(Oid relid);
extern void capture_enable_always(Oid relid);
extern Oid	capture_log_relid(Oid relid);
extern bool capture_relation_is_captured(Oid relid);
extern bool capture_cleanup(Oid relid);
extern bool capture_cleanup_consumed(Oid relid);
extern void capture_forget_windows(void);
extern void capture_statement_starts(const void *statement, List *relids);
extern void capture_statement_finished(const void *statement);
extern bool capture_writes_uncaptured(Oid relid);
extern List *capture_compact_logs(List *relids, List **locked);
extern void capture_vacuum_logs(List *relids);
extern double capture_reltuples(Oid relid);
extern void capture_read_changes(FunctionCallInfo fcinfo, Oid relid, Datum since,
								 FullTransactionId since_xid, int32 since_cid,
								 ArrayType *columns);
extern void capture_count_window(Oid relid, Datum since, FullTransactionId since_xid,
								 int32 since_cid, int64 *rows, int64 *markers);

#endif							/* DT_CATALOG_H */
