-- A bulk load (src/capture.c, bulk_statement): one INSERT or DELETE of at
-- least 10,000 rows and a fifth of the rows of its table, with adaptive
-- refresh on, writes one rebuild marker into the change log instead of its
-- rows, in their place: every DT whose window holds it is refreshed in
-- full (which adaptive refresh chooses for a window that large anyway), a
-- delta-merge one from the query with its state set aside (refresh.c,
-- marker_action); one that consumed the log up to before it is not
-- disturbed; a smaller statement (by the rows of the table with its
-- partitions or children), an UPDATE, or one with adaptive refresh off
-- logs its rows.  Every refresh is compared with the
-- query; the actions after a state was set aside depend on timings, and
-- are not shown.
SET pg_dynamic_tables.adaptive_refresh = on;
CREATE SCHEMA dt_bm;
SET search_path = dt_bm, public;

CREATE TABLE bm (id int PRIMARY KEY, g int, x int);
CREATE TABLE dim (g int PRIMARY KEY, label text);
INSERT INTO dim SELECT i, 'g' || i FROM generate_series(0, 6) i;
INSERT INTO bm SELECT i, i % 7, i FROM generate_series(1, 100) i;
SELECT dt.create_dynamic_table('bm_sum', 'SELECT g, sum(x) AS s, count(*) AS n FROM bm GROUP BY g',
                               refresh_mode => 'incremental') IS NOT NULL AS created;
SELECT dt.create_dynamic_table('bm_join', $$
SELECT d.label, count(*) AS n, max(b.x) AS max_x FROM bm b JOIN dim d ON d.g = b.g GROUP BY d.label
$$, refresh_mode => 'incremental') IS NOT NULL AS created;

-- log_rows(t): the rows of t's change log, and how many of them are markers
CREATE FUNCTION log_rows(t regclass DEFAULT 'dt_bm.bm', OUT logged bigint, OUT markers bigint)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('SELECT count(*), count(*) FILTER (WHERE "dt$sign" = 0) FROM dt_internal.%I',
                   'changes_' || t::oid)
       INTO logged, markers;
END
$$;
-- refresh(dt): refresh dt; its differences with its query
CREATE FUNCTION refresh(dt text, OUT differences bigint) LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dt.refresh(dt::regclass);
    SELECT count(*) INTO differences FROM dt_test.diff(dt::regclass);
END
$$;
-- action(dt): refresh dt; its action, whether it set its state aside (a
-- delta-merge DT whose state is valid, over tables of 64 pages or more,
-- for a marker), and its differences with its query
CREATE FUNCTION action(dt text, OUT action text, OUT set_aside bool, OUT differences bigint)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT r.action INTO action FROM dt.refresh(dt::regclass) r;
    SELECT coalesce(h.state_message LIKE '%per-group state set aside', false) INTO set_aside
      FROM dt.refresh_history h
     WHERE h.relid = dt::regclass ORDER BY h.refresh_id DESC LIMIT 1;
    SELECT count(*) INTO differences FROM dt_test.diff(dt::regclass);
END
$$;

-- 20,000 rows into a table of 100: one marker, not 20,000 rows.  bm_sum
-- is refreshed before the next writes, bm_join after them, from an older
-- position: each refreshes in full once.
INSERT INTO bm SELECT i, i % 7, i FROM generate_series(1001, 21000) i;
SELECT * FROM log_rows();
SELECT * FROM action('dt_bm.bm_sum');
INSERT INTO bm VALUES (30001, 1, 5), (30002, 2, 6);
SELECT * FROM log_rows();
SELECT * FROM action('dt_bm.bm_join');
SELECT * FROM refresh('dt_bm.bm_sum');
UPDATE bm SET x = x + 1 WHERE id % 1000 = 0;
SELECT * FROM refresh('dt_bm.bm_sum');
SELECT * FROM refresh('dt_bm.bm_join');
SELECT * FROM log_rows();

-- 1,999 rows into a table of 20,102, 9,999 into one of 22,101, and an
-- UPDATE of every row: logged row by row.
INSERT INTO bm SELECT i, i % 7, i FROM generate_series(40001, 41999) i;
INSERT INTO bm SELECT i, i % 7, i FROM generate_series(50001, 59999) i;
UPDATE bm SET x = x + 1 WHERE id > 40000;
SELECT * FROM log_rows();
SELECT * FROM refresh('dt_bm.bm_sum');
SELECT * FROM refresh('dt_bm.bm_join');

-- A bulk DELETE (most of the table), in a transaction with small changes
-- before and after it: the marker sits at the DELETE's command, the rows
-- of the other statements are logged.  (Whether a state is set aside from
-- here on depends on what earlier refreshes chose by their durations.)
BEGIN;
INSERT INTO bm VALUES (60001, 3, 7);
DELETE FROM bm WHERE id > 1000 AND id <= 41999;
UPDATE bm SET x = -x WHERE id <= 10;
COMMIT;
SELECT * FROM log_rows();
SELECT action, differences FROM action('dt_bm.bm_sum');
SELECT action, differences FROM action('dt_bm.bm_join');

-- A refresh in the loading transaction itself consumes the marker of an
-- earlier command (it stays in the log for bm_join).
BEGIN;
INSERT INTO bm SELECT i, i % 7, i FROM generate_series(100001, 150000) i;
SELECT action, differences FROM action('dt_bm.bm_sum');
COMMIT;
SELECT * FROM log_rows();
SELECT * FROM refresh('dt_bm.bm_sum');
SELECT action, differences FROM action('dt_bm.bm_join');

