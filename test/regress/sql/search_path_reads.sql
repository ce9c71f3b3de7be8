-- A refresh runs with search_path = pg_catalog (settings_pin), whoever
-- refreshes: a query reading the search path would give that in its table,
-- not what the query gives its user.  Creating (or redefining) a dynamic
-- table with such a query is refused: current_schema (with or without
-- parentheses), current_schemas(), current_setting('search_path') in any
-- case and with missing_ok, current_setting of a name that is not a
-- constant, in a subquery or a view.  current_setting of a pinned setting
-- (TimeZone) is the value the table was created with, as the query gave.

CREATE SCHEMA dt_sp;
SET search_path = dt_sp, public;
CREATE TABLE t (k int PRIMARY KEY);
INSERT INTO t SELECT generate_series(1, 3);
CREATE VIEW v AS SELECT current_schema() AS s, k FROM t;
-- names resolved or printed by the search path: each query below gives
-- 't' or true to its user, dt_sp.t (or NULL, false) under pg_catalog
CREATE TABLE tr (k int PRIMARY KEY, r regclass);
INSERT INTO tr VALUES (1, 'dt_sp.t');
CREATE TABLE tt (k int PRIMARY KEY, r oid);
INSERT INTO tt VALUES (1, 'dt_sp.t'::regtype);
SELECT r::text AS name, pg_table_is_visible(r) AS visible, (SELECT format_type(r, NULL) FROM tt) AS ty FROM tr;
-- a constant name is resolved once, when the query is parsed: allowed
SELECT dt.create_dynamic_table('named', 'SELECT k, ''t''::regclass::oid AS r FROM t');
SELECT DISTINCT r = 'dt_sp.t'::regclass::oid AS same FROM named;

SELECT query, code, left_behind, error FROM (VALUES
    ('SELECT current_setting(''search_path'') AS sp, k FROM t'),
    ('SELECT current_setting(''Search_Path'', true) AS sp, k FROM t'),
    ('SELECT current_schema AS s, k FROM t'),
    ('SELECT current_schema() AS s, k FROM t'),
    ('SELECT current_schemas(false) AS s, k FROM t'),
    ('SELECT k FROM t WHERE EXISTS (SELECT WHERE ''dt_sp'' = ANY (current_schemas(false)))'),
    ('SELECT current_setting(w) AS s, k FROM t, (VALUES (''TimeZone'')) x(w)'),
    ('SELECT * FROM v'),
    ('SELECT k, to_regclass(''t'') AS r FROM t'),
    ('SELECT k, (''t'' || k)::regclass AS r FROM t'),
    ('SELECT k, r::text AS name FROM tr'),
    ('SELECT k, r::regtype AS r FROM (SELECT k, ''t''::text AS r FROM t) x'),
    ('SELECT k, format_type(r, NULL) AS ty FROM tt'),
    ('SELECT k FROM tr WHERE pg_table_is_visible(r)')
) q(query), dt_test.create_fails('sp', query);

-- the same through or_replace: the table keeps its query
SELECT dt.create_dynamic_table('sp', 'SELECT k FROM t');
SELECT dt_test.outcome($$SELECT dt.create_dynamic_table('sp', 'SELECT current_schema() AS s, k FROM t', or_replace => true)$$);
SELECT query FROM dt.dynamic_tables WHERE table_name = 'sp';

-- a pinned setting is the creator's, as the query gave it
SET TimeZone = 'Asia/Tokyo';
SELECT dt.create_dynamic_table('tz', 'SELECT current_setting(''TimeZone'') AS tz, k FROM t');
INSERT INTO t VALUES (4);
SELECT action FROM dt.refresh('tz');
SELECT dt_test.check('tz');
SELECT DISTINCT tz FROM tz;
RESET TimeZone;

