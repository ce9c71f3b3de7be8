-- Bad input and forbidden operations: every one gets a PostgreSQL-style
-- error with an errcode, and a failed dt.create_dynamic_table leaves
-- nothing behind (no table, no catalog row, no internal object in
-- dt_internal, no trigger, no change log).
--
-- Most cases run through two helpers of test/helpers.sql that catch the
-- error and print its SQLSTATE (column code) and message (internal names
-- carry OIDs; those are masked):
--   dt_test.create_fails(...)  calls dt.create_dynamic_table and also
--                              reports what the failed call left behind, by
--                              comparing the extension's footprint
--                              (dt_test.dt_footprint()) before and after;
--   dt_test.fails(sql)         runs any statement.
-- A few statements run at top level, to show the whole message (DETAIL and
-- HINT) as a user sees it.

CREATE SCHEMA dt_errors;
SET search_path = dt_errors, public;

CREATE TABLE base (id int PRIMARY KEY, k text, v int, w int);
INSERT INTO base SELECT g, 'k' || g % 4, g, g * 10 FROM generate_series(1, 40) g;
CREATE SEQUENCE seq;
CREATE VIEW taken_view AS SELECT 1 AS x;
CREATE TYPE taken_enum AS ENUM ('a');
CREATE INDEX taken_index ON base (v);
CREATE FUNCTION vol(int) RETURNS int LANGUAGE sql VOLATILE AS 'SELECT $1';
CREATE TEMP TABLE tmp (a int);

SELECT dt_test.dt_footprint() AS footprint \gset

-- ---------------------------------------------------------------------
-- The query must be one SELECT.
-- ---------------------------------------------------------------------
SELECT dt.create_dynamic_table('d', 'SELECT 1; SELECT 2');
SELECT dt_test.dt_footprint() = :'footprint' AS unchanged, to_regclass('d') AS d;
SELECT * FROM dt_test.create_fails('d', 'SELECT 1; SELECT 2');
SELECT * FROM dt_test.create_fails('d', '');
SELECT * FROM dt_test.create_fails('d', 'INSERT INTO base VALUES (100)');
SELECT * FROM dt_test.create_fails('d', 'UPDATE base SET v = 0 RETURNING k, v');
SELECT * FROM dt_test.create_fails('d', 'CREATE TABLE zz ()');
SELECT * FROM dt_test.create_fails('d', 'EXPLAIN SELECT 1');
SELECT * FROM dt_test.create_fails('d', 'SELECT * INTO newt FROM base');
SELECT * FROM dt_test.create_fails('d', 'WITH x AS (DELETE FROM base RETURNING *) SELECT k FROM x');
SELECT * FROM dt_test.create_fails('d', 'WITH x AS (INSERT INTO base VALUES (100) RETURNING *) SELECT k FROM x');
SELECT * FROM dt_test.create_fails('d', 'SELECT * FROM base FOR UPDATE');
SELECT * FROM dt_test.create_fails('d', 'SELECT k FROM base FOR SHARE');
-- Guards: FOR UPDATE / FOR SHARE below the top level are refused too
-- (every refresh would lock the rows of base).
SELECT * FROM dt_test.create_fails('d', 'SELECT * FROM (SELECT * FROM base FOR UPDATE) s');
SELECT * FROM dt_test.create_fails('d', 'SELECT k FROM base WHERE id IN (SELECT id FROM base FOR SHARE)');
SELECT * FROM dt_test.create_fails('d', 'WITH s AS (SELECT * FROM base FOR NO KEY UPDATE) SELECT k, count(*) FROM s GROUP BY k');
SELECT * FROM dt_test.create_fails('d', 'SELECT k, (SELECT max(v) FROM (SELECT v FROM base b2 WHERE b2.k = b.k FOR KEY SHARE) x) FROM base b');
SELECT * FROM dt_test.create_fails('d', 'SELECT $1');
SELECT * FROM dt_test.create_fails('d', 'SELEC 1');

-- ---------------------------------------------------------------------
-- The name: taken, or in a place a dynamic table cannot live.
-- ---------------------------------------------------------------------
SELECT * FROM dt_test.create_fails('base', 'SELECT 1 AS x');
SELECT * FROM dt_test.create_fails('taken_view', 'SELECT 1 AS x');
SELECT * FROM dt_test.create_fails('seq', 'SELECT 1 AS x');
SELECT * FROM dt_test.create_fails('taken_index', 'SELECT 1 AS x');
SELECT * FROM dt_test.create_fails('taken_enum', 'SELECT 1 AS x');
SELECT * FROM dt_test.create_fails('no_such_schema.d', 'SELECT 1 AS x');
SELECT * FROM dt_test.create_fails('pg_temp.d', 'SELECT 1 AS x');
SELECT * FROM dt_test.create_fails('dt_internal.d', 'SELECT 1 AS x');
-- A name too long is truncated, with the NOTICE CREATE TABLE gives.
SELECT dt.create_dynamic_table(repeat('long_name_', 7), 'SELECT 1 AS x');
SELECT dt.create_dynamic_table('public . "' || repeat('Q"".', 25) || '"', 'SELECT 1 AS x');
SELECT relname, length(relname) FROM pg_class WHERE relname LIKE 'long_name_%' OR relname LIKE 'Q"%' ORDER BY 1;
SELECT dt.drop_dynamic_table(repeat('long_name_', 7));
SELECT dt.drop_dynamic_table('public."' || repeat('Q"".', 21) || '"');

