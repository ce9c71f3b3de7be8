-- A select list that reads no column of the tables (SELECT 1 FROM t): one
-- row per row read, all equal.  No column partitions it and no strategy
-- adds or deletes some of many equal rows, so it is refreshed in full,
-- with that reason (not the constant "partition key" recompute tried);
-- 'incremental' is refused with it.  Its rows follow the table's row
-- count through inserts, deletes, updates and TRUNCATE.

CREATE SCHEMA dt_const;
SET search_path = dt_const, public;

CREATE TABLE t (k int PRIMARY KEY, v int);
CREATE TABLE u (k int, w text);
INSERT INTO t SELECT g, g % 3 FROM generate_series(1, 10) g;
INSERT INTO u SELECT g % 5, 'w' || g FROM generate_series(1, 8) g;

SELECT dt.create_dynamic_table('one', 'SELECT 1 AS one FROM t');
SELECT dt.create_dynamic_table('filtered', 'SELECT ''x'' AS x, 2.5 AS y FROM t WHERE v = 1');
SELECT dt.create_dynamic_table('joined', 'SELECT true AS b FROM t JOIN u ON u.k = t.k');
SELECT table_name, refresh_mode, refresh_mode_reason FROM dt.dynamic_tables
 WHERE schema_name = 'dt_const' ORDER BY table_name;

SELECT * FROM dt_test.create_fails('one_inc', 'SELECT 1 AS one FROM t', refresh_mode => 'incremental');

-- with a column of the table next to the constant, that column partitions it
SELECT dt.create_dynamic_table('keyed', 'SELECT 1 AS one, v FROM t', refresh_mode => 'incremental');

-- check_all: refresh each and compare it with its query
CREATE FUNCTION check_all() RETURNS TABLE (name text, action text, n bigint) LANGUAGE sql AS $$
    SELECT d.table_name::text, (SELECT r.action FROM dt.refresh(d.relid) r),
           (SELECT count(*) FROM dt_test.diff(d.relid))
      FROM dt.dynamic_tables d WHERE d.schema_name = 'dt_const' ORDER BY d.table_name
$$;
SELECT * FROM check_all();

INSERT INTO t SELECT g, g % 3 FROM generate_series(11, 15) g;
DELETE FROM t WHERE k IN (2, 3);
INSERT INTO u VALUES (4, 'again'), (11, 'new');
SELECT * FROM check_all();
SELECT count(*) FROM one;

UPDATE t SET v = 1 WHERE v = 0;
DELETE FROM u WHERE k = 4;
SELECT * FROM check_all();
SELECT count(*) FROM filtered;

TRUNCATE t;
SELECT * FROM check_all();
SELECT (SELECT count(*) FROM one) AS one, (SELECT count(*) FROM filtered) AS filtered,
       (SELECT count(*) FROM joined) AS joined;

SET client_min_messages = warning;
DROP SCHEMA dt_const CASCADE;
