-- Shapes that refresh incrementally against the oracle (issue 13): VALUES
-- lists and immutable set-returning functions joined with tables (they
-- never change: the change of the join is the table's change joined with
-- them), UNION ALL branches whose partition key is a constant (seed 001's
-- 'ALL' rows, seed 001's monitoring query: one row per branch, recomputed
-- when the branch's tables change), and keys of several columns for
-- recompute by key.
--
-- Tables f and d take seeded random writes: rows inserted with NULLs in
-- every column, moved between keys, changed, deleted; dimension rows
-- renamed, deleted and added back.  After every round every dynamic table
-- must equal its defining query, and every refresh must be incremental.

CREATE SCHEMA dt_sh;
SET search_path = dt_sh, public;

CREATE TABLE d (id int PRIMARY KEY, name text);
CREATE TABLE f (id serial PRIMARY KEY, a int, b int, d_id int, v numeric, s text);
CREATE INDEX ON f (a);
CREATE INDEX ON f (b);
CREATE INDEX ON f (d_id);
CREATE TABLE g (id serial PRIMARY KEY, b int, w text);
CREATE INDEX ON g (b);

CREATE FUNCTION sh_create(name text, query text) RETURNS void LANGUAGE sql AS $$
SELECT dt.create_dynamic_table(name, query, refresh_mode => 'incremental', initialize => 'on_schedule')
$$;

-- Constants joined with tables: delta merge and recompute.
SELECT sh_create('sh_values_agg', $$
SELECT x.label, count(*) AS n, sum(f.v) AS sum_v
  FROM f JOIN (VALUES (0, 'zero'), (1, 'one'), (2, 'two'), (NULL, 'none')) x(k, label) ON x.k = f.a
 GROUP BY x.label
$$);
SELECT sh_create('sh_series_agg', $$
SELECT f.a, g, count(*) AS n, max(f.v) AS max_v
  FROM f, generate_series(1, 3) g WHERE g <= f.b GROUP BY f.a, g
$$);
SELECT sh_create('sh_unnest_rows', $$
SELECT f.id, u.x, u.o, d.name
  FROM f JOIN d ON d.id = f.d_id
  LEFT JOIN unnest('{1,2,3}'::int[]) WITH ORDINALITY u(x, o) ON u.x = f.b
$$);
SELECT sh_create('sh_values_rows', $$
SELECT f.id, x.label FROM f, (VALUES (1, 'odd'), (0, 'even')) x(r, label) WHERE x.r = f.id % 2
$$);
SELECT sh_create('sh_const_subquery', $$
SELECT f.d_id, sum(f.v * w.weight) AS weighted
  FROM f JOIN (SELECT i, i * 10 AS weight FROM generate_series(0, 5) i) w ON w.i = f.a
 GROUP BY f.d_id
$$);
-- UNION ALL branches whose key is a constant: the 'ALL' row of seed 001
-- as a branch without GROUP BY, a branch with a LIMIT, and seed 001's
-- monitoring query over dynamic tables (a row per table).
SELECT sh_create('sh_all', $$
SELECT s AS marketplace, count(*) AS n, sum(v) AS total, count(DISTINCT a) AS a_count FROM f GROUP BY s
UNION ALL
SELECT 'ALL', count(*), sum(v), count(DISTINCT a) FROM f
$$);
SELECT sh_create('sh_top_branch', $$
SELECT 'top' AS k, id, v FROM (SELECT id, v FROM f ORDER BY v DESC NULLS LAST, id LIMIT 3) t
UNION ALL
SELECT s, id, v FROM f WHERE v < 20
UNION ALL
SELECT 'fixed', 0, NULL
$$);
SELECT sh_create('sh_zmonitor', $$
SELECT 'sh_values_agg' AS table_name, max(sum_v) AS max_sum, count(*) AS row_count FROM sh_values_agg
UNION ALL
SELECT 'sh_all', max(total), count(*) FROM sh_all
UNION ALL
SELECT 'f', max(v), count(*) FROM f
$$);
-- Keys of several columns: the groups of GROUP BY a, b (string_agg is not
-- merged), window partitions (a, b), a key from two tables of a join.
SELECT sh_create('sh_key_groups', $$
SELECT a, b, s, count(*) AS n, string_agg(v::text, ',' ORDER BY v, id) AS vs FROM f GROUP BY a, b, s
$$);
SELECT sh_create('sh_key_window', $$
SELECT a, b, id, v, row_number() OVER (PARTITION BY a, b ORDER BY v DESC NULLS LAST, id) AS rn,
       sum(v) OVER (PARTITION BY b, a) AS total
  FROM f
$$);
SELECT sh_create('sh_key_join', $$
SELECT f.a, d.name, count(*) AS n, string_agg(f.s, ',' ORDER BY f.id) AS ss
  FROM f JOIN d ON d.id = f.d_id GROUP BY f.a, d.name
$$);
-- FULL JOIN keyed by the join's column from both sides (USING, or
-- COALESCE of both sides of its equality), rows and groups.
SELECT sh_create('sh_full_rows', $$
SELECT b, f.id AS f_id, f.v, g.id AS g_id, g.w FROM f FULL JOIN g USING (b)
$$);
SELECT sh_create('sh_full_groups', $$
SELECT coalesce(f.b, g.b) AS b, count(f.id) AS nf, count(g.id) AS ng,
       string_agg(g.w, ',' ORDER BY g.id) AS ws, sum(f.v) AS sum_v
  FROM f FULL JOIN g ON f.b = g.b AND g.w <> 'w3'
 WHERE f.s IS DISTINCT FROM 'z'
 GROUP BY coalesce(f.b, g.b)
$$);
-- and by both sides' columns of its equality, keyed by the pair
SELECT sh_create('sh_full_sides', $$
SELECT f.b AS fb, g.b AS gb, f.v FROM f FULL JOIN g ON f.b = g.b
$$);

