/*-------------------------------------------------------------------------
 *
 * pg_dynamic_tables.h
 *		Declarations shared by the subsystems of pg_dynamic_tables.
 *
 * A dynamic table (DT) is an ordinary table kept equal to its defining
 * query.  The subsystems, one C file each (src/README.md tells the story):
 *
 *	analysis.c		parse the defining query, decide how it is maintained
 *	recompute.c		the partition key of a query, and recomputing partitions
 *	deparse.c		generate the SQL of internal objects and of refreshes
 *	capture.c		change logs and the triggers that fill them
 *	refresh.c		the refresh transaction: snapshot, strategy, history
 *	percentile.c	order-statistic cursors for percentile aggregates
 *	lifecycle.c		a table becomes a DT; what is made for it goes with it
 *	dump.c			DTs through pg_dump/pg_restore, pg_upgrade and renames
 *	catalog.c		the extension's catalog tables and running SQL as a role
 *	schedule.c		which DTs are due, and the units they are refreshed in
 *	workers.c		launcher, per-database schedulers, refresh workers
 *	ddl_guard.c		DDL that would break a DT: blocked, or followed up
 *	api.c			the SQL-callable functions in schema dt
 *	pg_dynamic_tables.c  module load, settings, the per-backend plan cache
 *	names.c, settings.c, spi_util.c  helpers every file uses (common.h)
 *
 * Naming: C functions exported from a file are named <file>_<action>
 * (catalog_read_entry, capture_install); SQL-callable functions are named
 * dt_<sql name>.  Internal SQL objects live in schema dt_internal and are
 * named after the OID of the table they serve (state_16384, changes_16390).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_DYNAMIC_TABLES_H
#define PG_DYNAMIC_TABLES_H

#include "common.h"

#include "access/xact.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/array.h"
#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "nodes/pathnodes.h"
#include "nodes/pg_list.h"
#include "utils/snapshot.h"
#include "utils/timestamp.h"

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
 * A row with sign 0 is a marker: the table was truncated, or rows arrived
 * or left without DML (ATTACH/DETACH PARTITION), so consumers rebuild.
 */
#define DT_SIGN_INSERT		1
#define DT_SIGN_DELETE		(-1)
#define DT_SIGN_REBUILD		0

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
} DtInput;

/* The catalog row of a DT (dt_internal.dynamic_table). */
typedef struct DtEntry
{
	Oid			relid;
	char	   *query_text;
	char	   *query_tree;		/* nodeToString of the analysed query */
	int			tree_major;		/* the PostgreSQL major version that wrote it */
	char	   *definition;		/* the query as printed, fully qualified */
	bool		on_create;		/* initialize => 'on_create' */
	bool		suspended;
	Oid			suspended_by;	/* the suspended input that caused it */
	bool		lag_downstream;
	Interval   *target_lag;		/* NULL when downstream */
	DtMode		requested_mode;
	bool		incremental;	/* effective refresh mode */
	char	   *reason;
	List	   *settings;		/* "name=value" strings */
	bool		populated;
	bool		has_position;
	Datum		position_snapshot;	/* pg_snapshot */
	FullTransactionId position_xid;
	CommandId	position_cid;
	bool		state_valid;	/* the unlogged per-group state is intact */
} DtEntry;

/* What a refresh did. */
typedef struct DtRefreshStats
{
	const char *action;			/* NO_DATA, INCREMENTAL, FULL */
	int64		inserted;
	int64		deleted;
	int64		updated;
	char	   *message;		/* for the history, or NULL */
} DtRefreshStats;

