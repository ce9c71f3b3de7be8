-- Affected-key recompute against the oracle: window functions in WITH
-- queries, DISTINCT ON and "latest row per key", queries without
-- aggregates, LEFT JOIN, GROUPING SETS and ROLLUP, UNION ALL, DISTINCT,
-- aggregates that delta merge does not know, and chains through them.
--
-- A fact table f and a dimension d take seeded random writes on both
-- sides: rows inserted with NULL keys and ids d does not have, rows moved
-- to another key or dimension row, values changed, deletes; dimension rows
-- renamed, moved to another category, deleted and added back.  After every
-- round every dynamic table must equal its defining query, and no refresh
-- may be FULL.

CREATE SCHEMA dt_rc;
SET search_path = dt_rc, public;

CREATE TABLE d (id int PRIMARY KEY, name text, cat text);
CREATE TABLE f (id serial PRIMARY KEY, g int, d_id int, ts timestamptz, v float8, s text);
CREATE TABLE e (cat text PRIMARY KEY, label text);
CREATE INDEX ON f (g);
CREATE INDEX ON f (d_id);

-- Each shape, created with refresh_mode 'incremental' (refused otherwise).
CREATE FUNCTION rc_create(name text, query text) RETURNS void LANGUAGE sql AS $$
SELECT dt.create_dynamic_table(name, query, refresh_mode => 'incremental', initialize => 'on_schedule')
$$;

