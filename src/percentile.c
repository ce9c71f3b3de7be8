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
 * large the group.  A cursor that does not exist yet (a new group) starts
 * from the smallest value.
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

#include "pg_dynamic_tables.h"

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

static void
inconsistent(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("percentile state of dynamic table is inconsistent"),
			 errhint("Run dt.refresh() after TRUNCATE of the input, or recreate the dynamic table.")));
}

/*
 * walk_cursor
 *		Move a cursor to the rank the group's new size asks for.
 */
static void
walk_cursor(DtPlanSet *p, DtAggregate *agg, int64 gid, Cursor *c, ValueType *vt, Snapshot snap)
{
	int			ai = agg->aux_no - 1;
	int64		r1;
	int64		r2;
	Datum		args[4];
	uint64		i;
	bool		isnull;
	bool		found = false;

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
	{
		args[2] = Int64GetDatum(r1);
		spi_util_run(p->walk_start[ai], args, NULL, snap);
		if (SPI_processed == 1)
		{
			HeapTuple	tup = SPI_tuptable->vals[0];

			c->value = SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &isnull);
			c->lt = DatumGetInt64(SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &isnull));
			c->eq = DatumGetInt64(SPI_getbinval(tup, SPI_tuptable->tupdesc, 3, &isnull));
			found = true;
		}
	}
	else if (r1 > c->lt && r1 <= c->lt + c->eq)
		found = true;
	else if (r1 > c->lt + c->eq)
	{
		int64		base = c->lt + c->eq;

		args[2] = c->value;
		args[3] = Int64GetDatum(r1 - base);
		spi_util_run(p->walk_up[ai], args, NULL, snap);
		for (i = 0; i < SPI_processed && !found; i++)
		{
			int64		cnt = spi_util_int64(i, 2);

			if (base + cnt >= r1)
			{
				c->value = spi_util_datum(i, 1, &isnull);
				c->lt = base;
				c->eq = cnt;
				found = true;
			}
			base += cnt;
		}
	}
	else
	{
		int64		top = c->lt;

		args[2] = c->value;
		args[3] = Int64GetDatum(c->lt - r1 + 1);
		spi_util_run(p->walk_down[ai], args, NULL, snap);
		for (i = 0; i < SPI_processed && !found; i++)
		{
			int64		cnt = spi_util_int64(i, 2);

			top -= cnt;
			if (top < r1)
			{
				c->value = spi_util_datum(i, 1, &isnull);
				c->lt = top;
				c->eq = cnt;
				found = true;
			}
		}
	}
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
	args[2] = c->value;
	args[3] = Int64GetDatum(1);
	spi_util_run(p->walk_up[ai], args, NULL, snap);
	if (SPI_processed != 1)
		inconsistent();
	c->next = datumCopy(spi_util_datum(0, 1, &isnull),
						vt->typbyval, vt->typlen);
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
 * percentile_walk
 *		For the groups gids (int8[] of ngroups, in gid order), after the
 *		merge: walk every percentile cursor to its new rank.  rank_shifts[k]
 *		holds, per group, how many values changed below cursor k (from
 *		merge_sql).  Fills params with apply_sql's cursor arrays: per
 *		percentile aggregate its values, ranks and (percentile_cont) next
 *		values.
 */
void
percentile_walk(DtPlanSet *p, Datum gids, int ngroups, int64 **rank_shifts,
				Snapshot snap, Datum *params)
{
	DtAnalysis *an = p->an;
	List	   *aggs = NIL;
	ListCell   *lc;
	int			naggs;
	Cursor	   *cursors;
	ValueType  *types;
	int			nparams = 0;
	int			g;
	int			k;
	ValueType	int8type = {8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE};
	int64	   *gidv;

	foreach(lc, an->aggregates)
	{
		DtAggregate *agg = (DtAggregate *) lfirst(lc);

		if (agg->kind == DT_AGG_PERCENTILE_CONT || agg->kind == DT_AGG_PERCENTILE_DISC)
			aggs = lappend(aggs, agg);
	}
	naggs = list_length(aggs);
	types = palloc(sizeof(ValueType) * naggs);
	foreach(lc, aggs)
	{
		DtAggregate *agg = (DtAggregate *) lfirst(lc);
		ValueType  *vt = &types[foreach_current_index(lc)];

		get_typlenbyvalalign(agg->argtype, &vt->typlen, &vt->typbyval, &vt->typalign);
	}

	/* Read the cursors: gid, then per aggregate n, value, lt, eq. */
	spi_util_run(p->cursor_read, &gids, NULL, snap);
	if ((int) SPI_processed != ngroups)
		inconsistent();
	gidv = palloc(sizeof(int64) * ngroups);
	cursors = palloc0(sizeof(Cursor) * ngroups * naggs);
	for (g = 0; g < ngroups; g++)
	{
		HeapTuple	tup = SPI_tuptable->vals[g];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;

		gidv[g] = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		for (k = 0; k < naggs; k++)
		{
			Cursor	   *c = &cursors[g * naggs + k];
			Datum		v;

			c->n = DatumGetInt64(SPI_getbinval(tup, desc, 2 + 4 * k, &isnull));
			v = SPI_getbinval(tup, desc, 3 + 4 * k, &c->isnull);
			if (!c->isnull)
				c->value = datumCopy(v, types[k].typbyval, types[k].typlen);
			c->lt = DatumGetInt64(SPI_getbinval(tup, desc, 4 + 4 * k, &isnull)) + rank_shifts[k][g];
			c->eq = DatumGetInt64(SPI_getbinval(tup, desc, 5 + 4 * k, &isnull));
			if (isnull)
				c->eq = 0;
		}
	}

	for (g = 0; g < ngroups; g++)
	{
		k = 0;
		foreach(lc, aggs)
		{
			walk_cursor(p, (DtAggregate *) lfirst(lc), gidv[g], &cursors[g * naggs + k], &types[k], snap);
			k++;
		}
	}

	k = 0;
	foreach(lc, aggs)
	{
		DtAggregate *agg = (DtAggregate *) lfirst(lc);
		Datum	   *values = palloc(sizeof(Datum) * ngroups);
		bool	   *nulls = palloc(sizeof(bool) * ngroups);
		Datum	   *lts = palloc(sizeof(Datum) * ngroups);

		for (g = 0; g < ngroups; g++)
		{
			Cursor	   *c = &cursors[g * naggs + k];

			values[g] = c->value;
			nulls[g] = c->isnull;
			lts[g] = Int64GetDatum(c->lt);
		}
		params[nparams++] = make_array(values, nulls, ngroups, agg->argtype, &types[k]);
		params[nparams++] = make_array(lts, NULL, ngroups, INT8OID, &int8type);
		if (agg->kind == DT_AGG_PERCENTILE_CONT)
		{
			values = palloc(sizeof(Datum) * ngroups);
			nulls = palloc(sizeof(bool) * ngroups);
			for (g = 0; g < ngroups; g++)
			{
				Cursor	   *c = &cursors[g * naggs + k];

				values[g] = c->next;
				nulls[g] = c->isnull || c->next_isnull;
			}
			params[nparams++] = make_array(values, nulls, ngroups, agg->argtype, &types[k]);
		}
		k++;
	}
}
