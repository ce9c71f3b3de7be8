/*-------------------------------------------------------------------------
 *
 * api.c
 *	  The JSON endpoints of dt_dashboard and the statements behind them.
 *
 * Every endpoint is one prepared statement that returns one JSON value,
 * built by PostgreSQL (json_agg over the rows of a dynamic table or of the
 * dt views): the numbers a page shows are the database's, unconverted.
 *
 * FlakeBench (examples/flakebench, seed 000's dashboard):
 *	 GET /api/table-types [table_type]			dt_table_type_summary
 *	 GET /api/templates [template_id]			dt_template_statistics
 *	 GET /api/template-runs template_id [limit] the v_template_runs view
 *	 GET /api/template-histogram template_id	latencies of query_executions
 *	 GET /api/daily-cost [days]					dt_daily_cost_rollup
 * Each of the dynamic-table endpoints takes source=query to compute the
 * same answer from the table's defining query (dt.dynamic_tables.query)
 * instead of reading the table: the base-table side of the comparison the
 * dashboard exists for.  Their answers carry "freshness": the table's data
 * timestamp, lag and target lag from dt.dynamic_tables.
 *
 * The console, on any database with the extension:
 *	 GET /api/dynamic-tables					dt.dynamic_tables, with inputs
 *	 GET /api/dynamic-tables/history name [limit]	dt.refresh_history
 *	 GET /api/dynamic-tables/lag name [limit]	lag over time
 *	 POST /api/dynamic-tables/{suspend,resume,refresh} name
 * A dynamic table is named by its schema-qualified, quoted-where-needed
 * name, the "id" of /api/dynamic-tables.  The POST endpoints run
 * dt.suspend, dt.resume and dt.refresh as the server's database role, and
 * need the header "X-Requested-By: dt-dashboard", which a page of another
 * site cannot send without this server's consent (CORS): no other site
 * can make a visitor's browser press the buttons.
 *
 * GET /metrics is metrics.c's.
 *
 * dashboard/api.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "dt_dashboard.h"

#define TABLE_TYPE_SUMMARY "flakebench.dt_table_type_summary"
#define TEMPLATE_STATISTICS "flakebench.dt_template_statistics"
#define DAILY_COST_ROLLUP "flakebench.dt_daily_cost_rollup"

/*
 * FRESHNESS(dt): how fresh dynamic table dt is, from dt.dynamic_tables.
 * COMPUTED(dt): the same place in an answer computed from dt's query.
 */
#define FRESHNESS(dt) \
	"(SELECT json_build_object('table', format('%I.%I', d.schema_name, d.table_name)," \
	" 'source', 'dynamic_table', 'target_lag', d.target_lag," \
	" 'target_lag_s', CASE WHEN d.target_lag <> 'DOWNSTREAM' THEN extract(epoch FROM d.target_lag::interval) END," \
	" 'data_timestamp', d.data_timestamp, 'current_lag_s', extract(epoch FROM d.current_lag)," \
	" 'scheduling_state', d.scheduling_state, 'refresh_mode', d.refresh_mode," \
	" 'last_refresh', d.last_refresh, 'last_refresh_action', d.last_refresh_action)" \
	" FROM dt.dynamic_tables d WHERE d.relid = pg_catalog.to_regclass('" dt "'))"
#define COMPUTED(dt) \
	"json_build_object('table', '" dt "', 'source', 'query', 'computed_at', clock_timestamp())"

/* The rows of {rel} as a JSON array, in the given order, [] when none. */
#define ROWS(where, order) \
	"coalesce((SELECT json_agg(t ORDER BY " order ") FROM {rel} t " where "), '[]')"

#define TABLE_TYPES_SQL(fresh, where) \
	"SELECT json_build_object('freshness', " fresh ", 'rows', " ROWS(where, "t.table_type") ")"
#define TEMPLATES_SQL(fresh, where) \
	"SELECT json_build_object('freshness', " fresh ", 'rows', " ROWS(where, "t.template_id") ")"