SELECT name, refresh_mode, refresh_mode_reason
  FROM dt.dynamic_tables WHERE relid::text LIKE 'sh\_%' ORDER BY relid::text;

-- Not constant: LATERAL, the clock, a subquery reading a table.
SELECT code, error FROM dt_test.create_fails('sh_lateral', $$
SELECT f.id, g FROM f, generate_series(1, f.b) g
$$, refresh_mode => 'incremental');
-- (A constant key over an aggregating subquery is no longer refused: the
-- subquery is an internal dynamic table, and the query reads it.)
SELECT code, error FROM dt_test.create_fails('sh_constant', $$
SELECT k, n FROM (SELECT 'ALL' AS k, count(*) AS n FROM f) s
$$, refresh_mode => 'incremental');
SELECT code, error FROM dt_test.create_fails('sh_no_table', $$
SELECT g, count(*) AS n FROM generate_series(1, 3) g GROUP BY g
$$, refresh_mode => 'incremental');
SELECT code, error FROM dt_test.create_fails('sh_clock', $$
SELECT f.id, t FROM f, generate_series(now(), now() + interval '1 day', interval '1 hour') t
$$, refresh_mode => 'incremental');

CREATE FUNCTION sh_insert(cnt int) RETURNS void LANGUAGE sql AS $$
INSERT INTO f (a, b, d_id, v, s)
SELECT CASE WHEN random() < 0.1 THEN NULL ELSE floor(random() * 4)::int END,
       CASE WHEN random() < 0.1 THEN NULL ELSE floor(random() * 5)::int END,
       CASE WHEN random() < 0.1 THEN NULL ELSE 1 + floor(random() * 6)::int END,
       CASE WHEN random() < 0.1 THEN NULL ELSE round((random() * 100)::numeric, 2) END,
       CASE WHEN random() < 0.1 THEN NULL ELSE (ARRAY['x', 'y', 'z'])[1 + floor(random() * 3)::int] END
  FROM generate_series(1, cnt)
$$;

