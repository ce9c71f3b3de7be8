-- Seed 004 acceptance: the example of examples/seed004 (HPC jobs with
-- their users, accounts and queues; the charges of every job; the daily
-- summary over jobs and charges; totals per user over the summary) under
-- seeded random writes on every table.
--
-- The example's files are loaded as they are.  Then 20 rounds each add
-- jobs, finish running jobs, correct elapsed times, move jobs to another
-- user, account or queue, delete jobs, rename users, accounts and queues,
-- and add users; then refresh usage_by_user (which refreshes the chain
-- below it in one transaction) and jobs_named, sometimes job_charges alone
-- half-way or inside the writing transaction.  After every refresh every
-- table must equal its defining query (dt_test.check), and no refresh
-- after the first may be FULL unless it touched a quarter of the keys.

\set ECHO none
\i examples/seed004/schema.sql
\i examples/seed004/generate.sql
\set ECHO all

SELECT seed004.generate(2000, 0.404, n_users => 40, n_accounts => 12, days => 20) AS jobs;
SELECT machine, count(*) > 0 AS some, count(*) FILTER (WHERE "end" IS NULL) > 0 AS running
  FROM seed004.jobs GROUP BY machine ORDER BY machine;

\set ECHO none
\i examples/seed004/dynamic_tables.sql
\set ECHO all
RESET search_path;

SELECT name, refresh_mode, inputs
  FROM dt.dynamic_tables WHERE relid::text LIKE 'seed004.%' ORDER BY relid::text;

CREATE FUNCTION seed004_writes() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    op float8;
BEGIN
    PERFORM seed004.add_jobs(5 + floor(random() * 20)::int, '2025-01-01', 20);
    FOR step IN 1 .. 5 LOOP
        op := random();
        IF op < 0.15 THEN
            -- running jobs finish
            UPDATE seed004.jobs SET status = 'F', "end" = start + interval '2 hours', elapsed = 7200
             WHERE id IN (SELECT id FROM seed004.jobs WHERE "end" IS NULL ORDER BY random() LIMIT 3);
        ELSIF op < 0.3 THEN
            -- corrected accounting: elapsed time and end move
            UPDATE seed004.jobs SET elapsed = elapsed + 600, "end" = "end" + interval '10 minutes'
             WHERE id IN (SELECT id FROM seed004.jobs ORDER BY random() LIMIT 5);
        ELSIF op < 0.45 THEN
            UPDATE seed004.jobs
               SET user_id = 1 + floor(random() * 40)::int,
                   account_id = 1 + floor(random() * 12)::int,
                   queue_id = CASE WHEN machine = 'derecho' THEN 1 + floor(random() * 3)::int
                                   ELSE 4 + floor(random() * 3)::int END
             WHERE id IN (SELECT id FROM seed004.jobs ORDER BY random() LIMIT 4);
        ELSIF op < 0.6 THEN
            DELETE FROM seed004.jobs WHERE id IN (SELECT id FROM seed004.jobs ORDER BY random() LIMIT 6);
        ELSIF op < 0.72 THEN
            UPDATE seed004.users SET username = username || 'x' WHERE id = 1 + floor(random() * 40)::int;
        ELSIF op < 0.8 THEN
            UPDATE seed004.accounts SET account_name = account_name || 'x' WHERE id = 1 + floor(random() * 12)::int;
        ELSIF op < 0.88 THEN
            UPDATE seed004.queues SET queue_name = queue_name || 'x' WHERE id = 1 + floor(random() * 6)::int;
        ELSIF op < 0.94 THEN
            -- a new user, who submits right away
            INSERT INTO seed004.users (username) VALUES ('new' || floor(random() * 1e9)::bigint);
            UPDATE seed004.jobs SET user_id = (SELECT max(id) FROM seed004.users)
             WHERE id IN (SELECT id FROM seed004.jobs ORDER BY random() LIMIT 2);
        ELSE
            PERFORM dt.refresh('seed004.job_charges');
            PERFORM dt_test.check('seed004.job_charges');
        END IF;
    END LOOP;
END $$;

SELECT setseed(0.004);
SELECT dt.refresh('seed004.usage_by_user') IS NOT NULL AS refreshed;
SELECT dt.refresh('seed004.jobs_named') IS NOT NULL AS refreshed;
SELECT dt_test.check_all('seed004.%');

DO $$
BEGIN
    FOR round IN 1 .. 20 LOOP
        PERFORM seed004_writes();
        IF round % 4 = 0 THEN
            PERFORM dt.refresh('seed004.usage_by_user');
            PERFORM dt.refresh('seed004.jobs_named');
            PERFORM dt_test.check_all('seed004.%');
            PERFORM seed004_writes();
        END IF;
        PERFORM dt.refresh('seed004.usage_by_user');
        PERFORM dt.refresh('seed004.jobs_named');
        PERFORM dt_test.check_all('seed004.%');
        COMMIT;
    END LOOP;
END $$;

-- The first refresh of each table was FULL; after it only a refresh whose
-- changes touched a quarter of jobs_named's keys (a user with many jobs
-- renamed) may be, and says so.
SELECT relid::regclass AS name,
       count(*) FILTER (WHERE refresh_action = 'FULL' AND state_message IS NULL) AS full_refreshes,
       bool_and(refresh_action <> 'FULL' OR state_message IS NULL
                OR state_message LIKE 'the changes touched % keys, of about %; refreshed in full') AS explained,
       count(*) FILTER (WHERE refresh_action = 'INCREMENTAL') > 10 AS incremental
  FROM dt.refresh_history WHERE relid::regclass::text LIKE 'seed004.%'
 GROUP BY relid ORDER BY relid::regclass::text;

SET client_min_messages = warning;
DROP SCHEMA seed004 CASCADE;
RESET client_min_messages;
