/*-------------------------------------------------------------------------
 *
 * deparse.h
 *		Layer 3 of pg_dynamic_tables: the SQL of internal objects and
 *		refreshes.
 *
 *	deparse.c		every statement generated from a DtAnalysis, and the
 *					layout of the rows and parameters of a delta-merge
 *					refresh's statements (DtSql), which layer 4 reads
 *
 *-------------------------------------------------------------------------
 */
#ifndef DT_DEPARSE_H
#define DT_DEPARSE_H

#include "analysis.h"

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
	DT_MERGE_RANK_SHIFT,		/* percentile: changed values below its cursor */
	DT_MERGE_REMOVALS			/* min/max: the group's change rows that
								 * remove (negative sign); once per DT */
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
	DT_APPLY_REMOVALS,			/* int8[]: the REMOVALS merge column */
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
	int			merge_column;	/* DISTINCT_DELTA, REMOVALS: its merge column */
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
	char	   *full_query;		/* the query (a SELECT), and full_insert */
	char	   *full_insert;
	char	   *written_query;	/* a DT with internal DTs: its query as
								 * written, which reads none of them (NULL
								 * otherwise), and query_insert */
	char	   *query_insert;
	char	   *rows_insert;	/* the rows of either query, as the tuplestore
								 * DT_QUERY_ROWS, into the DT */

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

	/*
	 * Rebuilding the state from the base table: state_clear empties it;
	 * deparse_state_fill_sql (not prepared: it writes into new heaps) fills
	 * it and the new heaps of the auxiliary tables aux_relids (in the order
	 * of the analysis's aux_tables), which the caller makes before
	 * (make_new_heap) and swaps in after (finish_heap_swap, which builds
	 * their indexes in one sort each); state_finish computes what reads the
	 * auxiliary tables.  A large window takes the same path
	 * (deparse_bulk_merge_sql, then state_reset, then state_finish).  Then
	 * the DT is filled from the state.
	 */
	char	   *state_clear;
	List	   *aux_relids;
	List	   *state_reset;
	List	   *state_finish;
	char	   *dt_fill;

	/*
	 * Affected-key recompute: the rows of the partitions $1 (an array of
	 * keys) and, if $2, of the NULL key, deleted, then computed again.
	 */
	char	   *recompute_delete;
	char	   *recompute_insert;
} DtSql;

extern List *deparse_internal_objects(Oid dtrelid, DtAnalysis *an);
extern int	deparse_state_width(DtAnalysis *an);
extern char *deparse_key_index(Oid dtrelid, DtAnalysis *an);
extern char *deparse_top_k_index(DtAnalysis *an, bool missing);
extern List *deparse_dt_columns(Query *query);
extern List *deparse_table_columns(Oid relid, List **attnums);
extern DtSql *deparse_refresh_sql(Oid dtrelid, DtAnalysis *an);
extern char *deparse_merge_sql(DtSql *sql, List *changed);
extern char *deparse_bulk_merge_sql(DtSql *sql, List *changed);
extern char *deparse_state_fill_sql(DtSql *sql, List *hashed);
extern Node *deparse_semantic_vars(Node *node);
extern char *deparse_recompute_keys_sql(DtAnalysis *an, List *changed);
extern void deparse_cursor_walk_sql(Oid dtrelid, DtAuxTable *aux,
									char **up, char **down, char **start);

#endif							/* DT_DEPARSE_H */
