-- Reading a dynamic table before its first refresh (initialize =>
-- 'on_schedule') is an error, as reading a materialized view created WITH
-- NO DATA is: it would answer with no rows, silently.  EXPLAIN without
-- ANALYZE still works; refreshes fill it; a dynamic table over it fills it
-- first (one unit); once populated it reads as any table.

CREATE SCHEMA dt_unpop;
SET search_path = dt_unpop, public;
CREATE TABLE t (id int PRIMARY KEY, k text, v int);
INSERT INTO t SELECT g, 'k' || g % 3, g FROM generate_series(1, 30) g;
SELECT dt.create_dynamic_table('later', 'SELECT k, count(*) AS n, sum(v) AS total FROM t GROUP BY k',
                               initialize => 'on_schedule');
SELECT populated FROM dt.dynamic_tables WHERE relid = 'later'::regclass;

-- Guards: every way of reading it fails, with the hint; EXPLAIN does not
\set VERBOSITY default
SELECT * FROM later;
\set VERBOSITY terse
SELECT count(*) FROM later;
SELECT * FROM t JOIN later USING (k);
CREATE VIEW later_view AS SELECT k FROM later;
SELECT * FROM later_view;
CREATE TABLE copy_of AS SELECT * FROM later;
COPY (SELECT * FROM later) TO stdout;
-- but COPY of the table itself copies its rows, none, without the
-- executor: that is how pg_dump dumps it (TAP 003_dump_restore), and
-- failing it would fail every dump of a database holding one
COPY later TO stdout;
EXPLAIN (COSTS OFF) SELECT * FROM later;
CREATE TABLE copy_of AS SELECT * FROM later WITH NO DATA;
SELECT count(*) FROM copy_of;

-- Guards: a refresh fills it, then it reads as any table; a DT over an
-- unpopulated one refreshes it first, in its unit
SELECT action FROM dt.refresh('later');
SELECT populated FROM dt.dynamic_tables WHERE relid = 'later'::regclass;
SELECT * FROM later ORDER BY k;
SELECT count(*) FROM later_view;
SELECT dt.create_dynamic_table('later2', 'SELECT k, count(*) AS n FROM t GROUP BY k',
                               initialize => 'on_schedule');
SELECT count(*) FROM later2;
SELECT dt.create_dynamic_table('above', 'SELECT count(*) AS keys, sum(n) AS n FROM later2');
SELECT * FROM above;
SELECT count(*) FROM later2;
-- Guards: parallel workers read it too (their leader checked the plan)
SET force_parallel_mode = on;
SELECT count(*) FROM later2;
SELECT count(*) FROM later;
RESET force_parallel_mode;

-- Guards: the name in the message is the table's; a plain table with a
-- trigger called dt_guard is no dynamic table
CREATE FUNCTION nothing() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TABLE plain (a int);
CREATE TRIGGER dt_guard BEFORE INSERT ON plain FOR EACH STATEMENT EXECUTE FUNCTION nothing();
SELECT count(*) FROM plain;

SET client_min_messages = warning;
DROP SCHEMA dt_unpop CASCADE;
RESET client_min_messages;
