-- A refresh's statements are prepared once per process and DT and kept
-- (refresh.c, get_plans) until something they depend on changes: a
-- relation they read, or a type or function of the query or of the
-- statements.  Not any type or function: every CREATE TABLE (a temporary
-- one too) and REFRESH MATERIALIZED VIEW makes a type, and before, each
-- made every DT of every session plan its refresh again.  A DEBUG1 line
-- says when a DT's statements are prepared.

CREATE SCHEMA dt_rp;
SET search_path = dt_rp, public;

CREATE TYPE mood AS ENUM ('low', 'high');
CREATE TABLE src (k int PRIMARY KEY, g int, m mood, v numeric);
INSERT INTO src SELECT i, i % 3, CASE WHEN i % 2 = 0 THEN 'low' ELSE 'high' END::mood, i
  FROM generate_series(1, 30) i;
CREATE FUNCTION doubled(numeric) RETURNS numeric IMMUTABLE LANGUAGE sql AS 'SELECT $1 * 2';
SELECT dt.create_dynamic_table('sums',
    'SELECT g, m, sum(doubled(v)) AS s, count(*) AS n FROM src GROUP BY g, m',
    refresh_mode => 'incremental');
CREATE MATERIALIZED VIEW other AS SELECT 1 AS x;

-- step(n): a new row in src, then the refresh (its DEBUG1 line, if any)
CREATE FUNCTION step(n int) RETURNS text LANGUAGE plpgsql
SET client_min_messages = debug1 AS $$
BEGIN
    INSERT INTO src VALUES (n, n % 3, 'low', n);
    RETURN (SELECT action FROM dt.refresh('sums'));
END
$$;
-- the first temporary table of a session may make its schema, which drops
-- all plans, as it does PostgreSQL's own: made before the first refresh
CREATE TEMP TABLE scratch (x int);
SELECT step(100);

-- kept: nothing changed
SELECT step(101);
-- kept: a new table, a new temporary table, a refreshed materialized
-- view and a new function make types and functions the DT does not use
CREATE TABLE unrelated (x int);
SELECT step(102);
CREATE TEMP TABLE scratch2 (x int);
SELECT step(106);
REFRESH MATERIALIZED VIEW other;
SELECT step(107);
CREATE FUNCTION unrelated_f() RETURNS int LANGUAGE sql AS 'SELECT 1';
SELECT step(108);
-- prepared again: a function of the query changed
ALTER FUNCTION doubled(numeric) COST 7;
SELECT step(103);
-- prepared again: a type of the query changed (renamed: the statements
-- name it)
ALTER TYPE mood RENAME TO feeling;
SELECT step(104);

SELECT dt_test.check('sums');

-- prepared again: the base type of a domain column changed (renamed: the
-- statements name it where they read the change log, which stores the
-- base type; before, they were kept and failed with "type ... does not
-- exist" as soon as PostgreSQL analyzed their text again, after a change
-- of the DT's state table)
CREATE DOMAIN tag AS feeling;
CREATE TABLE tagged (k int PRIMARY KEY, g int, t tag);
INSERT INTO tagged SELECT i, i % 3, 'low' FROM generate_series(1, 9) i;
SELECT dt.create_dynamic_table('tag_counts',
    'SELECT g, count(*) AS n FROM tagged WHERE t::text = ''low'' GROUP BY g',
    refresh_mode => 'incremental');
CREATE FUNCTION tag_step(n int) RETURNS text LANGUAGE plpgsql
SET client_min_messages = debug1 AS $$
BEGIN
    INSERT INTO tagged VALUES (n, n % 3, 'low');
    RETURN (SELECT action FROM dt.refresh('tag_counts'));
END
$$;
SELECT tag_step(100);
SELECT tag_step(101);
ALTER TYPE feeling RENAME TO sentiment;
SELECT tag_step(102);
SELECT dt_test.check('tag_counts');

-- kept: a DT whose internal tables are set aside (adaptive refresh found
-- its incremental refreshes dear: the history says 1 s each) is refreshed
-- in full from its query, each time moving them on unrefreshed; they
-- become unpopulated once, and only that invalidates them, and with them
-- the statements of the DT, which reads them (before, every such refresh
-- invalidated them, and the next prepared all its statements and theirs
-- again: TPC-H Q02 at 1%, 8 ms of a 40 ms refresh)
SET pg_dynamic_tables.adaptive_refresh = on;
CREATE TABLE ranked (k int PRIMARY KEY, g int, v int);
INSERT INTO ranked SELECT i, i % 5, i FROM generate_series(1, 50) i;
SELECT dt.create_dynamic_table('top_groups',
    'SELECT n, count(*) AS groups FROM (SELECT g, sum(v) AS n FROM ranked GROUP BY g) s GROUP BY n',
    refresh_mode => 'incremental');
SELECT count(*) AS internal_tables FROM dt_internal.dynamic_table
 WHERE relid::regclass::text LIKE 'dt_internal.sub\_' || 'top_groups'::regclass::oid || '\_%';
INSERT INTO dt_internal.refresh_log (relid, table_name, refresh_start_time, refresh_end_time,
                                     refresh_action, refresh_trigger, state, changes)
SELECT 'top_groups'::regclass, 'top_groups', now() - interval '1 hour',
       now() - interval '1 hour' + interval '1 s', 'INCREMENTAL', 'MANUAL', 'SUCCEEDED', 2
  FROM generate_series(1, 3);
CREATE FUNCTION rank_change(n int) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ranked SET v = v + n WHERE k = n;
    RETURN (SELECT action FROM dt.refresh('top_groups'));
END
$$;
CREATE FUNCTION rank_step(n int) RETURNS text LANGUAGE sql
SET client_min_messages = debug1 AS 'SELECT rank_change(n)';
-- the first sets them aside, the second prepares again (not shown: the
-- internal table's name holds an OID), the others not
SELECT rank_change(1);
SELECT rank_change(2);
SELECT rank_step(3);
SELECT rank_step(4);
SELECT count(*) AS state_valid FROM dt_internal.state_valid WHERE relid = 'top_groups'::regclass;
SELECT dt_test.check('top_groups');
RESET pg_dynamic_tables.adaptive_refresh;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA dt_rp CASCADE;
RESET client_min_messages;
