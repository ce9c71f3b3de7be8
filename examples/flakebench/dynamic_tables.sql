-- FlakeBench (seed 000): the three dynamic tables of the dashboard, in
-- PostgreSQL, all three created with refresh_mode 'incremental' (which
-- refuses a query it cannot maintain).  All three merge the changes into
-- per-group state; DT_TEMPLATE_STATISTICS (a window function inside a WITH
-- query) computes its aggregates over the ten latest runs again for the
-- templates the changes touch, reading those ten rows through
-- test_results_template_idx (template, start_time DESC).  Its refreshed_at is in the
-- outer select list, not in the WITH query as in the seed: only there is
-- the clock known to mean "the time of the refresh that wrote the row".
--
-- :lag is the target lag (psql -v lag="'1 minute'"); it defaults to 1 minute.
-- refreshed_at is CURRENT_TIMESTAMP: the time of the refresh that last
-- wrote the row.

SET search_path = flakebench, public;
\if :{?lag}
\else
\set lag '''1 minute'''
\endif

-- Section 2: aggregate metrics per table type.
SELECT dt.create_dynamic_table('flakebench.dt_table_type_summary', $$
SELECT
    table_type,
    count(*) AS test_count,
    count(DISTINCT test_config->>'template_id') AS unique_templates,
    avg(qps) AS avg_qps,
    min(qps) AS min_qps,
    max(qps) AS max_qps,
    percentile_cont(0.50) WITHIN GROUP (ORDER BY qps) AS median_qps,
    percentile_cont(0.95) WITHIN GROUP (ORDER BY qps) AS p95_qps,
    stddev(qps) AS stddev_qps,
    avg(p50_latency_ms) AS avg_p50_ms,
    min(p50_latency_ms) AS min_p50_ms,
    max(p50_latency_ms) AS max_p50_ms,
    percentile_cont(0.50) WITHIN GROUP (ORDER BY p50_latency_ms) AS median_p50_ms,
    avg(p95_latency_ms) AS avg_p95_ms,
    min(p95_latency_ms) AS min_p95_ms,
    max(p95_latency_ms) AS max_p95_ms,
    percentile_cont(0.50) WITHIN GROUP (ORDER BY p95_latency_ms) AS median_p95_ms,
    avg(p99_latency_ms) AS avg_p99_ms,
    min(p99_latency_ms) AS min_p99_ms,
    max(p99_latency_ms) AS max_p99_ms,
    percentile_cont(0.50) WITHIN GROUP (ORDER BY p99_latency_ms) AS median_p99_ms,
    avg(error_rate) AS avg_error_rate,
    max(error_rate) AS max_error_rate,
    sum(failed_operations) AS total_failed_ops,
    sum(warehouse_credits_used) AS total_credits,
    avg(warehouse_credits_used) AS avg_credits_per_test,
    CASE
        WHEN sum(total_operations) > 0
        THEN (sum(warehouse_credits_used) / sum(total_operations)) * 1000
        ELSE NULL
    END AS credits_per_1k_ops,
    sum(total_operations) AS total_operations,
    sum(read_operations) AS total_read_ops,
    sum(write_operations) AS total_write_ops,
    min(start_time) AS earliest_test,
    max(start_time) AS latest_test,
    CURRENT_TIMESTAMP AS refreshed_at
FROM flakebench.test_results
WHERE status = 'COMPLETED'
  AND table_type IS NOT NULL
  AND qps > 0
GROUP BY table_type
$$, target_lag => :lag, refresh_mode => 'incremental');

-- Section 4: daily cost by table type and warehouse size.
SELECT dt.create_dynamic_table('flakebench.dt_daily_cost_rollup', $$
SELECT
    date_trunc('day', start_time)::date AS run_date,
    table_type,
    warehouse_size,
    count(*) AS test_count,
    sum(warehouse_credits_used) AS total_credits,
    avg(warehouse_credits_used) AS avg_credits_per_test,
    sum(total_operations) AS total_operations,
    CASE
        WHEN sum(total_operations) > 0
        THEN (sum(warehouse_credits_used) / sum(total_operations)) * 1000
        ELSE NULL
    END AS credits_per_1k_ops,
    avg(qps) AS avg_qps,
    avg(p95_latency_ms) AS avg_p95_ms,
    sum(duration_seconds) AS total_test_duration_seconds,
    CURRENT_TIMESTAMP AS refreshed_at
FROM flakebench.test_results
WHERE status = 'COMPLETED'
  AND start_time IS NOT NULL
GROUP BY date_trunc('day', start_time)::date, table_type, warehouse_size
$$, target_lag => :lag, refresh_mode => 'incremental');