-- Rolling statistics per key: the shape of seed 000's template statistics
-- (delta merge since window.c: its aggregates over the first rows of each
-- key are computed again for the keys the changes touch; test window).
SELECT rc_create('rc_stats', $$
WITH ranked AS (
    SELECT g, v, ts, row_number() OVER (PARTITION BY g ORDER BY ts DESC, id) AS rk
      FROM f WHERE v IS NOT NULL
), per_g AS (
    SELECT g, count(*) AS total, count(*) FILTER (WHERE rk <= 3) AS recent,
           avg(v) AS avg_v, avg(CASE WHEN rk <= 3 THEN v END) AS recent_avg_v,
           stddev(v) AS sd_v, max(ts) AS last_ts
      FROM ranked GROUP BY g
)
SELECT *, CASE WHEN avg_v > 0 THEN sd_v / avg_v END AS cv,
       CASE WHEN sd_v / NULLIF(avg_v, 0) < 0.5 THEN 'stable' ELSE 'volatile' END AS badge
  FROM per_g WHERE total >= 2
$$);
-- The latest row per key, two ways (seed 002, query 2).
SELECT rc_create('rc_latest', $$
SELECT DISTINCT ON (g) g, id, ts, s FROM f ORDER BY g, ts DESC NULLS LAST, id
$$);
SELECT rc_create('rc_latest_rn', $$
SELECT g, id, ts, s
  FROM (SELECT *, row_number() OVER (PARTITION BY g ORDER BY ts DESC NULLS LAST, id) AS rn FROM f) sub
 WHERE rn = 1
$$);
-- No aggregate: filter, project, join (seed 004's job_charges shape).
SELECT rc_create('rc_rows', $$
SELECT f.id, f.v * 2 AS v2, d.name, d.cat FROM f JOIN d ON d.id = f.d_id WHERE f.s IS DISTINCT FROM 'x'
$$);
-- LEFT JOIN, with and without aggregates; string_agg is not merged.  Two
-- LEFT JOINs: a fact row without a dimension row still gets the other's
-- changes.  Three tables: dimension rows of two tables deleted in one
-- window.
SELECT rc_create('rc_left2', $$
SELECT f.id, d.name, e.label FROM f LEFT JOIN d ON d.id = f.d_id LEFT JOIN e ON e.cat = f.s
$$);
SELECT rc_create('rc_three', $$
SELECT f.id, d.name, e.label FROM f JOIN d ON d.id = f.d_id JOIN e ON e.cat = d.cat
$$);
SELECT rc_create('rc_left', $$
SELECT f.id, f.g, d.name, coalesce(d.cat, 'none') AS cat FROM f LEFT JOIN d ON d.id = f.d_id
$$);
SELECT rc_create('rc_left_agg', $$
SELECT f.g, count(d.id) AS matched, count(*) AS n,
       string_agg(d.name, ',' ORDER BY d.name, f.id) AS names
  FROM f LEFT JOIN d ON d.id = f.d_id AND d.cat <> 'c3'
 GROUP BY f.g
$$);
-- Grouping sets that all contain the key (string_agg, which delta merge
-- does not merge), and ROLLUP under a GROUP BY key (delta merge now).
SELECT rc_create('rc_sets', $$
SELECT d_id, s, count(*) AS n, string_agg(v::text, ',' ORDER BY v) AS vs, GROUPING(s) AS all_s
  FROM f GROUP BY GROUPING SETS ((d_id, s), (d_id))
$$);
SELECT rc_create('rc_rollup', $$
SELECT g, s, date_trunc('day', ts) AS day, count(*) AS n, max(v) AS max_v
  FROM f GROUP BY g, ROLLUP (s, date_trunc('day', ts))
$$);
-- UNION ALL of aggregates over two tables, and DISTINCT.
SELECT rc_create('rc_union', $$
SELECT d_id AS id, 'facts' AS kind, count(*) AS n FROM f GROUP BY d_id
UNION ALL
SELECT id, cat, 1 FROM d
$$);
SELECT rc_create('rc_distinct', $$
SELECT DISTINCT g, s FROM f
$$);
-- A WITH query in the second branch of a UNION ALL.
SELECT rc_create('rc_union_cte', $$
WITH c AS (SELECT d_id, v FROM f)
SELECT id, cat AS label FROM d UNION ALL SELECT d_id, 'fact' FROM c
$$);
-- Chains: delta merge over a recompute DT, recompute over it again.
SELECT rc_create('rc_by_cat', $$
SELECT cat, count(*) AS n, sum(v2) AS sum_v2 FROM rc_rows GROUP BY cat
$$);
SELECT rc_create('rc_top_per_cat', $$
SELECT DISTINCT ON (cat) cat, id, v2 FROM rc_rows ORDER BY cat, v2 DESC NULLS LAST, id
$$);

SELECT name, refresh_mode, refresh_mode_reason
  FROM dt.dynamic_tables WHERE relid::text LIKE 'rc\_%' ORDER BY relid::text;

CREATE FUNCTION rc_insert(cnt int) RETURNS void LANGUAGE sql AS $$
INSERT INTO f (g, d_id, ts, v, s)
SELECT CASE WHEN random() < 0.05 THEN NULL ELSE floor(random() * 6)::int END,
       CASE WHEN random() < 0.05 THEN NULL ELSE 1 + floor(random() * 10)::int END,
       CASE WHEN random() < 0.05 THEN NULL
            ELSE timestamptz '2025-01-01' + floor(random() * 4) * interval '1 day'
                 + floor(random() * 100) * interval '1 hour' END,
       CASE WHEN random() < 0.05 THEN NULL ELSE round((random() * 100)::numeric, 2)::float8 END,
       CASE WHEN random() < 0.05 THEN NULL ELSE (ARRAY['x', 'y', 'z'])[1 + floor(random() * 3)::int] END
  FROM generate_series(1, cnt)
$$;

CREATE FUNCTION rc_round() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    op float8;
BEGIN
    PERFORM rc_insert(5 + floor(random() * 15)::int);
    FOR step IN 1 .. 5 LOOP
        op := random();
        IF op < 0.2 THEN
            UPDATE f SET g = CASE WHEN random() < 0.1 THEN NULL ELSE floor(random() * 6)::int END,
                         d_id = 1 + floor(random() * 10)::int
             WHERE id IN (SELECT id FROM f ORDER BY random() LIMIT 4);
        ELSIF op < 0.35 THEN
            UPDATE f SET v = v + 1, ts = ts + interval '5 hours', s = CASE WHEN s = 'x' THEN 'y' ELSE 'x' END
             WHERE id IN (SELECT id FROM f ORDER BY random() LIMIT 4);
        ELSIF op < 0.5 THEN
            DELETE FROM f WHERE id IN (SELECT id FROM f ORDER BY random() LIMIT 5);
        ELSIF op < 0.6 THEN
            -- the latest row of a key
            DELETE FROM f WHERE id = (SELECT id FROM f WHERE g = floor(random() * 6)::int
                                      ORDER BY ts DESC NULLS LAST, id LIMIT 1);
        ELSIF op < 0.72 THEN
            UPDATE d SET name = name || '+' WHERE id = 1 + floor(random() * 10)::int;
        ELSIF op < 0.82 THEN
            UPDATE d SET cat = 'c' || floor(random() * 4)::int WHERE id = 1 + floor(random() * 10)::int;
        ELSIF op < 0.88 THEN
            -- a dimension row of each table goes, in one transaction
            DELETE FROM d WHERE id = 1 + floor(random() * 10)::int;
            DELETE FROM e WHERE cat = 'c' || floor(random() * 4)::int;
        ELSIF op < 0.93 THEN
            UPDATE e SET label = label || '+' WHERE cat IN ('x', 'c' || floor(random() * 4)::int);
        ELSE
            INSERT INTO d SELECT i, 'n' || i, 'c' || (i % 4) FROM generate_series(1, 10) i
            ON CONFLICT DO NOTHING;
            INSERT INTO e SELECT c, 'l' || c FROM unnest(ARRAY['c0', 'c1', 'c2', 'c3', 'x', 'y']) c
            ON CONFLICT DO NOTHING;
        END IF;
    END LOOP;
END $$;

SELECT setseed(0.4321);
INSERT INTO d SELECT i, 'n' || i, 'c' || (i % 4) FROM generate_series(1, 8) i;
INSERT INTO e SELECT c, 'l' || c FROM unnest(ARRAY['c0', 'c1', 'c3', 'x']) c;
SELECT rc_insert(200);
SELECT dt_test.check_all('rc\_%', true);

DO $$
BEGIN
    FOR round IN 1 .. 30 LOOP
        PERFORM rc_round();
        IF round % 5 = 0 THEN
            -- a refresh inside the writing transaction, then more writes
            PERFORM dt_test.check_all('rc\_%', true);
            PERFORM rc_round();
        END IF;
        PERFORM dt_test.check_all('rc\_%', true);
        COMMIT;
    END LOOP;
END $$;

-- Every refresh after the first (FULL) was incremental or had nothing to
-- do, or full because its changes touched a quarter of the keys (the small
-- tables here have few).
SELECT count(DISTINCT relid) AS tables,
       count(*) FILTER (WHERE refresh_action = 'FULL' AND state_message IS NULL) AS full_refreshes,
       count(*) FILTER (WHERE refresh_action = 'FULL' AND state_message IS NOT NULL) > 0 AS full_for_many_keys,
       count(*) FILTER (WHERE refresh_action = 'INCREMENTAL') > 200 AS incremental
  FROM dt.refresh_history WHERE relid::regclass::text LIKE 'rc\_%';

-- Changes that touch only the NULL key.
SELECT action FROM dt.refresh('rc_latest');
INSERT INTO f (g, v) VALUES (NULL, 1), (NULL, 2);
SELECT action FROM dt.refresh('rc_latest');
SELECT dt_test.check('rc_latest');

-- A whole-row reference to a view is no partition key; another column is.
CREATE VIEW fv AS SELECT d_id, v FROM f;
SELECT rc_create('rc_whole_row', 'SELECT fv.d_id, fv AS r FROM fv');
SELECT refresh_mode, refresh_mode_reason FROM dt.dynamic_tables WHERE relid = 'rc_whole_row'::regclass;
SELECT action FROM dt.refresh('rc_whole_row');
UPDATE f SET v = v + 1 WHERE d_id = 3;
SELECT action FROM dt.refresh('rc_whole_row');
SELECT dt_test.check('rc_whole_row');

-- A refresh rewrites only the partitions its changes touch.
SELECT action FROM dt.refresh('rc_rows');
UPDATE f SET v = v + 1 WHERE id = (SELECT min(id) FROM f WHERE d_id IN (SELECT id FROM d) AND s <> 'x');
SELECT rows_inserted, rows_deleted FROM dt.refresh('rc_rows');
SELECT dt_test.check('rc_rows');

SET client_min_messages = warning;
DROP SCHEMA dt_rc CASCADE;
RESET client_min_messages;
SELECT count(*) AS dynamic_tables_left FROM dt.dynamic_tables WHERE schema_name = 'dt_rc';
