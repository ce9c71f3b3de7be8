-- The scheduler's decisions, with a clock driven by the test:
-- dt_internal.schedule_plan(now) shows what it would refresh at "now" and
-- dt_internal.run_scheduled_refreshes(now) does it in this session.  Times
-- are given relative to the tables' data timestamps, so nothing depends on
-- how fast the machine is.  (The background scheduler is off in this
-- database; the TAP tests cover it.)

CREATE TABLE orders (id serial PRIMARY KEY, region text, amount numeric);
INSERT INTO orders (region, amount) SELECT (ARRAY['north', 'south'])[1 + i % 2], i FROM generate_series(1, 20) i;

SELECT dt.create_dynamic_table('by_region',
    'SELECT region, count(*) AS n, sum(amount) AS total FROM orders GROUP BY region',
    target_lag => '1 minute');
-- A dynamic table over a dynamic table, and one over that with DOWNSTREAM lag.
SELECT dt.create_dynamic_table('all_regions',
    'SELECT count(*) AS regions, sum(total) AS total FROM by_region',
    target_lag => '5 minutes');
SELECT dt.create_dynamic_table('region_names',
    'SELECT region, max(n) AS n FROM by_region GROUP BY region',
    target_lag => 'downstream');

CREATE FUNCTION ts(t regclass) RETURNS timestamptz LANGUAGE sql AS
    $$ SELECT data_timestamp FROM dt.dynamic_tables WHERE relid = t $$;
CREATE FUNCTION plan(at timestamptz) RETURNS TABLE (unit int, step int, name regclass)
    LANGUAGE sql AS $$ SELECT * FROM dt_internal.schedule_plan(at) ORDER BY 1, 2 $$;

-- Fresh: nothing is due.  Near the end of its lag a table is due, with the
-- dynamic tables it reads before it in the same unit.
SELECT * FROM plan(ts('by_region') + interval '30 seconds');
SELECT * FROM plan(ts('by_region') + interval '59.95 seconds');
SELECT * FROM plan(ts('all_regions') + interval '5 minutes');
-- A DOWNSTREAM table without readers is never due.
SELECT count(*) FROM plan(ts('region_names') + interval '1 year') WHERE name = 'region_names'::regclass;

-- A DOWNSTREAM table is refreshed in the units of the tables that read it.
SELECT dt.create_dynamic_table('top_region',
    'SELECT max(n) AS n FROM region_names', target_lag => '10 seconds');
SELECT * FROM plan(ts('top_region') + interval '10 seconds');

-- Refreshing a unit: one snapshot, one data timestamp for all its tables.
INSERT INTO orders (region, amount) VALUES ('east', 5), ('north', 7);
SELECT dt_internal.run_scheduled_refreshes(ts('top_region') + interval '10 seconds') AS units;
SELECT ts('by_region') = ts('region_names') AND ts('region_names') = ts('top_region') AS one_timestamp;
SELECT dt_test.check('by_region'), dt_test.check('region_names'), dt_test.check('top_region');
SELECT name, refresh_trigger, state FROM dt.refresh_history
 WHERE refresh_trigger = 'SCHEDULED' ORDER BY refresh_id;

-- Nothing changed since: the next scheduled refreshes are NO_DATA.
SELECT dt_internal.run_scheduled_refreshes(ts('top_region') + interval '10 seconds') AS units;
SELECT name, refresh_action FROM dt.refresh_history
 WHERE refresh_trigger = 'SCHEDULED' ORDER BY refresh_id DESC LIMIT 3;

-- An unpopulated table is due at once.
SELECT dt.create_dynamic_table('later', 'SELECT region, min(amount) AS low FROM orders GROUP BY region',
    target_lag => '1 hour', initialize => 'on_schedule');
SELECT populated FROM dt.dynamic_tables WHERE relid = 'later'::regclass;
SELECT * FROM plan(ts('by_region') + interval '1 second') WHERE name = 'later'::regclass;
SELECT dt_internal.run_scheduled_refreshes(ts('by_region') + interval '1 second') > 0 AS ran;
SELECT populated FROM dt.dynamic_tables WHERE relid = 'later'::regclass;
SELECT dt_test.check('later');

-- ALTER changes the lag without recreating the table.
SELECT dt.alter_dynamic_table('later', target_lag => '2 seconds');
SELECT target_lag FROM dt.dynamic_tables WHERE relid = 'later'::regclass;
SELECT * FROM plan(ts('later') + interval '2 seconds') WHERE name = 'later'::regclass;
SELECT dt.alter_dynamic_table('later', target_lag => 'downstream');
SELECT target_lag FROM dt.dynamic_tables WHERE relid = 'later'::regclass;
SELECT dt.alter_dynamic_table('later', target_lag => 'soon');
SELECT dt.alter_dynamic_table('orders', target_lag => '1 minute');

