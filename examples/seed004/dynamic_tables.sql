-- Seed 004: the hand-made tables of the seed's optimisation, as dynamic
-- tables, each created with refresh_mode 'incremental' (which refuses a
-- query it cannot maintain):
--
--   jobs -> job_charges                      the charges of every job, from
--                                            seed004.charges(job row)
--   jobs x users x accounts x queues
--        -> jobs_named                       jobs with their names joined back
--                                            by id (what reports display)
--   jobs x job_charges -> daily_summary      per day, user, account, queue
--   daily_summary x users x accounts
--        -> usage_by_user                    the pie charts' totals
--
-- The seed kept job_charges with a batch job ("recalculate_all_charges")
-- and inserted the daily summary per day with ON CONFLICT; here a change
-- to a job reaches its charges, the day's summary and the totals within
-- the target lag, and renaming a user reaches every row that shows the
-- name.  job_charges and jobs_named recompute the rows of the jobs a
-- change touches (found through the primary key, and through the jobs'
-- user, account and queue indexes when a name changes); the two summaries
-- merge the changes into per-group state.
--
-- :lag is the target lag of every table (psql -v lag="'1 hour'"); it
-- defaults to 1 minute.

SET search_path = seed004, public;
\if :{?lag}
\else
\set lag '''1 minute'''
\endif

SELECT dt.create_dynamic_table('seed004.job_charges', $$
SELECT j.id AS job_id,
       (seed004.charges(j)).cpu_hours,
       (seed004.charges(j)).gpu_hours,
       (seed004.charges(j)).memory_hours,
       1 AS charge_version
  FROM seed004.jobs j
$$, target_lag => :lag, refresh_mode => 'incremental');

SELECT dt.create_dynamic_table('seed004.jobs_named', $$
SELECT j.id, j.job_id, j.machine, u.username, a.account_name, q.queue_name, j.status,
       j.submit, j.start, j."end", j.elapsed, j.numcpus, j.numgpus, j.numnodes, j.memory
  FROM seed004.jobs j
  JOIN seed004.users u ON u.id = j.user_id
  JOIN seed004.accounts a ON a.id = j.account_id
  JOIN seed004.queues q ON q.id = j.queue_id
$$, target_lag => :lag, refresh_mode => 'incremental');

SELECT dt.create_dynamic_table('seed004.daily_summary', $$
SELECT j."end"::date AS date, j.user_id, j.account_id, j.queue_id,
       count(j.id) AS jobs,
       sum(c.cpu_hours) AS cpu_hours,
       sum(c.gpu_hours) AS gpu_hours,
       sum(c.memory_hours) AS memory_hours
  FROM seed004.jobs j
  JOIN seed004.job_charges c ON c.job_id = j.id
 WHERE j."end" IS NOT NULL
 GROUP BY j."end"::date, j.user_id, j.account_id, j.queue_id
$$, target_lag => 'downstream', refresh_mode => 'incremental');

SELECT dt.create_dynamic_table('seed004.usage_by_user', $$
SELECT u.username, a.account_name,
       sum(d.jobs) AS jobs, sum(d.cpu_hours) AS cpu_hours, sum(d.gpu_hours) AS gpu_hours
  FROM seed004.daily_summary d
  JOIN seed004.users u ON u.id = d.user_id
  JOIN seed004.accounts a ON a.id = d.account_id
 GROUP BY u.username, a.account_name
$$, target_lag => :lag, refresh_mode => 'incremental');

CREATE INDEX ON seed004.daily_summary (date);
