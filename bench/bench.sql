-- bench/bench.sql: the server-side helpers of bench/run, in schema bench.
-- Loaded after examples/flakebench/{schema,generate,dashboard}.sql.
--
-- Times are taken inside the server with clock_timestamp() around the
-- statement (a refresh, a REFRESH MATERIALIZED VIEW), so they exclude
-- the client round trip and the commit, the same for both sides.

CREATE SCHEMA IF NOT EXISTS bench;
SET search_path = bench, flakebench, public;

-- random_rows: the test_ids of up to n random existing rows, picked by
-- random test_id between lo and hi through the primary key; ids of
-- deleted rows are skipped.
CREATE OR REPLACE FUNCTION random_rows(n integer, lo bigint, hi bigint)
RETURNS bigint[] LANGUAGE sql AS $$
    SELECT ARRAY(SELECT r.test_id FROM flakebench.test_results r
                  WHERE r.test_id = ANY (ARRAY(SELECT lo + floor(random() * (hi - lo + 1))::bigint
                                                 FROM generate_series(1, n * 11 / 10 + 10)))
                  LIMIT n)
$$;

-- apply_batch: one change batch of n rows to flakebench.test_results.
--   kind 'insert': n new generated results (a year of start times);
--   kind 'mixed':  n/2 inserts, n/4 updates of random existing rows (new
--                  qps and latencies; one in five moves to another table
--                  type), n - n/2 - n/4 deletes of random existing rows.
-- Existing rows are picked by random_rows.
CREATE OR REPLACE FUNCTION apply_batch(n integer, kind text, seed double precision)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n_ins integer := CASE WHEN kind = 'insert' THEN n ELSE n / 2 END;
    n_upd integer := CASE WHEN kind = 'insert' THEN 0 ELSE n / 4 END;
    n_del integer := CASE WHEN kind = 'insert' THEN 0 ELSE n - n / 2 - n / 4 END;
    lo bigint;
    hi bigint;
    done bigint := 0;
    k bigint;
    ids bigint[];
BEGIN
    IF kind NOT IN ('insert', 'mixed') THEN
        RAISE EXCEPTION 'unknown batch kind %', kind;
    END IF;
    done := flakebench.generate_results(n_ins, now() - interval '365 days', interval '365 days', seed);
    SELECT min(test_id), max(test_id) INTO lo, hi FROM flakebench.test_results;
    IF n_upd > 0 THEN
        ids := bench.random_rows(n_upd, lo, hi);  -- once, not per row
        UPDATE flakebench.test_results t
           SET qps = CASE WHEN t.qps > 0 THEN round((t.qps * (0.8 + 0.4 * random()))::numeric, 2)::float8 ELSE 0 END,
               p50_latency_ms = round((t.p50_latency_ms * (0.8 + 0.4 * random()))::numeric, 3)::float8,
               p95_latency_ms = round((t.p95_latency_ms * (0.8 + 0.4 * random()))::numeric, 3)::float8,
               p99_latency_ms = round((t.p99_latency_ms * (0.8 + 0.4 * random()))::numeric, 3)::float8,
               table_type = CASE WHEN random() < 0.2
                                 THEN (ARRAY['STANDARD', 'HYBRID', 'INTERACTIVE', 'DYNAMIC', 'POSTGRES'])[1 + floor(random() * 5)::int]
                                 ELSE t.table_type END
         WHERE t.test_id = ANY (ids);
        GET DIAGNOSTICS k = ROW_COUNT;
        done := done + k;
    END IF;
    IF n_del > 0 THEN
        ids := bench.random_rows(n_del, lo, hi);
        DELETE FROM flakebench.test_results t WHERE t.test_id = ANY (ids);
        GET DIAGNOSTICS k = ROW_COUNT;
        done := done + k;
    END IF;
    RETURN done;
END $$;

-- timed_refresh: dt.refresh of one dynamic table, timed around the call.
-- ms is the wall time of the call in the server; duration_ms is the
-- duration dt.refresh reports itself (the same call, measured in C).
CREATE OR REPLACE FUNCTION timed_refresh(dt regclass,
                                         OUT action text, OUT ms double precision,
                                         OUT duration_ms double precision)
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    r record;
BEGIN
    t0 := clock_timestamp();
    SELECT * INTO r FROM dt.refresh(dt);
    ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
    action := r.action;
    duration_ms := extract(epoch FROM r.duration) * 1000;
