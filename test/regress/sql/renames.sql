-- Renames and the definitions of dynamic tables (src/dump.c).  A rename
-- rewrites the definitions (catalog row and dt_guard arguments, which
-- pg_dump carries) of the dynamic tables that may name what was renamed,
-- and only those, each on its own: one that cannot be rewritten is left
-- with a WARNING and the rename stands.  The dt_guard arguments are
-- compared in full, the name of a suspending dynamic table included.  A
-- dynamic table depends on the text search configuration it pins, and
-- follows its renames.  Column aliases name the columns of the refresh
-- statements.  After each step the tables are compared with their
-- queries.

CREATE SCHEMA dt_ren;
SET search_path = dt_ren, public;

CREATE TABLE a (id int PRIMARY KEY, g int, v numeric);
CREATE TABLE b (id int PRIMARY KEY, g int, v numeric);
INSERT INTO a SELECT i, i % 5, i FROM generate_series(1, 50) i;
INSERT INTO b SELECT i, i % 3, i FROM generate_series(1, 50) i;

-- The arguments of a dynamic table's dt_guard trigger after the format:
-- definition, target lag, mode, initialize, scheduling state, settings
-- (the text search configuration's, when it is not a built-in one).
CREATE FUNCTION guard_args(rel regclass) RETURNS text LANGUAGE sql AS $$
SELECT array_to_string(args[2:6] || array(SELECT x FROM unnest(args[7:]) x
                                           WHERE x LIKE 'default_text_search_config=%'
                                             AND x NOT LIKE '%=pg_catalog.%'), ' | ')
  FROM (SELECT string_to_array(encode(tgargs, 'escape'), '\000') AS args
          FROM pg_trigger WHERE tgrelid = rel AND tgname = 'dt_guard') t
$$;

-- ---------------------------------------------------------------------
-- A dynamic table depends on the text search configuration it pins: it
-- cannot be dropped under it, and a rename is followed.
-- ---------------------------------------------------------------------
CREATE TEXT SEARCH CONFIGURATION dt_ren.query_cfg (COPY = pg_catalog.simple);
CREATE TEXT SEARCH CONFIGURATION dt_ren.my_cfg (COPY = pg_catalog.simple);
SET default_text_search_config = 'dt_ren.my_cfg';
SELECT dt.create_dynamic_table('by_g', 'SELECT g, count(*) AS n, sum(v) AS total FROM a GROUP BY g');
RESET default_text_search_config;
DROP TEXT SEARCH CONFIGURATION dt_ren.my_cfg;
ALTER TEXT SEARCH CONFIGURATION dt_ren.my_cfg RENAME TO my_cfg_renamed;
SELECT s FROM dt_internal.dynamic_table, unnest(settings) s
 WHERE relid = 'by_g'::regclass AND s LIKE 'default_text_search_config=%';
SELECT guard_args('by_g');
INSERT INTO a VALUES (100, 1, 1);
SELECT action FROM dt.refresh('by_g');
SELECT dt_test.check('by_g');
-- A configuration the query names is not the one it pins.
SET default_text_search_config = 'dt_ren.my_cfg_renamed';
SELECT dt.create_dynamic_table('words', $$SELECT id, to_tsvector('dt_ren.query_cfg', v::text) AS doc FROM a$$);
RESET default_text_search_config;
ALTER TEXT SEARCH CONFIGURATION dt_ren.query_cfg RENAME TO query_cfg_renamed;
SELECT guard_args('words');
INSERT INTO a VALUES (150, 1, 7);
SELECT action FROM dt.refresh('words');
SELECT dt_test.check('words');
DROP TABLE words;

-- ---------------------------------------------------------------------
-- A dynamic table that cannot be printed again (as one made before its
-- dependency on its configuration was recorded, whose configuration was
-- then dropped) does not stop renames: those of what it does not read do
-- not touch it; those of what it reads leave it with a WARNING.
-- ---------------------------------------------------------------------
CREATE TEXT SEARCH CONFIGURATION dt_ren.doomed (COPY = pg_catalog.simple);
SET default_text_search_config = 'dt_ren.doomed';
SELECT dt.create_dynamic_table('on_b', 'SELECT g, sum(v) AS total FROM b GROUP BY g');
RESET default_text_search_config;
DELETE FROM pg_depend
 WHERE classid = 'pg_class'::regclass AND objid = 'on_b'::regclass
   AND refclassid = 'pg_ts_config'::regclass;
DROP TEXT SEARCH CONFIGURATION dt_ren.doomed;
ALTER TABLE a RENAME COLUMN v TO val;
SELECT guard_args('by_g');
ALTER TABLE b RENAME TO b_renamed;
SELECT relname FROM pg_class WHERE oid = 'b_renamed'::regclass;
DROP TABLE on_b;
ALTER TABLE a RENAME COLUMN val TO v;
SELECT action FROM dt.refresh('by_g');
SELECT dt_test.check('by_g');

-- ---------------------------------------------------------------------
-- The scheduling state names the suspended dynamic table that suspended
-- the others: renaming it rewrites it in a dynamic table whose query does
-- not read it.
-- ---------------------------------------------------------------------
SELECT dt.create_dynamic_table('top', 'SELECT g, n FROM by_g WHERE n > 5');
SELECT dt.create_dynamic_table('groups', 'SELECT count(*) AS n FROM top');
SELECT dt.suspend('by_g');
SELECT guard_args('groups');
ALTER TABLE by_g RENAME TO by_g_renamed;
SELECT guard_args('groups');
SELECT guard_args('top');
SELECT dt.resume('by_g_renamed');
SELECT guard_args('groups');
ALTER TABLE by_g_renamed RENAME TO by_g;

-- ---------------------------------------------------------------------
-- A type renamed and moved, a domain's constraint renamed.
-- ---------------------------------------------------------------------
CREATE TYPE mood AS ENUM ('low', 'high');
CREATE DOMAIN small_int AS int CONSTRAINT small CHECK (VALUE < 1000);
SELECT dt.create_dynamic_table('moods', $$SELECT g, 'high'::mood AS m, count(*) AS n FROM a GROUP BY g$$);
ALTER TYPE mood RENAME TO mood_renamed;
CREATE SCHEMA dt_ren_types;
ALTER TYPE mood_renamed SET SCHEMA dt_ren_types;
ALTER DOMAIN small_int RENAME CONSTRAINT small TO smaller;
SELECT guard_args('moods');
INSERT INTO a VALUES (160, 3, 3);
SELECT action FROM dt.refresh('moods');
SELECT dt_test.check('moods');
DROP TABLE moods;
DROP SCHEMA dt_ren_types CASCADE;
DROP DOMAIN small_int;

-- ---------------------------------------------------------------------
-- A schema renamed: the dynamic tables in it, and those that read it.
-- ---------------------------------------------------------------------
CREATE SCHEMA dt_ren_other;
SELECT dt.create_dynamic_table('dt_ren_other.outside', 'SELECT g, count(*) AS n FROM dt_ren.b_renamed GROUP BY g');
ALTER SCHEMA dt_ren RENAME TO dt_ren_moved;
SELECT dt_ren_moved.guard_args('dt_ren_other.outside');
SELECT dt_ren_moved.guard_args('dt_ren_moved.by_g');
INSERT INTO dt_ren_moved.b_renamed VALUES (100, 1, 1);
INSERT INTO dt_ren_moved.a VALUES (101, 2, 2);
SELECT action FROM dt.refresh('dt_ren_other.outside');
SELECT action FROM dt.refresh('dt_ren_moved.groups');
SELECT dt_test.check('dt_ren_other.outside'), dt_test.check('dt_ren_moved.groups'),
       dt_test.check('dt_ren_moved.top'), dt_test.check('dt_ren_moved.by_g');
ALTER SCHEMA dt_ren_moved RENAME TO dt_ren;


-- ---------------------------------------------------------------------
-- Column aliases.  The refresh statements name a FROM item's columns as
-- the query's Vars print: by the aliases the query gives them, also in a
-- definition parsed again (as a restore parses it) after a base column was
-- renamed, which PostgreSQL prints with aliases of the old names.
-- ---------------------------------------------------------------------
CREATE TABLE c (k int, v numeric, w int);
CREATE TABLE d (k int PRIMARY KEY, label text);
INSERT INTO c SELECT i % 7, i, i % 3 FROM generate_series(1, 100) i;
INSERT INTO d SELECT i, 'label ' || i FROM generate_series(0, 6) i;
SELECT dt.create_dynamic_table('aliased',
    'SELECT c1, count(*) AS n, sum(c2) AS total, max(w) AS top FROM c AS t(c1, c2) GROUP BY c1',
    refresh_mode => 'incremental');
SELECT dt.create_dynamic_table('joined',
    'SELECT k, label, count(*) AS n, sum(v) AS total FROM c JOIN d USING (k) GROUP BY k, label',
    refresh_mode => 'incremental');
SELECT dt.create_dynamic_table('latest',
    'SELECT kk, lbl, v FROM (SELECT x.kk, y.lbl, x.v, row_number() OVER (PARTITION BY x.kk ORDER BY x.v DESC) AS rn
                               FROM c AS x(kk, v) JOIN d AS y(k2, lbl) ON y.k2 = x.kk) s WHERE rn = 1',
    refresh_mode => 'incremental');
