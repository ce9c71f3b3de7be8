/*-------------------------------------------------------------------------
 *
 * metrics.c
 *	  GET /metrics: the dynamic tables of the database in Prometheus' text
 *	  exposition format (version 0.0.4).
 *
 * Per dynamic table (label name, its schema-qualified name): its current
 * lag and target lag, scheduling state, consecutive failures, share of
 * time within the target lag, whether it is populated, when it last
 * refreshed; and, per refresh action and state, the count, total duration
 * and rows inserted, deleted and updated of its refreshes.
 *
 * Every value is printed as PostgreSQL printed it (only Infinity and NaN
 * are spelt Prometheus' way): nothing is computed here.  The refresh
 * figures cover the history that dt.refresh_history keeps (the last
 * pg_dynamic_tables.refresh_history_size refreshes of each table), which
 * can shrink; they are therefore gauges, not counters, so that rate() is
 * never applied to a series that goes down for another reason than a
 * restart.
 *
 * dashboard/metrics.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "dt_dashboard.h"

/* Columns of ST_METRICS_TABLES. */
enum
{
	MT_NAME,
	MT_CURRENT_LAG,
	MT_TARGET_LAG,
	MT_STATE,
	MT_FAILURES,
	MT_WITHIN_RATIO,
	MT_POPULATED,
	MT_LAST_REFRESH,
	MT_REFRESH_MODE
};

/* Columns of ST_METRICS_HISTORY. */
enum
{
	MH_NAME,
	MH_ACTION,
	MH_STATE,
	MH_COUNT,
	MH_DURATION,
	MH_INSERTED,
	MH_DELETED,
	MH_UPDATED
};

/* The scheduling states every table gets a 0 or 1 for. */
static const char *const states[] = {"ACTIVE", "SUSPENDED"};

/*
 * family
 *		The HELP and TYPE lines of gauge family name.
 */