/*
 * The arguments of a DT's dt_guard trigger, which carry its definition
 * into pg_dump's output (catalog_write_guard, dump.c): the format, the
 * query as printed, the target lag, the requested refresh mode, the
 * initialize choice, the scheduling state ("ACTIVE", "SUSPENDED" or
 * "SUSPENDED BY <qualified name of the input>"), then the pinned settings.
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
extern void catalog_exec_ddl(const char *sql);
extern bool catalog_internal_ddl_running(void);
extern DtEntry *catalog_read_entry(Oid relid, bool missing_ok);
extern bool catalog_is_dynamic_table(Oid relid);
extern void catalog_insert_entry(DtEntry *entry, List *inputs);
extern void catalog_set_state_valid(Oid relid, bool valid);
extern void catalog_save_position(Oid relid, Snapshot snapshot, CommandId cid,
								  TimestampTz data_timestamp);
extern List *catalog_refresh_unit(Oid relid);
extern void catalog_set_suspended(Oid relid, bool suspend, const char *reason);
extern void catalog_record_failure(Oid relid, const char *message);
extern void catalog_insert_history(Oid relid, const char *trigger,
								   TimestampTz start, TimestampTz end,
								   TimestampTz data_timestamp,
								   const DtRefreshStats *stats,
								   const char *state, const char *message);
extern List *catalog_input_relids(Oid relid);
extern char *catalog_dt_reading_column(Oid relid, AttrNumber attnum);
extern void catalog_add_member(Oid classid, Oid objid);
extern void catalog_remove_members(List *objects);
extern void catalog_drop_members(List *objects);
extern List *catalog_dynamic_tables(void);
extern List *catalog_captured_relations(void);
extern void catalog_set_definition(Oid relid, const char *definition);
extern List *catalog_state_objects(Oid relid);
extern void catalog_follow_owner(Oid relid);
extern void catalog_delete_dropped(List **dts, List **logs);
extern void catalog_write_guard(Oid relid);

/* ---------------------------------------------------------------------
 * capture.c
 * ---------------------------------------------------------------------
 */
extern void capture_write_changes(TriggerData *td);
extern void capture_attach_input(DtInput *input);
extern void capture_drop_logs(List *logoids);
extern void capture_reinstall_triggers(Oid relid);
extern bool capture_is_capture_function(List *funcname);
extern void capture_convert_from_1_0(Oid relid);
extern bool capture_column_is_captured(Oid relid, AttrNumber attnum);
extern bool capture_may_change(Oid relid);
extern void capture_release_unused_inputs(bool nowait);
extern void capture_follow_new_child(Oid child, bool brought_rows);
extern List *capture_ancestors_of(Oid child);
extern void capture_forget_child(Oid child, List *ancestors);
extern void capture_mark_rebuild(Oid relid);
extern void capture_enable_always(Oid relid);
extern Oid	capture_log_relid(Oid relid);
extern bool capture_relation_is_captured(Oid relid);
extern void capture_cleanup(Oid relid);
extern void capture_compact_logs(List *relids);
extern void capture_read_changes(FunctionCallInfo fcinfo, Oid relid, Datum since,
								 FullTransactionId since_xid, int32 since_cid,
								 ArrayType *columns);

/* ---------------------------------------------------------------------
 * analysis.c
 * ---------------------------------------------------------------------
 */

/*
 * How an incremental DT is maintained (DESIGN.md, principle 4): by merging
 * the changes into per-group state, or by recomputing the partitions of
 * the query that the changes touch.  FULL: not incrementally.
 */
typedef enum DtStrategy
{
	DT_STRATEGY_FULL,
	DT_STRATEGY_MERGE,
	DT_STRATEGY_RECOMPUTE
} DtStrategy;

/* The aggregates that incremental refresh maintains. */
typedef enum DtAggKind
{
	DT_AGG_COUNT_STAR,
	DT_AGG_COUNT,
	DT_AGG_SUM,
	DT_AGG_AVG,
	DT_AGG_VAR_SAMP,
	DT_AGG_VAR_POP,
	DT_AGG_STDDEV_SAMP,
	DT_AGG_STDDEV_POP,
	DT_AGG_MIN,
	DT_AGG_MAX,
	DT_AGG_COUNT_DISTINCT,
	DT_AGG_PERCENTILE_CONT,
	DT_AGG_PERCENTILE_DISC,
	DT_AGG_BOOL_AND,
	DT_AGG_BOOL_OR
} DtAggKind;

