/*-------------------------------------------------------------------------
 *
 * schedule.c
 *		Which dynamic tables to refresh at a given moment, and with which.
 *
 * Target lag as Snowflake defines it: a DT's data timestamp may be at most
 * its target lag behind now.  A refresh starting from a snapshot at s makes
 * the lag its own time once it commits, and until then the lag grows from
 * the last data timestamp: so a DT is due its lead before its lag runs
 * out, the lead being the time its next refresh is expected to take
 * (due_after, from its recent scheduled refreshes) plus how late a worker
 * of its database recently started a unit once it was due (start_delay_us:
 * a worker asleep past it, busy with another unit, compacting logs, started
 * for it late by the launcher), at least 100 ms and at most half the lag:
 * a DT is refreshed at most every half lag, and one whose refresh takes
 * longer is refreshed back to back.
 * (Twice the mean of the last five refreshes was this lead before: seed
 * 000's summary, whose refreshes under steady ingest at 1M rows take 40
 * to 370 ms, went past a 1 s lag.)  A longer lead means more, smaller
 * refreshes: under steady writes a DT is refreshed every lag less its
 * lead.  An unpopulated DT is due at once, and so is one whose
 * input was bulk-loaded or truncated since its last scheduled refresh
 * (the scheduler's fresh callback says so, workers.c): its next refresh
 * is a full one, whose time its lead does not foretell.
 *
 * A refresh is done by *unit*: the due DT preceded by every DT it reads,
 * directly or not, all refreshed in one transaction as of one snapshot
 * (refresh_scheduled_unit), so tables refreshed together share one data
 * timestamp and a DT never reads an input older than itself.  A DOWNSTREAM
 * DT is never due on its own: it is refreshed in the units of the DTs that
 * read it, which is exactly "as fresh as its readers need"; with no reader
 * it is never refreshed by the scheduler.  A due DT that another due DT
 * reads is left to that DT's unit; a unit that shares a DT with a refresh
 * in progress waits.
 *
 * The decisions take "now" as an argument: dt_internal.schedule_plan(now)
 * shows them and dt_internal.run_scheduled_refreshes(now) carries them out
 * in the calling session (api.c), so that tests drive time instead of
 * waiting.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "scheduler.h"

#define MIN_LEAD_US		(100 * 1000)
#define RECENT_REFRESHES 10		/* the refreshes whose longest is the lead */

/* What the scheduler knows of one DT. */
typedef struct ScheduleEntry
{
	Oid			relid;
	bool		active;
	bool		populated;
	bool		downstream;
	int64		lag_us;
	TimestampTz data_timestamp; /* 0: never refreshed */
	int64		expected_us;	/* the longest of its recent scheduled
								 * refreshes; -1: none */
	double		ratio;			/* the largest of their times over the stretch
								 * of changes each covered; -1: none */
	int64		longest_us;		/* ... of its recent refreshes of any kind
								 * (its creation too); -1: none */
	List	   *inputs;			/* the DTs it reads */
	List	   *tables;			/* the other relations it reads */
	TimestampTz due_at;
} ScheduleEntry;

/* add_entry: schedule_load's row function, one DT's facts. */
static void
add_entry(HeapTuple tup, TupleDesc desc, void *arg)
{
	List	  **entries = (List **) arg;
	bool		isnull;
	Datum		d;
	ScheduleEntry *e = palloc0(sizeof(ScheduleEntry));
	Datum	   *inputs;
	int			ninputs;
	int			k;

	e->relid = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
	e->active = DatumGetBool(SPI_getbinval(tup, desc, 2, &isnull));
	e->populated = DatumGetBool(SPI_getbinval(tup, desc, 3, &isnull));
	e->downstream = DatumGetBool(SPI_getbinval(tup, desc, 4, &isnull));
	e->lag_us = DatumGetInt64(SPI_getbinval(tup, desc, 5, &isnull));
	d = SPI_getbinval(tup, desc, 6, &isnull);
	e->data_timestamp = isnull ? 0 : DatumGetTimestampTz(d);
	e->expected_us = DatumGetInt64(SPI_getbinval(tup, desc, 7, &isnull));
	e->ratio = DatumGetFloat8(SPI_getbinval(tup, desc, 8, &isnull));
	e->longest_us = DatumGetInt64(SPI_getbinval(tup, desc, 9, &isnull));
	deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(tup, desc, 10, &isnull)),
					  OIDOID, sizeof(Oid), true, TYPALIGN_INT, &inputs, NULL, &ninputs);
	for (k = 0; k < ninputs; k++)
		e->inputs = lappend_oid(e->inputs, DatumGetObjectId(inputs[k]));
	deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(tup, desc, 11, &isnull)),
					  OIDOID, sizeof(Oid), true, TYPALIGN_INT, &inputs, NULL, &ninputs);
	for (k = 0; k < ninputs; k++)
		e->tables = lappend_oid(e->tables, DatumGetObjectId(inputs[k]));
	*entries = lappend(*entries, e);
}

