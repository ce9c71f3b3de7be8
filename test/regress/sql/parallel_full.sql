-- A full refresh whose query alone PostgreSQL would run with parallel
-- workers (refresh.c, insert_query_rows): as REFRESH MATERIALIZED VIEW's
-- query gets them and an INSERT's does not, the rows are computed by that
-- plan first, kept in a tuplestore, and inserted from there.  Under
-- force_parallel_mode every plan that can is run in parallel mode: a
-- function that sets a parameter, refused in parallel mode, shows that the
-- full refresh ran so (it succeeds when the query runs inside the
-- INSERT); then tables refreshed in full that way equal their queries: a
-- query refreshed in full, the table another one reads (its insert
-- captured for it), one with a dropped column, toasted values, and one
-- with an internal table refreshed in full after a TRUNCATE (its query
-- reads what the same transaction wrote into the internal table).

CREATE SCHEMA dt_par;
SET search_path = dt_par, public;
SET pg_dynamic_tables.adaptive_refresh = off;

CREATE TABLE f (id int PRIMARY KEY, g int, x numeric, t text);
INSERT INTO f SELECT i, i % 7, i * 1.5, CASE WHEN i % 50 = 0 THEN repeat('long ', 3000) ELSE 't' || i END
  FROM generate_series(1, 3000) i;
ANALYZE f;

CREATE FUNCTION probe(x numeric) RETURNS numeric LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    PERFORM set_config('dt_par.probe', 'on', true);
    RETURN x;
END $$;

SET force_parallel_mode = on;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;

SELECT dt.create_dynamic_table('probed', 'SELECT g, sum(probe(x)) AS s FROM f GROUP BY g',
                               refresh_mode => 'full', initialize => 'on_schedule');
SELECT dt_test.outcome($$SELECT dt.refresh('probed')$$);

SELECT dt.create_dynamic_table('ranked',
  'SELECT id, g, t, sum(x) OVER (PARTITION BY g ORDER BY id) AS running FROM f', refresh_mode => 'full');
SELECT dt.create_dynamic_table('ranked_sum',
  'SELECT g, count(*) AS n, max(running) AS top, sum(length(t)) AS len FROM ranked GROUP BY g',
  refresh_mode => 'incremental');
SELECT dt.create_dynamic_table('above',
  'SELECT g, count(*) AS n, sum(x) AS s FROM f WHERE x > (SELECT avg(x) FROM f) GROUP BY g',
  refresh_mode => 'incremental');
SELECT dt.create_dynamic_table('narrowed', 'SELECT id, g, t, x FROM f WHERE g < 3', refresh_mode => 'full');
SELECT dt.create_dynamic_table('narrowed', 'SELECT id, g, x FROM f WHERE g < 4', refresh_mode => 'full',
                               or_replace => true);
SELECT attname, attisdropped FROM pg_attribute
 WHERE attrelid = 'narrowed'::regclass AND attnum > 0 ORDER BY attnum;

DO $$
DECLARE
    round int;
BEGIN
    FOR round IN 1 .. 3 LOOP
        PERFORM setseed(0.1 * round);
        INSERT INTO dt_par.f SELECT 10000 * round + i, (random() * 9)::int, (random() * 1000)::numeric(8, 2),
               CASE WHEN i % 7 = 0 THEN repeat('x', 5000 + i) ELSE 'r' || i END
          FROM generate_series(1, 200) i;
        UPDATE dt_par.f SET x = x + 1, t = t || 'u' WHERE id % 13 = round;
        DELETE FROM dt_par.f WHERE id % 17 = round;
        PERFORM dt.refresh(t) FROM unnest(ARRAY['dt_par.ranked_sum', 'dt_par.above', 'dt_par.narrowed']::regclass[]) t;
        PERFORM dt_test.check(t)
           FROM unnest(ARRAY['dt_par.ranked', 'dt_par.ranked_sum', 'dt_par.above', 'dt_par.narrowed']::regclass[]) t;
    END LOOP;
END $$;

-- a TRUNCATE makes the next refresh full, the internal table's included
TRUNCATE f;
INSERT INTO f SELECT i, i % 5, i * 2.5, 'again ' || i FROM generate_series(1, 2000) i;
SELECT action FROM dt.refresh('above');
SELECT refresh_action FROM dt.refresh_history WHERE name = 'dt_par.above' ORDER BY refresh_id DESC LIMIT 1;
SELECT dt_test.check('above');
SELECT action FROM dt.refresh('ranked_sum');
SELECT dt_test.check('ranked');
SELECT dt_test.check('ranked_sum');

-- An error in the insert from the tuplestore (an index expression on the
-- table that fails once)
-- in an incremental refresh that recomputes most partitions of a window
-- in full: the refresh is rolled back and done in full again, which
-- registers the tuplestore again.
CREATE TABLE p (id int PRIMARY KEY, g int, x numeric);
INSERT INTO p SELECT i, i % 1000, i * 1.5 FROM generate_series(1, 3000) i;
CREATE INDEX ON p (g);
ANALYZE p;
SELECT dt.create_dynamic_table('windowed', 'SELECT id, g, sum(x) OVER (PARTITION BY g ORDER BY id) AS running FROM p',
                               refresh_mode => 'incremental');
CREATE SEQUENCE once;
CREATE FUNCTION fail_once(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF nextval('dt_par.once') = 1 THEN
        PERFORM 1 / 0;
    END IF;
    RETURN $1;
END $$;
ALTER SEQUENCE once RESTART WITH 2;
CREATE INDEX ON windowed (fail_once(id));
ALTER SEQUENCE once RESTART WITH 1;
UPDATE p SET x = x + 1;
SELECT action FROM dt.refresh('windowed');
SELECT refresh_action, state_message FROM dt.refresh_history WHERE name = 'dt_par.windowed'
 ORDER BY refresh_id DESC LIMIT 1;
SELECT dt_test.check('windowed');

-- A parallel plan expected to cost more than three quarters of the
-- INSERT's (refresh.c, FULL_PARALLEL_SHARE) is not used: with the default
-- costs of parallel plans, force_parallel_mode's Gather over the plan of
-- the query alone saves nothing, and the query runs inside the INSERT,
-- where the function may set its parameter.
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SELECT dt_test.outcome($$SELECT action FROM dt.refresh('probed')$$);

RESET force_parallel_mode;
SELECT dt_test.check('probed');
-- without parallel mode the query runs inside the INSERT, where the
-- function may set its parameter
INSERT INTO f VALUES (100000, 1, 1, 'one more');
SELECT dt_test.outcome($$SELECT action FROM dt.refresh('probed')$$);
SELECT dt_test.check('probed');

DROP SCHEMA dt_par CASCADE;
