-- A rebuild places the percentile cursors of the state from the value
-- counts: group by group through the auxiliary table's index where the
-- groups are large (16 values or more on average), or in one sort of all
-- the item's values where they are small (deparse.c, cursor_rebuild_sql).
-- A cursor placed wrongly shows in the refreshes after the rebuild, which
-- move it from there: each is compared with the query.

CREATE SCHEMA dt_rbc;
SET search_path = dt_rbc, public;
SET pg_dynamic_tables.adaptive_refresh = off;

-- three large groups (with values counted more than once, NULLs and NaN)
-- and many small ones
CREATE TABLE r (id int PRIMARY KEY, k int, f int, x float8, t text);
INSERT INTO r SELECT i, i % 3, i % 700,
       CASE WHEN i % 97 = 0 THEN NULL WHEN i % 211 = 0 THEN 'NaN' ELSE (i * 7919 % 1000) / 4.0 END,
       'v' || (i * 31 % 500)
  FROM generate_series(1, 3000) i;

SELECT dt.create_dynamic_table('big', $$
SELECT k, percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS med,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY x) AS p90,
       percentile_disc(0.25) WITHIN GROUP (ORDER BY t) AS q1_t,
       min(x) AS lo, max(x) AS hi, count(*) AS n
  FROM r GROUP BY k
$$, refresh_mode => 'incremental');
SELECT dt.create_dynamic_table('small', $$
SELECT f, percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS med,
       percentile_disc(0.75) WITHIN GROUP (ORDER BY t) AS q3_t, count(*) AS n
  FROM r GROUP BY f
$$, refresh_mode => 'incremental');
SELECT dt.create_dynamic_table('one', $$
SELECT percentile_cont(0.3) WITHIN GROUP (ORDER BY x) AS p30,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY t) AS med_t
  FROM r
$$, refresh_mode => 'incremental');

SELECT table_name, refresh_mode_reason LIKE 'aggregates are merged%' AS delta_merge
  FROM dt.dynamic_tables WHERE schema_name = 'dt_rbc' ORDER BY 1;

-- check_all(): every table equals its query
CREATE FUNCTION check_all() RETURNS TABLE (dt text, differences bigint) LANGUAGE sql AS $$
    SELECT d, (SELECT count(*) FROM dt_test.diff(d::regclass))
      FROM unnest(ARRAY['big', 'small', 'one']) d
$$;
-- step(): refresh every table, with the action taken
CREATE FUNCTION step() RETURNS TABLE (dt text, action text) LANGUAGE sql AS $$
    SELECT d, (SELECT r.action FROM dt.refresh(d::regclass) r)
      FROM unnest(ARRAY['big', 'small', 'one']) d
$$;

-- every state lost (as in a crash) and rebuilt
DELETE FROM dt_internal.state_valid WHERE relid IN ('big'::regclass, 'small'::regclass, 'one'::regclass);
SELECT * FROM step();
SELECT * FROM check_all();

-- the rows at and around each group's median and 90th percentile leave,
-- the largest value of each group too: every cursor moves from where the
-- rebuild placed it
DELETE FROM r WHERE id IN (
    SELECT id FROM (SELECT id, x, percent_rank() OVER (PARTITION BY k ORDER BY x) AS pr FROM r WHERE x IS NOT NULL) s
     WHERE pr BETWEEN 0.48 AND 0.52 OR pr BETWEEN 0.89 AND 0.91 OR pr = 1);
SELECT * FROM step();
SELECT * FROM check_all();

-- every state lost (as in a crash) and rebuilt
DELETE FROM dt_internal.state_valid WHERE relid IN ('big'::regclass, 'small'::regclass, 'one'::regclass);
SELECT * FROM step();
SELECT * FROM check_all();
-- values below every median, a value counted again, t values at the start
INSERT INTO r SELECT 10000 + i, i % 3, i % 700, -i / 3.0, 'a' || i FROM generate_series(1, 200) i;
UPDATE r SET x = 100.25 WHERE id % 50 = 1;
SELECT * FROM step();
SELECT * FROM check_all();

-- one row left in a large group, then none
DELETE FROM r WHERE k = 2 AND id <> 5;
SELECT * FROM step();
SELECT * FROM check_all();
-- every state lost (as in a crash) and rebuilt
DELETE FROM dt_internal.state_valid WHERE relid IN ('big'::regclass, 'small'::regclass, 'one'::regclass);
SELECT * FROM step();
SELECT * FROM check_all();
DELETE FROM r WHERE k = 2;
SELECT * FROM step();
SELECT * FROM check_all();
SELECT dt_test.bad_value_counts('big');

DROP SCHEMA dt_rbc CASCADE;