/*
 * The daily cost page: per day and table type, and per table type and
 * warehouse size, over the last $1 days (today included), and the newest
 * refreshed_at of those rows.  One pass over the rows (grouping sets),
 * which costs half what two aggregations of a materialized CTE did.
 */
#define DAILY_COST_SQL(fresh) \
	"WITH g AS (SELECT grouping(run_date) AS by_type, run_date, table_type, warehouse_size," \
	"                  sum(test_count) AS test_count, sum(total_credits) AS total_credits," \
	"                  sum(total_operations) AS total_operations," \
	"                  sum(total_test_duration_seconds) AS total_test_duration_seconds," \
	"                  max(refreshed_at) AS refreshed_at" \
	"             FROM {rel} t WHERE t.run_date > current_date - $1::int" \
	"            GROUP BY GROUPING SETS ((run_date, table_type), (table_type, warehouse_size)))" \
	" SELECT json_build_object('freshness', " fresh ", 'days', $1::int, 'refreshed_at', max(refreshed_at)," \
	"   'by_day', coalesce(json_agg(json_build_object('run_date', run_date, 'table_type', table_type," \
	"       'test_count', test_count, 'total_credits', total_credits, 'total_operations', total_operations)" \
	"     ORDER BY run_date, table_type) FILTER (WHERE by_type = 0), '[]')," \
	"   'by_type', coalesce(json_agg(json_build_object('table_type', table_type, 'warehouse_size', warehouse_size," \
	"       'test_count', test_count, 'total_credits', total_credits, 'total_operations', total_operations," \
	"       'credits_per_1k_ops', CASE WHEN total_operations > 0 THEN total_credits / total_operations * 1000 END," \
	"       'total_test_duration_seconds', total_test_duration_seconds)" \
	"     ORDER BY table_type, warehouse_size) FILTER (WHERE by_type = 1), '[]'))" \
	" FROM g"

/* The dynamic table named $1 (the "id" of /api/dynamic-tables). */
#define NAMED_DT \
	"SELECT relid FROM dt.dynamic_tables WHERE name = $1::text"