/*
 * The arithmetic in which sum, avg and the variance family keep their state:
 * exact numeric for integers, numeric plus counts of NaN and infinities for
 * numeric and floating-point input (so that removing an infinity is exact),
 * and the type itself for interval and money.
 */
typedef enum DtSumDomain
{
	DT_DOMAIN_NONE,
	DT_DOMAIN_INTEGER,
	DT_DOMAIN_NUMERIC,
	DT_DOMAIN_FLOAT,
	DT_DOMAIN_INTERVAL,
	DT_DOMAIN_MONEY
} DtSumDomain;

/*
 * One aggregate of the defining query.  Its state lives in columns a<no>_*
 * of the state table; holistic aggregates (min, max, count distinct,
 * percentiles) also keep per-group value counts in an auxiliary table.
 */
typedef struct DtAggregate
{
	int			no;				/* 1-based */
	DtAggKind	kind;
	Aggref	   *aggref;
	Expr	   *arg;			/* argument or ordering expression */
	Expr	   *filter;			/* FILTER (WHERE ...) or NULL */
	Oid			argtype;
	int32		argtypmod;
	Oid			argcollation;
	Oid			restype;
	int32		restypmod;
	DtSumDomain domain;
	int			input_no;		/* column x<n> of the change rows, 0: none */
	int			filter_no;		/* column f<n> of the change rows, 0: none */
	int			aux_no;			/* auxiliary table, 0: none */
	int			aux_item;		/* item j within that table */
	double		fraction;		/* percentiles */
} DtAggregate;

/*
 * An auxiliary value-count table holds (gid, j, v, c): value v of item j
 * occurs c > 0 times in group gid.  One table per value type; an item is a
 * distinct (argument, filter) pair used by a holistic aggregate.
 */
typedef struct DtAuxItem
{
	int			j;
	int			input_no;
	int			filter_no;
} DtAuxItem;

typedef struct DtAuxTable
{
	int			no;
	Oid			valtype;
	int32		valtypmod;
	Oid			valcollation;
	List	   *items;			/* of DtAuxItem */
} DtAuxTable;

/* A GROUP BY expression; it is also an output column of the DT. */
typedef struct DtKey
{
	Expr	   *expr;
	AttrNumber	resno;			/* output column */
	Oid			type;
	int32		typmod;
	Oid			collation;
} DtKey;

/* A relation in the FROM list of an incremental query. */
typedef struct DtFromRel
{
	Index		rtindex;		/* in the query's range table */
	DtInput    *input;
} DtFromRel;

/*
 * A query level whose FROM list reads base relations, at the end of the
 * partition key's path (recompute.c): the key as an expression over one of
 * its relations, every relation it reads, and the conditions under which a
 * changed row of one relation can touch a partition.
 */
typedef struct DtKeyLeaf
{
	Query	   *level;			/* within DtRecompute.query */
	Expr	   *expr;			/* the key, over relation key_rtindex */
	Index		key_rtindex;
	List	   *rels;			/* of DtFromRel */
	List	   *from;			/* the FROM list, its joins' conditions kept
								 * only where they see no null-extended row */
	Node	   *quals;			/* the WHERE conditions kept likewise */
} DtKeyLeaf;

/*
 * Affected-key recompute: output column resno partitions the query; the
 * rows of the DT with key v come only from base rows whose key is v.
 */
typedef struct DtRecompute
{
	AttrNumber	resno;			/* the DT's key column */
	Oid			type;
	Query	   *query;			/* the defining query, reading only the
								 * partitions $1 (type[]) and, if $2, NULL */
	List	   *leaves;			/* of DtKeyLeaf */
	bool		indexed;		/* an index finds each leaf's key rows */
} DtRecompute;

