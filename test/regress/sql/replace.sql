-- Redefining a dynamic table in place: dt.create_dynamic_table(...,
-- or_replace => true), the CREATE OR ALTER DYNAMIC TABLE of seed 000's
-- migration scripts, and dt.alter_dynamic_table(refresh_mode => ...).
-- A script run twice changes nothing the second time; a new query, lag or
-- mode is taken in place: same OID, history kept, grants and dependents
-- kept while the columns they use stay; the table equals its new query
-- (dt_test.check) and refreshes incrementally after it; the dt_guard
-- trigger, which carries the definition into pg_dump's output, says the
-- new one.

CREATE SCHEMA dt_repl;
SET search_path = dt_repl, public;

CREATE TABLE results (id int PRIMARY KEY, kind text, status text, qps float8, credits numeric);
INSERT INTO results
SELECT g, (ARRAY['HYBRID', 'STANDARD', 'INTERACTIVE'])[1 + g % 3],
       CASE WHEN g % 7 = 0 THEN 'FAILED' ELSE 'COMPLETED' END, g * 10, g / 10.0
  FROM generate_series(1, 60) g;

-- the guard trigger's copy of the definition, the lag and the mode
CREATE FUNCTION guard_args(t regclass) RETURNS text LANGUAGE sql AS $$
SELECT array_to_string((string_to_array(encode(tgargs, 'escape'), '\000'))[2:4], ' | ')
  FROM pg_trigger WHERE tgrelid = t AND tgname = 'dt_guard'
$$;
CREATE FUNCTION guard_options(t regclass) RETURNS text LANGUAGE sql AS $$
SELECT array_to_string((string_to_array(encode(tgargs, 'escape'), '\000'))[3:5], ' | ')
  FROM pg_trigger WHERE tgrelid = t AND tgname = 'dt_guard'
$$;
CREATE FUNCTION history(t regclass) RETURNS TABLE (refresh_trigger text, refresh_action text, state text)
LANGUAGE sql AS $$
SELECT refresh_trigger, refresh_action, state FROM dt.refresh_history WHERE relid = t ORDER BY refresh_id
$$;

-- ---------------------------------------------------------------------
-- A migration script, run twice.  Guards: the first run creates, the
-- second changes nothing (no refresh, same OID, same rows).
-- ---------------------------------------------------------------------
\set migration 'SELECT dt.create_dynamic_table(''kinds'', $q$ SELECT kind, count(*) AS n, sum(qps) AS total_qps FROM results WHERE status = ''COMPLETED'' GROUP BY kind $q$, target_lag => ''1 minute'', or_replace => true)'
:migration;
SELECT 'kinds'::regclass::oid AS kinds_oid \gset
:migration;
SELECT 'kinds'::regclass::oid = :kinds_oid AS same_table, dt_test.check('kinds');
SELECT * FROM history('kinds');
-- without or_replace, an existing name is still an error
SELECT * FROM dt_test.fails($$SELECT dt.create_dynamic_table('kinds', 'SELECT 1 AS one')$$);

-- users of the table: a grant, an index, a view over a column, a DT over it
CREATE ROLE dt_repl_reader;
GRANT USAGE ON SCHEMA dt_repl TO dt_repl_reader;
GRANT SELECT ON kinds TO dt_repl_reader;
CREATE INDEX kinds_total ON kinds (total_qps);
CREATE VIEW kind_names AS SELECT kind FROM kinds;
SELECT dt.create_dynamic_table('kind_count', 'SELECT count(*) AS kinds, sum(n) AS n FROM kinds',
                               refresh_mode => 'incremental');

