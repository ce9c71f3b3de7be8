-- Who sees the messages of failed refreshes.  They quote data of the
-- tables a dynamic table reads (here an "SSN" that fails a cast), so
-- dt.refresh_history.state_message and dt.dynamic_tables.
-- scheduling_state_reason (which quotes the last error once failures
-- suspend a table) show them only to the roles entitled to that data: the
-- table's owner and the roles with its privileges, superusers, and members
-- of pg_read_all_stats (as pg_stat_statements shows query texts).  Others
-- see NULL; everything else in the views stays visible to all.  (The
-- scheduler writes failed manual refreshes to the history once they rolled
-- back: dt_test.wait_for_failures waits for them.)

CREATE ROLE regress_dt_msg_alice;
CREATE ROLE regress_dt_msg_bob;
CREATE ROLE regress_dt_msg_carol IN ROLE pg_read_all_stats;
CREATE ROLE regress_dt_msg_dave IN ROLE regress_dt_msg_alice;
CREATE ROLE regress_dt_msg_erin NOINHERIT IN ROLE regress_dt_msg_alice;
CREATE SCHEMA dt_msg;
GRANT USAGE, CREATE ON SCHEMA dt_msg TO regress_dt_msg_alice, regress_dt_msg_bob;
GRANT USAGE ON SCHEMA dt_msg TO regress_dt_msg_carol, regress_dt_msg_dave, regress_dt_msg_erin;
SET search_path = dt_msg, public;

-- What a role sees of the messages of the dynamic tables of this file.
CREATE FUNCTION seen() RETURNS TABLE (name text, what text, message text) LANGUAGE sql AS $$
    SELECT h.name, 'history ' || h.refresh_trigger || ' ' || h.state, h.state_message
      FROM dt.refresh_history h
     WHERE h.name LIKE 'dt\_msg.%' AND h.state <> 'SUCCEEDED'
    UNION ALL
    SELECT d.name::text, 'scheduling ' || d.scheduling_state, d.scheduling_state_reason
      FROM dt.dynamic_tables d
     WHERE d.schema_name = 'dt_msg'
     ORDER BY 1, 2, 3
$$;
GRANT EXECUTE ON FUNCTION seen() TO PUBLIC;

-- alice's table, and a dynamic table whose refreshes fail on a row of it.
SET ROLE regress_dt_msg_alice;
CREATE TABLE people (id int PRIMARY KEY, code text);
INSERT INTO people VALUES (1, '42');
SELECT dt.create_dynamic_table('code_sum', 'SELECT sum(code::int) AS s FROM people', target_lag => '1 second');
INSERT INTO people VALUES (2, 'SSN-999-88-7777');
RESET ROLE;
-- Five scheduled refreshes fail; the fifth suspends it, quoting the error.
-- (Each waits for the back-off after the failure before it, which doubles
-- from 100 ms.)
SELECT dt_internal.run_scheduled_refreshes(now() + interval '1 hour') >= 0 AS ran;
SELECT pg_sleep(0.15);
SELECT dt_internal.run_scheduled_refreshes(now() + interval '1 hour') >= 0 AS ran;
SELECT pg_sleep(0.25);
SELECT dt_internal.run_scheduled_refreshes(now() + interval '1 hour') >= 0 AS ran;
SELECT pg_sleep(0.45);
SELECT dt_internal.run_scheduled_refreshes(now() + interval '1 hour') >= 0 AS ran;
SELECT pg_sleep(0.85);
SELECT dt_internal.run_scheduled_refreshes(now() + interval '1 hour') >= 0 AS ran;
-- A manual refresh fails too (written to the history by the scheduler).
SET ROLE regress_dt_msg_alice;
\set VERBOSITY terse
SELECT dt.refresh('code_sum');
\set VERBOSITY default
RESET ROLE;
SELECT dt_test.wait_for_failures('code_sum', 6);

-- Guards: superusers, the owner, a member with her privileges and a member
-- of pg_read_all_stats see the messages; bob, and a member of alice's role
-- who does not inherit its privileges, see NULL.
SELECT * FROM seen();
SET ROLE regress_dt_msg_alice;
SELECT * FROM seen();
SET ROLE regress_dt_msg_dave;
SELECT * FROM seen();
SET ROLE regress_dt_msg_carol;
SELECT * FROM seen();
SET ROLE regress_dt_msg_bob;
SELECT * FROM seen();
SET ROLE regress_dt_msg_erin;
SELECT * FROM seen();
RESET ROLE;

-- ---------------------------------------------------------------------
-- A refresh of bob's dynamic table that fails in alice's, which it reads
-- (a superuser refreshes both together): alice's history has the error,
-- bob's only says which table failed.
-- ---------------------------------------------------------------------
SET ROLE regress_dt_msg_alice;
DELETE FROM people WHERE id = 2;
SELECT dt.resume('code_sum');
SELECT action FROM dt.refresh('code_sum');
GRANT SELECT, TRIGGER ON code_sum TO regress_dt_msg_bob;
RESET ROLE;
SET ROLE regress_dt_msg_bob;
SELECT dt.create_dynamic_table('bob_doubled', 'SELECT s * 2 AS s2 FROM dt_msg.code_sum');
RESET ROLE;
SET ROLE regress_dt_msg_alice;
INSERT INTO people VALUES (3, 'SSN-111-22-3333');
RESET ROLE;
\set VERBOSITY terse
SELECT dt.refresh('bob_doubled');
\set VERBOSITY default
SELECT dt_test.wait_for_failures('code_sum', 7);
SELECT dt_test.wait_for_failures('bob_doubled', 1);
SELECT * FROM seen() WHERE message NOT LIKE '%SSN-999%' OR message IS NULL;
SET ROLE regress_dt_msg_bob;
SELECT * FROM seen() WHERE name LIKE '%bob%' OR what LIKE 'history MANUAL%';
RESET ROLE;

-- ---------------------------------------------------------------------
-- The history of a dropped dynamic table is nobody's: its messages are
-- for superusers and pg_read_all_stats only (its OID may be reused).
-- ---------------------------------------------------------------------
SET ROLE regress_dt_msg_bob;
DROP TABLE bob_doubled;
RESET ROLE;
SET ROLE regress_dt_msg_alice;
DROP TABLE code_sum;
SELECT count(*) AS failures, count(state_message) AS messages FROM dt.refresh_history
 WHERE name = 'dt_msg.code_sum' AND state = 'FAILED';
RESET ROLE;
SET ROLE regress_dt_msg_carol;
SELECT count(*) AS failures, count(state_message) AS messages FROM dt.refresh_history
 WHERE name = 'dt_msg.code_sum' AND state = 'FAILED';
RESET ROLE;

SET client_min_messages = warning;
DROP SCHEMA dt_msg CASCADE;
-- (the history outlives its tables; other tests list all of it)
DELETE FROM dt_internal.refresh_log WHERE table_name LIKE 'dt\_msg.%';
RESET client_min_messages;
DROP ROLE regress_dt_msg_alice, regress_dt_msg_bob, regress_dt_msg_carol, regress_dt_msg_dave,
          regress_dt_msg_erin;