typedef struct DtAnalysis
{
	Query	   *query;			/* analysed and rewritten defining query */
	DtStrategy	strategy;
	char	   *reason;			/* why not incremental; NULL if it is */
	DtRecompute *recompute;		/* DT_STRATEGY_RECOMPUTE only */
	int			nrelations;		/* occurrences of tables in the query */
	bool		always_full;	/* changes cannot be detected: no NO_DATA */
	List	   *inputs;			/* of DtInput */

	/* The delta-merge plan (DT_STRATEGY_MERGE only). */
	List	   *from;			/* of DtFromRel: the relations, inner-joined */
	Node	   *quals;			/* WHERE and join conditions, one expression */
	List	   *keys;			/* of DtKey */
	List	   *aggregates;		/* of DtAggregate */
	List	   *aux_tables;		/* of DtAuxTable */
	List	   *input_exprs;	/* expressions x1..xn over the base table */
	List	   *filter_exprs;	/* boolean expressions f1..fn */
} DtAnalysis;

/* ---------------------------------------------------------------------
 * querytree.c
 * ---------------------------------------------------------------------
 */

/* What querytree_inputs finds at every level of a query. */
typedef struct DtQueryInputs
{
	List	   *inputs;			/* of DtInput */
	List	   *rtes;			/* every RTE_RELATION, for permission checks */
#if PG_VERSION_NUM >= 160000
	List	   *perminfos;		/* and their RTEPermissionInfos */
#endif
	int			nrelations;		/* occurrences of tables (not views) */
	bool		locking;		/* FOR UPDATE/SHARE somewhere */
	Oid			system_relid;	/* the first system column read: its table */
	AttrNumber	system_attno;	/* and its number */
} DtQueryInputs;

/* What querytree_facts finds about the functions of (part of) a query. */
typedef struct DtFunctionFacts
{
	bool		time;			/* now(), CURRENT_TIMESTAMP and friends */
	Oid			user_stable;	/* a user-defined non-immutable function */
	bool		whole_row;		/* a whole-row or system column reference */
} DtFunctionFacts;

/* A walk over the items of a FROM list (querytree_walk_from). */
typedef struct DtFromWalk
{
	bool		outer_joins;	/* LEFT and RIGHT JOIN allowed */
	List	   *rels;			/* of DtFromRel, in FROM order */
	List	   *quals;			/* the conditions of its joins, as written */
	Relids		nullable;		/* rtindexes null-extended by an outer join */
} DtFromWalk;

extern void querytree_inputs(Query *query, DtQueryInputs *result);
extern DtFunctionFacts querytree_facts(Node *node);
extern Node *querytree_flatten_joins(Query *query, Node *node);
extern Node *querytree_kept_conditions(Query *query, Node *cond, Relids nullable);
extern char *querytree_walk_from(List *inputs, Query *query, Node *item, DtFromWalk *walk,
								 Node **out);

/* ---------------------------------------------------------------------
 * merge.c
 * ---------------------------------------------------------------------
 */
extern char *merge_analyze(Query *query, DtAnalysis *an);
extern bool merge_shaped(Query *query);

/* ---------------------------------------------------------------------
 * recompute.c
 * ---------------------------------------------------------------------
 */
extern char *recompute_analyze(DtAnalysis *an, Oid dtrelid);
extern char *recompute_key_column(DtAnalysis *an);

/* ---------------------------------------------------------------------
 * analysis.c
 * ---------------------------------------------------------------------
 */
extern Query *analysis_parse_query(const char *sql);
extern DtAnalysis *analysis_analyze(Query *query, Oid dtrelid);
extern void analysis_check_permissions(Query *query);
extern char *analysis_print_definition(Query *query);
extern Query *analysis_stored_query(DtEntry *entry);

/* ---------------------------------------------------------------------
 * deparse.c
 * ---------------------------------------------------------------------
 */

