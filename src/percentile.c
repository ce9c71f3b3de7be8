/*-------------------------------------------------------------------------
 *
 * percentile.c
 *		Percentile cursors after a merge.
 *
 * Percentiles keep a cursor per group: the value v at
 * the target rank, lt = how many values are smaller, and for
 * percentile_cont the next value.  A change moves lt (merge_sql counts
 * the changes below v) and the target rank (the group grew or shrank), by
 * at most the number of changes in the group.  The cursor then walks from
 * v to the new rank through the index of the auxiliary table, reading at
 * most that many distinct values: the cost follows the change, however
 * large the group.  The value after the cursor's, which percentile_cont
 * interpolates to, comes from the same walk where the walk read it.  A
 * cursor that does not exist yet (a new group) starts from the smallest
 * value.
 *
 * Ranks follow PostgreSQL's percentile_cont_final_common and
 * percentile_disc_final exactly: for N values, percentile_cont(p) reads
 * rows floor(p*(N-1)) and ceil(p*(N-1)) (0-based) and interpolates,
 * percentile_disc(p) reads row max(ceil(p*N), 1) (1-based).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"

#include "refresh.h"

/* One percentile cursor of one group. */
typedef struct Cursor
{
	int64		n;				/* values in the group */
	bool		isnull;			/* no cursor yet */
	Datum		value;
	int64		lt;				/* values smaller than value */
	int64		eq;				/* values equal to value */
	bool		next_isnull;
	Datum		next;			/* percentile_cont: value at the second rank */
} Cursor;

/* Type facts of the values a cursor walks over. */
typedef struct ValueType
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
} ValueType;

/* target_ranks: the 1-based ranks an aggregate reads among n values. */
static void
target_ranks(DtAggregate *agg, int64 n, int64 *r1, int64 *r2)
{
	if (agg->kind == DT_AGG_PERCENTILE_CONT)
	{
		double		pos = agg->fraction * (double) (n - 1);

		*r1 = (int64) floor(pos) + 1;
		*r2 = (int64) ceil(pos) + 1;
	}
	else
	{
		*r1 = (int64) ceil(agg->fraction * (double) n);
		if (*r1 < 1)
			*r1 = 1;
		*r2 = *r1;
	}
}

/* inconsistent: the error of a cursor that finds no value at its rank. */
static void
inconsistent(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("percentile state of dynamic table is inconsistent"),
			 errhint("Run dt.refresh() after TRUNCATE of the input, or recreate the dynamic table.")));
}

/*
 * start_cursor
 *		A new cursor (its group is new): the value at rank r1 counted from
 *		the smallest.  args: gid and item.  False if there is none.
 */
static bool
start_cursor(const DtCursorPlans *plans, int ai, Datum *args, int64 r1, Cursor *c, Snapshot snap)
{
	bool		isnull;

	args[2] = Int64GetDatum(r1);
	spi_util_run(plans->start[ai], args, NULL, snap);
	if (SPI_processed != 1)
		return false;
	c->value = spi_util_datum(0, 1, &isnull);
	c->lt = spi_util_int64(0, 2);
	c->eq = spi_util_int64(0, 3);
	return true;
}

/*
 * walk_up
 *		Move a cursor up to rank r1, through the values above it in order.
 *		args: gid and item.  False if the values end first.  With want_next,
 *		one value more is read, and *next is set to the value after the
 *		cursor's when the walk read it (else *has_next is false).
 */
static bool
walk_up(const DtCursorPlans *plans, int ai, Datum *args, int64 r1, Cursor *c, Snapshot snap,
		bool want_next, Datum *next, bool *has_next)
{
	int64		base = c->lt + c->eq;
	uint64		i;
	bool		isnull;

	*has_next = false;
	args[2] = c->value;
	args[3] = Int64GetDatum(r1 - base + (want_next ? 1 : 0));
	spi_util_run(plans->up[ai], args, NULL, snap);
	for (i = 0; i < SPI_processed; i++)
	{
		int64		cnt = spi_util_int64(i, 2);

		if (base + cnt >= r1)
		{
			c->value = spi_util_datum(i, 1, &isnull);
			c->lt = base;
			c->eq = cnt;
			if (want_next && i + 1 < SPI_processed)
			{
				*next = spi_util_datum(i + 1, 1, &isnull);
				*has_next = true;
			}
			return true;
		}
		base += cnt;
	}
	return false;
}

