-- FlakeBench data generator.
--
-- flakebench.make_templates(seed) creates about fifty templates.
-- flakebench.generate_results(n, since, span, seed) inserts n test results
-- started between since and since + span, with the shape of seed 000:
--   5 table types, 3 warehouse sizes, ~50 templates (each with its own
--   throughput and latency level), ~5% failed tests, a few tests with no
--   table type, latencies p50 <= p95 <= p99, credits by warehouse size.
-- flakebench.generate_executions(per_test) adds per-query latencies.
-- The same seed gives the same data.

SET search_path = flakebench, public;

CREATE OR REPLACE FUNCTION make_templates(seed double precision DEFAULT 0.42)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM setseed(seed);
    INSERT INTO flakebench.templates
    SELECT format('tpl-%s', lpad(i::text, 3, '0')),
           (ARRAY['oltp_point_lookup', 'range_scan_100k', 'insert_heavy', 'mixed_rw',
                  'analytic_scan', 'update_hot_rows'])[1 + (i % 6)] || '_' || i,
           (ARRAY['STANDARD', 'STANDARD', 'HYBRID', 'HYBRID', 'INTERACTIVE',
                  'DYNAMIC', 'POSTGRES'])[1 + (i % 7)],
           (ARRAY['XSMALL', 'SMALL', 'MEDIUM'])[1 + (i % 3)],
           (ARRAY['CONCURRENCY', 'QPS', 'FIND_MAX'])[1 + (i % 3)],
           (ARRAY['FIXED', 'AUTO'])[1 + (i % 2)],
           200 + random() * 2800,
           5 + random() * 60
      FROM generate_series(1, 50) i
    ON CONFLICT DO NOTHING;
END $$;

CREATE OR REPLACE FUNCTION generate_results(n bigint,
                                            since timestamptz DEFAULT now() - interval '365 days',
                                            span interval DEFAULT interval '365 days',
                                            seed double precision DEFAULT 0.5)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    inserted bigint;
BEGIN
    PERFORM setseed(seed);
    WITH t AS (
        SELECT array_agg(tp ORDER BY tp.template_id) AS list FROM flakebench.templates tp
    ), r AS (
        SELECT g,
               (t.list)[1 + floor(random() * array_length(t.list, 1))::int] AS tp,
               random() AS u_status, random() AS u_qps, random() AS u_lat,
               random() AS u_tail, random() AS u_err, random() AS u_dur,
               random() AS u_time, random() AS u_ops, random() AS u_conn,
               random() AS u_type
          FROM generate_series(1, n) g, t
    ), m AS (
        SELECT r.*,
               CASE WHEN u_status < 0.05 THEN 'FAILED' ELSE 'COMPLETED' END AS status,
               since + span * u_time AS start_time,
               30 + u_dur * 570 AS duration_seconds,
               (tp).base_qps * (0.8 + 0.4 * u_qps) AS qps,
               (tp).base_p50_ms * (0.85 + 0.3 * u_lat) AS p50
          FROM r
    )
    INSERT INTO flakebench.test_results (
        run_id, test_name, table_type, warehouse_size, status, start_time, end_time,
        duration_seconds, concurrent_connections, qps, p50_latency_ms, p95_latency_ms,
        p99_latency_ms, error_rate, total_operations, read_operations, write_operations,
        failed_operations, warehouse_credits_used, test_config)
    SELECT md5(g::text || seed::text)::uuid,
           (tp).template_name || ' #' || g,
           CASE WHEN u_type < 0.01 THEN NULL ELSE (tp).table_type END,
           (tp).warehouse_size,
           status,
           start_time,
           start_time + duration_seconds * interval '1 second',
           duration_seconds,
           (ARRAY[1, 4, 8, 16, 32, 64])[1 + floor(u_conn * 6)::int],
           CASE WHEN status = 'FAILED' THEN 0 ELSE round(qps::numeric, 2)::float8 END,
           round(p50::numeric, 3)::float8,
           round((p50 * (1.8 + u_tail))::numeric, 3)::float8,
           round((p50 * (2.8 + 3 * u_tail))::numeric, 3)::float8,
           CASE WHEN status = 'FAILED' THEN 0.2 + 0.8 * u_err ELSE 0.02 * u_err * u_err END,
           (qps * duration_seconds)::bigint,
           (qps * duration_seconds * (0.5 + 0.45 * u_ops))::bigint,
           (qps * duration_seconds * (0.5 - 0.45 * u_ops))::bigint,
           (qps * duration_seconds * 0.001 * u_err)::bigint,
           round((duration_seconds / 3600.0 * CASE (tp).warehouse_size
                      WHEN 'XSMALL' THEN 1 WHEN 'SMALL' THEN 2 ELSE 4 END)::numeric, 6),
           jsonb_build_object(
               'template_id', (tp).template_id,
               'scenario', jsonb_build_object('name', (tp).template_name,
                                              'load_mode', (tp).load_mode),
               'template_config', jsonb_build_object(
                   'scaling', jsonb_build_object('mode', (tp).scale_mode)))
      FROM m;
    GET DIAGNOSTICS inserted = ROW_COUNT;
    RETURN inserted;
END $$;

CREATE OR REPLACE FUNCTION generate_executions(per_test integer DEFAULT 20,
                                               seed double precision DEFAULT 0.25)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    inserted bigint;
BEGIN
    PERFORM setseed(seed);
    INSERT INTO flakebench.query_executions (test_id, app_elapsed_ms, warmup, success)
    SELECT t.test_id,
           greatest(0.1, t.p50_latency_ms * exp((random() - 0.5) * 1.5)),
           i <= 2,
           random() > t.error_rate
      FROM flakebench.test_results t, generate_series(1, per_test) i;
    GET DIAGNOSTICS inserted = ROW_COUNT;
    RETURN inserted;
END $$;

SELECT make_templates();