-- so is bytea_output, which a bytea cast to text reads: rows a session
-- with another value refreshes print the creator's way too
CREATE TABLE b (id int PRIMARY KEY, v bytea);
INSERT INTO b VALUES (1, '\x41ff');
SET bytea_output = escape;
SELECT dt.create_dynamic_table('b_text', 'SELECT id, v::text AS t FROM b', refresh_mode => 'incremental');
RESET bytea_output;
INSERT INTO b VALUES (2, '\x41ff');
SELECT action FROM dt.refresh('b_text');
SELECT id, t FROM b_text ORDER BY id;
SET bytea_output = escape;
SELECT dt_test.check('b_text');
RESET bytea_output;
-- and xmlbinary, which xmlelement reads for bytea content (base64 or hex)
SET xmlbinary = hex;
SELECT dt.create_dynamic_table('b_xml', 'SELECT id, xmlelement(name v, v)::text AS x FROM b', refresh_mode => 'incremental');
RESET xmlbinary;
INSERT INTO b VALUES (3, '\x00ff');
SELECT action FROM dt.refresh('b_xml');
SELECT id, x FROM b_xml ORDER BY id;
SET xmlbinary = hex;
SELECT dt_test.check('b_xml');
RESET xmlbinary;

-- the SQL a refresh parses is printed with standard_conforming_strings on
-- and its array constants with NULL elements, whatever the session says:
-- a refresh under array_nulls = off read '{NULL}' as the string "NULL",
-- and a definition printed under standard_conforming_strings = off
-- ('a\\b' for a\b) meant two backslashes once its dt_guard trigger was
-- made again (as a restore makes it)
CREATE TABLE q (id int PRIMARY KEY, tags text[], s text);
INSERT INTO q VALUES (1, '{NULL}', 'a\b'), (2, ARRAY['NULL'], 'a\\b'), (3, '{x}', 'ab');
SELECT dt.create_dynamic_table('q_nulls', $$SELECT tags = '{NULL}'::text[] AS null_tag, count(*) AS n FROM q GROUP BY 1$$,
                               refresh_mode => 'incremental');
SET array_nulls = off;
INSERT INTO q VALUES (4, '{NULL}', 'c');
SELECT action FROM dt.refresh('q_nulls');
RESET array_nulls;
SELECT dt_test.check('q_nulls');
SET standard_conforming_strings = off;
SET escape_string_warning = off;
SELECT dt.create_dynamic_table('q_slash', E'SELECT id, s = ''a\\\\b'' AS one_slash FROM q');
RESET standard_conforming_strings;
RESET escape_string_warning;
-- as pg_dump prints it
SELECT pg_get_triggerdef(oid) AS guard FROM pg_trigger WHERE tgrelid = 'q_slash'::regclass AND tgname = 'dt_guard' \gset
DROP TRIGGER dt_guard ON q_slash;
:guard;
SELECT action FROM dt.refresh('q_slash');
SELECT dt_test.check('q_slash');
SELECT id FROM q_slash WHERE one_slash;

-- and its float constants exactly, as pg_dump prints them: printed under a
-- pinned extra_float_digits of -10, 0.123405 was 0.12341, and the rows
-- whose x is 0.12341 were left out, by refreshes and after a restore (the
-- oracle reads the definition printed with the default, exact)
CREATE TABLE f (id int PRIMARY KEY, x float8);
INSERT INTO f VALUES (1, 0.1234), (2, 0.12341), (3, 0.1235);
SET extra_float_digits = -10;
SELECT dt.create_dynamic_table('f_above', $$SELECT id, x FROM f WHERE x > '0.123405'::float8$$);
SELECT dt.create_dynamic_table('f_counts', $$SELECT x > 0.123405::float8 AS above, count(*) AS n FROM f GROUP BY 1$$,
                               refresh_mode => 'incremental');
INSERT INTO f VALUES (4, 0.12341), (5, 0.1);
SELECT action FROM dt.refresh('f_above');
SELECT action FROM dt.refresh('f_counts');
SELECT pg_get_triggerdef(oid) AS guard FROM pg_trigger WHERE tgrelid = 'f_above'::regclass AND tgname = 'dt_guard' \gset
RESET extra_float_digits;
SELECT dt_test.check('f_above');
SELECT dt_test.check('f_counts');
DROP TRIGGER dt_guard ON f_above;
:guard;
SELECT action FROM dt.refresh('f_above');
SELECT dt_test.check('f_above');
SELECT id FROM f_above ORDER BY id;

SET client_min_messages = warning;
DROP SCHEMA dt_sp CASCADE;