const DashStatement dash_statements[ST_COUNT] = {
	[ST_TABLE_TYPES] = {"table_types",
		TABLE_TYPES_SQL(FRESHNESS(TABLE_TYPE_SUMMARY), ""),
	0, TABLE_TYPE_SUMMARY, false},
	[ST_TABLE_TYPES_COMPUTED] = {"table_types_computed",
		TABLE_TYPES_SQL(COMPUTED(TABLE_TYPE_SUMMARY), ""),
	0, TABLE_TYPE_SUMMARY, true},
	[ST_TABLE_TYPE] = {"table_type",
		TABLE_TYPES_SQL(FRESHNESS(TABLE_TYPE_SUMMARY), "WHERE t.table_type = $1::text"),
	1, TABLE_TYPE_SUMMARY, false},
	[ST_TABLE_TYPE_COMPUTED] = {"table_type_computed",
		TABLE_TYPES_SQL(COMPUTED(TABLE_TYPE_SUMMARY), "WHERE t.table_type = $1::text"),
	1, TABLE_TYPE_SUMMARY, true},
	[ST_TEMPLATES] = {"templates",
		TEMPLATES_SQL(FRESHNESS(TEMPLATE_STATISTICS), ""),
	0, TEMPLATE_STATISTICS, false},
	[ST_TEMPLATES_COMPUTED] = {"templates_computed",
		TEMPLATES_SQL(COMPUTED(TEMPLATE_STATISTICS), ""),
	0, TEMPLATE_STATISTICS, true},
	[ST_TEMPLATE] = {"template",
		TEMPLATES_SQL(FRESHNESS(TEMPLATE_STATISTICS), "WHERE t.template_id = $1::text"),
	1, TEMPLATE_STATISTICS, false},
	[ST_TEMPLATE_COMPUTED] = {"template_computed",
		TEMPLATES_SQL(COMPUTED(TEMPLATE_STATISTICS), "WHERE t.template_id = $1::text"),
	1, TEMPLATE_STATISTICS, true},
	/* seed 000's V_TEMPLATE_RUNS: a view over test_results, always live */
	[ST_TEMPLATE_RUNS] = {"template_runs",
		"SELECT json_build_object('template_id', $1::text, 'computed_at', clock_timestamp(),"
		" 'rows', coalesce((SELECT json_agg(r ORDER BY r.start_time DESC, r.test_id DESC) FROM"
		"   (SELECT * FROM flakebench.v_template_runs WHERE template_id = $1::text"
		"     ORDER BY start_time DESC, test_id DESC LIMIT $2::int) r), '[]'))",
	2, NULL, false},
	/* seed 000's histogram query: 20 buckets of 10 ms, warm-up excluded */
	[ST_TEMPLATE_HISTOGRAM] = {"template_histogram",
		"SELECT json_build_object('template_id', $1::text, 'computed_at', clock_timestamp(),"
		" 'buckets', coalesce(json_agg(h ORDER BY h.bucket), '[]')) FROM"
		" (SELECT width_bucket(qe.app_elapsed_ms, 0, 200, 20) AS bucket,"
		"         min(qe.app_elapsed_ms) AS bucket_min, max(qe.app_elapsed_ms) AS bucket_max, count(*) AS count"
		"    FROM flakebench.query_executions qe JOIN flakebench.test_results tr ON qe.test_id = tr.test_id"
		"   WHERE tr.test_config->>'template_id' = $1::text AND qe.warmup = false AND qe.success = true"
		"   GROUP BY 1) h",
	1, NULL, false},
	[ST_DAILY_COST] = {"daily_cost",
		DAILY_COST_SQL(FRESHNESS(DAILY_COST_ROLLUP)),
	1, DAILY_COST_ROLLUP, false},
	[ST_DAILY_COST_COMPUTED] = {"daily_cost_computed",
		DAILY_COST_SQL(COMPUTED(DAILY_COST_ROLLUP)),
	1, DAILY_COST_ROLLUP, true},
	[ST_DYNAMIC_TABLES] = {"dynamic_tables",
		"SELECT coalesce(json_agg(t ORDER BY t.id), '[]') FROM"
		" (SELECT format('%I.%I', d.schema_name, d.table_name) AS id, d.schema_name, d.table_name,"
		"         d.target_lag,"
		"         CASE WHEN d.target_lag <> 'DOWNSTREAM' THEN extract(epoch FROM d.target_lag::interval) END"
		"           AS target_lag_s,"
		"         d.refresh_mode, d.requested_refresh_mode, d.refresh_mode_reason,"
		"         d.scheduling_state, d.scheduling_state_reason, d.populated, d.data_timestamp,"
		"         extract(epoch FROM d.current_lag) AS current_lag_s,"
		"         extract(epoch FROM d.mean_lag) AS mean_lag_s,"
		"         extract(epoch FROM d.maximum_lag) AS maximum_lag_s,"
		"         d.time_within_target_lag_ratio, d.last_refresh, d.last_refresh_action,"
		"         d.last_refresh_state, d.consecutive_failures, d.created_at, d.query,"
		"         ARRAY(SELECT format('%I.%I', n.nspname, c.relname)"
		"                 FROM unnest(d.inputs) WITH ORDINALITY i(rel, k)"
		"                 JOIN pg_catalog.pg_class c ON c.oid = i.rel"
		"                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
		"                ORDER BY i.k) AS inputs"
		"    FROM dt.dynamic_tables d) t",
	0, NULL, false},
	[ST_HISTORY] = {"history",
		"WITH d AS MATERIALIZED (" NAMED_DT ")"
		" SELECT json_build_object('name', $1::text, 'rows', coalesce((SELECT json_agg(h ORDER BY h.refresh_id DESC) FROM"
		"   (SELECT refresh_id, refresh_start_time, refresh_end_time,"
		"           extract(epoch FROM duration) AS duration_s, data_timestamp, refresh_action,"
		"           refresh_trigger, state, rows_inserted, rows_deleted, rows_updated, state_message"
		"      FROM dt.refresh_history WHERE relid = d.relid"
		"     ORDER BY refresh_id DESC LIMIT $2::int) h), '[]'))"
		" FROM d",
	2, NULL, false},

	/*
	 * Lag over time: after a successful refresh with data timestamp d that
	 * ended at e, until the next successful one ends at f (or now), the lag
	 * rises from e - d to f - d.  One segment per refresh, the last $2.
	 */
	[ST_LAG] = {"lag",
		"WITH d AS MATERIALIZED (SELECT relid, target_lag FROM dt.dynamic_tables WHERE name = $1::text),"
		" s AS (SELECT h.refresh_id, h.data_timestamp, h.refresh_end_time AS e,"
		"              coalesce(lead(h.refresh_end_time) OVER (ORDER BY h.refresh_id), now()) AS f"
		"         FROM dt.refresh_history h, d"
		"        WHERE h.relid = d.relid AND h.state = 'SUCCEEDED' AND h.data_timestamp IS NOT NULL),"
		" l AS (SELECT * FROM s ORDER BY refresh_id DESC LIMIT $2::int)"
		" SELECT json_build_object('name', $1::text, 'target_lag', d.target_lag,"
		"   'target_lag_s', CASE WHEN d.target_lag <> 'DOWNSTREAM' THEN extract(epoch FROM d.target_lag::interval) END,"
		"   'now', now(),"
		"   'segments', coalesce((SELECT json_agg(json_build_object('refresh_id', l.refresh_id,"
		"       'data_timestamp', l.data_timestamp, 'from', l.e, 'to', l.f,"
		"       'lag_from_s', extract(epoch FROM l.e - l.data_timestamp),"
		"       'lag_to_s', extract(epoch FROM l.f - l.data_timestamp)) ORDER BY l.refresh_id) FROM l), '[]'))"
		" FROM d",
	2, NULL, false},
	[ST_SUSPEND] = {"suspend",
		"WITH d AS MATERIALIZED (" NAMED_DT ")"
		" SELECT json_build_object('name', $1::text, 'action', 'suspend', 'done', true) FROM d, dt.suspend(d.relid) r",
	1, NULL, false},
	[ST_RESUME] = {"resume",
		"WITH d AS MATERIALIZED (" NAMED_DT ")"
		" SELECT json_build_object('name', $1::text, 'action', 'resume', 'done', true) FROM d, dt.resume(d.relid) r",
	1, NULL, false},
	[ST_REFRESH] = {"refresh",
		"WITH d AS MATERIALIZED (" NAMED_DT ")"
		" SELECT json_build_object('name', $1::text, 'action', 'refresh', 'done', true,"
		"   'result', json_build_object('action', r.action, 'rows_inserted', r.rows_inserted,"
		"     'rows_deleted', r.rows_deleted, 'rows_updated', r.rows_updated,"
		"     'duration_s', extract(epoch FROM r.duration)))"
		" FROM d, dt.refresh(d.relid) r",
	1, NULL, false},
	[ST_METRICS_TABLES] = {"metrics_tables",
		"SELECT name, extract(epoch FROM current_lag),"
		"       CASE WHEN target_lag <> 'DOWNSTREAM' THEN extract(epoch FROM target_lag::interval) END,"
		"       scheduling_state, consecutive_failures, time_within_target_lag_ratio,"
		"       populated::int, extract(epoch FROM last_refresh), refresh_mode"
		"  FROM dt.dynamic_tables ORDER BY 1",
	0, NULL, false},
	[ST_METRICS_HISTORY] = {"metrics_history",
		"SELECT format('%I.%I', n.nspname, c.relname), coalesce(h.refresh_action, 'NONE'), h.state,"
		"       count(*), coalesce(sum(extract(epoch FROM h.duration)), 0),"
		"       coalesce(sum(h.rows_inserted), 0), coalesce(sum(h.rows_deleted), 0),"
		"       coalesce(sum(h.rows_updated), 0)"
		"  FROM dt.refresh_history h"
		"  JOIN pg_catalog.pg_class c ON c.oid = h.relid"
		"  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
		" GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
	0, NULL, false},
};