ALTER TABLE c RENAME COLUMN k TO key;
ALTER TABLE d RENAME COLUMN k TO dkey;
SELECT c.relname, d.definition FROM dt_internal.dynamic_table d JOIN pg_class c ON c.oid = d.relid
 WHERE c.relname IN ('aliased', 'joined', 'latest') ORDER BY c.relname;
SELECT dt.create_dynamic_table(c.relname || '_again', d.definition, refresh_mode => 'incremental')
  FROM dt_internal.dynamic_table d JOIN pg_class c ON c.oid = d.relid
 WHERE c.relname IN ('aliased', 'joined', 'latest') ORDER BY c.relname;
INSERT INTO c VALUES (1, 1000, 2), (3, 2000, 1), (NULL, 5, 5);
UPDATE c SET v = v + 500 WHERE v IN (10, 20, 30);
DELETE FROM c WHERE v IN (40, 41, 42);
UPDATE d SET label = 'renamed label' WHERE dkey = 2;
SELECT action FROM dt.refresh('aliased');
SELECT action FROM dt.refresh('aliased_again');
SELECT action FROM dt.refresh('joined');
SELECT action FROM dt.refresh('joined_again');
SELECT action FROM dt.refresh('latest');
SELECT action FROM dt.refresh('latest_again');
SELECT dt_test.check('aliased'), dt_test.check('aliased_again'), dt_test.check('joined'),
       dt_test.check('joined_again'), dt_test.check('latest'), dt_test.check('latest_again');