-- ---------------------------------------------------------------------
-- Only the lag changes.  Guards: in place, no refresh (the NO_DATA one
-- is kind_count's creation refreshing what it reads); the guard trigger
-- has the new lag.
-- ---------------------------------------------------------------------
SELECT dt.create_dynamic_table('kinds', $q$ SELECT kind, count(*) AS n, sum(qps) AS total_qps FROM results WHERE status = 'COMPLETED' GROUP BY kind $q$,
                               target_lag => '5 minutes', or_replace => true);
SELECT target_lag FROM dt.dynamic_tables WHERE relid = 'kinds'::regclass;
SELECT * FROM history('kinds');
SELECT guard_options('kinds');

-- ---------------------------------------------------------------------
-- A new query with the same columns.  Guards: same OID, the earlier
-- history kept and an ALTER refresh added; grant, index, view and the DT
-- over it kept; equal to the new query, then incremental and exact after
-- writes, and the DT downstream too; the guard trigger has the new query.
-- ---------------------------------------------------------------------
SELECT dt.create_dynamic_table('kinds', $q$ SELECT kind, count(*) AS n, sum(qps) AS total_qps FROM results GROUP BY kind $q$,
                               target_lag => '5 minutes', or_replace => true);
SELECT 'kinds'::regclass::oid = :kinds_oid AS same_table, dt_test.check('kinds');
SELECT * FROM history('kinds');
SELECT query FROM dt.dynamic_tables WHERE relid = 'kinds'::regclass;
SELECT guard_args('kinds') LIKE '%FROM dt_repl.results%GROUP BY%' AND guard_args('kinds') NOT LIKE '%COMPLETED%'
       AS guard_has_new_query;
SELECT has_table_privilege('dt_repl_reader', 'kinds', 'SELECT') AS granted,
       (SELECT count(*) FROM kind_names) AS view_rows,
       to_regclass('kinds_total') IS NOT NULL AS index_kept;
INSERT INTO results VALUES (100, 'HYBRID', 'FAILED', 5, 1), (101, 'NEW', 'COMPLETED', 7, 2);
DELETE FROM results WHERE id = 3;
SELECT action FROM dt.refresh('kind_count');
SELECT dt_test.check('kinds'), dt_test.check('kind_count');

-- The same columns, another group key: the old rows would break the new
-- key's unique index; they go before it is made.
SELECT dt.create_dynamic_table('by_status', 'SELECT kind, status, count(*) AS n FROM results GROUP BY kind, status');
SELECT dt.create_dynamic_table('by_status', 'SELECT kind, min(status) AS status, count(*) AS n FROM results GROUP BY kind',
                               or_replace => true);
SELECT dt_test.check('by_status');

-- ---------------------------------------------------------------------
-- A new query whose columns change.  Guards: a column that a view or a DT
-- reads cannot go (a clear error, nothing changed); otherwise the table
-- takes the query's columns in order (kept ones keep their index), with
-- the same OID and history, equal to the new query and incremental after.
-- ---------------------------------------------------------------------
\set VERBOSITY default
SELECT dt.create_dynamic_table('kinds', $q$ SELECT kind AS table_type, count(*) AS n FROM results GROUP BY kind $q$,
                               or_replace => true);
\set VERBOSITY terse
SELECT dt.create_dynamic_table('kinds', $q$ SELECT kind, count(*) AS n, sum(qps)::numeric AS total_qps FROM results GROUP BY kind $q$,
                               or_replace => true);
SELECT query FROM dt.dynamic_tables WHERE relid = 'kinds'::regclass;
DROP VIEW kind_names;
SELECT dt.drop_dynamic_table('kind_count');
SELECT dt.create_dynamic_table('kinds', $q$
    SELECT kind, status, count(*) AS n, avg(credits) AS mean_credits
      FROM results GROUP BY kind, status $q$, or_replace => true);
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'kinds'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
SELECT 'kinds'::regclass::oid = :kinds_oid AS same_table, dt_test.check('kinds'),
       has_table_privilege('dt_repl_reader', 'kinds', 'SELECT') AS granted;
SELECT * FROM history('kinds');
-- the key index is the new key's, the old one is gone
SELECT indexdef FROM pg_indexes WHERE schemaname = 'dt_repl' AND tablename = 'kinds' ORDER BY indexname;
UPDATE results SET status = 'FAILED' WHERE id IN (10, 11);
INSERT INTO results VALUES (102, 'NEW', 'FAILED', 1, 0.5);
SELECT action FROM dt.refresh('kinds');
SELECT dt_test.check('kinds');

-- ---------------------------------------------------------------------
-- A strategy that changes with the query (delta merge -> recompute by
-- key -> delta merge).  Guards: the internal objects follow (no state
-- objects for recompute), the key index too, and refreshes are exact.
-- ---------------------------------------------------------------------
SELECT dt.create_dynamic_table('latest', $q$
    SELECT kind, max(id) AS last_id FROM results GROUP BY kind $q$, refresh_mode => 'incremental');
SELECT dt.create_dynamic_table('latest', $q$
    SELECT DISTINCT ON (kind) kind, id AS last_id FROM results ORDER BY kind, id DESC $q$,
    refresh_mode => 'incremental', or_replace => true);
SELECT refresh_mode, refresh_mode_reason FROM dt.dynamic_tables WHERE relid = 'latest'::regclass;
SELECT count(*) AS state_objects FROM pg_class
 WHERE relnamespace = 'dt_internal'::regnamespace AND relname ~ ('_' || 'latest'::regclass::oid || '(_|$)');
SELECT indexdef FROM pg_indexes WHERE schemaname = 'dt_repl' AND tablename = 'latest';
INSERT INTO results VALUES (103, 'HYBRID', 'COMPLETED', 3, 1);
SELECT action FROM dt.refresh('latest');
SELECT dt_test.check('latest');

-- ---------------------------------------------------------------------
-- dt.alter_dynamic_table(refresh_mode => ...).  Guards: FULL, then
-- INCREMENTAL again, each refreshed in full in the call and exact after
-- writes; 'incremental' of a query neither strategy maintains is refused
-- and changes nothing; an unknown mode is refused.
-- ---------------------------------------------------------------------
SELECT dt.alter_dynamic_table('latest', refresh_mode => 'full');
SELECT refresh_mode, requested_refresh_mode, refresh_mode_reason FROM dt.dynamic_tables WHERE relid = 'latest'::regclass;
SELECT guard_options('latest');
INSERT INTO results VALUES (104, 'STANDARD', 'COMPLETED', 3, 1);
SELECT action FROM dt.refresh('latest');
SELECT dt.alter_dynamic_table('latest', target_lag => '2 minutes', refresh_mode => 'incremental');
SELECT target_lag, refresh_mode, requested_refresh_mode FROM dt.dynamic_tables WHERE relid = 'latest'::regclass;
INSERT INTO results VALUES (105, 'STANDARD', 'COMPLETED', 3, 1);
SELECT action FROM dt.refresh('latest');
SELECT dt_test.check('latest');
SELECT * FROM history('latest');
SELECT dt.create_dynamic_table('ranked', 'SELECT id, row_number() OVER (ORDER BY qps) AS r FROM results');
SELECT * FROM dt_test.fails($$SELECT dt.alter_dynamic_table('ranked', refresh_mode => 'incremental')$$);
SELECT * FROM dt_test.fails($$SELECT dt.alter_dynamic_table('ranked', refresh_mode => 'sometimes')$$);
SELECT refresh_mode, requested_refresh_mode FROM dt.dynamic_tables WHERE relid = 'ranked'::regclass;

-- ---------------------------------------------------------------------
-- initialize => 'on_schedule', never refreshed: a new query leaves it
-- unpopulated (no refresh in the call); its first refresh fills it.
-- ---------------------------------------------------------------------
SELECT dt.create_dynamic_table('later', 'SELECT kind, count(*) AS n FROM results GROUP BY kind',
                               initialize => 'on_schedule');
SELECT dt.create_dynamic_table('later', 'SELECT kind, count(*) AS n FROM results WHERE qps > 100 GROUP BY kind',
                               initialize => 'on_schedule', or_replace => true);
SELECT populated, (SELECT count(*) FROM dt.refresh_history WHERE relid = 'later'::regclass) AS refreshes
  FROM dt.dynamic_tables WHERE relid = 'later'::regclass;
SELECT action FROM dt.refresh('later');
SELECT dt_test.check('later');

-- ---------------------------------------------------------------------
-- Who may.  Guards: or_replace of a plain table, of another role's DT,
-- and a NULL or_replace are refused, and change nothing.
-- ---------------------------------------------------------------------
CREATE TABLE plain (a int);
SELECT * FROM dt_test.fails($$SELECT dt.create_dynamic_table('plain', 'SELECT 1 AS a', or_replace => true)$$);
SELECT * FROM dt_test.fails($$SELECT dt.create_dynamic_table('later', 'SELECT 1 AS a', or_replace => NULL)$$);
CREATE ROLE dt_repl_other;
GRANT USAGE, CREATE ON SCHEMA dt_repl TO dt_repl_other;
GRANT USAGE ON SCHEMA dt_test TO dt_repl_other;
SET ROLE dt_repl_other;
SELECT * FROM dt_test.fails($$SELECT dt.create_dynamic_table('dt_repl.later', 'SELECT 1 AS a', or_replace => true)$$);
SELECT * FROM dt_test.fails($$SELECT dt.alter_dynamic_table('dt_repl.later', refresh_mode => 'full')$$);
RESET ROLE;
SELECT query FROM dt.dynamic_tables WHERE relid = 'later'::regclass;

SET client_min_messages = warning;
DROP SCHEMA dt_repl CASCADE;
DROP ROLE dt_repl_reader;
REVOKE USAGE ON SCHEMA dt_test FROM dt_repl_other;
DROP ROLE dt_repl_other;
RESET client_min_messages;