/*
 * schedule_load
 *		Read every DT's scheduling facts.  Must run in a transaction.
 */
List *
schedule_load(void)
{
	MemoryContext caller = CurrentMemoryContext;
	List	   *entries = NIL;

	SPI_connect();
	catalog_exec("SELECT d.relid, d.scheduling_state = 'ACTIVE', d.populated, d.target_lag IS NULL,"
				 " coalesce(extract(epoch FROM d.target_lag) * 1000000, 0)::bigint,"
				 " d.data_timestamp,"
				 " coalesce((s.longest * 1000000)::bigint, -1), coalesce(s.ratio, -1),"
				 " coalesce(((SELECT max(extract(epoch FROM r.refresh_end_time"
				 "                      - LEAST(r.refresh_start_time, r.data_timestamp)))"
				 "   FROM (SELECT refresh_start_time, refresh_end_time, data_timestamp"
				 "         FROM " DT_INTERNAL_SCHEMA ".refresh_log r"
				 "         WHERE r.relid = d.relid AND r.state = 'SUCCEEDED'"
				 "         ORDER BY r.refresh_id DESC LIMIT " CppAsString2(RECENT_REFRESHES) ") r)"
				 "  * 1000000)::bigint, -1),"
				 " ARRAY(SELECT i.input_relid FROM " DT_INTERNAL_SCHEMA ".dynamic_table_input i"
				 "       JOIN " DT_INTERNAL_SCHEMA ".dynamic_table u ON u.relid = i.input_relid"
				 "       WHERE i.relid = d.relid),"
				 " ARRAY(SELECT i.input_relid FROM " DT_INTERNAL_SCHEMA ".dynamic_table_input i"
				 "       WHERE i.relid = d.relid AND NOT EXISTS (SELECT FROM " DT_INTERNAL_SCHEMA ".dynamic_table u"
				 "       WHERE u.relid = i.input_relid))"
				 " FROM " DT_INTERNAL_SCHEMA ".dynamic_table d"
				 " LEFT JOIN LATERAL ("
				 "   SELECT max(extract(epoch FROM r.e - r.s)) AS longest,"
				 "          (max(extract(epoch FROM r.e - r.s) / extract(epoch FROM r.d - r.since))"
				 "           FILTER (WHERE r.d - r.since >= d.target_lag / 4))::float8 AS ratio"
				 "   FROM (SELECT r.refresh_end_time AS e, LEAST(r.refresh_start_time, r.data_timestamp) AS s,"
				 "                r.data_timestamp AS d, GREATEST(lead(r.data_timestamp) OVER w, r.previous_fresh_as_of) AS since"
				 "         FROM (SELECT * FROM " DT_INTERNAL_SCHEMA ".refresh_log r"
				 "               WHERE r.relid = d.relid AND r.state = 'SUCCEEDED' AND r.refresh_trigger = 'SCHEDULED'"
				 "               ORDER BY r.refresh_id DESC LIMIT " CppAsString2(RECENT_REFRESHES) " + 1) r"
				 "         WINDOW w AS (ORDER BY r.refresh_id DESC)) r"
				 "   WHERE r.since IS NOT NULL) s ON true"
				 " WHERE EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.oid = d.relid)"
				 " ORDER BY d.relid",
				 0, NULL, NULL, NULL, SPI_OK_SELECT);
	spi_util_foreach_row(caller, add_entry, &entries);
	SPI_finish();
	return entries;
}

/* find_entry: the entry of relid, or NULL. */
static ScheduleEntry *
find_entry(List *entries, Oid relid)
{
	ListCell   *lc;

	foreach(lc, entries)
	{
		if (((ScheduleEntry *) lfirst(lc))->relid == relid)
			return (ScheduleEntry *) lfirst(lc);
	}
	return NULL;
}

/* entry_inputs: inputs_of for catalog_walk_upstream over the entries. */
static List *
entry_inputs(Oid relid, void *arg)
{
	ScheduleEntry *e = find_entry((List *) arg, relid);

	return e != NULL ? e->inputs : NIL;
}