END $$;

-- timed_recompute: REFRESH MATERIALIZED VIEW of a view holding the same
-- query as a dynamic table, timed the same way.
CREATE OR REPLACE FUNCTION timed_recompute(mv regclass) RETURNS double precision
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
BEGIN
    EXECUTE format('REFRESH MATERIALIZED VIEW %s', mv);
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END $$;

-- make_recompute_views: for every dynamic table of a schema, a
-- materialized view bench.mv_<name> of its defining query (as
-- dt.dynamic_tables prints it), without data; with kind 'TABLE', a plain
-- table bench.tw_<name> with its columns, empty, for timed_fill.
CREATE OR REPLACE FUNCTION make_recompute_views(schema text DEFAULT 'flakebench',
                                                kind text DEFAULT 'MATERIALIZED VIEW') RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    prefix text := CASE kind WHEN 'TABLE' THEN 'tw_' ELSE 'mv_' END;
    d record;
BEGIN
    FOR d IN SELECT table_name, query FROM dt.dynamic_tables WHERE schema_name = schema LOOP
        IF to_regclass(format('bench.%I', prefix || d.table_name)) IS NOT NULL THEN
            EXECUTE format('DROP %s bench.%I', kind, prefix || d.table_name);
        END IF;
        EXECUTE format('CREATE %s bench.%I AS %s WITH NO DATA',
                       kind, prefix || d.table_name, rtrim(d.query, E'; \n'));
    END LOOP;
END $$;

-- timed_fill: the recompute of dynamic table dt into its twin table
-- (make_recompute_views), TRUNCATE then INSERT of its defining query in one
-- call, timed as timed_recompute: what REFRESH MATERIALIZED VIEW does but
-- its catalog swap (0.85 times its time: the harder yardstick).
CREATE OR REPLACE FUNCTION timed_fill(dt regclass) RETURNS double precision
LANGUAGE plpgsql AS $$
DECLARE
    twin text;
    q text;
    t0 timestamptz;
BEGIN
    SELECT format('bench.%I', 'tw_' || d.table_name), rtrim(d.query, E'; \n') INTO twin, q
      FROM dt.dynamic_tables d WHERE d.relid = dt;
    IF q IS NULL THEN
        RAISE EXCEPTION '% is not a dynamic table', dt;
    END IF;
    t0 := clock_timestamp();
    EXECUTE format('TRUNCATE %s', twin);
    EXECUTE format('INSERT INTO %s %s', twin, q);
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END $$;