/*
 * walk_down
 *		Move a cursor down to rank r1, through the values below it in
 *		reverse order.  args: gid and item.  False if the values end first.
 *		*next is set to the value after the cursor's when the walk knows it:
 *		the value read before it, or the one the cursor left if that one is
 *		still there (else *has_next is false).
 */
static bool
walk_down(const DtCursorPlans *plans, int ai, Datum *args, int64 r1, Cursor *c, Snapshot snap,
		  Datum *next, bool *has_next)
{
	int64		top = c->lt;
	Datum		left = c->value;
	bool		left_there = c->eq > 0;
	uint64		i;
	bool		isnull;

	args[2] = c->value;
	args[3] = Int64GetDatum(c->lt - r1 + 1);
	spi_util_run(plans->down[ai], args, NULL, snap);
	for (i = 0; i < SPI_processed; i++)
	{
		int64		cnt = spi_util_int64(i, 2);

		top -= cnt;
		if (top < r1)
		{
			c->value = spi_util_datum(i, 1, &isnull);
			c->lt = top;
			c->eq = cnt;
			*next = i > 0 ? spi_util_datum(i - 1, 1, &isnull) : left;
			*has_next = i > 0 || left_there;
			return true;
		}
	}
	return false;
}

/*
 * walk_cursor
 *		Move a cursor to the rank the group's new size asks for, and for
 *		percentile_cont find the value at the second rank.
 */
static void
walk_cursor(const DtCursorPlans *plans, DtAggregate *agg, int64 gid, Cursor *c, ValueType *vt,
			Snapshot snap)
{
	int			ai = agg->aux_no - 1;
	int64		r1;
	int64		r2;
	Datum		args[4];
	Datum		next = (Datum) 0;
	bool		has_next = false;
	bool		isnull;
	bool		found;

	if (c->n <= 0)
	{
		c->isnull = c->next_isnull = true;
		c->lt = c->eq = 0;
		return;
	}
	target_ranks(agg, c->n, &r1, &r2);
	args[0] = Int64GetDatum(gid);
	args[1] = Int16GetDatum((int16) agg->aux_item);

	if (c->isnull)
		found = start_cursor(plans, ai, args, r1, c, snap);
	else if (r1 > c->lt && r1 <= c->lt + c->eq)
		found = true;
	else if (r1 > c->lt + c->eq)
		found = walk_up(plans, ai, args, r1, c, snap, agg->kind == DT_AGG_PERCENTILE_CONT, &next, &has_next);
	else
		found = walk_down(plans, ai, args, r1, c, snap, &next, &has_next);
	if (!found)
		inconsistent();
	c->value = datumCopy(c->value, vt->typbyval, vt->typlen);
	c->isnull = false;

	if (agg->kind != DT_AGG_PERCENTILE_CONT)
		return;
	if (r2 <= c->lt + c->eq)
	{
		c->next = c->value;
		c->next_isnull = false;
		return;
	}
	/* the value after the cursor's: read by the walk, or read now */
	if (!has_next)
	{
		args[2] = c->value;
		args[3] = Int64GetDatum(1);
		spi_util_run(plans->up[ai], args, NULL, snap);
		if (SPI_processed != 1)
			inconsistent();
		next = spi_util_datum(0, 1, &isnull);
	}
	c->next = datumCopy(next, vt->typbyval, vt->typlen);
	c->next_isnull = false;
}

/* make_array: a one-dimensional array datum from values and nulls. */
static Datum
make_array(Datum *values, bool *nulls, int n, Oid elemtype, ValueType *vt)
{
	int			dims[1] = {n};
	int			lbs[1] = {1};

	return PointerGetDatum(construct_md_array(values, nulls, 1, dims, lbs, elemtype,
											  vt->typlen, vt->typbyval, vt->typalign));
}

/*
 * read_cursors
 *		The cursors of the groups gids as they were before the merge, with
 *		the count of values below them shifted by rank_shifts: an array of
 *		ngroups * ncursors, cursor k of group g at g * ncursors + k; *gidv:
 *		the gids, in the same order.
 */