/*
 * due_after
 *		How long after its data timestamp a DT is due: its lag less its lead.
 *
 * Under steady writes a refresh takes about a share (ratio) of the
 * stretch of changes it covers, which is the lag less the lead plus
 * start_delay_us: so the lag is kept if the lead is ratio / (1 + ratio)
 * of the lag, plus start_delay_us.  The expected time is that, or the
 * longest of the recent refreshes if more (a refresh's fixed part), each
 * taken half as much again: the largest of ten refreshes is no bound on
 * the next (seed 000's summary at 1M rows took 0.12 to 0.35 of its
 * stretch).  The lead is the expected time plus start_delay_us, at least
 * MIN_LEAD_US and at most half the lag.  The longest alone fell short: a
 * lead fitted to short refreshes makes the next stretch longer, and its
 * refresh longer with it.
 */
static int64
due_after(ScheduleEntry *e, int64 start_delay_us)
{
	double		ratio = e->ratio * 3 / 2;
	int64		by_ratio = ratio > 0 ? (int64) (e->lag_us * (ratio / (1 + ratio))) : 0;
	int64		lead = Max(Max(Max(e->expected_us, 0) * 3 / 2, by_ratio) + start_delay_us, MIN_LEAD_US);

	return e->lag_us - Min(lead, e->lag_us / 2);
}

/*
 * compare_due_at
 *		list_sort's order of ScheduleEntry: earliest due first, then by
 *		OID (the order of creation, mostly), so that the plan is the same
 *		for the same catalog.
 */
static int
compare_due_at(const ListCell *a, const ListCell *b)
{
	ScheduleEntry *x = (ScheduleEntry *) lfirst(a);
	ScheduleEntry *y = (ScheduleEntry *) lfirst(b);

	if (x->due_at != y->due_at)
		return x->due_at < y->due_at ? -1 : 1;
	return x->relid < y->relid ? -1 : x->relid > y->relid ? 1 : 0;
}

/*
 * refreshed
 *		Was DT e populated, with a data timestamp, when the schedule was
 *		read?  One that was not is due at once (schedule_plan).
 */
static bool
refreshed(const ScheduleEntry *e)
{
	return e->populated && e->data_timestamp != 0;
}

/*
 * schedule_plan
 *		The units to refresh at now, most overdue first, given the DTs being
 *		refreshed (busy) and how long a worker recently took to start a unit
 *		once it was due (start_delay_us, part of every lead).
 *		*wake, set by the caller, is lowered to when the next DT not yet
 *		due will be.
 *
 * fresh (NULL: none) knows more than the catalog about a DT's unit: given
 * the DT, it returns true if nothing the unit reads has changed since its
 * last refresh (the DT is current: not due, and no reason to wake), or
 * else sets *as_of to a time as of which the DT is known current, later
 * than its data timestamp in the catalog perhaps (0: none), and *due_now
 * if the DT is due at once whatever its lag: an input was bulk-loaded or
 * truncated, and its refresh will be a full one, which its recent
 * refresh times (its lead) do not foretell.
 */
List *
schedule_plan(List *entries, TimestampTz now, int64 start_delay_us, List *busy, TimestampTz *wake,
			  ScheduleFreshFn fresh, void *arg)
{
	List	   *due_entries = NIL;
	List	   *due = NIL;
	List	   *upstream = NIL;
	List	   *units = NIL;
	ListCell   *lc;

	foreach(lc, entries)
	{
		ScheduleEntry *e = (ScheduleEntry *) lfirst(lc);
		TimestampTz as_of = 0;
		bool		due_now = false;

		e->due_at = 0;
		if (!e->active || e->downstream)
			continue;
		if (fresh != NULL && refreshed(e) && fresh(e->relid, &as_of, &due_now, arg))
			continue;
		e->due_at = refreshed(e) && !due_now
			? Max(e->data_timestamp, as_of) + due_after(e, start_delay_us) : now;
		if (e->due_at <= now)
			due_entries = lappend(due_entries, e);
		else if (e->due_at < *wake)
			*wake = e->due_at;
	}
	/* the most overdue first: workers claim units in this order */
	list_sort(due_entries, compare_due_at);
	foreach(lc, due_entries)
		due = lappend_oid(due, ((ScheduleEntry *) lfirst(lc))->relid);

	/* a due DT that another due DT reads is left to that DT's unit */
	foreach(lc, due)
		upstream = list_concat(upstream, find_entry(entries, lfirst_oid(lc))->inputs);
	upstream = catalog_walk_upstream(upstream, entry_inputs, entries, NULL);

	foreach(lc, due)
	{
		Oid			relid = lfirst_oid(lc);
		ListCell   *lc2;
		bool		covered = false;
		List	   *unit;
		List	   *cycle;

		if (list_member_oid(upstream, relid))
			continue;

		/*
		 * DTs that read each other (registration refuses them) are not
		 * refreshed
		 */
		unit = catalog_walk_upstream(list_make1_oid(relid), entry_inputs, entries, &cycle);
		if (cycle != NIL)
			continue;
		foreach(lc2, unit)
		{
			ScheduleEntry *e = find_entry(entries, lfirst_oid(lc2));

			if (list_member_oid(busy, lfirst_oid(lc2)) || !e->active)
				covered = true;
		}
		if (!covered)
			units = lappend(units, unit);
	}
	return units;
}

