-- Seed 004: an HPC job accounting database (PBS jobs of two machines), in
-- PostgreSQL, after the seed's schema optimisation: user, account and
-- queue names normalised into lookup tables that jobs reference by id.
-- The seed's hand-made tables (job_charges, daily_summary) and its
-- "jobs with names" view are the dynamic tables of dynamic_tables.sql.
--
-- Load with:  psql -f schema.sql -f generate.sql -f dynamic_tables.sql

CREATE SCHEMA IF NOT EXISTS seed004;
SET search_path = seed004, public;

CREATE TABLE users (
    id        serial PRIMARY KEY,
    username  text UNIQUE NOT NULL
);

CREATE TABLE accounts (
    id            serial PRIMARY KEY,
    account_name  text UNIQUE NOT NULL
);

CREATE TABLE queues (
    id          serial PRIMARY KEY,
    queue_name  text UNIQUE NOT NULL
);

-- One row per finished (or running) job.  elapsed and walltime in
-- seconds; memory and reqmem in GB.
CREATE TABLE jobs (
    id          bigserial PRIMARY KEY,
    job_id      text NOT NULL,             -- the scheduler's id, '1234567.desched1'
    name        text,
    machine     text NOT NULL CHECK (machine IN ('derecho', 'casper')),
    user_id     integer NOT NULL REFERENCES users,
    account_id  integer NOT NULL REFERENCES accounts,
    queue_id    integer NOT NULL REFERENCES queues,
    status      text NOT NULL,             -- 'F' finished, 'R' running
    submit      timestamptz NOT NULL,
    start       timestamptz,
    "end"       timestamptz,
    elapsed     integer,
    walltime    integer,
    numcpus     integer NOT NULL,
    numgpus     integer NOT NULL DEFAULT 0,
    numnodes    integer NOT NULL,
    memory      double precision,
    reqmem      double precision
);
-- The seed's composite indexes: every resource report filters by queue and
-- end time; the dynamic tables find a user's, an account's or a queue's
-- jobs through the others when that row changes.
CREATE INDEX jobs_queue_end_idx ON jobs (queue_id, "end");
CREATE INDEX jobs_user_end_idx ON jobs (user_id, "end");
CREATE INDEX jobs_account_end_idx ON jobs (account_id, "end");

-- The seed's single source of truth for charges, as an IMMUTABLE function
-- of the job row: Derecho charges whole nodes (128 cores, 4 GPUs on GPU
-- nodes), Casper the cores and memory asked for.
CREATE TYPE charge AS (cpu_hours double precision, gpu_hours double precision,
                       memory_hours double precision);

CREATE FUNCTION charges(j jobs) RETURNS charge
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE j.machine
       WHEN 'derecho' THEN ROW(coalesce(j.elapsed, 0) * j.numnodes * 128 / 3600.0,
                               coalesce(j.elapsed, 0) * j.numgpus / 3600.0,
                               0.0)::seed004.charge
       ELSE ROW(coalesce(j.elapsed, 0) * j.numcpus / 3600.0,
                coalesce(j.elapsed, 0) * j.numgpus / 3600.0,
                coalesce(j.elapsed, 0) * coalesce(j.memory, 0) / 3600.0)::seed004.charge
       END
$$;
