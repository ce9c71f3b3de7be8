-- Subqueries against the oracle (issue 13): the forms of the analytical
-- SQL people write around a grouped query, each maintained incrementally.
--
-- Simple subqueries in FROM (a join under conditions, computing columns
-- row by row) are merged into the level that reads them, as the planner
-- does, so that a grouped query over them is maintained by delta merge
-- (TPC-H Q7, Q8, Q9): nested ones, one joined with a table, one whose
-- columns are expressions grouped on, one with a join inside.  A subquery
-- that aggregates or limits is not simple and is kept as it is.
--
-- A fact table sf and two dimensions sd, se take seeded random writes:
-- rows inserted with NULL keys and ids the dimensions do not have, rows
-- moved between groups, values changed, deletes; dimension rows renamed,
-- moved, deleted and added back.  After every round every dynamic table
-- equals its defining query.

CREATE SCHEMA dt_sq;
SET search_path = dt_sq, public;

CREATE TABLE sd (id int PRIMARY KEY, name text, cat text);
CREATE TABLE se (cat text PRIMARY KEY, region text);
CREATE TABLE sf (id serial PRIMARY KEY, d_id int, g int, v numeric, ts date);

CREATE FUNCTION sq_create(name text, query text) RETURNS void LANGUAGE sql AS $$
SELECT dt.create_dynamic_table(name, query, refresh_mode => 'incremental', initialize => 'on_schedule')
$$;

-- Q7's shape: expressions of a join grouped on outside.
SELECT sq_create('sq_pulled', $$
SELECT cat, yr, count(*) AS n, sum(amount) AS total, min(amount) AS least
  FROM (SELECT sd.cat, extract(year FROM sf.ts) AS yr, sf.v * 2 AS amount
          FROM sf, sd
         WHERE sd.id = sf.d_id AND sf.v IS DISTINCT FROM 13) AS x
 GROUP BY cat, yr
$$);
-- Nested, joined with a table at the top, a condition on a subquery column.
SELECT sq_create('sq_nested', $$
SELECT se.region, count(*) AS n, sum(y.v) AS total
  FROM (SELECT x.cat, x.v FROM (SELECT sd.cat, sf.v, sf.g FROM sf JOIN sd ON sd.id = sf.d_id) x
         WHERE x.g <> 2) y,
       se
 WHERE se.cat = y.cat AND y.v > 1
 GROUP BY se.region
$$);
-- Q8's shape: a ratio of sums over a subquery, no GROUP BY.
SELECT sq_create('sq_ratio', $$
SELECT sum(CASE WHEN cat = 'c1' THEN v ELSE 0 END) / NULLIF(sum(v), 0) AS share, count(*) AS n
  FROM (SELECT sd.cat, sf.v FROM sf, sd WHERE sd.id = sf.d_id) AS all_rows
$$);
-- A subquery of one table only.
SELECT sq_create('sq_one', $$
SELECT g, count(*) AS n, max(w) AS max_w FROM (SELECT g, v + 1 AS w FROM sf WHERE g IS NOT NULL) s GROUP BY g
$$);

-- Delta merge maintains them all; a subquery that aggregates is not
-- merged into its reader.
SELECT name, refresh_mode, refresh_mode_reason LIKE 'aggregates are merged%' AS merged
  FROM dt.dynamic_tables WHERE schema_name = 'dt_sq' ORDER BY name::text;
SELECT dt.create_dynamic_table('sq_not_simple', $$
SELECT g, count(*) AS n FROM (SELECT g, d_id FROM sf GROUP BY g, d_id) s GROUP BY g
$$);
SELECT refresh_mode, refresh_mode_reason FROM dt.dynamic_tables WHERE relid = 'sq_not_simple'::regclass;
SELECT dt.drop_dynamic_table('sq_not_simple');

CREATE FUNCTION sq_insert(cnt int) RETURNS void LANGUAGE sql AS $$
INSERT INTO sf (d_id, g, v, ts)
SELECT CASE WHEN random() < 0.05 THEN NULL ELSE 1 + floor(random() * 12)::int END,
       CASE WHEN random() < 0.05 THEN NULL ELSE floor(random() * 5)::int END,
       CASE WHEN random() < 0.05 THEN NULL ELSE floor(random() * 30)::numeric END,
       CASE WHEN random() < 0.05 THEN NULL ELSE date '2023-06-01' + floor(random() * 900)::int END
  FROM generate_series(1, cnt)
$$;

CREATE FUNCTION sq_round() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    op float8;
BEGIN
    PERFORM sq_insert(10 + floor(random() * 20)::int);
    FOR step IN 1 .. 5 LOOP
        op := random();
        IF op < 0.2 THEN
            UPDATE sf SET d_id = 1 + floor(random() * 12)::int, g = floor(random() * 5)::int
             WHERE id IN (SELECT id FROM sf ORDER BY random() LIMIT 6);
        ELSIF op < 0.35 THEN
            UPDATE sf SET v = v + 13, ts = ts + 200
             WHERE id IN (SELECT id FROM sf ORDER BY random() LIMIT 6);
        ELSIF op < 0.5 THEN
            DELETE FROM sf WHERE id IN (SELECT id FROM sf ORDER BY random() LIMIT 8);
        ELSIF op < 0.6 THEN
            UPDATE sd SET cat = 'c' || floor(random() * 4)::int, name = name || '+'
             WHERE id = 1 + floor(random() * 12)::int;
        ELSIF op < 0.7 THEN
            DELETE FROM sd WHERE id = 1 + floor(random() * 12)::int;
        ELSIF op < 0.8 THEN
            INSERT INTO sd SELECT i, 'd' || i, 'c' || (i % 4) FROM generate_series(1, 11) i
            ON CONFLICT (id) DO NOTHING;
        ELSIF op < 0.9 THEN
            UPDATE se SET region = CASE WHEN region = 'north' THEN 'south' ELSE 'north' END
             WHERE cat = 'c' || floor(random() * 4)::int;
        ELSE
            DELETE FROM se WHERE cat = 'c' || floor(random() * 4)::int;
            INSERT INTO se SELECT 'c' || i, 'east' FROM generate_series(0, 3) i ON CONFLICT DO NOTHING;
        END IF;
    END LOOP;
END $$;

SELECT setseed(0.4321);
INSERT INTO sd SELECT i, 'd' || i, 'c' || (i % 4) FROM generate_series(1, 11) i;
INSERT INTO se VALUES ('c0', 'north'), ('c1', 'south'), ('c2', 'north'), ('c3', NULL);
SELECT sq_insert(200);
SELECT dt_test.check_all('sq\_%', true);

-- The rounds: writes, refresh, compare; a mismatch raises an error naming
-- the table and the first differing row.  No refresh is FULL but the first.
DO $$
BEGIN
    FOR round IN 1 .. 25 LOOP
        PERFORM sq_round();
        PERFORM dt_test.check_all('sq\_%', true);
        COMMIT;
    END LOOP;
END $$;
SELECT name, count(*) FILTER (WHERE refresh_action = 'FULL') AS full_refreshes,
       count(*) FILTER (WHERE refresh_action = 'INCREMENTAL') > 20 AS incremental
  FROM dt.refresh_history WHERE name LIKE 'dt\_sq.sq%' AND name <> 'dt_sq.sq_not_simple'
 GROUP BY name ORDER BY name;

RESET search_path;
