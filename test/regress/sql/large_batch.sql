-- A large change batch merged into per-group value counts at once: many
-- duplicate values per group, values whose count falls to zero (and the
-- same values back within one batch), groups that empty, min, max and
-- percentiles that move, NULL groups and NULL values.  The merge adds one
-- delta per group, item and value, deletes the values whose count reaches
-- zero and adds the others; every refresh is compared with the query, and
-- no value is left in the auxiliary tables with a count of zero or less.

CREATE SCHEMA dt_lb;
SET search_path = dt_lb, public;

CREATE TABLE lb (id int PRIMARY KEY, g int, x int, y float8, t text);
SELECT setseed(0.11);
INSERT INTO lb
SELECT i,
       CASE WHEN i % 23 = 0 THEN NULL ELSE i % 10 END,
       CASE WHEN i % 31 = 0 THEN NULL ELSE floor(random() * 40)::int END,
       CASE WHEN i % 17 = 0 THEN NULL ELSE round((random() * 1000)::numeric, 1)::float8 END,
       'v' || floor(random() * 60)::int
  FROM generate_series(1, 20000) i;

SELECT dt.create_dynamic_table('lb_dt', $$
SELECT g, count(*) AS n, count(x) AS nx,
       count(DISTINCT x) AS dx, count(DISTINCT t) AS dt, count(DISTINCT y) AS dy,
       min(x) AS min_x, max(x) AS max_x, min(y) AS min_y, max(y) AS max_y,
       min(t) AS min_t, max(t) AS max_t,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS med_x,
       percentile_disc(0.9) WITHIN GROUP (ORDER BY x) AS p90_x,
       percentile_cont(0.1) WITHIN GROUP (ORDER BY y) AS p10_y,
       percentile_disc(0.75) WITHIN GROUP (ORDER BY y) AS p75_y,
       sum(x) AS sx, avg(y) AS ay
  FROM lb GROUP BY g
$$, refresh_mode => 'incremental');
SELECT refresh_mode_reason FROM dt.dynamic_tables WHERE relid = 'lb_dt'::regclass;

-- refresh_and_check: one incremental refresh, then the oracle.
CREATE FUNCTION refresh_and_check() RETURNS TABLE (action text, differences bigint, zero_counts bigint)
LANGUAGE sql AS $$
    SELECT (SELECT r.action FROM dt.refresh('dt_lb.lb_dt') r),
           (SELECT count(*) FROM dt_test.diff('dt_lb.lb_dt')),
           dt_test.bad_value_counts('dt_lb.lb_dt')
$$;

-- Batch 1, one transaction: 6,000 new rows over few values (duplicates
-- per group and value), every x = 0 and x = 39 of group 1 gone (their
-- counts fall to zero), the largest y of each group gone (max moves),
-- rows moved between groups and into the NULL group, NULLs set.
BEGIN;
INSERT INTO lb
SELECT 20000 + i, i % 12, floor(random() * 40)::int,
       CASE WHEN i % 7 = 0 THEN NULL ELSE round((random() * 1000)::numeric, 1)::float8 END,
       'v' || floor(random() * 60)::int
  FROM generate_series(1, 6000) i;
DELETE FROM lb WHERE g = 1 AND x IN (0, 39);
DELETE FROM lb l WHERE y = (SELECT max(y) FROM lb m WHERE m.g IS NOT DISTINCT FROM l.g);
UPDATE lb SET g = CASE WHEN id % 3 = 0 THEN NULL ELSE (g + 1) % 12 END WHERE id % 29 = 0;
UPDATE lb SET x = NULL, y = NULL WHERE id % 101 = 0;
COMMIT;
SELECT * FROM refresh_and_check();

-- Batch 2: group 2 empties, every x below 10 goes (percentiles move up),
-- then half of the deleted values come back in the same batch under new
-- ids (counts that fall to zero and rise again), and a value of t is
-- deleted and inserted in every group (a delta of zero).
BEGIN;
WITH gone AS (DELETE FROM lb WHERE g = 2 OR x < 10 RETURNING *)
INSERT INTO lb SELECT id + 100000, g, x, y, t FROM gone WHERE id % 2 = 0 AND g IS DISTINCT FROM 2;
UPDATE lb SET t = 'v7' WHERE t = 'v8';
UPDATE lb SET t = 'v8' WHERE t = 'v7' AND id % 2 = 0;
COMMIT;
SELECT * FROM refresh_and_check();
SELECT count(*) AS group_2_rows FROM lb_dt WHERE g = 2;

-- Batch 3: almost everything goes, then few rows come back: counts of
-- most values reach zero in one merge.
BEGIN;
DELETE FROM lb WHERE id % 50 <> 0;
INSERT INTO lb SELECT 200000 + i, i % 3, i % 5, i % 4, 'w' FROM generate_series(1, 300) i;
COMMIT;
SELECT * FROM refresh_and_check();

-- Batch 4: the table emptied, then filled again in the same batch.
BEGIN;
DELETE FROM lb;
INSERT INTO lb SELECT i, i % 4, i % 9, i % 7, 'u' || (i % 11) FROM generate_series(1, 5000) i;
COMMIT;
SELECT * FROM refresh_and_check();

DROP SCHEMA dt_lb CASCADE;
