-- The fill of a rebuild of the per-group state (deparse.c, state_fill_sql):
-- the state grouped by the fields of the key (key_fields_sql), not by the
-- key as a record, and the value counts sorted by group and item first
-- (one number, sort_key_sql: counted's float8 values are three items),
-- then by value within each (an incremental sort), as after a stretch of
-- full refreshes that set the state aside, or a bulk merge.  Keys of
-- several columns with NULLs, of a join and of grouping sets; after each
-- rebuild, incremental refreshes that empty groups, bring values to a
-- count of zero and make NULL keys: every table is compared with its
-- query (dt_test.check).

CREATE SCHEMA dt_rbf;
SET search_path = dt_rbf, public;
SET pg_dynamic_tables.adaptive_refresh = off;

CREATE TABLE kinds (id int PRIMARY KEY, name text, kind text);
INSERT INTO kinds SELECT i, 'name ' || (i % 7), CASE WHEN i % 5 = 0 THEN NULL ELSE 'kind ' || (i % 3) END
  FROM generate_series(1, 40) i;
-- wide enough that a bulk load takes more than 64 pages (refresh.c, marker_action)
CREATE TABLE r (id int PRIMARY KEY, k1 text, k2 int, kid int, x float8, t text, pad text);
INSERT INTO r SELECT i, CASE WHEN i % 11 = 0 THEN NULL ELSE 'g' || (i % 6) END,
       CASE WHEN i % 13 = 0 THEN NULL ELSE i % 4 END, 1 + i % 40,
       CASE WHEN i % 17 = 0 THEN NULL WHEN i % 101 = 0 THEN 'NaN' ELSE (i * 7919 % 1000) / 8.0 END,
       't' || (i * 31 % 300), repeat('p', 60)
  FROM generate_series(1, 6000) i;

SELECT dt.create_dynamic_table('counted', $$
SELECT k1, k2, count(*) AS n, sum(x) AS sx, avg(x) AS ax, min(x) AS lo, max(x) AS hi,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS med,
       percentile_disc(0.25) WITHIN GROUP (ORDER BY x / 2) AS q_half, max(x) FILTER (WHERE k2 = 1) AS hi_k2_1,
       count(DISTINCT t) AS dt, min(t) AS first_t
  FROM r GROUP BY k1, k2
$$, refresh_mode => 'incremental');
SELECT dt.create_dynamic_table('joined', $$
SELECT k.name, k.kind, r.k2, count(*) AS n, sum(r.x) AS sx, avg(r.id) AS aid
  FROM r JOIN kinds k ON k.id = r.kid GROUP BY k.name, k.kind, r.k2
$$, refresh_mode => 'incremental');
SELECT dt.create_dynamic_table('sets', $$
SELECT k1, k2, count(*) AS n, sum(x) AS sx, max(t) AS last_t
  FROM r GROUP BY GROUPING SETS ((k1, k2), (k1), ())
$$, refresh_mode => 'incremental');
SELECT table_name, refresh_mode_reason LIKE 'aggregates are merged%' AS delta_merge
  FROM dt.dynamic_tables WHERE schema_name = 'dt_rbf' ORDER BY 1;

-- step(): refresh every table, with the action taken
CREATE FUNCTION step() RETURNS TABLE (dt text, action text) LANGUAGE sql AS $$
    SELECT d, (SELECT r.action FROM dt.refresh(d::regclass) r)
      FROM unnest(ARRAY['counted', 'joined', 'sets']) d
$$;
-- valid(): step(), and whether each state is valid after it: a state set
-- aside (adaptive refresh on) is rebuilt by the next refresh (off)
CREATE FUNCTION valid() RETURNS TABLE (dt text, action text, state_valid boolean) LANGUAGE plpgsql AS $$
DECLARE
    actions text[] := ARRAY(SELECT s.action FROM step() s);
BEGIN
    RETURN QUERY SELECT d, actions[i], d::regclass::oid IN (SELECT relid FROM dt_internal.state_valid)
                   FROM unnest(ARRAY['counted', 'joined', 'sets']) WITH ORDINALITY u(d, i);
END $$;

-- a stretch of full refreshes: a bulk load (one INSERT of a fifth of the
-- table or more) sets every state aside
SET pg_dynamic_tables.adaptive_refresh = on;
INSERT INTO r SELECT 10000 + i, 'g' || (i % 9), i % 5, 1 + i % 40, i / 7.0, 't' || (i % 400), repeat('p', 60)
  FROM generate_series(1, 12000) i;
SELECT * FROM valid();
SET pg_dynamic_tables.adaptive_refresh = off;
SELECT dt_test.check_all('dt_rbf.%');
-- the next refreshes rebuild the states, then go on incrementally
UPDATE r SET x = x + 1 WHERE id % 10 = 3;
SELECT * FROM valid();
SELECT dt_test.check_all('dt_rbf.%');
SELECT dt_test.bad_value_counts('counted');

-- groups that vanish, NULL keys made and emptied, values brought to a
-- count of zero, NaN, rows moved between groups
DELETE FROM r WHERE k1 = 'g5' OR (k1 IS NULL AND k2 IS NULL);
UPDATE r SET k1 = NULL WHERE id % 97 = 1;
UPDATE r SET k2 = NULL, x = 'NaN' WHERE id % 89 = 2;
DELETE FROM r WHERE x = 0.125 OR t = 't7';
UPDATE r SET k1 = 'g' || (id % 3), kid = 1 + id % 5 WHERE id % 23 = 4;
SELECT * FROM step();
SELECT dt_test.check_all('dt_rbf.%');

-- set aside again, and rebuilt from what is left
SET pg_dynamic_tables.adaptive_refresh = on;
DELETE FROM r WHERE id >= 10000;
SELECT * FROM valid();
SET pg_dynamic_tables.adaptive_refresh = off;
DELETE FROM r WHERE k2 = 3;
SELECT * FROM valid();
SELECT dt_test.check_all('dt_rbf.%');
-- every row of a key leaves, then a group of NULL keys only
DELETE FROM r WHERE k1 IS DISTINCT FROM 'g1';
SELECT * FROM step();
SELECT dt_test.check_all('dt_rbf.%');
UPDATE r SET k1 = NULL, k2 = NULL;
SELECT * FROM step();
SELECT dt_test.check_all('dt_rbf.%');
SELECT dt_test.bad_value_counts('counted');
-- emptied, rebuilt empty, filled again incrementally
DELETE FROM r;
SELECT * FROM step();
DELETE FROM dt_internal.state_valid WHERE relid IN ('counted'::regclass, 'joined'::regclass, 'sets'::regclass);
SELECT * FROM valid();
INSERT INTO r VALUES (1, NULL, NULL, 1, 2.5, 'a', ''), (2, 'g1', NULL, 2, NULL, NULL, ''), (3, 'g1', 1, 3, 'NaN', 'b', '');
SELECT * FROM step();
SELECT dt_test.check_all('dt_rbf.%');
SELECT dt_test.bad_value_counts('counted');

DROP SCHEMA dt_rbf CASCADE;