-- A marker when the table takes fewer than 64 pages (TRUNCATE): the
-- state is rebuilt, not set aside.
TRUNCATE bm;
INSERT INTO bm SELECT i, i % 7, i FROM generate_series(1, 50) i;
SELECT * FROM refresh('dt_bm.bm_sum');
SELECT * FROM refresh('dt_bm.bm_join');
INSERT INTO bm VALUES (51, 1, 1);
SELECT * FROM refresh('dt_bm.bm_sum');
TRUNCATE bm;
SELECT * FROM action('dt_bm.bm_sum');
SELECT * FROM refresh('dt_bm.bm_join');

-- With adaptive refresh off, the rows of a bulk load are logged.
SET pg_dynamic_tables.adaptive_refresh = off;
INSERT INTO bm SELECT i, i % 7, i FROM generate_series(1001, 21000) i;
SELECT * FROM log_rows();
SELECT * FROM refresh('dt_bm.bm_sum');
SELECT * FROM refresh('dt_bm.bm_join');
SET pg_dynamic_tables.adaptive_refresh = on;

-- A table whose statistics saw its pages and no row in them (a VACUUM or
-- ANALYZE that ran while its load was in progress): sized by the width of
-- its rows, not as empty.  10,000 rows into a table of 100,000 are logged
-- row by row; 50,000 into the 110,000 then are a bulk load.
CREATE TABLE st (id int, g int, x int);
INSERT INTO st SELECT i, i % 7, i FROM generate_series(1, 100000) i;
SELECT dt.create_dynamic_table('st_sum', 'SELECT g, sum(x) AS s, count(*) AS n FROM st GROUP BY g',
                               refresh_mode => 'incremental') IS NOT NULL AS created;
UPDATE pg_class SET relpages = pg_relation_size('dt_bm.st') / 8192, reltuples = 0
 WHERE oid = 'dt_bm.st'::regclass;
INSERT INTO st SELECT i, i % 7, i FROM generate_series(100001, 110000) i;
SELECT * FROM log_rows('dt_bm.st');
INSERT INTO st SELECT i, i % 7, i FROM generate_series(110001, 160000) i;
SELECT * FROM log_rows('dt_bm.st');
SELECT * FROM refresh('dt_bm.st_sum');
-- never analyzed (reltuples -1): the same.
UPDATE pg_class SET relpages = 0, reltuples = -1 WHERE oid = 'dt_bm.st'::regclass;
INSERT INTO st SELECT i, i % 7, i FROM generate_series(200001, 210000) i;
SELECT * FROM log_rows('dt_bm.st');
SELECT * FROM refresh('dt_bm.st_sum');

-- A partitioned table is sized by its partitions, whichever the statement
-- wrote: 12,000 rows into a partition or through the partitioned table,
-- once it holds 1,000, are a bulk load each (the DT reads them all); once
-- it holds 100,000, 12,000 rows into its small partition are not.
CREATE TABLE pt (id int, g int, x int) PARTITION BY RANGE (id);
CREATE TABLE pt_small PARTITION OF pt FOR VALUES FROM (0) TO (1000000);
CREATE TABLE pt_big PARTITION OF pt FOR VALUES FROM (1000000) TO (10000000);
INSERT INTO pt SELECT i, i % 5, i FROM generate_series(0, 999) i;
SELECT dt.create_dynamic_table('pt_sum', 'SELECT g, sum(x) AS s, count(*) AS n FROM pt GROUP BY g',
                               refresh_mode => 'incremental') IS NOT NULL AS created;
INSERT INTO pt_big SELECT i, i % 5, i FROM generate_series(1000000, 1011999) i;
SELECT * FROM log_rows('dt_bm.pt');
INSERT INTO pt SELECT i, i % 5, i FROM generate_series(1012000, 1023999) i;
SELECT * FROM log_rows('dt_bm.pt');
SELECT * FROM refresh('dt_bm.pt_sum');
INSERT INTO pt_big SELECT i, i % 5, i FROM generate_series(2000000, 2099999) i;
SELECT * FROM refresh('dt_bm.pt_sum');
INSERT INTO pt_small SELECT i, i % 5, i FROM generate_series(1000, 12999) i;
SELECT * FROM log_rows('dt_bm.pt');
SELECT * FROM refresh('dt_bm.pt_sum');

-- Inheritance: an empty parent with a child of 100,000 rows.  12,000 rows
-- into the parent are not a bulk load (the DT reads the child too).
CREATE TABLE ih (id int, g int, x int);
CREATE TABLE ih_child () INHERITS (ih);
INSERT INTO ih_child SELECT i, i % 5, i FROM generate_series(1, 100000) i;
SELECT dt.create_dynamic_table('ih_sum', 'SELECT g, sum(x) AS s, count(*) AS n FROM ih GROUP BY g',
                               refresh_mode => 'incremental') IS NOT NULL AS created;
INSERT INTO ih SELECT i, i % 5, i FROM generate_series(100001, 112000) i;
SELECT * FROM log_rows('dt_bm.ih');
SELECT * FROM refresh('dt_bm.ih_sum');

DROP SCHEMA dt_bm CASCADE;
RESET pg_dynamic_tables.adaptive_refresh;
