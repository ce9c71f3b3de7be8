-- A bulk load: a change window of 10,000 rows or more that brings at least
-- as many values as the auxiliary tables hold (always the first one into
-- a new or emptied table) is merged in bulk: the window's values sorted
-- with the tables' rows into new heaps swapped in (each table gets a new
-- relfilenode), what reads them computed again for every group, the DT
-- filled again.  After each bulk merge, small batches take the ordinary
-- merge from the state the bulk merge left (distinct counts, cursors,
-- min and max); every refresh is compared with the query.

CREATE SCHEMA dt_bl;
SET search_path = dt_bl, public;

CREATE TABLE bl (id int PRIMARY KEY, g int, k text, x int, y float8);
CREATE TABLE dim (g int PRIMARY KEY, label text);
INSERT INTO dim SELECT i, 'g' || i FROM generate_series(0, 11) i;

-- grouped, with HAVING, NULL groups and every holistic aggregate
SELECT dt.create_dynamic_table('bl_grouped', $$
SELECT g, count(*) AS n, count(DISTINCT k) AS dk, count(DISTINCT x) AS dx,
       min(x) AS min_x, max(x) AS max_x, min(y) AS min_y, max(y) AS max_y,
       min(k) AS min_k, max(k) AS max_k,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY y) AS med_y,
       percentile_disc(0.9) WITHIN GROUP (ORDER BY x) AS p90_x,
       sum(x) AS sx, avg(y) AS ay
  FROM bl GROUP BY g HAVING count(*) > 1
$$, refresh_mode => 'incremental');
-- one row whatever the table holds
SELECT dt.create_dynamic_table('bl_all', $$
SELECT count(*) AS n, count(DISTINCT k) AS dk, min(y) AS min_y, max(x) AS max_x,
       percentile_cont(0.25) WITHIN GROUP (ORDER BY y) AS q1_y,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY k) AS med_k
  FROM bl
$$, refresh_mode => 'incremental');
-- top-k over a join
SELECT dt.create_dynamic_table('bl_top', $$
SELECT d.label, count(*) AS n, max(b.y) AS max_y, percentile_cont(0.5) WITHIN GROUP (ORDER BY b.x) AS med_x
  FROM bl b JOIN dim d ON d.g = b.g
 GROUP BY d.label ORDER BY max(b.y) DESC, d.label LIMIT 4
$$, refresh_mode => 'incremental');

-- relfilenodes(): the relfilenodes of the three DTs' auxiliary tables, in order
CREATE FUNCTION relfilenodes() RETURNS oid[] LANGUAGE sql AS $$
    SELECT array_agg(c.relfilenode ORDER BY c.relname)
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'dt_internal' AND c.relkind = 'r'
       AND c.relname ~ ('^aux_(' || 'bl_grouped'::regclass::oid || '|' || 'bl_all'::regclass::oid
                        || '|' || 'bl_top'::regclass::oid || ')_')
$$;

-- refresh_and_check(): refresh each DT and compare it with its query
-- (dt_test.bad_value_counts(): value counts of zero or less, test/helpers.sql).
CREATE FUNCTION refresh_and_check() RETURNS TABLE (dt text, action text, differences bigint)
LANGUAGE sql AS $$
    SELECT t, (SELECT r.action FROM dt.refresh(t::regclass) r),
           (SELECT count(*) FROM dt_test.diff(t::regclass))
      FROM unnest(ARRAY['dt_bl.bl_grouped', 'dt_bl.bl_all', 'dt_bl.bl_top']) t
$$;
-- heaps(): which of the auxiliary tables got new heaps since it was last
-- called: "all", "none" or "some"
CREATE TABLE nodes (step serial, relfilenodes oid[]);
INSERT INTO nodes (relfilenodes) VALUES (relfilenodes());
CREATE FUNCTION heaps() RETURNS text LANGUAGE sql AS $$
    WITH prev AS (SELECT relfilenodes FROM dt_bl.nodes ORDER BY step DESC LIMIT 1),
         ins AS (INSERT INTO dt_bl.nodes (relfilenodes) VALUES (dt_bl.relfilenodes()))
    SELECT CASE WHEN bool_and(a <> b) THEN 'all' WHEN bool_or(a <> b) THEN 'some' ELSE 'none' END
      FROM unnest((SELECT relfilenodes FROM prev), dt_bl.relfilenodes()) u(a, b)
$$;