struct Route;
typedef void (*Handler) (DashRequest *req, DashResponse *resp,
						 const struct Route *route);

/*
 * An endpoint: its path, method, the parameters it accepts, its handler,
 * and what the handler runs: statement st (and the next one, computed from
 * the dynamic table's query, for source=query); with key, statement one
 * (and the next) when the key parameter is given.
 */
typedef struct Route
{
	const char *path;
	const char *method;			/* "GET" (HEAD too) or "POST" */
	const char *const *params;	/* NULL-terminated */
	Handler		handler;
	DashStatementId st;
	const char *key;
	DashStatementId one;
} Route;

/*
 * run_json
 *		Run statement st with values and make its one JSON value the body of
 *		resp; a statement that returns no row (a dynamic table not found)
 *		gives 404 with not_found as the message.
 */
static void
run_json(DashResponse *resp, DashStatementId st, const char *const *values,
		 const char *not_found)
{
	DashError	err;
	PGresult   *res = pool_exec(st, values, &err);

	if (res == NULL)
		response_db_error(resp, &err);
	else if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0))
		response_error(resp, 404, not_found, NULL);
	else
	{
		appendPQExpBufferStr(resp->body, PQgetvalue(res, 0, 0));
		appendPQExpBufferChar(resp->body, '\n');
	}
	if (res != NULL)
		PQclear(res);
}