CREATE FUNCTION sh_round() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    op float8;
BEGIN
    PERFORM sh_insert(3 + floor(random() * 8)::int);
    FOR step IN 1 .. 4 LOOP
        op := random();
        IF op < 0.25 THEN
            UPDATE f SET a = CASE WHEN random() < 0.2 THEN NULL ELSE floor(random() * 4)::int END,
                         b = CASE WHEN random() < 0.2 THEN NULL ELSE floor(random() * 5)::int END
             WHERE id IN (SELECT id FROM f ORDER BY random() LIMIT 3);
        ELSIF op < 0.45 THEN
            UPDATE f SET v = CASE WHEN random() < 0.2 THEN NULL ELSE v + 1 END,
                         s = CASE WHEN s = 'x' THEN 'y' ELSE 'x' END, d_id = 1 + floor(random() * 6)::int
             WHERE id IN (SELECT id FROM f ORDER BY random() LIMIT 3);
        ELSIF op < 0.65 THEN
            DELETE FROM f WHERE id IN (SELECT id FROM f ORDER BY random() LIMIT 4);
        ELSIF op < 0.7 THEN
            INSERT INTO g (b, w)
            SELECT CASE WHEN random() < 0.2 THEN NULL ELSE floor(random() * 7)::int END,
                   'w' || floor(random() * 5)::int FROM generate_series(1, 2);
            UPDATE g SET b = CASE WHEN random() < 0.2 THEN NULL ELSE floor(random() * 7)::int END
             WHERE id IN (SELECT id FROM g ORDER BY random() LIMIT 2);
            DELETE FROM g WHERE id IN (SELECT id FROM g ORDER BY random() LIMIT 2);
        ELSIF op < 0.8 THEN
            UPDATE d SET name = name || '+' WHERE id = 1 + floor(random() * 6)::int;
        ELSIF op < 0.9 THEN
            DELETE FROM d WHERE id = 1 + floor(random() * 6)::int;
        ELSE
            INSERT INTO d SELECT i, 'n' || i FROM generate_series(1, 6) i ON CONFLICT DO NOTHING;
        END IF;
    END LOOP;
END $$;

SELECT setseed(0.2468);
INSERT INTO d SELECT i, 'n' || i FROM generate_series(1, 5) i;
SELECT sh_insert(120);
INSERT INTO g (b, w) SELECT CASE WHEN i % 9 = 0 THEN NULL ELSE i % 7 END, 'w' || i % 5 FROM generate_series(1, 20) i;
SELECT dt_test.check_all('sh\_%', true);

DO $$
BEGIN
    FOR round IN 1 .. 25 LOOP
        PERFORM sh_round();
        PERFORM dt_test.check_all('sh\_%', true);
        COMMIT;
    END LOOP;
END $$;

-- Every refresh after the first (FULL) was incremental, had nothing to
-- do, or was full because its changes touched a quarter of the keys.
SELECT relid::regclass::text AS dt,
       count(*) FILTER (WHERE refresh_action = 'FULL' AND state_message IS NULL) AS full_refreshes,
       count(*) FILTER (WHERE refresh_action = 'INCREMENTAL') > 10 AS incremental
  FROM dt.refresh_history WHERE relid::regclass::text LIKE 'sh\_%'
 GROUP BY 1 ORDER BY 1;

-- A change recomputes the constant key's rows and the keys it touches.
SELECT step, kind, object, detail FROM dt.explain_refresh('sh_all') WHERE kind IN ('strategy', 'key');
UPDATE f SET v = coalesce(v, 0) + 1 WHERE id = (SELECT min(id) FROM f WHERE s = 'x');
SELECT action, rows_deleted, rows_inserted FROM dt.refresh('sh_all');
SELECT dt_test.check('sh_all');

-- A change recomputes its group (a, b, s), not every group of its a.
SELECT step, kind, object, detail FROM dt.explain_refresh('sh_key_groups') WHERE kind IN ('strategy', 'key');
SELECT count(*) > 1 AS several_groups_of_a FROM sh_key_groups WHERE a = 1;
SELECT action FROM dt.refresh('sh_key_groups');
UPDATE f SET v = coalesce(v, 0) + 1 WHERE id = (SELECT min(id) FROM f WHERE a = 1 AND b IS NOT NULL);
SELECT action, rows_deleted, rows_inserted FROM dt.refresh('sh_key_groups');
SELECT dt_test.check('sh_key_groups');
-- and the window partition (a, b) of the row, before and after it moved
SELECT action FROM dt.refresh('sh_key_window');
SELECT count(*) AS partition_rows FROM f WHERE a = 1 AND b = 2 OR a = 2 AND b = 2 \gset
UPDATE f SET a = 2 WHERE id = (SELECT min(id) FROM f WHERE a = 1 AND b = 2);
SELECT action, rows_deleted = :partition_rows AS partitions_only FROM dt.refresh('sh_key_window');
SELECT dt_test.check('sh_key_window');

SET client_min_messages = warning;
DROP SCHEMA dt_sh CASCADE;
RESET client_min_messages;