-- Suspending a table suspends the tables that read it, transitively.
SELECT dt.suspend('by_region');
SELECT name, scheduling_state, scheduling_state_reason FROM dt.dynamic_tables ORDER BY relid::text;
SELECT count(*) AS planned FROM plan(ts('top_region') + interval '1 day');
-- A reader cannot resume while what it reads is suspended.
SELECT dt.resume('top_region');
-- Resuming brings back the tables suspended because of it.
SELECT dt.resume('by_region');
SELECT name, scheduling_state FROM dt.dynamic_tables ORDER BY relid::text;
-- A table suspended on its own stays suspended when its input resumes.
SELECT dt.suspend('all_regions');
SELECT dt.suspend('by_region');
SELECT dt.resume('by_region');
SELECT name, scheduling_state, scheduling_state_reason FROM dt.dynamic_tables ORDER BY relid::text;
SELECT dt.resume('all_regions');

-- A refresh that fails five times in a row suspends its table; the tables
-- reading it are not refreshed from it meanwhile.
CREATE TABLE ratios (k int, num int, den int);
INSERT INTO ratios VALUES (1, 10, 2), (2, 9, 3);
SELECT dt.create_dynamic_table('quotients', 'SELECT k, num / den AS q, count(*) AS n FROM ratios GROUP BY k, num / den',
    target_lag => '1 second');
SELECT dt.create_dynamic_table('quotient_total', 'SELECT sum(q * n) AS total FROM quotients',
    target_lag => '1 second');
INSERT INTO ratios VALUES (3, 1, 0);
-- After each failure the next try waits a back-off that doubles from
-- 100 ms (catalog_failure_backoff_until; TAP 001 checks it), so the tries
-- are that far apart.
SELECT dt_internal.run_scheduled_refreshes(ts('quotient_total') + interval '1 minute') AS units;
SELECT pg_sleep(0.15);
SELECT dt_internal.run_scheduled_refreshes(ts('quotient_total') + interval '1 minute') AS units;
SELECT pg_sleep(0.25);
SELECT dt_internal.run_scheduled_refreshes(ts('quotient_total') + interval '1 minute') AS units;
SELECT pg_sleep(0.45);
SELECT dt_internal.run_scheduled_refreshes(ts('quotient_total') + interval '1 minute') AS units;
SELECT pg_sleep(0.85);
SELECT dt_internal.run_scheduled_refreshes(ts('quotient_total') + interval '1 minute') AS units;
SELECT name, state, state_message FROM dt.refresh_history
 WHERE name LIKE 'public.quotient%' AND refresh_trigger = 'SCHEDULED' ORDER BY refresh_id;
SELECT name, scheduling_state, scheduling_state_reason, consecutive_failures
  FROM dt.dynamic_tables WHERE relid::text LIKE 'quotient%' ORDER BY relid::text;
-- Fixed and resumed: refreshed again, and the count starts over.
DELETE FROM ratios WHERE den = 0;
SELECT dt.resume('quotients');
SELECT dt_internal.run_scheduled_refreshes(ts('quotient_total') + interval '1 minute') AS units;
SELECT name, scheduling_state, consecutive_failures, last_refresh_state
  FROM dt.dynamic_tables WHERE relid::text LIKE 'quotient%' ORDER BY relid::text;
SELECT dt_test.check('quotients'), dt_test.check('quotient_total');
-- Suspension released its position in the change logs: the first refresh
-- after it is resumed is full, and says why.
SELECT refresh_action, state, state_message FROM dt.refresh_history
 WHERE name = 'public.quotients' ORDER BY refresh_id DESC LIMIT 1;

-- A failed manual refresh raises its error; the scheduler records it.
INSERT INTO ratios VALUES (4, 1, 0);
SELECT * FROM dt.refresh('quotients');

-- Lag figures exist for refreshed tables.
SELECT name, current_lag IS NOT NULL AS has_lag, mean_lag IS NOT NULL AS has_mean,
       maximum_lag >= mean_lag AS max_ge_mean,
       time_within_target_lag_ratio BETWEEN 0 AND 1 AS ratio_ok
  FROM dt.dynamic_tables WHERE relid = 'by_region'::regclass;