/*
 * source_param
 *		Read parameter "source": "dynamic_table" (the default) or "query".
 *		Sets *computed for "query"; false with a 400 in resp otherwise.
 */
static bool
source_param(DashRequest *req, bool *computed, DashResponse *resp)
{
	const char *source;

	if (!request_text_param(req, "source", false, 20, true, &source, resp))
		return false;
	*computed = source != NULL && strcmp(source, "query") == 0;
	if (source != NULL && !*computed && strcmp(source, "dynamic_table") != 0)
	{
		response_error(resp, 400, "parameter \"source\" must be \"dynamic_table\" or \"query\"", NULL);
		return false;
	}
	return true;
}

/*
 * flakebench_table
 *		A FlakeBench endpoint over a dynamic table: route->st, or with the
 *		key parameter route->one; the next statement for source=query.
 */
static void
flakebench_table(DashRequest *req, DashResponse *resp, const Route *route)
{
	const char *value;
	bool		computed;

	if (!source_param(req, &computed, resp) ||
		!request_text_param(req, route->key, false, 100, true, &value, resp))
		return;
	if (value == NULL)
		run_json(resp, route->st + computed, NULL, "no answer");
	else
	{
		const char *values[] = {value};

		run_json(resp, route->one + computed, values, "no answer");
	}
}

/*
 * daily_cost
 *		The daily cost endpoint: parameter days (1 to 3660, default 90).
 */
static void
daily_cost(DashRequest *req, DashResponse *resp, const Route *route)
{
	bool		computed;
	int			days;
	char		days_text[16];

	if (!source_param(req, &computed, resp) ||
		!request_int_param(req, "days", 1, 3660, 90, &days, resp))
		return;
	snprintf(days_text, sizeof(days_text), "%d", days);
	{
		const char *values[] = {days_text};

		run_json(resp, route->st + computed, values, "no answer");
	}
}

/*
 * with_limit
 *		An endpoint about one thing, named by the route's key parameter
 *		(required), with parameter limit (1 to 1000, default 50 for a
 *		template's runs, 100 for a dynamic table's history); route->st.
 */
static void
with_limit(DashRequest *req, DashResponse *resp, const Route *route)
{
	const char *name;
	int			limit;
	char		limit_text[16];
	bool		is_template = strcmp(route->key, "template_id") == 0;

	if (!request_text_param(req, route->key, true, is_template ? 100 : 200, is_template, &name, resp) ||
		!request_int_param(req, "limit", 1, 1000, is_template ? 50 : 100, &limit, resp))
		return;
	snprintf(limit_text, sizeof(limit_text), "%d", limit);
	{
		const char *values[] = {name, limit_text};

		run_json(resp, route->st, values,
				 is_template ? "no answer" : "no dynamic table has this name");
	}
}

/*
 * histogram
 *		The latency histogram of template template_id (required).
 */