/*
 * schedule_tables_read
 *		The relations other than DTs that relid's unit reads: those relid
 *		reads, and those of the DTs it reads, directly or not.  Their
 *		changes are the only ones that can change the unit's DTs (a DT
 *		changes only by a refresh of its own).
 */
List *
schedule_tables_read(List *entries, Oid relid)
{
	List	   *tables = NIL;
	ListCell   *lc;

	foreach(lc, catalog_walk_upstream(list_make1_oid(relid), entry_inputs, entries, NULL))
	{
		ScheduleEntry *e = find_entry(entries, lfirst_oid(lc));

		if (e != NULL)
			tables = list_concat_unique_oid(tables, e->tables);
	}
	return tables;
}

/*
 * schedule_dts_read
 *		The DTs of relid's unit and those they read, directly or not:
 *		relid and every DT upstream of it.  A change to one of them (a new
 *		definition, a suspension) can change what the unit's DTs hold.
 */
List *
schedule_dts_read(List *entries, Oid relid)
{
	List	   *dts = NIL;
	ListCell   *lc;

	foreach(lc, catalog_walk_upstream(list_make1_oid(relid), entry_inputs, entries, NULL))
	{
		if (find_entry(entries, lfirst_oid(lc)) != NULL)
			dts = lappend_oid(dts, lfirst_oid(lc));
	}
	return dts;
}

/*
 * schedule_due_after
 *		How long after it is last known current DT relid is due (its lag
 *		less its lead, with start_delay_us), or -1 if it is never due on its
 *		own.
 */
int64
schedule_due_after(List *entries, Oid relid, int64 start_delay_us)
{
	ScheduleEntry *e = find_entry(entries, relid);

	return e != NULL && !e->downstream ? due_after(e, start_delay_us) : -1;
}

/*
 * schedule_due_at
 *		When DT relid was due in the last schedule_plan of entries (0 if it
 *		was not planned: current, or not scheduled on its own).
 */
TimestampTz
schedule_due_at(List *entries, Oid relid)
{
	ScheduleEntry *e = find_entry(entries, relid);

	return e != NULL ? e->due_at : 0;
}

/*
 * schedule_unit_refreshed
 *		Was every DT of unit populated, with a data timestamp, when entries
 *		were read?  If not, a refresh of the unit that populated one leaves
 *		entries stale: until they are read again, schedule_plan would find
 *		it due at once, again and again.
 */
bool
schedule_unit_refreshed(List *entries, List *unit)
{
	ListCell   *lc;

	foreach(lc, unit)
	{
		ScheduleEntry *e = find_entry(entries, lfirst_oid(lc));

		if (e != NULL && !refreshed(e))
			return false;
	}
	return true;
}

/*
 * schedule_expected
 *		How long the refreshes of DT relid's unit may take: the longest of
 *		its recent refreshes of any kind (its creation, manual ones), or -1
 *		if it was never refreshed.
 */
int64
schedule_expected(List *entries, Oid relid)
{
	ScheduleEntry *e = find_entry(entries, relid);

	return e != NULL ? e->longest_us : -1;
}

/*
 * schedule_any_shorter
 *		Is a DT of entries scheduled on its own whose recent refreshes all
 *		took less than us?
 */
bool
schedule_any_shorter(List *entries, int64 us)
{
	ListCell   *lc;

	foreach(lc, entries)
	{
		ScheduleEntry *e = (ScheduleEntry *) lfirst(lc);

		if (e->active && !e->downstream && e->longest_us >= 0 && e->longest_us < us)
			return true;
	}
	return false;
}
