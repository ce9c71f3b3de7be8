-- FlakeBench dashboard: the reads of seed 000's API, each twice, on the
-- dynamic tables and as the same aggregate over test_results, and a live
-- ingest of new test results.  Used by demo/run and bench/run.

SET search_path = flakebench, public;

-- dashboard_queries: (name, on the dynamic tables, on test_results).
-- :tt and :tpl stand for a table type and a template id.
CREATE OR REPLACE FUNCTION dashboard_queries()
RETURNS TABLE (name text, on_dynamic_table text, on_base_table text)
LANGUAGE sql IMMUTABLE AS $$
VALUES
 ('table type comparison',
  'SELECT * FROM flakebench.dt_table_type_summary ORDER BY table_type',
  'SELECT table_type, count(*), count(DISTINCT test_config->>''template_id''), avg(qps), min(qps), max(qps),
          percentile_cont(0.5) WITHIN GROUP (ORDER BY qps), percentile_cont(0.95) WITHIN GROUP (ORDER BY qps),
          stddev(qps), avg(p95_latency_ms), sum(warehouse_credits_used)
     FROM flakebench.test_results
    WHERE status = ''COMPLETED'' AND table_type IS NOT NULL AND qps > 0
    GROUP BY table_type ORDER BY table_type'),
 ('one table type',
  'SELECT * FROM flakebench.dt_table_type_summary WHERE table_type = :tt',
  'SELECT count(*), avg(qps), percentile_cont(0.5) WITHIN GROUP (ORDER BY qps),
          percentile_cont(0.95) WITHIN GROUP (ORDER BY qps), stddev(qps)
     FROM flakebench.test_results
    WHERE status = ''COMPLETED'' AND qps > 0 AND table_type = :tt'),
 ('one template',
  'SELECT * FROM flakebench.dt_template_statistics WHERE template_id = :tpl',
  'SELECT count(*), avg(qps), stddev(qps), percentile_cont(0.5) WITHIN GROUP (ORDER BY qps), max(start_time)
     FROM flakebench.test_results
    WHERE status = ''COMPLETED'' AND qps > 0 AND test_config->>''template_id'' = :tpl'),
 ('daily cost, 30 days',
  'SELECT * FROM flakebench.dt_daily_cost_rollup WHERE run_date >= current_date - 30',
  'SELECT date_trunc(''day'', start_time)::date, table_type, warehouse_size, count(*), sum(warehouse_credits_used)
     FROM flakebench.test_results
    WHERE status = ''COMPLETED'' AND start_time >= current_date - 30
    GROUP BY 1, 2, 3')
$$;

-- time_query: milliseconds to run a query, parameters filled at random.
-- The query runs as it is and its rows are discarded (EXECUTE without
-- INTO): wrapped in SELECT count(*) FROM (...), PostgreSQL would skip
-- computing the aggregates nobody reads.
CREATE OR REPLACE FUNCTION time_query(query text) RETURNS double precision
LANGUAGE plpgsql AS $$
DECLARE
    started timestamptz;
    q text := replace(replace(query,
        ':tt', quote_literal((ARRAY['STANDARD', 'HYBRID', 'INTERACTIVE', 'DYNAMIC', 'POSTGRES'])[1 + floor(random() * 5)::int])),
        ':tpl', quote_literal(format('tpl-%s', lpad((1 + floor(random() * 50))::int::text, 3, '0'))));
BEGIN
    started := clock_timestamp();
    EXECUTE q;
    RETURN extract(epoch FROM clock_timestamp() - started) * 1000;
END $$;

-- ingest: the benchmark keeps running: per_second new results a second,
-- in batches every 100 ms, with a few corrections (a COMPLETED test found
-- FAILED) and deletions of old results, until the time is up.
CREATE OR REPLACE PROCEDURE ingest(per_second integer, seconds integer)
LANGUAGE plpgsql AS $$
DECLARE
    stop timestamptz := clock_timestamp() + seconds * interval '1 second';
    batch integer := greatest(1, per_second / 10);
BEGIN
    WHILE clock_timestamp() < stop LOOP
        PERFORM flakebench.generate_results(batch, now() - interval '100 ms', interval '100 ms', random());
        IF random() < 0.2 THEN
            UPDATE flakebench.test_results SET status = 'FAILED', qps = 0
             WHERE test_id = (SELECT max(test_id) - floor(random() * 100)::int FROM flakebench.test_results);
        END IF;
        IF random() < 0.1 THEN
            DELETE FROM flakebench.test_results
             WHERE test_id = (SELECT min(test_id) + floor(random() * 100)::int FROM flakebench.test_results);
        END IF;
        COMMIT;
        PERFORM pg_sleep(0.1);
    END LOOP;
END $$;

-- status: one line per dynamic table: how fresh, how refreshed.
CREATE OR REPLACE VIEW status AS
SELECT d.table_name,
       d.refresh_mode,
       d.target_lag,
       round(extract(epoch FROM d.current_lag)::numeric, 2) AS lag_s,
       round(extract(epoch FROM d.maximum_lag)::numeric, 2) AS max_lag_s,
       round((100 * d.time_within_target_lag_ratio)::numeric, 1) AS within_target_pct,
       d.last_refresh_action,
       (SELECT round(extract(epoch FROM avg(r.duration))::numeric * 1000, 1)
          FROM (SELECT duration FROM dt.refresh_history r
                 WHERE r.relid = d.relid AND r.state = 'SUCCEEDED' AND r.refresh_action <> 'NO_DATA'
                 ORDER BY r.refresh_id DESC LIMIT 20) r) AS refresh_ms
  FROM dt.dynamic_tables d
 WHERE d.schema_name = 'flakebench'
 ORDER BY d.table_name;