static void
histogram(DashRequest *req, DashResponse *resp, const Route *route)
{
	const char *tpl;

	if (!request_text_param(req, "template_id", true, 100, true, &tpl, resp))
		return;
	{
		const char *values[] = {tpl};

		run_json(resp, route->st, values, "no answer");
	}
}

/*
 * no_params
 *		An endpoint that takes no parameter: route->st.
 */
static void
no_params(DashRequest *req, DashResponse *resp, const Route *route)
{
	run_json(resp, route->st, NULL, "no answer");
}

/*
 * action
 *		The console's buttons: run route->st (suspend, resume, refresh) on
 *		the dynamic table named by parameter name.  PostgreSQL decides who
 *		may; its refusal is the answer (403).
 */
static void
action(DashRequest *req, DashResponse *resp, const Route *route)
{
	const char *name;
	const char *by = request_header(req, "X-Requested-By");

	if (by == NULL || strcmp(by, "dt-dashboard") != 0)
	{
		response_error(resp, 403, "actions need the header \"X-Requested-By: dt-dashboard\"", NULL);
		return;
	}
	if (!request_text_param(req, "name", true, 200, false, &name, resp))
		return;
	{
		const char *values[] = {name};

		run_json(resp, route->st, values, "no dynamic table has this name");
	}
}

static void
metrics(DashRequest *req, DashResponse *resp, const Route *route)
{
	metrics_write(resp);
}

static const char *const none[] = {NULL};
static const char *const table_type_params[] = {"table_type", "source", NULL};
static const char *const template_params[] = {"template_id", "source", NULL};
static const char *const runs_params[] = {"template_id", "limit", NULL};
static const char *const histogram_params[] = {"template_id", NULL};
static const char *const cost_params[] = {"days", "source", NULL};
static const char *const named_params[] = {"name", "limit", NULL};
static const char *const action_params[] = {"name", NULL};

static const Route routes[] = {
	{"/api/table-types", "GET", table_type_params, flakebench_table,
	ST_TABLE_TYPES, "table_type", ST_TABLE_TYPE},
	{"/api/templates", "GET", template_params, flakebench_table,
	ST_TEMPLATES, "template_id", ST_TEMPLATE},
	{"/api/template-runs", "GET", runs_params, with_limit, ST_TEMPLATE_RUNS, "template_id"},
	{"/api/template-histogram", "GET", histogram_params, histogram, ST_TEMPLATE_HISTOGRAM},
	{"/api/daily-cost", "GET", cost_params, daily_cost, ST_DAILY_COST},
	{"/api/dynamic-tables", "GET", none, no_params, ST_DYNAMIC_TABLES},
	{"/api/dynamic-tables/history", "GET", named_params, with_limit, ST_HISTORY, "name"},
	{"/api/dynamic-tables/lag", "GET", named_params, with_limit, ST_LAG, "name"},
	{"/api/dynamic-tables/suspend", "POST", action_params, action, ST_SUSPEND},
	{"/api/dynamic-tables/resume", "POST", action_params, action, ST_RESUME},
	{"/api/dynamic-tables/refresh", "POST", action_params, action, ST_REFRESH},
	{"/metrics", "GET", none, metrics, ST_METRICS_TABLES},
};

/*
 * api_dispatch
 *		Answer a request for path in resp.  Returns false if no endpoint
 *		has this path; a wrong method is a 405 with the Allow header.
 */
bool
api_dispatch(DashRequest *req, const char *method, const char *path,
			 DashResponse *resp)
{
	const Route *r;

	for (r = routes; r < routes + lengthof(routes); r++)
	{
		bool		get = strcmp(r->method, "GET") == 0;

		if (strcmp(r->path, path) != 0)
			continue;
		if (strcmp(method, r->method) != 0 && !(get && strcmp(method, "HEAD") == 0))
		{
			response_error(resp, 405, get ? "this endpoint is read with GET" : "this endpoint takes POST", NULL);
			resp->allow = get ? "GET, HEAD" : "POST";
			return true;
		}
		if (request_allow_params(req, r->params, resp))
			r->handler(req, resp, r);
		return true;
	}
	return false;
}
