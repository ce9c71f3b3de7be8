-- bench/writers.sql: the third dynamic table of figure 3 of bench/run,
-- after dt_table_type_summary and dt_daily_cost_rollup of
-- examples/flakebench/dynamic_tables.sql: the issue's join of each result
-- with its template (the 50-row flakebench.templates), per template.
-- :lag is the target lag.
SELECT dt.create_dynamic_table('flakebench.dt_template_runs', $$
SELECT t.template_id, t.template_name, t.load_mode,
       count(*) AS runs,
       avg(r.qps) AS avg_qps,
       avg(r.p95_latency_ms) AS avg_p95_ms,
       sum(r.warehouse_credits_used) AS total_credits
FROM flakebench.test_results r
JOIN flakebench.templates t ON t.template_id = r.test_config->>'template_id'
WHERE r.status = 'COMPLETED'
GROUP BY t.template_id, t.template_name, t.load_mode
$$, target_lag => :lag, refresh_mode => 'incremental');