-- ---------------------------------------------------------------------
-- Unknown objects.
-- ---------------------------------------------------------------------
SELECT * FROM dt_test.create_fails('d', 'SELECT * FROM no_such_table');
SELECT * FROM dt_test.create_fails('d', 'SELECT no_such_column FROM base');
SELECT * FROM dt_test.create_fails('d', 'SELECT k, count(no_such_column) FROM base GROUP BY k');
SELECT * FROM dt_test.create_fails('d', 'SELECT no_such_function(v) FROM base');
-- Guards: an error in the query text points into the query text (LINE
-- and QUERY), not into the statement that called the function.
SELECT dt.create_dynamic_table('d', 'SELECT k, count(*) FROM no_such_table GROUP BY k');
SELECT dt.create_dynamic_table('d', 'SELECT k, count(*) AS n
                                       FROM base
                                      GROUP BY k HAVING sum(no_such_column) > 0');
SELECT dt_test.dt_footprint() = :'footprint' AS unchanged, to_regclass('d') AS d;

-- ---------------------------------------------------------------------
-- Volatile functions, anywhere in the query.
-- ---------------------------------------------------------------------
SELECT * FROM dt_test.create_fails('d', 'SELECT random() FROM base');
SELECT * FROM dt_test.create_fails('d', 'SELECT k FROM base WHERE v > random() * 10');
SELECT * FROM dt_test.create_fails('d', 'SELECT k, count(*) FROM base GROUP BY k HAVING sum(v) > random()');
SELECT * FROM dt_test.create_fails('d', 'SELECT k FROM base WHERE id IN (SELECT id FROM base WHERE random() < 0.5)');
SELECT * FROM dt_test.create_fails('d', 'SELECT clock_timestamp() AS t');
SELECT * FROM dt_test.create_fails('d', 'SELECT nextval(''seq'') AS n, k FROM base');
SELECT * FROM dt_test.create_fails('d', 'SELECT vol(v) FROM base');
-- A sample without a seed is another sample on every run; with REPEATABLE
-- it is the same while the table is (refreshed in full).
SELECT * FROM dt_test.create_fails('d', 'SELECT k FROM base TABLESAMPLE BERNOULLI (50)');
SELECT * FROM dt_test.create_fails('d', 'SELECT k FROM base WHERE id IN (SELECT id FROM base TABLESAMPLE SYSTEM (50))');
SELECT dt.create_dynamic_table('d', 'SELECT k FROM base TABLESAMPLE BERNOULLI (50) REPEATABLE (7)') IS NOT NULL AS created;
SELECT count(*) AS differences FROM dt_test.diff('d');
SELECT dt.drop_dynamic_table('d');

-- ---------------------------------------------------------------------
-- Temporary tables: other sessions (the scheduler) cannot read them.
-- ---------------------------------------------------------------------
SELECT * FROM dt_test.create_fails('d', 'SELECT * FROM tmp');
SELECT * FROM dt_test.create_fails('d', 'SELECT k FROM base WHERE id IN (SELECT a FROM tmp)');
SELECT * FROM dt_test.create_fails('d', 'SELECT (SELECT count(*) FROM tmp) AS n');
SELECT * FROM dt_test.create_fails('d', 'SELECT a FROM pg_temp.tmp');

-- ---------------------------------------------------------------------
-- target_lag: a duration of at least 100 milliseconds, or 'downstream'.
-- ---------------------------------------------------------------------
SELECT * FROM dt_test.create_fails('d', 'SELECT k, count(*) FROM base GROUP BY k', target_lag => 'abc');
SELECT * FROM dt_test.create_fails('d', 'SELECT k, count(*) FROM base GROUP BY k', target_lag => '');
SELECT * FROM dt_test.create_fails('d', 'SELECT k, count(*) FROM base GROUP BY k', target_lag => '0 seconds');
SELECT * FROM dt_test.create_fails('d', 'SELECT k, count(*) FROM base GROUP BY k', target_lag => '-1 minute');
SELECT * FROM dt_test.create_fails('d', 'SELECT k, count(*) FROM base GROUP BY k', target_lag => '50 milliseconds');
SELECT * FROM dt_test.create_fails('d', 'SELECT k, count(*) FROM base GROUP BY k', target_lag => '99 milliseconds');

-- ---------------------------------------------------------------------
-- refresh_mode and initialize.
-- ---------------------------------------------------------------------
SELECT * FROM dt_test.create_fails('d', 'SELECT k, count(*) FROM base GROUP BY k', refresh_mode => 'fast');
SELECT * FROM dt_test.create_fails('d', 'SELECT k, count(*) FROM base GROUP BY k', refresh_mode => '');
SELECT * FROM dt_test.create_fails('d', 'SELECT k, count(*) FROM base GROUP BY k', initialize => 'later');
SELECT * FROM dt_test.create_fails('d', 'SELECT k, count(*) FROM base GROUP BY k', initialize => 'on_refresh');

-- ---------------------------------------------------------------------
-- NULL arguments.
-- ---------------------------------------------------------------------
SELECT * FROM dt_test.create_fails(NULL, 'SELECT k, count(*) FROM base GROUP BY k');
SELECT * FROM dt_test.create_fails('d', NULL);
SELECT * FROM dt_test.create_fails('d', 'SELECT k, count(*) FROM base GROUP BY k', target_lag => NULL);
SELECT * FROM dt_test.create_fails('d', 'SELECT k, count(*) FROM base GROUP BY k', refresh_mode => NULL);
SELECT * FROM dt_test.create_fails('d', 'SELECT k, count(*) FROM base GROUP BY k', initialize => NULL);

-- ---------------------------------------------------------------------
-- refresh_mode => 'incremental' with a query that cannot be maintained
-- incrementally: the error names the construct.
-- ---------------------------------------------------------------------
SELECT dt.create_dynamic_table('d', 'SELECT k, sum(v) OVER (PARTITION BY id % 3) FROM base',
                               refresh_mode => 'incremental');
SELECT dt_test.dt_footprint() = :'footprint' AS unchanged, to_regclass('d') AS d;
SELECT * FROM dt_test.create_fails('d', 'SELECT k, sum(v) OVER (PARTITION BY id % 3) FROM base', refresh_mode => 'incremental');
SELECT * FROM dt_test.create_fails('d', 'SELECT b.k, count(*) FROM base a LEFT JOIN base b USING (id) GROUP BY b.k', refresh_mode => 'incremental');
SELECT * FROM dt_test.create_fails('d', 'SELECT k, v FROM base ORDER BY v LIMIT (SELECT count(*) FROM base)', refresh_mode => 'incremental');
SELECT * FROM dt_test.create_fails('d', 'SELECT string_agg(v::text, '','') FROM base', refresh_mode => 'incremental');
SELECT * FROM dt_test.create_fails('d', 'SELECT count(*) FROM base GROUP BY k', refresh_mode => 'incremental');
SELECT * FROM dt_test.create_fails('d', 'SELECT k, count(*) FROM base WHERE v < extract(epoch FROM now()) GROUP BY k', refresh_mode => 'incremental');
SELECT * FROM dt_test.create_fails('d', 'SELECT sum(DISTINCT v) FROM base', refresh_mode => 'incremental');
SELECT * FROM dt_test.create_fails('d', 'SELECT k, v, (SELECT max(b2.v) FROM base b2 WHERE b2.k < base.k) AS top FROM base', refresh_mode => 'incremental');
SELECT * FROM dt_test.create_fails('d', 'WITH b AS (SELECT DISTINCT id, k FROM base) SELECT b.k, count(*) FROM b JOIN b b2 USING (id) GROUP BY b.k', refresh_mode => 'incremental');
SELECT * FROM dt_test.create_fails('d', 'SELECT k, count(*) FROM base GROUP BY GROUPING SETS ((k), (k), ())', refresh_mode => 'incremental');
SELECT * FROM dt_test.create_fails('d', 'SELECT DISTINCT ON (id % 2) k, v FROM base ORDER BY id % 2, v', refresh_mode => 'incremental');
SELECT * FROM dt_test.create_fails('d', 'SELECT a.k, b.v FROM base a FULL JOIN base b USING (id)', refresh_mode => 'incremental');
-- With 'auto' the same query is accepted and the reason recorded.
SELECT dt.create_dynamic_table('d_window', 'SELECT k, sum(v) OVER () AS s FROM base');
SELECT refresh_mode, requested_refresh_mode, refresh_mode_reason FROM dt.dynamic_tables WHERE relid = 'd_window'::regclass;
SELECT dt_test.check('d_window');
SET client_min_messages = warning;
SELECT dt.drop_dynamic_table('d_window');
RESET client_min_messages;
SELECT dt_test.dt_footprint() = :'footprint' AS unchanged;

-- ---------------------------------------------------------------------
-- Errors found late: while analysing aggregates, and in the first
-- population, after the table, its state and the capture triggers were
-- made.  They go away with the failed creation.
-- ---------------------------------------------------------------------
SELECT * FROM dt_test.create_fails('d', 'SELECT k, percentile_cont(1.5) WITHIN GROUP (ORDER BY v) FROM base GROUP BY k');
SELECT * FROM dt_test.create_fails('d', 'SELECT k, count(*) FROM base WHERE v = 1 / (id - id) GROUP BY k');
SELECT * FROM dt_test.create_fails('d', 'SELECT k, v / (id - id) AS x FROM base');
-- (terse: the context of this error is internal SQL naming OIDs)
\set VERBOSITY terse
SELECT dt.create_dynamic_table('d', 'SELECT k, count(*) FROM base WHERE v = 1 / (id - id) GROUP BY k');
\set VERBOSITY default
SELECT dt_test.dt_footprint() = :'footprint' AS unchanged, to_regclass('d') AS d;
SELECT count(*) AS base_triggers FROM pg_trigger WHERE tgrelid = 'base'::regclass;

-- ---------------------------------------------------------------------
-- Accepted: 'downstream' and values in any case.
-- ---------------------------------------------------------------------
SELECT dt.create_dynamic_table('d_down', 'SELECT k, count(*) AS n FROM base GROUP BY k', target_lag => 'downstream');
SELECT dt.create_dynamic_table('d_upper', 'SELECT k, max(v) AS hi FROM base GROUP BY k',
                               target_lag => 'DOWNSTREAM', refresh_mode => 'INCREMENTAL', initialize => 'ON_SCHEDULE');
SELECT dt.create_dynamic_table('d_second', 'SELECT k, min(v) AS lo FROM base GROUP BY k',
                               target_lag => '1 second', refresh_mode => 'Full');
SELECT name, target_lag, refresh_mode, requested_refresh_mode, populated
  FROM dt.dynamic_tables WHERE schema_name = 'dt_errors' ORDER BY relid::text;
SELECT action FROM dt.refresh('d_upper');
SELECT dt_test.check('d_down'), dt_test.check('d_upper'), dt_test.check('d_second');
SET client_min_messages = warning;
SELECT dt.drop_dynamic_table('d_down');
SELECT dt.drop_dynamic_table('d_upper');
SELECT dt.drop_dynamic_table('d_second');
RESET client_min_messages;
SELECT dt_test.dt_footprint() = :'footprint' AS unchanged;

-- The dynamic table the rest of this file works on.
SELECT dt.create_dynamic_table('d', 'SELECT k, count(*) AS n, sum(v) AS total FROM base GROUP BY k',
                               refresh_mode => 'incremental');
SELECT dt_test.check('d');

-- ---------------------------------------------------------------------
-- Only a refresh writes into a dynamic table.
-- ---------------------------------------------------------------------
INSERT INTO d VALUES ('x', 1, 1);
SELECT * FROM dt_test.fails($$INSERT INTO d VALUES ('x', 1, 1)$$);
SELECT * FROM dt_test.fails($$INSERT INTO d SELECT * FROM d$$);
SELECT * FROM dt_test.fails($$UPDATE d SET n = n + 1$$);
SELECT * FROM dt_test.fails($$DELETE FROM d WHERE k = 'k1'$$);
SELECT * FROM dt_test.fails($$TRUNCATE d$$);
SELECT * FROM dt_test.fails($$MERGE INTO d USING (SELECT 'k1' AS k) s ON d.k = s.k WHEN MATCHED THEN DELETE$$);
SELECT * FROM dt_test.fails($$MERGE INTO d USING (SELECT 'zz' AS k) s ON d.k = s.k
                      WHEN NOT MATCHED THEN INSERT VALUES ('zz', 1, 1)$$);
-- COPY into a dynamic table is accepted and its rows are left out, with a
-- NOTICE: a data-only restore of pg_dump's output copies the rows of every
-- table, and a dynamic table computes its own (dump.c).
SELECT count(*) AS rows_before FROM d \gset
COPY d FROM stdin;
zz	1	1
\.
SELECT count(*) = :rows_before AS rows_left_out FROM d;
SELECT dt_test.check('d');

-- ---------------------------------------------------------------------
-- dt.refresh and dt.drop_dynamic_table on what is not a dynamic table.
-- ---------------------------------------------------------------------
SELECT * FROM dt_test.fails($$SELECT dt.refresh('base')$$);
SELECT * FROM dt_test.fails($$SELECT dt.refresh('taken_view')$$);
SELECT * FROM dt_test.fails($$SELECT dt.refresh('no_such_table')$$);
SELECT * FROM dt_test.fails($$SELECT dt.drop_dynamic_table('base')$$);
SELECT * FROM dt_test.fails($$SELECT dt.drop_dynamic_table('taken_view')$$);
SELECT * FROM dt_test.fails($$SELECT dt.drop_dynamic_table('no_such_table')$$);
-- Guards: an OID that names no relation (a regclass can hold any), here
-- a made-up one and that of a dropped dynamic table: 42P01, not a crash
-- nor a "(null)" in the message.
SELECT code, regexp_replace(error, '[0-9]+', '<oid>') AS error FROM dt_test.fails($$SELECT dt.refresh(99999999::regclass)$$);
SELECT code, regexp_replace(error, '[0-9]+', '<oid>') AS error FROM dt_test.fails($$SELECT dt.drop_dynamic_table(99999999::regclass)$$);
SELECT dt.create_dynamic_table('d_gone', 'SELECT k, count(*) AS n FROM base GROUP BY k');
SELECT 'd_gone'::regclass::oid AS d_gone_oid \gset
DROP TABLE d_gone;
SELECT code, regexp_replace(error, '[0-9]+', '<oid>') AS error FROM dt_test.fails(format('SELECT dt.refresh(%s::regclass)', :d_gone_oid));
SELECT code, regexp_replace(error, '[0-9]+', '<oid>') AS error FROM dt_test.fails(format('SELECT dt.drop_dynamic_table(%s::regclass)', :d_gone_oid));
SELECT to_regclass('base') AS base, to_regclass('taken_view') AS taken_view;

-- ---------------------------------------------------------------------
-- ALTER TABLE on a dynamic table: its columns are its query's.
-- ---------------------------------------------------------------------
ALTER TABLE d ADD COLUMN extra int;
SELECT * FROM dt_test.fails($$ALTER TABLE d ADD COLUMN extra int$$);
SELECT * FROM dt_test.fails($$ALTER TABLE d DROP COLUMN total$$);
SELECT * FROM dt_test.fails($$ALTER TABLE d ALTER COLUMN total TYPE float8$$);
SELECT * FROM dt_test.fails($$ALTER TABLE d RENAME COLUMN total TO sum_v$$);
SELECT * FROM dt_test.fails($$ALTER TABLE d ADD CONSTRAINT positive CHECK (n > 0)$$);
SELECT * FROM dt_test.fails($$ALTER TABLE d ADD PRIMARY KEY (k)$$);
SELECT * FROM dt_test.fails($$ALTER TABLE d ALTER COLUMN k SET NOT NULL$$);
SELECT * FROM dt_test.fails($$ALTER TABLE d ALTER COLUMN n SET DEFAULT 0$$);
SELECT * FROM dt_test.fails($$ALTER TABLE d INHERIT base$$);
SELECT attname, atttypid::regtype FROM pg_attribute
 WHERE attrelid = 'd'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
SELECT count(*) AS constraints FROM pg_constraint WHERE conrelid = 'd'::regclass;

-- Guards: not unlogged: a crash would empty it while it counts as
-- populated and up to date.
ALTER TABLE d SET UNLOGGED;
SELECT * FROM dt_test.fails($$ALTER TABLE d SET UNLOGGED$$);
SELECT * FROM dt_test.fails($$ALTER TABLE d SET (fillfactor = 60), SET UNLOGGED$$);
SELECT relpersistence FROM pg_class WHERE oid = 'd'::regclass;

-- Row-level security may hold back rows from its readers, not from its
-- owner's refreshes, which must see and write all of its rows.
ALTER TABLE d ENABLE ROW LEVEL SECURITY;
SELECT * FROM dt_test.fails($$ALTER TABLE d FORCE ROW LEVEL SECURITY$$);
SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'd'::regclass;
ALTER TABLE d DISABLE ROW LEVEL SECURITY;

-- Storage, ownership and the name may change.
ALTER TABLE d SET LOGGED;
ALTER TABLE d SET (fillfactor = 70);
SELECT reloptions FROM pg_class WHERE oid = 'd'::regclass;
ALTER TABLE d RESET (fillfactor);
CREATE ROLE dt_errors_role;
GRANT USAGE ON SCHEMA dt_errors TO dt_errors_role;
GRANT SELECT ON base TO dt_errors_role;
ALTER TABLE d OWNER TO dt_errors_role;
SELECT relowner::regrole FROM pg_class WHERE oid = 'd'::regclass;
-- Guards: the internal objects follow the table to its new owner, who
-- refreshes it incrementally, and it stays right.
SELECT count(*) > 0 AS has_internal_objects, bool_and(relowner = 'dt_errors_role'::regrole) AS all_moved
  FROM pg_class WHERE relnamespace = 'dt_internal'::regnamespace
   AND relname ~ ('_' || 'd'::regclass::oid || '(_|$)');
INSERT INTO base VALUES (45, 'k1', 45, 450), (46, 'k7', 46, 460);
DELETE FROM base WHERE id = 2;
SET ROLE dt_errors_role;
SELECT action FROM dt.refresh('d');
RESET ROLE;
SELECT dt_test.check('d');
-- REASSIGN OWNED gives them back with the table.  Guards: their
-- privileges (the owner's among them) are recorded again as the
-- extension members' initial ones, or pg_dump would dump the difference,
-- which a restore (making them anew, under other names) fails on.
REASSIGN OWNED BY dt_errors_role TO CURRENT_USER;
SELECT relowner = CURRENT_USER::regrole AS given_back FROM pg_class WHERE oid = 'd'::regclass;
SELECT count(*) > 0 AS has_internal_objects, bool_and(o.owner = CURRENT_USER::regrole) AS all_back,
       count(*) FILTER (WHERE o.acl IS DISTINCT FROM ip.initprivs) AS dumped_as_changed
  FROM (SELECT 'pg_class'::regclass AS classid, oid, relowner AS owner, relacl AS acl FROM pg_class
         WHERE relnamespace = 'dt_internal'::regnamespace AND relname ~ ('_' || 'd'::regclass::oid || '(_|$)')
        UNION ALL
        SELECT 'pg_type'::regclass, oid, typowner, typacl FROM pg_type
         WHERE typnamespace = 'dt_internal'::regnamespace AND typname = 'key_' || 'd'::regclass::oid) o
  LEFT JOIN pg_init_privs ip ON ip.classoid = o.classid AND ip.objoid = o.oid AND ip.objsubid = 0;
REVOKE ALL ON base FROM dt_errors_role;
REVOKE USAGE ON SCHEMA dt_errors FROM dt_errors_role;
DROP ROLE dt_errors_role;
UPDATE base SET v = v + 1 WHERE id = 45;
SELECT action FROM dt.refresh('d');
SELECT dt_test.check('d');
ALTER TABLE d RENAME TO d_renamed;
SELECT name, table_name FROM dt.dynamic_tables WHERE schema_name = 'dt_errors';
INSERT INTO base VALUES (41, 'k1', 41, 410);
SELECT action FROM dt.refresh('d_renamed');
SELECT dt_test.check('d_renamed');
ALTER TABLE d_renamed RENAME TO d;

-- The unique key index that refreshes write through cannot be dropped.
SELECT count(*) AS key_indexes FROM pg_index WHERE indrelid = 'd'::regclass AND indisunique;
SELECT indexrelid::regclass AS key_index FROM pg_index WHERE indrelid = 'd'::regclass \gset
DROP INDEX :"key_index";
SELECT * FROM dt_test.fails(format('DROP INDEX %I', :'key_index'));
SELECT count(*) AS key_indexes FROM pg_index WHERE indrelid = 'd'::regclass AND indisunique;

-- No rules on a dynamic table.
SELECT * FROM dt_test.fails($$CREATE RULE no_insert AS ON INSERT TO d DO INSTEAD NOTHING$$);
SELECT * FROM dt_test.fails($$CREATE RULE "_RETURN" AS ON SELECT TO d DO INSTEAD SELECT 'a'::text AS k, 1::bigint AS n, 1::bigint AS total$$);
SELECT count(*) AS rules FROM pg_rewrite WHERE ev_class = 'd'::regclass;

-- No triggers on a dynamic table either (as on a materialized view): its
-- refreshes would fire them, and a BEFORE trigger that skips or changes a
-- row, or one that writes the table, leaves it different from its query.
CREATE FUNCTION skip_row() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END';
SELECT * FROM dt_test.fails($$CREATE TRIGGER skip BEFORE INSERT OR UPDATE OR DELETE ON d FOR EACH ROW EXECUTE FUNCTION skip_row()$$);
SELECT * FROM dt_test.fails($$CREATE TRIGGER after_all AFTER INSERT ON d FOR EACH STATEMENT EXECUTE FUNCTION skip_row()$$);
SELECT * FROM dt_test.fails($$CREATE CONSTRAINT TRIGGER later AFTER UPDATE ON d DEFERRABLE FOR EACH ROW EXECUTE FUNCTION skip_row()$$);
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'd'::regclass AND tgname <> 'dt_guard';
UPDATE base SET v = v + 1 WHERE id = 45;
SELECT action FROM dt.refresh('d');
SELECT dt_test.check('d');
DROP FUNCTION skip_row();

-- Nor may another table's foreign key reference a dynamic table, as none
-- references a materialized view: a full refresh deletes the rows before
-- it writes them again, which the key refuses, or carries over to the
-- referencing rows.
CREATE TABLE fk_in (id int PRIMARY KEY, g int);
INSERT INTO fk_in SELECT i, i % 3 FROM generate_series(1, 30) i;
SELECT dt.create_dynamic_table('fk_dt', 'SELECT g, count(*) AS n FROM fk_in GROUP BY g');
SELECT * FROM dt_test.fails($$CREATE TABLE fk_ref (g int REFERENCES fk_dt (g))$$);
SELECT * FROM dt_test.fails($$CREATE TABLE fk_ref (g int, FOREIGN KEY (g) REFERENCES fk_dt (g))$$);
CREATE TABLE fk_ref (g int);
SELECT * FROM dt_test.fails($$ALTER TABLE fk_ref ADD FOREIGN KEY (g) REFERENCES fk_dt (g)$$);
SELECT * FROM dt_test.fails($$ALTER TABLE fk_ref ADD COLUMN h int REFERENCES fk_dt (g)$$);
DROP TABLE fk_ref;
-- One made while the table was no dynamic table (as by a restore that
-- makes dt_guard before it): PostgreSQL put its internal triggers on the
-- table, and a full refresh cascaded the delete to every referencing row.
-- The refreshes refuse to run until it is dropped.
SELECT pg_get_triggerdef(oid) AS fk_guard FROM pg_trigger
 WHERE tgrelid = 'fk_dt'::regclass AND tgname = 'dt_guard' \gset
DROP TRIGGER dt_guard ON fk_dt;
CREATE TABLE fk_ref (g int REFERENCES fk_dt (g) ON DELETE CASCADE);
INSERT INTO fk_ref SELECT g FROM fk_dt;
:fk_guard;
SELECT * FROM dt_test.fails($$SELECT dt.refresh('fk_dt')$$);
SELECT count(*) AS referencing FROM fk_ref;
DROP TABLE fk_ref;
SELECT action FROM dt.refresh('fk_dt');
SELECT dt_test.check('fk_dt');
SELECT dt.drop_dynamic_table('fk_dt');
DROP TABLE fk_in;

-- Row-level security forced on the owner of a dynamic table made again
-- from its dt_guard trigger (as a restore does, which let it through):
-- the full refresh's DELETE missed the rows the policy hid from the
-- owner, and its INSERT wrote them again (10 rows twice).  The refreshes
-- refuse to run.
CREATE ROLE dt_errors_rls;
CREATE TABLE rls_in (id int PRIMARY KEY, g int);
INSERT INTO rls_in SELECT i, i % 3 FROM generate_series(1, 30) i;
ALTER TABLE rls_in OWNER TO dt_errors_rls;
GRANT USAGE, CREATE ON SCHEMA dt_errors TO dt_errors_rls;
SET ROLE dt_errors_rls;
SELECT dt.create_dynamic_table('rls_dt', 'SELECT id, g FROM rls_in');
SELECT pg_get_triggerdef(oid) AS rls_guard FROM pg_trigger
 WHERE tgrelid = 'rls_dt'::regclass AND tgname = 'dt_guard' \gset
DROP TRIGGER dt_guard ON rls_dt;
ALTER TABLE rls_dt ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY not_zero ON rls_dt USING (g <> 0) WITH CHECK (true);
:rls_guard;
SELECT action FROM dt.refresh('rls_dt');
ALTER TABLE rls_dt NO FORCE ROW LEVEL SECURITY;
SELECT action FROM dt.refresh('rls_dt');
RESET ROLE;
SELECT dt_test.check('rls_dt');
DROP TABLE rls_in CASCADE;
REVOKE ALL ON SCHEMA dt_errors FROM dt_errors_rls;
DROP ROLE dt_errors_rls;

-- ---------------------------------------------------------------------
-- The guard trigger of the dynamic table and the capture triggers of
-- its input stay in place and enabled.  (Dropping dt_guard makes the
-- dynamic table a plain table: ddl.sql.)
-- ---------------------------------------------------------------------
SELECT tgname AS capture_trigger FROM pg_trigger
 WHERE tgrelid = 'base'::regclass AND tgname LIKE 'dt\_capture\_%\_ins\_%' \gset
SELECT * FROM dt_test.fails($$ALTER TABLE d DISABLE TRIGGER dt_guard$$);
SELECT * FROM dt_test.fails($$ALTER TRIGGER dt_guard ON d RENAME TO guard$$);
SELECT * FROM dt_test.fails(format('ALTER TABLE base DISABLE TRIGGER %I', :'capture_trigger'));
-- The capture triggers are internal triggers: DISABLE TRIGGER USER leaves
-- them alone.  (DISABLE TRIGGER ALL and USER are allowed: below.)
SELECT * FROM dt_test.fails($$ALTER TABLE base DISABLE TRIGGER USER$$);
ALTER TABLE base ENABLE TRIGGER USER;
SELECT * FROM dt_test.fails(format('DROP TRIGGER %I ON base', :'capture_trigger'));
SELECT * FROM dt_test.fails(format('ALTER TRIGGER %I ON base RENAME TO capture', :'capture_trigger'));
-- The names of capture triggers are reserved: no trigger of a user's
-- takes one (by CREATE TRIGGER or a rename); one that has one (made
-- before they were reserved: renamed in the catalog here) is its owner's
-- to drop; and a DROP of a trigger of that name that does not exist says
-- so, as PostgreSQL does.
CREATE FUNCTION nothing() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END';
CREATE TABLE plain (a int);
CREATE TRIGGER mine AFTER INSERT ON plain FOR EACH STATEMENT EXECUTE FUNCTION nothing();
SELECT * FROM dt_test.fails($$CREATE TRIGGER dt_capture_mine AFTER INSERT ON plain FOR EACH STATEMENT EXECUTE FUNCTION nothing()$$);
SELECT * FROM dt_test.fails($$ALTER TRIGGER mine ON plain RENAME TO dt_capture_mine$$);
SELECT * FROM dt_test.fails($$DROP TRIGGER dt_capture_none ON base$$);
DROP TRIGGER IF EXISTS dt_capture_none ON base;
UPDATE pg_trigger SET tgname = 'dt_capture_mine' WHERE tgrelid = 'plain'::regclass AND tgname = 'mine';
DROP TRIGGER dt_capture_mine ON plain;
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'plain'::regclass;
-- Guards: our triggers fire ALWAYS; any other firing mode, which
-- session_replication_role would switch off, is refused.
SELECT * FROM dt_test.fails(format('ALTER TABLE base ENABLE REPLICA TRIGGER %I', :'capture_trigger'));
SELECT * FROM dt_test.fails(format('ALTER TABLE base ENABLE TRIGGER %I', :'capture_trigger'));
SELECT * FROM dt_test.fails($$ALTER TABLE d ENABLE REPLICA TRIGGER dt_guard$$);
SELECT * FROM dt_test.fails($$ALTER TABLE d ENABLE TRIGGER dt_guard$$);
-- ENABLE ALWAYS is what they are; ENABLE TRIGGER ALL and USER are
-- allowed and leave ours firing ALWAYS.
ALTER TABLE base ENABLE ALWAYS TRIGGER :"capture_trigger";
ALTER TABLE base ENABLE TRIGGER ALL;
ALTER TABLE base ENABLE TRIGGER USER;
ALTER TABLE d ENABLE TRIGGER ALL;
SELECT c.relname, regexp_replace(t.tgname, '[0-9]+', '<oid>', 'g') AS tgname, t.tgenabled
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE t.tgrelid IN ('base'::regclass, 'd'::regclass)
 ORDER BY 1, 2;
-- So writes made with session_replication_role = replica are captured,
-- and the guard holds.
SET session_replication_role = replica;
INSERT INTO base VALUES (47, 'k3', 47, 470);
UPDATE base SET v = v + 100 WHERE id = 4;
SELECT * FROM dt_test.fails($$DELETE FROM d$$);
RESET session_replication_role;
SELECT action FROM dt.refresh('d');
SELECT dt_test.check('d');
-- Other triggers of the tables can still be disabled by name.
CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;
CREATE TRIGGER user_trigger AFTER INSERT ON base FOR EACH STATEMENT EXECUTE FUNCTION noop();
ALTER TABLE base DISABLE TRIGGER user_trigger;
DROP TRIGGER user_trigger ON base;
INSERT INTO base VALUES (42, 'k2', 42, 420);
SELECT action FROM dt.refresh('d');
SELECT dt_test.check('d');

-- DISABLE TRIGGER ALL, as a data-only pg_restore --disable-triggers does,
-- on a table a dynamic table reads: its changes go uncaptured, so every
-- refresh is full while the capture triggers are off, and after ENABLE
-- TRIGGER ALL (which marks the change log) the first one is full too.
ALTER TABLE base DISABLE TRIGGER ALL;
INSERT INTO base VALUES (48, 'k1', 48, 480);
SELECT action FROM dt.refresh('d');
SELECT dt_test.check('d');
UPDATE base SET v = v + 1 WHERE id = 48;
SELECT action FROM dt.refresh('d');
SELECT state_message FROM dt.refresh_history WHERE relid = 'd'::regclass ORDER BY refresh_id DESC LIMIT 1;
DELETE FROM base WHERE id = 48;
ALTER TABLE base ENABLE TRIGGER ALL;
SELECT action FROM dt.refresh('d');
SELECT dt_test.check('d');
INSERT INTO base VALUES (49, 'k1', 49, 490);
SELECT action FROM dt.refresh('d');
-- The same when the capture triggers are enabled again one by one.
ALTER TABLE base DISABLE TRIGGER ALL;
INSERT INTO base VALUES (50, 'k2', 50, 500);
DO $$
DECLARE
    t name;
BEGIN
    FOR t IN SELECT tgname FROM pg_trigger WHERE tgrelid = 'base'::regclass AND tgname LIKE 'dt\_capture\_%' LOOP
        EXECUTE format('ALTER TABLE base ENABLE ALWAYS TRIGGER %I', t);
    END LOOP;
END
$$;
SELECT action FROM dt.refresh('d');
SELECT dt_test.check('d');
-- On a dynamic table: its guard is off, so its rows may be written; its
-- refreshes are full meanwhile, and after ENABLE TRIGGER ALL the next one.
ALTER TABLE d DISABLE TRIGGER ALL;
INSERT INTO d VALUES ('not a group', 0, 0);
SELECT action FROM dt.refresh('d');
SELECT dt_test.check('d');
INSERT INTO d VALUES ('not a group', 0, 0);
ALTER TABLE d ENABLE TRIGGER ALL;
SELECT * FROM dt_test.fails($$INSERT INTO d VALUES ('not a group', 0, 0)$$);
SELECT action FROM dt.refresh('d');
SELECT dt_test.check('d');
SELECT c.relname, regexp_replace(t.tgname, '[0-9]+', '<oid>', 'g') AS tgname, t.tgenabled
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE t.tgrelid IN ('base'::regclass, 'd'::regclass)
 ORDER BY 1, 2;

-- ---------------------------------------------------------------------
-- DDL on the base table: a column the dynamic table reads keeps its type
-- and stays; other columns may change.
-- ---------------------------------------------------------------------
ALTER TABLE base ALTER COLUMN v TYPE bigint;
SELECT * FROM dt_test.fails($$ALTER TABLE base ALTER COLUMN v TYPE bigint$$);
SELECT * FROM dt_test.fails($$ALTER TABLE base ALTER COLUMN k TYPE varchar(10)$$);
SELECT * FROM dt_test.fails($$ALTER TABLE base DROP COLUMN v$$);
SELECT * FROM dt_test.fails($$ALTER TABLE base DROP COLUMN k$$);
SELECT * FROM dt_test.fails($$ALTER TABLE base ALTER COLUMN w TYPE bigint$$);
SELECT * FROM dt_test.fails($$ALTER TABLE base DROP COLUMN w$$);
SELECT attname, atttypid::regtype FROM pg_attribute
 WHERE attrelid = 'base'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
INSERT INTO base VALUES (43, 'k3', 43), (44, 'k9', 44);
UPDATE base SET v = v + 1 WHERE id % 3 = 0;
DELETE FROM base WHERE id % 5 = 0;
SELECT action FROM dt.refresh('d');
SELECT dt_test.check('d');

-- ---------------------------------------------------------------------
-- A read-only transaction (every transaction of a hot standby is: TAP
-- test 011_standby) changes no dynamic table: each call is refused before
-- it works or takes a lock, as REFRESH MATERIALIZED VIEW is.
-- ---------------------------------------------------------------------
INSERT INTO base VALUES (45, 'k4', 45);
BEGIN READ ONLY;
SELECT * FROM dt_test.fails($$SELECT dt.refresh('d')$$);
SELECT * FROM dt_test.fails($$SELECT dt.alter_dynamic_table('d', target_lag => '1 hour')$$);
SELECT * FROM dt_test.fails($$SELECT dt.suspend('d')$$);
SELECT * FROM dt_test.fails($$SELECT dt.resume('d')$$);
SELECT * FROM dt_test.fails($$SELECT dt.drop_dynamic_table('d')$$);
SELECT * FROM dt_test.fails($$SELECT dt.create_dynamic_table('d', 'SELECT 1 AS x', or_replace => true)$$);
SELECT * FROM dt_test.fails($$SELECT dt.create_dynamic_table('ro', 'SELECT count(*) AS n FROM base')$$);
SELECT count(*) > 0 AS explains FROM dt.explain_refresh('d');
COMMIT;
SELECT action FROM dt.refresh('d');
SELECT dt_test.check('d');

-- ---------------------------------------------------------------------
-- DROP TABLE of a base table: refused while a dynamic table reads it;
-- with CASCADE the dynamic table goes too, and so does everything the
-- extension kept for it.
-- ---------------------------------------------------------------------
DROP TABLE base;
SELECT * FROM dt_test.fails($$DROP TABLE base$$);
SELECT to_regclass('base') AS base, to_regclass('d') AS d;
DROP TABLE base CASCADE;
SELECT to_regclass('base') AS base, to_regclass('d') AS d;
SELECT count(*) AS dynamic_tables FROM dt.dynamic_tables WHERE schema_name = 'dt_errors';
SELECT dt_test.dt_footprint() = :'footprint' AS unchanged;

-- ---------------------------------------------------------------------
-- A column read under the name of the column of signs an incremental
-- refresh adds ("dt$sign"): refused for incremental refreshes (their SQL
-- failed with "column reference is ambiguous"); refreshed in full with
-- refresh_mode => 'auto'; incremental again read under an alias.
-- ---------------------------------------------------------------------
CREATE TABLE signed (id int PRIMARY KEY, "dt$sign" int, k text);
INSERT INTO signed SELECT g, g % 3, 'k' || g % 2 FROM generate_series(1, 20) g;
SELECT dt.create_dynamic_table('signed_inc', 'SELECT k, sum("dt$sign") AS s, count(*) AS c FROM signed GROUP BY k',
                               refresh_mode => 'incremental');
SELECT dt.create_dynamic_table('signed_auto', 'SELECT k, sum("dt$sign") AS s, count(*) AS c FROM signed GROUP BY k');
SELECT dt.create_dynamic_table('signed_alias', 'SELECT x.k, sum(x.sg) AS s, count(*) AS c FROM signed x(id, sg) GROUP BY x.k',
                               refresh_mode => 'incremental');
SELECT table_name, refresh_mode, refresh_mode_reason FROM dt.dynamic_tables
 WHERE table_name LIKE 'signed%' AND refresh_mode = 'FULL' ORDER BY 1;
UPDATE signed SET "dt$sign" = "dt$sign" + 1, k = 'k2' WHERE id % 4 = 0;
SELECT action FROM dt.refresh('signed_auto');
SELECT action FROM dt.refresh('signed_alias');
SELECT dt_test.check('signed_auto'), dt_test.check('signed_alias');

SET client_min_messages = warning;
DROP SCHEMA dt_errors CASCADE;
RESET client_min_messages;