/*
 * The columns and parameters of a delta-merge refresh's statements, with
 * the statements: described once (deparse_refresh_sql), written into the
 * SQL by deparse.c and read by the code that runs it (refresh.c,
 * percentile.c), so that the two cannot disagree.
 *
 * merge returns one row per group the window touched, in gid order: the
 * gid, then merge_columns[0], merge_columns[1], ..., all bigint.
 */
typedef enum DtMergeColumnKind
{
	DT_MERGE_DISTINCT_DELTA,	/* count distinct: values that appeared minus
								 * values that left */
	DT_MERGE_RANK_SHIFT			/* percentile: changed values below its cursor */
} DtMergeColumnKind;

typedef struct DtMergeColumn
{
	DtMergeColumnKind kind;
	DtAggregate *agg;
	int			cursor;			/* RANK_SHIFT: its cursor, in cursors */
} DtMergeColumn;

/*
 * apply takes apply_params[0] as $1, apply_params[1] as $2, ...: arrays
 * in the order of the gids.
 */
typedef enum DtApplyParamKind
{
	DT_APPLY_GIDS,				/* int8[]: the groups the window touched */
	DT_APPLY_DISTINCT_DELTA,	/* int8[]: a DISTINCT_DELTA merge column */
	DT_APPLY_CURSOR_VALUE,		/* argtype[]: a cursor's value at its rank */
	DT_APPLY_CURSOR_RANK,		/* int8[]: the values below that value */
	DT_APPLY_CURSOR_NEXT		/* argtype[]: percentile_cont's value at its
								 * second rank */
} DtApplyParamKind;

typedef struct DtApplyParam
{
	DtApplyParamKind kind;
	DtAggregate *agg;			/* NULL for the gids */
	Oid			type;			/* an array type */
	int			merge_column;	/* DISTINCT_DELTA: its merge column */
	int			cursor;			/* CURSOR_*: its cursor, in cursors */
} DtApplyParam;

/* apply returns one row: these columns, bigint. */
typedef enum DtApplyResult
{
	DT_APPLY_DELETED = 1,		/* DT rows deleted */
	DT_APPLY_UPSERTED,			/* DT rows inserted or updated */
	DT_APPLY_UPDATED			/* of those, the rows updated */
} DtApplyResult;

/*
 * cursor_read returns, for the groups $1 in gid order, the gid, then for
 * each cursor these columns (DT_CURSOR_READ_COLUMN numbers them).
 */
typedef enum DtCursorColumn
{
	DT_CURSOR_COUNT,			/* bigint: values in the group */
	DT_CURSOR_VALUE,			/* argtype: its value, NULL before the first */
	DT_CURSOR_BELOW,			/* bigint: values below it, before the merge */
	DT_CURSOR_EQUAL,			/* bigint: values equal to it now, or NULL */
	DT_CURSOR_NCOLUMNS
} DtCursorColumn;

#define DT_CURSOR_READ_COLUMN(cursor, column) \
	(2 + (cursor) * DT_CURSOR_NCOLUMNS + (column))

/*
 * The SQL statements of one DT, generated from its analysis.  Statements
 * that read changes take the previous refresh's position as $1 pg_snapshot,
 * $2 xid8, $3 int4 (see capture.c); statements on groups take the ids of
 * the groups the changes touched as $1 int8[].
 */
typedef struct DtSql
{
	char	   *dt_name;		/* quoted, qualified name of the DT */

	/* Full strategy. */
	char	   *full_delete;
	char	   *full_insert;

	/* Rows and rebuild markers in the window, one per captured input. */
	List	   *count_changes;
	List	   *count_relids;	/* the inputs they count, in the same order */

	/*
	 * Delta merge: merge (deparse_merge_sql), then walk the cursors (one per
	 * percentile aggregate), then apply.
	 */
	struct DeparseMerge *merge; /* what deparse_merge_sql needs */
	int			nmerge_columns;
	DtMergeColumn *merge_columns;
	List	   *cursors;		/* of DtAggregate: the percentiles */
	char	   *cursor_read;	/* NULL without percentiles */
	int			napply_params;
	DtApplyParam *apply_params;
	char	   *apply;

	/* Rebuilding the state from the base table, and filling the DT. */
	List	   *state_rebuild;
	char	   *dt_fill;

	/*
	 * Affected-key recompute: the rows of the partitions $1 (an array of
	 * keys) and, if $2, of the NULL key, deleted, then computed again.
	 */
	char	   *recompute_delete;
	char	   *recompute_insert;
} DtSql;