-- history_says: replace the history of dynamic table dt by three full
-- refreshes the history chose, of full_ms each, and three incremental ones
-- of changes rows, of incremental_ms each.  With full_ms small, the next
-- refresh that reads changes is full and sets the table's state aside, as
-- adaptive refresh does when full refreshes are the cheaper; with
-- incremental_ms small, the next rebuilds that state, or catches up from
-- it once built apart (figure TPC-H's rebuilds).
CREATE OR REPLACE FUNCTION history_says(dt regclass, full_ms double precision,
                                        incremental_ms double precision, changes bigint) RETURNS void
LANGUAGE sql AS $$
DELETE FROM dt_internal.refresh_log WHERE relid = dt;
INSERT INTO dt_internal.refresh_log (relid, table_name, refresh_start_time, refresh_end_time,
                                     refresh_action, refresh_trigger, state, changes, state_message)
SELECT dt, dt::text, t, t + full_ms * interval '1 ms', 'FULL', 'MANUAL', 'SUCCEEDED', NULL,
       'an incremental refresh of (written by bench.history_says)'
  FROM generate_series(1, 3), LATERAL (SELECT now() - interval '1 hour' AS t) n;
INSERT INTO dt_internal.refresh_log (relid, table_name, refresh_start_time, refresh_end_time,
                                     refresh_action, refresh_trigger, state, changes)
SELECT dt, dt::text, t, t + incremental_ms * interval '1 ms', 'INCREMENTAL', 'MANUAL', 'SUCCEEDED', changes
  FROM generate_series(1, 3), LATERAL (SELECT now() - interval '1 hour' AS t) n;
$$;

-- tpch_rebuild: figure TPC-H's rebuilds of dynamic table dt, which has
-- internal tables, at fraction frac of the orders changed per round; each
-- step committed as a refresh would be.  Its state is set aside (full
-- refreshes from the query, timed: 'aside'), then the table is refreshed
-- in full from the query with its state aside ('full': what a full
-- refresh of it costs), then rebuilt by the refresh that resumes
-- incremental refreshes, inline (build_state_apart off: 'inline'); set
-- aside again, refreshed in full again, built apart by dt.build_state
-- ('build'), and caught up by the next refresh ('catch-up'); a round
-- before each.  Setting the state aside takes a refresh that reads
-- changes: up to four rounds (the first refresh after the resume is full:
-- a suspended table has no position); that refresh refreshed the internal
-- tables first, their state valid then.  The other tables are suspended meanwhile, so that
-- their change logs do not grow with rounds nobody else reads (their
-- readers' rows would otherwise stay, and each window read past them).
-- Rows go to refresh_times, base the fraction, phase 'tpch-rebuild', kind
-- the step.
-- tpch_rebuild_step: a timed refresh of dt, recorded as step "kind" of
-- tpch_rebuild at fraction frac after the round of seed.
CREATE OR REPLACE FUNCTION tpch_rebuild_step(dt regclass, frac numeric, seed integer, kind text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO bench.refresh_times SELECT frac::text, 0, 'tpch-rebuild', kind, 0, seed, dt::text, r.*
      FROM bench.timed_refresh(dt) r;
END $$;

CREATE OR REPLACE PROCEDURE tpch_rebuild(dt regclass, frac numeric, seed integer)
LANGUAGE plpgsql AS $$
DECLARE
    step text;
    t0 timestamptz;
    tries integer;
BEGIN
    PERFORM dt.resume(dt);
    COMMIT;
    FOREACH step IN ARRAY ARRAY['inline', 'catch-up'] LOOP
        tries := 0;
        LOOP
            tries := tries + 1;
            seed := seed + 1;
            PERFORM bench.history_says(dt, 1, 10000, 10);
            PERFORM tpch.change_round(frac, seed);
            COMMIT;
            PERFORM bench.tpch_rebuild_step(dt, frac, seed, 'aside');
            COMMIT;
            EXIT WHEN tries = 4 OR NOT EXISTS (SELECT FROM dt_internal.state_valid v WHERE v.relid = dt);
        END LOOP;
        seed := seed + 1;
        PERFORM tpch.change_round(frac, seed);
        COMMIT;
        PERFORM bench.tpch_rebuild_step(dt, frac, seed, 'full');
        COMMIT;
        IF step = 'catch-up' THEN
            seed := seed + 1;
            PERFORM tpch.change_round(frac, seed);
            COMMIT;
            t0 := clock_timestamp();
            PERFORM dt.build_state(dt);
            INSERT INTO bench.refresh_times VALUES (frac::text, 0, 'tpch-rebuild', 'build', 0, seed, dt::text,
                                                    'BUILD', extract(epoch FROM clock_timestamp() - t0) * 1000, NULL);
            COMMIT;
        END IF;
        seed := seed + 1;
        PERFORM bench.history_says(dt, 10000, 1, 1000000);
        PERFORM tpch.change_round(frac, seed);
        COMMIT;
        IF step = 'inline' THEN
            SET pg_dynamic_tables.build_state_apart = off;
        END IF;
        PERFORM bench.tpch_rebuild_step(dt, frac, seed, step);
        RESET pg_dynamic_tables.build_state_apart;
        COMMIT;
    END LOOP;
    PERFORM dt.suspend(dt);
    COMMIT;
END $$;

-- Results of the run, one row per measurement.  base is the label of the
-- base size ('1M'), phase 'loop' (figure 1 cells) or 'tpch'.
CREATE TABLE IF NOT EXISTS refresh_times (
    base text, base_rows bigint, phase text, kind text, batch integer, rep integer, dt text,
    action text, ms double precision, duration_ms double precision);
CREATE TABLE IF NOT EXISTS recompute_times (
    base text, base_rows bigint, dt text, rep integer, ms double precision);
CREATE TABLE IF NOT EXISTS creation_times (
    base text, base_rows bigint, ms double precision);
-- Figure 3: one row per run (what: 'inserts' in tps, 'copy' in seconds).
CREATE TABLE IF NOT EXISTS write_runs (
    what text, mode text, rep integer, value double precision);
-- Figure 4: lag samples, and the rates tried.
CREATE TABLE IF NOT EXISTS lag_samples (
    run text, at timestamptz, dt text, lag_s double precision);
CREATE TABLE IF NOT EXISTS ingest_runs (
    run text, rate integer, seconds integer, tps double precision, load1 double precision);
-- Figure 5: one row per dt_loadtest run.
CREATE TABLE IF NOT EXISTS read_runs (
    side text, rep integer, tps double precision, transactions bigint, errors bigint,
    p50 double precision, p95 double precision, p99 double precision, max double precision);

-- Figure 7: one wrk run against an endpoint of the dashboard's API, on the
-- dynamic table (side 'dt') or computed from its query ('query').
CREATE TABLE IF NOT EXISTS api_runs (
    endpoint text, side text, rep integer, rps double precision, requests bigint, errors bigint,
    p50 double precision, p95 double precision, p99 double precision, max double precision);

-- sample_lag: every interval_s seconds for seconds, the lag of the
-- dynamic tables dts (all without it): clock - data timestamp, as
-- dt.dynamic_tables.current_lag but with the clock instead of now(), from
-- the catalog row the refreshes update or, for a table nothing changed
-- since its refresh, the scheduler's word that it is current
-- (dt_internal.fresh_as_of).  A procedure that commits after every
-- sample, so each sample sees the latest refresh.
CREATE OR REPLACE PROCEDURE sample_lag(run text, seconds double precision,
                                       interval_s double precision DEFAULT 0.1,
                                       dts regclass[] DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
    stop timestamptz := clock_timestamp() + seconds * interval '1 second';
BEGIN
    WHILE clock_timestamp() < stop LOOP
        INSERT INTO bench.lag_samples
        SELECT run, clock_timestamp(), c.relname,
               extract(epoch FROM clock_timestamp()
                                  - greatest(d.data_timestamp, dt_internal.fresh_as_of(d.relid)))
          FROM dt_internal.dynamic_table d JOIN pg_class c ON c.oid = d.relid
         WHERE dts IS NULL OR d.relid = ANY (dts::oid[]);
        COMMIT;
        PERFORM pg_sleep(interval_s);
    END LOOP;
END $$;

-- Formatting for the report.

-- num: a number with about three significant digits.
CREATE OR REPLACE FUNCTION num(x double precision) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN x IS NULL THEN 'n/a'
                WHEN abs(x) >= 100 THEN to_char(round(x::numeric), 'FM999G999G999G990')
                WHEN abs(x) >= 10 THEN round(x::numeric, 1)::text
                WHEN abs(x) >= 1 THEN round(x::numeric, 2)::text
                ELSE round(x::numeric, 3)::text END
$$;

-- med, spread: the median of a set of values, and "median (min-max)".
CREATE OR REPLACE FUNCTION med(double precision[]) RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) FROM unnest($1) v
$$;
CREATE OR REPLACE FUNCTION spread(double precision[]) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN cardinality($1) IS NULL THEN 'n/a'
                WHEN cardinality($1) = 1 THEN bench.num($1[1]) || ' (1 run)'
                ELSE format('%s (%s–%s)', bench.num(bench.med($1)),
                            bench.num((SELECT min(v) FROM unnest($1) v)),
                            bench.num((SELECT max(v) FROM unnest($1) v))) END
$$;

-- verdict: whether value meets goal; at_least says which side is good.
CREATE OR REPLACE FUNCTION verdict(value double precision, goal double precision,
                                   at_least boolean, unit text DEFAULT '')
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN value IS NULL THEN 'not measured'
                WHEN (at_least AND value >= goal) OR (NOT at_least AND value <= goal) THEN 'met'
                WHEN at_least AND unit = 'x' THEN format('missed by %sx (%s of the goal)',
                     bench.num(goal / nullif(value, 0)), bench.num(value / goal * 100) || '%')
                ELSE format('missed by %s%s', bench.num(abs(value - goal)), unit) END
$$;