-- Only superusers run other people's scheduled refreshes.
CREATE ROLE sched_user;
SET ROLE sched_user;
SELECT dt_internal.run_scheduled_refreshes(now());
RESET ROLE;
DROP ROLE sched_user;

DROP TABLE ratios, orders CASCADE;

-- Long chains and lattices: each DT is walked once, never once per path.
-- A chain of 50 DTs over one table, and a lattice of 25 layers of two DTs,
-- each reading both DTs of the layer below (2^25 paths from its top to its
-- base): creating, planning and refreshing them took time exponential in
-- the depth before 1.1.  (The timeout only stops a test that would hang.)
SET statement_timeout = '5min';
CREATE TABLE links (k int, v int);
INSERT INTO links SELECT i % 3, i FROM generate_series(1, 30) i;
SELECT dt.create_dynamic_table('chain_1', 'SELECT k, sum(v) AS v FROM links GROUP BY k', target_lag => '1 minute');
DO $$
BEGIN
    FOR i IN 2 .. 50 LOOP
        PERFORM dt.create_dynamic_table('chain_' || i,
            format('SELECT k, sum(v) AS v FROM chain_%s GROUP BY k', i - 1), target_lag => '1 minute');
    END LOOP;
    PERFORM dt.create_dynamic_table('lattice_1_' || s, 'SELECT k, sum(v) AS v FROM links GROUP BY k',
                                    target_lag => '1 minute')
      FROM unnest(ARRAY['a', 'b']) s;
    FOR i IN 2 .. 25 LOOP
        PERFORM dt.create_dynamic_table(format('lattice_%s_%s', i, s),
            format('SELECT a.k, sum(a.v + b.v) AS v FROM lattice_%1$s_a a JOIN lattice_%1$s_b b ON a.k = b.k GROUP BY a.k', i - 1),
            target_lag => '1 minute')
          FROM unnest(ARRAY['a', 'b']) s;
    END LOOP;
END
$$;
INSERT INTO links VALUES (1, 1000), (4, 4);
-- Due together, the chain is one unit, led by its top; the two tops of the
-- lattice are one unit each, with the 48 DTs below them.
SELECT unit, count(*) AS steps, (array_agg(name ORDER BY step DESC))[1] AS last
  FROM plan(ts('chain_50') + interval '1 hour') GROUP BY unit ORDER BY unit;
SELECT dt_internal.run_scheduled_refreshes(ts('chain_50') + interval '1 hour') AS units;
SELECT dt_test.check('chain_50'), dt_test.check('lattice_25_a'), dt_test.check('lattice_25_b');
INSERT INTO links VALUES (2, 7);
SELECT action FROM dt.refresh('lattice_25_b');
SELECT dt_test.check('lattice_25_b');
SELECT count(*) AS dynamic_tables_refreshed FROM dt.refresh_history h
 WHERE h.refresh_trigger = 'MANUAL' AND h.name LIKE 'public.lattice%';
RESET statement_timeout;
SET client_min_messages = warning;
DROP TABLE links CASCADE;
RESET client_min_messages;
-- More due tables than workers: the most overdue comes first, whatever
-- the order of creation (workers claim units in this order; by catalog
-- order the first tables made were always served and the last starved).
CREATE TABLE sales (region text, amount int);
INSERT INTO sales VALUES ('north', 1), ('south', 2);
SELECT dt.create_dynamic_table('made_first', 'SELECT region, max(amount) AS high FROM sales GROUP BY region',
    target_lag => '10 minutes');
SELECT dt.create_dynamic_table('made_second', 'SELECT region, avg(amount) AS mean FROM sales GROUP BY region',
    target_lag => '1 minute');
SELECT name FROM plan(ts('made_second') + interval '1 hour')
 WHERE name IN ('made_first'::regclass, 'made_second'::regclass) ORDER BY unit;
-- A table made over a suspended one is suspended with it (it was shown
-- ACTIVE and never scheduled), and resumed with it.
SELECT dt.suspend('made_first');
SELECT dt.create_dynamic_table('over_suspended', 'SELECT count(*) AS regions FROM made_first',
    target_lag => '1 minute');
SELECT scheduling_state, scheduling_state_reason FROM dt.dynamic_tables WHERE relid = 'over_suspended'::regclass;
SELECT dt.resume('made_first');
SELECT scheduling_state FROM dt.dynamic_tables WHERE relid = 'over_suspended'::regclass;
SET client_min_messages = warning;
DROP TABLE sales CASCADE;
RESET client_min_messages;
DROP FUNCTION ts, plan;