static Cursor *
read_cursors(const DtCursorPlans *plans, int ncursors, ValueType *types, Datum gids, int ngroups,
			 int64 **rank_shifts, Snapshot snap, int64 **gidv)
{
	Cursor	   *cursors;
	int			g;
	int			k;

	spi_util_run(plans->read, &gids, NULL, snap);
	if ((int) SPI_processed != ngroups)
		inconsistent();
	*gidv = palloc(sizeof(int64) * ngroups);
	cursors = palloc0(sizeof(Cursor) * ngroups * ncursors);
	for (g = 0; g < ngroups; g++)
	{
		(*gidv)[g] = spi_util_int64(g, 1);
		for (k = 0; k < ncursors; k++)
		{
			Cursor	   *c = &cursors[g * ncursors + k];
			Datum		v;
			bool		isnull;

			c->n = spi_util_int64(g, DT_CURSOR_READ_COLUMN(k, DT_CURSOR_COUNT));
			v = spi_util_datum(g, DT_CURSOR_READ_COLUMN(k, DT_CURSOR_VALUE), &c->isnull);
			if (!c->isnull)
				c->value = datumCopy(v, types[k].typbyval, types[k].typlen);
			c->lt = spi_util_int64(g, DT_CURSOR_READ_COLUMN(k, DT_CURSOR_BELOW)) + rank_shifts[k][g];
			c->eq = DatumGetInt64(spi_util_datum(g, DT_CURSOR_READ_COLUMN(k, DT_CURSOR_EQUAL), &isnull));
			if (isnull)
				c->eq = 0;
		}
	}
	return cursors;
}

/*
 * cursor_arrays
 *		Cursor k of every group as the arrays apply takes: the values, the
 *		counts below them, and for percentile_cont the next values.
 */
static DtCursorArrays
cursor_arrays(Cursor *cursors, int ncursors, int k, DtAggregate *agg, ValueType *vt, int ngroups)
{
	ValueType	int8type = {8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE};
	DtCursorArrays result = {0};
	Datum	   *values = palloc(sizeof(Datum) * ngroups);
	bool	   *nulls = palloc(sizeof(bool) * ngroups);
	Datum	   *lts = palloc(sizeof(Datum) * ngroups);
	int			g;

	for (g = 0; g < ngroups; g++)
	{
		Cursor	   *c = &cursors[g * ncursors + k];

		values[g] = c->value;
		nulls[g] = c->isnull;
		lts[g] = Int64GetDatum(c->lt);
	}
	result.values = make_array(values, nulls, ngroups, agg->argtype, vt);
	result.ranks = make_array(lts, NULL, ngroups, INT8OID, &int8type);
	if (agg->kind == DT_AGG_PERCENTILE_CONT)
	{
		values = palloc(sizeof(Datum) * ngroups);
		nulls = palloc(sizeof(bool) * ngroups);
		for (g = 0; g < ngroups; g++)
		{
			Cursor	   *c = &cursors[g * ncursors + k];

			values[g] = c->next;
			nulls[g] = c->isnull || c->next_isnull;
		}
		result.nexts = make_array(values, nulls, ngroups, agg->argtype, vt);
	}
	return result;
}

/*
 * percentile_walk
 *		For the groups gids (int8[] of ngroups, in gid order), after the
 *		merge: walk every cursor (aggregate of cursors, a list of the
 *		percentile aggregates) to its new rank.  rank_shifts[k] holds, per
 *		group, how many values changed below cursor k (from the merge).
 *		Returns, per cursor, the arrays apply takes (DtApplyParam).
 */
DtCursorArrays *
percentile_walk(const DtCursorPlans *plans, List *cursors, Datum gids, int ngroups,
				int64 **rank_shifts, Snapshot snap)
{
	int			ncursors = list_length(cursors);
	DtCursorArrays *result = palloc(sizeof(DtCursorArrays) * ncursors);
	ValueType  *types = palloc(sizeof(ValueType) * ncursors);
	Cursor	   *state;
	int64	   *gidv;
	ListCell   *lc;
	int			g;

	foreach(lc, cursors)
	{
		DtAggregate *agg = (DtAggregate *) lfirst(lc);
		ValueType  *vt = &types[foreach_current_index(lc)];

		get_typlenbyvalalign(agg->argtype, &vt->typlen, &vt->typbyval, &vt->typalign);
	}
	state = read_cursors(plans, ncursors, types, gids, ngroups, rank_shifts, snap, &gidv);
	for (g = 0; g < ngroups; g++)
	{
		foreach(lc, cursors)
			walk_cursor(plans, (DtAggregate *) lfirst(lc), gidv[g],
						&state[g * ncursors + foreach_current_index(lc)],
						&types[foreach_current_index(lc)], snap);
	}
	foreach(lc, cursors)
		result[foreach_current_index(lc)] = cursor_arrays(state, ncursors, foreach_current_index(lc),
														  (DtAggregate *) lfirst(lc),
														  &types[foreach_current_index(lc)], ngroups);
	return result;
}
