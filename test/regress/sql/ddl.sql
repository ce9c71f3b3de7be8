-- DDL that must keep dynamic tables working: renaming a base column, the
-- base table or the dynamic table, adding base columns, several dynamic
-- tables on one table and dropping them one by one (capture stays while a
-- dynamic table still reads the table, goes with the last one), both ways
-- of dropping a dynamic table, storage maintenance on a dynamic table, and
-- TRUNCATE of the base table (the next refresh is FULL).  After each step
-- the dynamic tables are refreshed and compared with their queries.

CREATE SCHEMA dt_ddl;
SET search_path = dt_ddl, public;

CREATE TABLE sales (id int PRIMARY KEY, region text, amount numeric, qty int);
INSERT INTO sales SELECT g, 'r' || g % 4, g * 1.5, g % 7 FROM generate_series(1, 200) g;

-- Everything in dt_internal, and the relations there named after one OID.
CREATE FUNCTION internal_objects() RETURNS bigint LANGUAGE sql AS $$
SELECT count(*) FROM pg_class WHERE relnamespace = 'dt_internal'::regnamespace
$$;
CREATE FUNCTION internal_objects_of(relid oid) RETURNS bigint LANGUAGE sql AS $$
SELECT count(*) FROM pg_class
 WHERE relnamespace = 'dt_internal'::regnamespace AND relname ~ ('_' || relid || '(_|$)')
$$;
-- The capture triggers on a table, without the OID in their names.
CREATE FUNCTION capture_triggers(rel regclass) RETURNS TABLE (tgname text, tgenabled "char")
LANGUAGE sql AS $$
SELECT regexp_replace(t.tgname, '[0-9]+', '<oid>', 'g'), t.tgenabled FROM pg_trigger t
 WHERE t.tgrelid = rel AND t.tgname LIKE 'dt\_capture\_%' ORDER BY 1
$$;
CREATE FUNCTION has_change_log(rel regclass) RETURNS boolean LANGUAGE sql AS $$
SELECT to_regclass('dt_internal.changes_' || rel::oid) IS NOT NULL
   AND EXISTS (SELECT FROM dt_internal.change_log WHERE input_relid = rel)
$$;

SELECT internal_objects() AS internal_before \gset