extern List *deparse_internal_objects(Oid dtrelid, DtAnalysis *an);
extern char *deparse_key_index(Oid dtrelid, DtAnalysis *an);
extern List *deparse_dt_columns(Query *query);
extern DtSql *deparse_refresh_sql(Oid dtrelid, DtAnalysis *an);
extern char *deparse_merge_sql(DtSql *sql, List *changed);
extern char *deparse_recompute_keys_sql(DtAnalysis *an, List *changed);
extern void deparse_cursor_walk_sql(Oid dtrelid, DtAuxTable *aux,
									char **up, char **down, char **start);

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

extern void refresh_dynamic_table(Oid relid, const char *trigger, DtRefreshStats *stats,
								  volatile DtRefreshAttempt *attempt);
extern bool refresh_scheduled_unit(List *unit);
extern bool refresh_in_progress(Oid relid);
extern bool refresh_reads_input(Oid relid);
extern void refresh_refuse_nested(const char *what);
extern void refresh_require_read_committed(const char *what);

/* ---------------------------------------------------------------------
 * lifecycle.c
 * ---------------------------------------------------------------------
 */
extern void lifecycle_check_privileges(Query *query);
extern void lifecycle_choose_strategy(DtEntry *entry, DtAnalysis *an, const char *name);
extern void lifecycle_make_dynamic(Oid relid, DtEntry *entry, Query *query, DtAnalysis *an);
extern void lifecycle_forget_dropped(void);
extern void lifecycle_release_members_of(List *roles);
extern void lifecycle_release_members(void);
extern void lifecycle_adopt_members(void);

/* ---------------------------------------------------------------------
 * dump.c
 * ---------------------------------------------------------------------
 */
extern bool dump_is_guard_function(List *funcname);
extern void dump_restore_dynamic_table(Oid relid);
extern void dump_reinstall_capture(Oid relid);
extern Node *dump_discard_copy(CopyStmt *stmt, Oid relid);
extern bool dump_discarding_copy(Oid relid);
extern void dump_copy_done(void);
extern void dump_refresh_definitions(void);
extern void dump_convert_from_1_0(void);

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

/* ---------------------------------------------------------------------
 * schedule.c
 * ---------------------------------------------------------------------
 */
extern List *schedule_load(void);
extern List *schedule_plan(List *entries, TimestampTz now, List *busy, TimestampTz *wake);

/* ---------------------------------------------------------------------
 * workers.c
 * ---------------------------------------------------------------------
 */
/* The settings (GUCs) of the scheduler, defined by _PG_init. */
extern bool workers_scheduler_enabled;	/* pg_dynamic_tables.enabled */
extern int	workers_max_refreshes;	/* pg_dynamic_tables.max_concurrent_refreshes */
extern int	workers_history_size;	/* pg_dynamic_tables.refresh_history_size */

extern void workers_init(void);
extern void workers_wake_scheduler(void);
extern void workers_extension_created(void);
extern void workers_release_database(Oid dboid);
extern void workers_report_failure(Oid relid, const char *trigger, TimestampTz start,
								   const char *message);

/* ---------------------------------------------------------------------
 * ddl_guard.c
 * ---------------------------------------------------------------------
 */
extern void ddl_guard_install(void);

/* ---------------------------------------------------------------------
 * pg_dynamic_tables.c
 * ---------------------------------------------------------------------
 */
extern void api_init(void);

#endif							/* PG_DYNAMIC_TABLES_H */