-- Load 1: 20,000 rows into the empty table, with duplicates, NULL groups
-- and NULL values.  explain_refresh says it is a bulk merge.
SELECT setseed(0.21);
INSERT INTO bl
SELECT i,
       CASE WHEN i % 23 = 0 THEN NULL ELSE i % 12 END,
       CASE WHEN i % 19 = 0 THEN NULL ELSE 'k' || floor(random() * 70)::int END,
       CASE WHEN i % 31 = 0 THEN NULL ELSE floor(random() * 500)::int END,
       CASE WHEN i % 17 = 0 THEN NULL ELSE round((random() * 1000)::numeric, 2)::float8 END
  FROM generate_series(1, 20000) i;
SELECT kind, count(*) FROM dt.explain_refresh('bl_grouped') WHERE kind = 'statement' GROUP BY kind;
SELECT object, count(*) FROM dt.explain_refresh('bl_grouped') WHERE kind = 'statement' GROUP BY object ORDER BY object;
SELECT * FROM refresh_and_check();
SELECT heaps();
SELECT dt_test.bad_value_counts();
-- The indexes the bulk merge built, written past shared buffers, were
-- read into them: no block of them is missing there (a refresh after a
-- fill finds each leaf in memory, not on disk).
CREATE EXTENSION pg_buffercache SCHEMA dt_bl;
SELECT count(*) AS aux_indexes, sum(blocks - cached) AS blocks_not_in_shared_buffers
  FROM (SELECT pg_relation_size(i.indexrelid) / current_setting('block_size')::int AS blocks,
               (SELECT count(*) FROM pg_buffercache b
                 WHERE b.relfilenode = pg_relation_filenode(i.indexrelid) AND b.relforknumber = 0
                   AND b.reldatabase = (SELECT oid FROM pg_database WHERE datname = current_database())) AS cached
          FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
         WHERE c.relnamespace = 'dt_internal'::regnamespace AND c.relfilenode = ANY (relfilenodes())) x;

-- Small batches from the state the bulk merge left: merged value by value
-- (the heaps stay), distinct values that leave and come back, cursors
-- that walk, a group emptied, min and max deleted.
DELETE FROM bl WHERE g = 3;
UPDATE bl SET y = y + 0.5, x = x + 1 WHERE id % 97 = 0;
DELETE FROM bl b WHERE y = (SELECT max(y) FROM bl m WHERE m.g IS NOT DISTINCT FROM b.g);
INSERT INTO bl VALUES (30001, 5, 'k999', 7, 0.001), (30002, 5, 'k999', 7, 0.001), (30003, NULL, 'a', -1, -1);
SELECT * FROM refresh_and_check();
SELECT heaps();
UPDATE bl SET k = 'k1' WHERE k = 'k2';
DELETE FROM bl WHERE id % 5 = 0 AND g = 7;
SELECT * FROM refresh_and_check();
SELECT heaps(), dt_test.bad_value_counts();

-- Load 2, one transaction larger than the state: most rows deleted (most
-- counts reach zero, groups empty), 30,000 others inserted over fewer
-- values; then small batches again.
BEGIN;
DELETE FROM bl WHERE id % 10 <> 0 OR g IN (1, 2);
INSERT INTO bl
SELECT 100000 + i, i % 9, 'm' || (i % 13), i % 40, (i % 101) / 4.0
  FROM generate_series(1, 30000) i;
COMMIT;
SELECT * FROM refresh_and_check();
SELECT heaps(), dt_test.bad_value_counts();
INSERT INTO bl VALUES (40001, 1, 'z', 1000, 1e6), (40002, 1, 'z', 1001, -1e6);
DELETE FROM bl WHERE id BETWEEN 100001 AND 100050;
SELECT * FROM refresh_and_check();
SELECT heaps();

-- Load 3: the table emptied (the one-row DT keeps its row, with no
-- values: its cursor starts again), then rows come back one by one.
DELETE FROM bl;
SELECT * FROM refresh_and_check();
SELECT heaps();
SELECT n, dk, min_y, q1_y, med_k FROM bl_all;
INSERT INTO bl VALUES (1, 1, 'a', 1, 1.5);
SELECT * FROM refresh_and_check();
INSERT INTO bl VALUES (2, 1, 'b', 2, 2.5), (3, 2, 'c', 3, 0.5);
SELECT * FROM refresh_and_check();
SELECT n, dk, min_y, q1_y, med_k FROM bl_all;
SELECT heaps(), dt_test.bad_value_counts();

DROP SCHEMA dt_bl CASCADE;
