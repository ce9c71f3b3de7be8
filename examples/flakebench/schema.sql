-- FlakeBench (seed 000): the benchmark-results schema, in PostgreSQL.
--
-- Snowflake's TEST_CONFIG VARIANT is jsonb here: TEST_CONFIG:template_id::VARCHAR
-- is test_config->>'template_id'.  Timestamps are timestamptz.
--
-- Load with:  psql -f schema.sql -f generate.sql -f dynamic_tables.sql

CREATE SCHEMA IF NOT EXISTS flakebench;
SET search_path = flakebench, public;

CREATE TABLE test_results (
    test_id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id                  uuid NOT NULL,
    test_name               text NOT NULL,
    table_type              text,               -- STANDARD, HYBRID, INTERACTIVE, DYNAMIC, POSTGRES
    warehouse_size          text,               -- XSMALL, SMALL, MEDIUM
    status                  text NOT NULL,      -- COMPLETED, FAILED
    start_time              timestamptz,
    end_time                timestamptz,
    duration_seconds        double precision,
    concurrent_connections  integer,
    qps                     double precision,
    p50_latency_ms          double precision,
    p95_latency_ms          double precision,
    p99_latency_ms          double precision,
    error_rate              double precision,
    total_operations        bigint,
    read_operations         bigint,
    write_operations        bigint,
    failed_operations       bigint,
    warehouse_credits_used  numeric(14, 6),
    test_config             jsonb NOT NULL
);
CREATE INDEX test_results_start_time_idx ON test_results (start_time);
-- A template's rows, latest first: dt_template_statistics reads a
-- template's ten latest rows through it (and the dashboard its rows).
CREATE INDEX test_results_template_idx ON test_results ((test_config->>'template_id'), start_time DESC);

-- Per-query latencies of each test, for the latency histogram (section 6).
CREATE TABLE query_executions (
    execution_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    test_id         bigint NOT NULL REFERENCES test_results ON DELETE CASCADE,
    app_elapsed_ms  double precision NOT NULL,
    warmup          boolean NOT NULL DEFAULT false,
    success         boolean NOT NULL DEFAULT true
);
CREATE INDEX query_executions_test_idx ON query_executions (test_id);

-- The templates tests are run from: about fifty, each with a table type,
-- a warehouse size, a load mode and a typical throughput.
CREATE TABLE templates (
    template_id     text PRIMARY KEY,
    template_name   text NOT NULL,
    table_type      text NOT NULL,
    warehouse_size  text NOT NULL,
    load_mode       text NOT NULL,
    scale_mode      text NOT NULL,
    base_qps        double precision NOT NULL,
    base_p50_ms     double precision NOT NULL
);

-- V_TEMPLATE_RUNS (section 5): the run list of the template page.
CREATE VIEW v_template_runs AS
SELECT test_id,
       run_id,
       test_config->>'template_id' AS template_id,
       test_name,
       table_type,
       warehouse_size,
       status,
       start_time,
       duration_seconds,
       concurrent_connections,
       qps,
       p50_latency_ms,
       p95_latency_ms,
       p99_latency_ms,
       error_rate,
       total_operations,
       read_operations,
       write_operations,
       failed_operations,
       warehouse_credits_used,
       CASE WHEN total_operations > 0
            THEN (warehouse_credits_used / total_operations) * 1000 END AS credits_per_1k_ops,
       test_config->'scenario'->>'load_mode' AS load_mode,
       test_config->'template_config'->'scaling'->>'mode' AS scale_mode,
       row_number() OVER (PARTITION BY test_config->>'template_id'
                          ORDER BY start_time DESC) AS recency_rank
  FROM test_results
 WHERE status = 'COMPLETED'
   AND test_config->>'template_id' IS NOT NULL;