-- A delta-merge and a recompute dynamic table over the same table.
SELECT dt.create_dynamic_table('by_region',
    'SELECT region, count(*) AS n, sum(amount) AS total, max(qty) AS max_qty, avg(amount) AS avg_amount
       FROM sales GROUP BY region', refresh_mode => 'incremental');
SELECT dt.create_dynamic_table('big_sales', 'SELECT id, region, amount FROM sales WHERE amount > 250');
SELECT name, refresh_mode FROM dt.dynamic_tables WHERE schema_name = 'dt_ddl' ORDER BY relid::text;
SELECT dt_test.check('by_region'), dt_test.check('big_sales');

-- ---------------------------------------------------------------------
-- RENAME of a base column.  dt.dynamic_tables.query is printed from the
-- stored query tree, so it shows the new names (the text as written is
-- in query_as_written), and dt_test.check, which runs it, works.
-- ---------------------------------------------------------------------
ALTER TABLE sales RENAME COLUMN region TO area;
-- The dynamic tables keep their own column names.
SELECT attname FROM pg_attribute WHERE attrelid = 'by_region'::regclass AND attnum > 0 ORDER BY attnum;
-- Guards: the query shown follows the rename.
SELECT name, query, query_as_written FROM dt.dynamic_tables WHERE schema_name = 'dt_ddl' ORDER BY relid::text;
INSERT INTO sales SELECT g, 'r' || g % 5, g * 1.5, g % 7 FROM generate_series(201, 230) g;
UPDATE sales SET area = 'r9', qty = qty + 10 WHERE id % 10 = 0;
DELETE FROM sales WHERE id % 13 = 0;
SELECT action FROM dt.refresh('by_region');
SELECT action FROM dt.refresh('big_sales');
SELECT dt_test.check('by_region'), dt_test.check('big_sales');
UPDATE sales SET area = 'r1' WHERE area = 'r9';
SELECT action FROM dt.refresh('by_region');
ALTER TABLE sales RENAME COLUMN area TO region;
SELECT action FROM dt.refresh('big_sales');
SELECT dt_test.check('by_region'), dt_test.check('big_sales');

-- ---------------------------------------------------------------------
-- RENAME of the base table.
-- ---------------------------------------------------------------------
ALTER TABLE sales RENAME TO sales_renamed;
SELECT name, inputs FROM dt.dynamic_tables WHERE schema_name = 'dt_ddl' ORDER BY relid::text;
-- Guards: the query shown follows the rename, qualified when the table is
-- not on the search_path.
SELECT name, query FROM dt.dynamic_tables WHERE relid = 'big_sales'::regclass;
SET search_path = public;
SELECT name, query FROM dt.dynamic_tables WHERE relid = 'dt_ddl.big_sales'::regclass;
SET search_path = dt_ddl, public;
INSERT INTO sales_renamed VALUES (500, 'r1', 1000, 3), (501, 'r7', 2, 2);
DELETE FROM sales_renamed WHERE id BETWEEN 20 AND 40;
SELECT action FROM dt.refresh('by_region');
SELECT action FROM dt.refresh('big_sales');
SELECT dt_test.check('by_region'), dt_test.check('big_sales');
ALTER TABLE sales_renamed RENAME TO sales;
SELECT dt_test.check('by_region'), dt_test.check('big_sales');

-- ---------------------------------------------------------------------
-- RENAME of a dynamic table, and a move to another schema.
-- ---------------------------------------------------------------------
ALTER TABLE by_region RENAME TO region_totals;
SELECT name, table_name FROM dt.dynamic_tables WHERE schema_name = 'dt_ddl' ORDER BY relid::text;
INSERT INTO sales VALUES (502, 'r2', 7, 7);
SELECT action FROM dt.refresh('region_totals');
SELECT dt_test.check('region_totals');
CREATE SCHEMA dt_ddl_other;
ALTER TABLE region_totals SET SCHEMA dt_ddl_other;
SELECT name, schema_name, table_name FROM dt.dynamic_tables WHERE table_name = 'region_totals';
UPDATE sales SET qty = 100 WHERE id = 502;
SELECT action FROM dt.refresh('dt_ddl_other.region_totals');
SELECT dt_test.check('dt_ddl_other.region_totals');
ALTER TABLE dt_ddl_other.region_totals SET SCHEMA dt_ddl;
DROP SCHEMA dt_ddl_other;
ALTER TABLE region_totals RENAME TO by_region;
SELECT dt_test.check('by_region');

-- ---------------------------------------------------------------------
-- Users may index a dynamic table and maintain its storage.
-- ---------------------------------------------------------------------
CREATE INDEX by_region_total ON by_region (total);
VACUUM FULL by_region;
CLUSTER by_region USING by_region_total;
ANALYZE by_region;
INSERT INTO sales VALUES (503, 'r3', 8, 1);
DELETE FROM sales WHERE id = 1;
SELECT action FROM dt.refresh('by_region');
SELECT dt_test.check('by_region');
DROP INDEX by_region_total;

-- ---------------------------------------------------------------------
-- ADD COLUMN to the base table, then a dynamic table reading it.
-- ---------------------------------------------------------------------
ALTER TABLE sales ADD COLUMN channel text DEFAULT 'web';
ALTER TABLE sales ADD COLUMN discount numeric;
INSERT INTO sales VALUES (600, 'r1', 10, 1, 'shop', 0.5), (601, 'r2', 20, 2, 'phone', NULL);
UPDATE sales SET channel = 'shop', discount = 0.1 WHERE id % 6 = 0;
UPDATE sales SET amount = amount + 1 WHERE id % 7 = 0;
SELECT action FROM dt.refresh('by_region');
SELECT action FROM dt.refresh('big_sales');
SELECT dt_test.check('by_region'), dt_test.check('big_sales');
SELECT dt.create_dynamic_table('by_channel',
    'SELECT channel, count(*) AS n, sum(discount) AS discounts, min(amount) AS min_amount
       FROM sales GROUP BY channel', refresh_mode => 'incremental');
INSERT INTO sales VALUES (602, 'r3', 30, 3, 'phone', 1);
UPDATE sales SET channel = 'phone' WHERE id % 9 = 0;
DELETE FROM sales WHERE channel = 'shop' AND id % 2 = 0;
SELECT action FROM dt.refresh('by_region');
SELECT action FROM dt.refresh('big_sales');
SELECT action FROM dt.refresh('by_channel');
SELECT dt_test.check('by_region'), dt_test.check('big_sales'), dt_test.check('by_channel');

-- ---------------------------------------------------------------------
-- TRUNCATE of the base table: the next refresh of every dynamic table
-- over it rebuilds (FULL), and the ones after are incremental again.
-- ---------------------------------------------------------------------
TRUNCATE sales;
INSERT INTO sales SELECT g, 'r' || g % 3, g, g % 5, 'web', NULL FROM generate_series(1, 60) g;
SELECT action FROM dt.refresh('by_region');
SELECT action FROM dt.refresh('big_sales');
SELECT action FROM dt.refresh('by_channel');
SELECT dt_test.check('by_region'), dt_test.check('big_sales'), dt_test.check('by_channel');
-- TRUNCATE, writes and the refresh in one transaction.
BEGIN;
INSERT INTO sales VALUES (1000, 'r1', 1, 1, 'web', NULL);
TRUNCATE sales;
INSERT INTO sales SELECT g, 'r' || g % 2, g * 2, g % 3, 'shop', 0.2 FROM generate_series(1, 30) g;
SELECT action FROM dt.refresh('by_region');
UPDATE sales SET region = 'r5' WHERE id < 5;
SELECT action FROM dt.refresh('by_region');
COMMIT;
SELECT action FROM dt.refresh('by_channel');
SELECT action FROM dt.refresh('big_sales');
SELECT dt_test.check('by_region'), dt_test.check('big_sales'), dt_test.check('by_channel');
INSERT INTO sales VALUES (2000, 'r1', 5, 5, 'web', NULL);
SELECT action FROM dt.refresh('by_region');
SELECT action FROM dt.refresh('by_channel');
SELECT dt_test.check('by_region'), dt_test.check('by_channel');

-- ---------------------------------------------------------------------
-- Three dynamic tables share one set of capture triggers and one change
-- log.  Dropping one with dt.drop_dynamic_table keeps them for the others.
-- ---------------------------------------------------------------------
SELECT * FROM capture_triggers('sales');
SELECT has_change_log('sales');
SELECT 'by_channel'::regclass::oid AS by_channel_oid \gset
SELECT internal_objects_of(:by_channel_oid) > 0 AS by_channel_has_state;
SELECT dt.drop_dynamic_table('by_channel');
SELECT to_regclass('by_channel') AS by_channel,
       internal_objects_of(:by_channel_oid) AS by_channel_objects,
       (SELECT count(*) FROM dt_internal.dynamic_table WHERE relid = :by_channel_oid) AS catalog_rows;
SELECT name FROM dt.dynamic_tables WHERE schema_name = 'dt_ddl' ORDER BY relid::text;
SELECT * FROM capture_triggers('sales');
SELECT has_change_log('sales');
INSERT INTO sales VALUES (2001, 'r2', 500, 1, 'web', NULL);
UPDATE sales SET amount = amount * 20 WHERE id = 3;
SELECT action FROM dt.refresh('by_region');
SELECT action FROM dt.refresh('big_sales');
SELECT dt_test.check('by_region'), dt_test.check('big_sales');

-- DROP TABLE of a dynamic table: the same cleanup.
SELECT 'by_region'::regclass::oid AS by_region_oid \gset
SELECT internal_objects_of(:by_region_oid) > 0 AS by_region_has_state;
DROP TABLE by_region;
SELECT to_regclass('by_region') AS by_region,
       internal_objects_of(:by_region_oid) AS by_region_objects,
       (SELECT count(*) FROM dt_internal.dynamic_table WHERE relid = :by_region_oid) AS catalog_rows,
       (SELECT count(*) FROM dt_internal.dynamic_table_input WHERE relid = :by_region_oid) AS input_rows;
SELECT name FROM dt.dynamic_tables WHERE schema_name = 'dt_ddl' ORDER BY relid::text;
SELECT * FROM capture_triggers('sales');
SELECT has_change_log('sales');
DELETE FROM sales WHERE id = 3;
SELECT action FROM dt.refresh('big_sales');
SELECT dt_test.check('big_sales');

-- The last dynamic table over sales: its capture triggers and change log
-- go with it, and dt_internal holds what it held at the start.  Guards:
-- no NOTICE (of triggers or columns already gone) on the way.
DROP TABLE big_sales;
SELECT count(*) AS dynamic_tables FROM dt.dynamic_tables WHERE schema_name = 'dt_ddl';
SELECT * FROM capture_triggers('sales');
SELECT has_change_log('sales');
SELECT internal_objects() - :internal_before AS internal_objects_added;
-- Writes to sales are plain writes again.
INSERT INTO sales VALUES (3000, 'r1', 1, 1, 'web', NULL);

-- The same when the last one goes through dt.drop_dynamic_table.
SELECT dt.create_dynamic_table('by_qty', 'SELECT qty, count(*) AS n FROM sales GROUP BY qty');
SELECT count(*) AS capture_triggers FROM capture_triggers('sales');
SELECT dt.drop_dynamic_table('by_qty');
SELECT count(*) AS capture_triggers FROM capture_triggers('sales');
SELECT has_change_log('sales');
SELECT internal_objects() - :internal_before AS internal_objects_added;

-- ---------------------------------------------------------------------
-- ALTER COLUMN TYPE of a column that only a dropped dynamic table read:
-- the change log may still have the column (another dynamic table keeps
-- the log), and its type must not be assumed.
-- ---------------------------------------------------------------------
CREATE TABLE b3 (id int, k text, v text, w int);
INSERT INTO b3 SELECT g, 'k' || g % 3, g::text, g FROM generate_series(1, 12) g;
SELECT dt.create_dynamic_table('b3_v', 'SELECT k, count(v) AS nv, max(v) AS hi FROM b3 GROUP BY k',
                               refresh_mode => 'incremental');
SELECT dt.create_dynamic_table('b3_w', 'SELECT k, sum(w) AS sw, min(w) AS lo FROM b3 GROUP BY k',
                               refresh_mode => 'incremental');
-- Rows with v are left in the log.
INSERT INTO b3 VALUES (13, 'k1', '13', 13);
DROP TABLE b3_v;
-- Guards: allowed (and no crash), then writes, b3_w and a new dynamic
-- table over v work.
ALTER TABLE b3 ALTER COLUMN v TYPE int USING v::int;
INSERT INTO b3 VALUES (14, 'k2', 14, 14);
UPDATE b3 SET v = v + 1, w = w + 1 WHERE id < 4;
DELETE FROM b3 WHERE id = 5;
SELECT action FROM dt.refresh('b3_w');
SELECT dt_test.check('b3_w');
SELECT dt.create_dynamic_table('b3_v2', 'SELECT k, sum(v) AS sv, max(v) AS hi FROM b3 GROUP BY k',
                               refresh_mode => 'incremental');
INSERT INTO b3 VALUES (15, 'k2', 15, 15);
UPDATE b3 SET v = v * 2 WHERE id = 6;
SELECT action FROM dt.refresh('b3_v2');
SELECT action FROM dt.refresh('b3_w');
SELECT dt_test.check('b3_v2'), dt_test.check('b3_w');

-- ---------------------------------------------------------------------
-- DROP TYPE ... CASCADE reaching a column of a change log (an extension
-- member, which PostgreSQL would refuse to drop): what the cascade can
-- reach is taken out of the extension for the command, and only that; the
-- log stays a member, and the dynamic table over the other column goes on.
-- ---------------------------------------------------------------------
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE moods (id int, m mood, w int);
INSERT INTO moods VALUES (1, 'sad', 1), (2, 'ok', 2);
SELECT dt.create_dynamic_table('moods_all', 'SELECT m, w FROM moods', refresh_mode => 'full');
SELECT dt.create_dynamic_table('moods_w', 'SELECT w, count(*) AS n FROM moods GROUP BY w');
-- Grouped by the type (delta merge and recompute): the cascade reaches
-- their key columns and drops them whole, with key index and state.
SELECT dt.create_dynamic_table('moods_by_m', 'SELECT m, count(*) AS n, max(w) AS w FROM moods GROUP BY m');
SELECT dt.create_dynamic_table('moods_m_rc', 'SELECT DISTINCT ON (m) m, w FROM moods ORDER BY m, w');
SELECT a.attname FROM dt_internal.change_log l JOIN pg_attribute a ON a.attrelid = l.log_relid
 WHERE l.input_relid = 'moods'::regclass AND a.atttypid = 'mood'::regtype;
SET client_min_messages = warning;
DROP TYPE mood CASCADE;
RESET client_min_messages;
SELECT table_name AS name FROM dt.dynamic_tables WHERE table_name LIKE 'moods%';
SELECT count(*) AS internal_relations_outside_the_extension
  FROM pg_class c
 WHERE c.relnamespace = 'dt_internal'::regnamespace AND c.relkind IN ('r', 'v')
   AND NOT EXISTS (SELECT FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e');
INSERT INTO moods VALUES (3, 5);
SELECT action FROM dt.refresh('moods_w');
SELECT dt_test.check('moods_w');

-- ---------------------------------------------------------------------
-- A change log drops the columns no dynamic table reads any more, but a
-- dropped column keeps its place among the 1600 a table can have, and one
-- needed again is added anew: a dynamic table made and dropped again and
-- again over a table another one keeps captured filled the log, and then
-- no dynamic table reading another of its columns could be made ("tables
-- can have at most 1600 columns").  Guards: the log drops only what
-- leaves room to add back every column it does not record, so here three
-- rounds over 800 columns (as 1600 rounds over one column) go on working.
-- ---------------------------------------------------------------------
DO $$BEGIN
EXECUTE (SELECT format('CREATE TABLE wide_in (%s)', string_agg(format('c%s int', i), ', ')) FROM generate_series(1, 800) i);
END$$;
INSERT INTO wide_in (c1, c2, c800) VALUES (1, 2, 800), (2, 3, 801);
SELECT dt.create_dynamic_table('wide_keep', 'SELECT c1, count(*) AS n FROM wide_in GROUP BY c1');
SELECT dt.create_dynamic_table('wide_all', 'SELECT * FROM wide_in', refresh_mode => 'incremental');
SELECT dt.drop_dynamic_table('wide_all');
SELECT dt.create_dynamic_table('wide_all', 'SELECT * FROM wide_in', refresh_mode => 'incremental');
SELECT dt.drop_dynamic_table('wide_all');
SELECT dt.create_dynamic_table('wide_all', 'SELECT * FROM wide_in', refresh_mode => 'incremental');
SELECT c.relnatts <= 1600 AS fits, count(*) FILTER (WHERE NOT a.attisdropped AND a.attnum > 3) AS recorded
  FROM dt_internal.change_log l JOIN pg_class c ON c.oid = l.log_relid
  JOIN pg_attribute a ON a.attrelid = l.log_relid AND a.attnum > 0
 WHERE l.input_relid = 'wide_in'::regclass GROUP BY c.relnatts;
INSERT INTO wide_in (c1, c2, c800) VALUES (3, 4, 802);
UPDATE wide_in SET c799 = 7 WHERE c1 = 1;
SELECT action FROM dt.refresh('wide_all');
SELECT action FROM dt.refresh('wide_keep');
SELECT dt_test.check('wide_all');
SELECT dt_test.check('wide_keep');
-- The log, with no room left, keeps what wide_all read: the type of such a
-- column cannot change, and the error says why.
SELECT dt.drop_dynamic_table('wide_all');
SELECT * FROM dt_test.fails($$ALTER TABLE wide_in ALTER COLUMN c500 TYPE bigint$$);
DROP TABLE wide_in CASCADE;

-- A column no dynamic table reads any more, whose release a role that
-- may not change the capture left to the scheduler, is released when its
-- owner changes its type (it read 'read by dynamic table "?"' before).
CREATE ROLE dt_ddl_reader;
GRANT USAGE, CREATE ON SCHEMA dt_ddl TO dt_ddl_reader;
CREATE TABLE late (c1 int, c2 int);
INSERT INTO late VALUES (1, 2);
GRANT SELECT ON late TO dt_ddl_reader;
SELECT dt.create_dynamic_table('late_1', 'SELECT c1, count(*) AS n FROM late GROUP BY c1');
SELECT dt.create_dynamic_table('late_2', 'SELECT c2, count(*) AS n FROM late GROUP BY c2');
SET ROLE dt_ddl_reader;
SELECT dt.create_dynamic_table('late_reader', 'SELECT c2, count(*) AS n FROM late GROUP BY c2');
RESET ROLE;
SELECT dt.drop_dynamic_table('late_2');
SET ROLE dt_ddl_reader;
SELECT dt.drop_dynamic_table('late_reader');
RESET ROLE;
ALTER TABLE late ALTER COLUMN c2 TYPE bigint;
INSERT INTO late VALUES (1, 5);
SELECT action FROM dt.refresh('late_1');
SELECT dt_test.check('late_1');
DROP TABLE late CASCADE;
REVOKE ALL ON SCHEMA dt_ddl FROM dt_ddl_reader;
DROP ROLE dt_ddl_reader;

-- ---------------------------------------------------------------------
-- DROP TRIGGER dt_guard (pg_restore --clean drops it first): the dynamic
-- table stays as a plain table with its rows; its catalog rows, state and
-- the dependencies of its creation go (its key index and its inputs may
-- be dropped), the capture of inputs nothing else reads is released, and
-- a dynamic table over it reads a plain table.  Creating the trigger again,
-- as a restore does, makes it a dynamic table again.
-- ---------------------------------------------------------------------
CREATE TABLE g_in (id int, k int, v int);
INSERT INTO g_in SELECT i, i % 4, i FROM generate_series(1, 20) i;
SELECT dt.create_dynamic_table('g_dt', 'SELECT k, sum(v) AS s, count(DISTINCT v) AS d FROM g_in GROUP BY k');
SELECT dt.create_dynamic_table('g_reader', 'SELECT sum(s) AS total FROM g_dt');
SELECT pg_get_triggerdef(oid) AS guard_def FROM pg_trigger
 WHERE tgrelid = 'g_dt'::regclass AND tgname = 'dt_guard' \gset
SELECT 'g_dt'::regclass::oid AS g_dt_oid \gset
SELECT internal_objects_of(:g_dt_oid) AS named_after_it, has_change_log('g_in') AS g_in_captured;
DROP TRIGGER dt_guard ON g_dt;
SELECT count(*) AS catalog_rows FROM dt.dynamic_tables WHERE relid = 'g_dt'::regclass;
SELECT internal_objects_of(:g_dt_oid) AS named_after_it, has_change_log('g_in') AS g_in_captured,
       has_change_log('g_dt') AS g_dt_captured;
SELECT count(*) AS rows_kept FROM g_dt;
INSERT INTO g_dt VALUES (100, 1, 1);
SELECT action FROM dt.refresh('g_reader');
SELECT dt_test.check('g_reader');
SELECT * FROM dt_test.fails($$SELECT dt.refresh('g_dt')$$);
DELETE FROM g_dt WHERE k = 100;
-- Made a dynamic table again by its trigger, as a restore does.
:guard_def;
SELECT name, refresh_mode FROM dt.dynamic_tables WHERE relid = 'g_dt'::regclass;
INSERT INTO g_in VALUES (21, 1, 21);
SELECT action FROM dt.refresh('g_reader');
SELECT dt_test.check('g_dt'), dt_test.check('g_reader');
-- Dropped again, the key index and the input may go.
DROP TRIGGER dt_guard ON g_dt;
SELECT indexrelid::regclass AS g_key_index FROM pg_index WHERE indrelid = 'g_dt'::regclass \gset
DROP INDEX :"g_key_index";
DROP TABLE g_in;
SELECT count(*) AS g_dt_rows FROM g_dt;

-- ---------------------------------------------------------------------
-- CREATE OR REPLACE VIEW (or RULE) of a view a dynamic table reads,
-- directly or through another view, is refused: the dynamic table keeps
-- the views' queries of its creation, and before 1.1 it silently went on
-- with the old one.  Other views may be replaced; once the dynamic table
-- is dropped, so may these.
-- ---------------------------------------------------------------------
CREATE TABLE vt (id int, k int, v int);
INSERT INTO vt SELECT i, i % 3, i FROM generate_series(1, 9) i;
CREATE VIEW vt_inner AS SELECT id, k, v FROM vt;
CREATE VIEW vt_outer AS SELECT k, v FROM vt_inner WHERE v > 0;
CREATE VIEW vt_other AS SELECT k FROM vt;
SELECT dt.create_dynamic_table('over_view', 'SELECT k, sum(v) AS s FROM vt_outer GROUP BY k');
CREATE OR REPLACE VIEW vt_outer AS SELECT k, v FROM vt_inner WHERE v > 5;
CREATE OR REPLACE VIEW vt_inner AS SELECT id, k, v * 2 AS v FROM vt;
CREATE OR REPLACE RULE "_RETURN" AS ON SELECT TO vt_outer DO INSTEAD SELECT k, v FROM vt_inner WHERE v > 5;
CREATE OR REPLACE VIEW vt_other AS SELECT k, v FROM vt;
SELECT action FROM dt.refresh('over_view');
SELECT dt_test.check('over_view');
DROP TABLE over_view;
CREATE OR REPLACE VIEW vt_outer AS SELECT k, v FROM vt_inner WHERE v > 5;

-- A whole-row reference (to_jsonb(wr), wr::text) depends on its table, not
-- on its columns: PostgreSQL dropped a column it read, after which every
-- write of the table failed (its change log no longer matched it) and the
-- dynamic table kept the rows it had.  Such a drop is refused; a column
-- read by name is dropped with CASCADE as ever, and a table whose rows no
-- dynamic table reads whole gets new columns.
CREATE TABLE wr (id int PRIMARY KEY, a int, b text, c int);
INSERT INTO wr SELECT i, i, 'x' || i, i FROM generate_series(1, 5) i;
SELECT dt.create_dynamic_table('wr_json', 'SELECT id, to_jsonb(wr) AS j FROM wr');
SELECT dt.create_dynamic_table('wr_c', 'SELECT id, c FROM wr');
SELECT * FROM dt_test.fails($$ALTER TABLE wr DROP COLUMN b$$);
-- nor may a column be added, which every whole row would have (every
-- refresh failed: "column ... is not captured")
SELECT * FROM dt_test.fails($$ALTER TABLE wr ADD COLUMN z int DEFAULT 7$$);
UPDATE wr SET a = a + 1 WHERE id = 1;
SELECT action FROM dt.refresh('wr_json');
SELECT dt_test.check('wr_json');
SELECT dt.drop_dynamic_table('wr_json');
ALTER TABLE wr DROP COLUMN b;
ALTER TABLE wr ADD COLUMN z int DEFAULT 7;
UPDATE wr SET c = c + 1 WHERE id = 3;
SELECT action FROM dt.refresh('wr_c');
SELECT dt_test.check('wr_c');
ALTER TABLE wr DROP COLUMN c CASCADE;
SELECT count(*) AS wr_dts FROM dt.dynamic_tables WHERE table_name LIKE 'wr%';
UPDATE wr SET a = a + 1 WHERE id = 2;

SET client_min_messages = warning;
DROP SCHEMA dt_ddl CASCADE;
RESET client_min_messages;