-- A correlated scalar aggregate evaluated per key (a grouping over it, and
-- an IN over a subquery with one, through its internal table) names the
-- columns of its table as they are now after a rename.
CREATE TABLE e (id int PRIMARY KEY, grp int, v int);
CREATE TABLE f (id int PRIMARY KEY, eid int, q int);
INSERT INTO e SELECT i, i % 7, i FROM generate_series(1, 50) i;
INSERT INTO f SELECT i, i % 60, i % 13 FROM generate_series(1, 300) i;
SELECT dt.create_dynamic_table('corr_grouped',
    'SELECT grp, count(*) AS n FROM e WHERE v > (SELECT avg(q) FROM f WHERE f.eid = e.grp) GROUP BY grp',
    refresh_mode => 'incremental');
SELECT dt.create_dynamic_table('corr_in',
    'SELECT id FROM e WHERE id IN (SELECT eid FROM f WHERE q > (SELECT avg(q) FROM f f2 WHERE f2.eid = f.eid))',
    refresh_mode => 'incremental');
ALTER TABLE f RENAME COLUMN q TO qty;
ALTER TABLE f RENAME COLUMN eid TO "E id";
INSERT INTO f VALUES (301, 3, 100), (302, 4, 100), (303, 5, 0);
DELETE FROM f WHERE id < 20;
SELECT action FROM dt.refresh('corr_grouped');
SELECT action FROM dt.refresh('corr_in');
SELECT dt_test.check('corr_grouped'), dt_test.check('corr_in');

RESET search_path;
DROP SCHEMA dt_ren_other CASCADE;
DROP SCHEMA dt_ren CASCADE;