static void
family(PQExpBuffer b, const char *name, const char *help)
{
	appendPQExpBuffer(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/*
 * append_label_value
 *		Append s as an exposition-format label value: backslash, double
 *		quote and newline escaped.
 */
static void
append_label_value(PQExpBuffer b, const char *s)
{
	appendPQExpBufferChar(b, '"');
	for (; *s != '\0'; s++)
	{
		if (*s == '\\' || *s == '"')
			appendPQExpBufferChar(b, '\\');
		if (*s == '\n')
			appendPQExpBufferStr(b, "\\n");
		else
			appendPQExpBufferChar(b, *s);
	}
	appendPQExpBufferChar(b, '"');
}

/*
 * sample
 *		One sample line: metric name, labels (name/value pairs ending with
 *		NULL) and value, a number as PostgreSQL prints it.
 */
static void
sample(PQExpBuffer b, const char *name, const char *const *labels,
	   const char *value)
{
	appendPQExpBufferStr(b, name);
	appendPQExpBufferChar(b, '{');
	for (; labels[0] != NULL; labels += 2)
	{
		appendPQExpBuffer(b, "%s=", labels[0]);
		append_label_value(b, labels[1]);
		if (labels[2] != NULL)
			appendPQExpBufferChar(b, ',');
	}
	appendPQExpBufferStr(b, "} ");
	if (strcmp(value, "Infinity") == 0)
		value = "+Inf";
	else if (strcmp(value, "-Infinity") == 0)
		value = "-Inf";
	appendPQExpBuffer(b, "%s\n", value);
}

/*
 * table_family
 *		A family with one sample per dynamic table, from column col of
 *		ST_METRICS_TABLES; tables where it is NULL have none.
 */
static void
table_family(PQExpBuffer b, PGresult *res, int col, const char *name,
			 const char *help)
{
	int			i;

	family(b, name, help);
	for (i = 0; i < PQntuples(res); i++)
	{
		const char *labels[] = {"name", PQgetvalue(res, i, MT_NAME), NULL};

		if (!PQgetisnull(res, i, col))
			sample(b, name, labels, PQgetvalue(res, i, col));
	}
}

/*
 * history_sample
 *		The sample of family name for row row of ST_METRICS_HISTORY (one
 *		dynamic table, refresh action and state): column col, with change
 *		as an extra label when not NULL.
 */
static void
history_sample(PQExpBuffer b, PGresult *res, int row, int col,
			   const char *name, const char *change)
{
	const char *labels[] = {"name", PQgetvalue(res, row, MH_NAME),
		"action", PQgetvalue(res, row, MH_ACTION),
		"state", PQgetvalue(res, row, MH_STATE),
	"change", change, NULL};

	if (change == NULL)
		labels[6] = NULL;
	sample(b, name, labels, PQgetvalue(res, row, col));
}

/*
 * metrics_write
 *		Make resp the exposition of every dynamic table, or an error if the
 *		dt views cannot be read.
 */
void
metrics_write(DashResponse *resp)
{
	DashError	err;
	PGresult   *tables;
	PGresult   *hist;
	PQExpBuffer b = resp->body;
	int			i;
	int			s;

	tables = pool_exec(ST_METRICS_TABLES, NULL, &err);
	if (tables == NULL)
	{
		response_db_error(resp, &err);
		return;
	}
	hist = pool_exec(ST_METRICS_HISTORY, NULL, &err);
	if (hist == NULL)
	{
		PQclear(tables);
		response_db_error(resp, &err);
		return;
	}
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";

	table_family(b, tables, MT_CURRENT_LAG, "dt_current_lag_seconds",
				 "Seconds since the data timestamp of the dynamic table (now minus data_timestamp).");
	table_family(b, tables, MT_TARGET_LAG, "dt_target_lag_seconds",
				 "Target lag of the dynamic table in seconds (none for DOWNSTREAM).");
	family(b, "dt_scheduling_state", "1 for the scheduling state the dynamic table is in, 0 for the others.");
	for (i = 0; i < PQntuples(tables); i++)
	{
		const char *current = PQgetvalue(tables, i, MT_STATE);
		bool		known = false;

		for (s = 0; s < lengthof(states); s++)
		{
			const char *labels[] = {"name", PQgetvalue(tables, i, MT_NAME), "state", states[s], NULL};

			known |= strcmp(current, states[s]) == 0;
			sample(b, "dt_scheduling_state", labels, strcmp(current, states[s]) == 0 ? "1" : "0");
		}
		if (!known)
		{
			const char *labels[] = {"name", PQgetvalue(tables, i, MT_NAME), "state", current, NULL};

			sample(b, "dt_scheduling_state", labels, "1");
		}
	}
	family(b, "dt_refresh_mode", "1 for the refresh mode of the dynamic table (INCREMENTAL or FULL).");
	for (i = 0; i < PQntuples(tables); i++)
	{
		const char *labels[] = {"name", PQgetvalue(tables, i, MT_NAME),
		"mode", PQgetvalue(tables, i, MT_REFRESH_MODE), NULL};

		sample(b, "dt_refresh_mode", labels, "1");
	}
	table_family(b, tables, MT_FAILURES, "dt_consecutive_failures",
				 "Scheduled refreshes of the dynamic table that failed in a row.");
	table_family(b, tables, MT_WITHIN_RATIO, "dt_time_within_target_lag_ratio",
				 "Share of the time covered by the refresh history that the lag stayed within the target lag.");
	table_family(b, tables, MT_POPULATED, "dt_populated",
				 "1 if the dynamic table has been populated, 0 if it has not been refreshed yet.");
	table_family(b, tables, MT_LAST_REFRESH, "dt_last_refresh_timestamp_seconds",
				 "Unix time at which the last refresh of the dynamic table ended.");

	family(b, "dt_refreshes",
		   "Refreshes in the refresh history kept for the dynamic table, by action and state.");
	for (i = 0; i < PQntuples(hist); i++)
		history_sample(b, hist, i, MH_COUNT, "dt_refreshes", NULL);
	family(b, "dt_refresh_duration_seconds",
		   "Total duration of the refreshes in the refresh history kept, by action and state.");
	for (i = 0; i < PQntuples(hist); i++)
		history_sample(b, hist, i, MH_DURATION, "dt_refresh_duration_seconds", NULL);
	family(b, "dt_refresh_rows",
		   "Rows inserted, deleted and updated by the refreshes in the refresh history kept, by action and state.");
	for (i = 0; i < PQntuples(hist); i++)
	{
		history_sample(b, hist, i, MH_INSERTED, "dt_refresh_rows", "inserted");
		history_sample(b, hist, i, MH_DELETED, "dt_refresh_rows", "deleted");
		history_sample(b, hist, i, MH_UPDATED, "dt_refresh_rows", "updated");
	}
	PQclear(tables);
	PQclear(hist);
}