-- Section 3: rolling statistics per template.
SELECT dt.create_dynamic_table('flakebench.dt_template_statistics', $$
WITH template_tests AS (
    SELECT
        test_config->>'template_id' AS template_id,
        test_config->'scenario'->>'name' AS template_name,
        table_type,
        warehouse_size,
        test_config->'scenario'->>'load_mode' AS load_mode,
        qps, p50_latency_ms, p95_latency_ms, p99_latency_ms, error_rate,
        duration_seconds, concurrent_connections, total_operations,
        warehouse_credits_used,
        start_time,
        row_number() OVER (PARTITION BY test_config->>'template_id'
                           ORDER BY start_time DESC) AS recency_rank
    FROM flakebench.test_results
    WHERE status = 'COMPLETED'
      AND test_config->>'template_id' IS NOT NULL
      AND qps > 0
),
template_aggregates AS (
    SELECT
        template_id,
        max(template_name) AS template_name,
        max(table_type) AS table_type,
        max(warehouse_size) AS warehouse_size,
        max(load_mode) AS load_mode,
        count(*) AS total_runs,
        count(CASE WHEN recency_rank <= 10 THEN 1 END) AS recent_runs,
        avg(qps) AS avg_qps,
        stddev(qps) AS stddev_qps,
        min(qps) AS min_qps,
        max(qps) AS max_qps,
        percentile_cont(0.50) WITHIN GROUP (ORDER BY qps) AS median_qps,
        avg(p95_latency_ms) AS avg_p95_ms,
        stddev(p95_latency_ms) AS stddev_p95_ms,
        min(p95_latency_ms) AS min_p95_ms,
        max(p95_latency_ms) AS max_p95_ms,
        percentile_cont(0.50) WITHIN GROUP (ORDER BY p95_latency_ms) AS median_p95_ms,
        avg(p99_latency_ms) AS avg_p99_ms,
        min(p99_latency_ms) AS min_p99_ms,
        max(p99_latency_ms) AS max_p99_ms,
        avg(error_rate) AS avg_error_rate,
        max(error_rate) AS max_error_rate,
        sum(warehouse_credits_used) AS total_credits,
        avg(warehouse_credits_used) AS avg_credits_per_run,
        CASE
            WHEN sum(total_operations) > 0
            THEN (sum(warehouse_credits_used) / sum(total_operations)) * 1000
            ELSE NULL
        END AS credits_per_1k_ops,
        avg(CASE WHEN recency_rank <= 10 THEN qps END) AS recent_avg_qps,
        avg(CASE WHEN recency_rank <= 10 THEN p95_latency_ms END) AS recent_avg_p95_ms,
        min(start_time) AS first_run,
        max(start_time) AS last_run
    FROM template_tests
    GROUP BY template_id
)
SELECT
    *,
    CASE WHEN avg_qps > 0 THEN stddev_qps / avg_qps ELSE NULL END AS cv_qps,
    CASE WHEN avg_p95_ms > 0 THEN stddev_p95_ms / avg_p95_ms ELSE NULL END AS cv_p95,
    CASE
        WHEN avg_qps > 0 AND recent_avg_qps IS NOT NULL
        THEN ((recent_avg_qps - avg_qps) / avg_qps) * 100
        ELSE NULL
    END AS qps_trend_pct,
    CASE
        WHEN stddev_qps / NULLIF(avg_qps, 0) IS NULL THEN 'unknown'
        WHEN stddev_qps / NULLIF(avg_qps, 0) < 0.10 THEN 'very_stable'
        WHEN stddev_qps / NULLIF(avg_qps, 0) < 0.15 THEN 'stable'
        WHEN stddev_qps / NULLIF(avg_qps, 0) < 0.25 THEN 'moderate'
        ELSE 'volatile'
    END AS stability_badge,
    CURRENT_TIMESTAMP AS refreshed_at
FROM template_aggregates
WHERE total_runs >= 2
$$, target_lag => :lag, refresh_mode => 'incremental');

-- Indexes for the dashboard's point lookups.
CREATE INDEX ON flakebench.dt_daily_cost_rollup (run_date);
-- (dt_template_statistics is indexed on template_id, its group key.)
