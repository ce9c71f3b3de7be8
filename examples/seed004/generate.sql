-- Seed 004 data generator.
--
-- seed004.generate(n_jobs, seed [, n_users, n_accounts, since, days])
--   creates the users (default 400), accounts (default 80) and the queues
--   of both machines if they are not there yet, then adds n_jobs jobs that
--   ended between since (default 2025-01-01) and since + days (default
--   365).  The same arguments give the same data.
-- seed004.add_jobs(n, since, days) adds jobs with the session's random()
--   (call setseed first); the tests use it for new rows.
--
-- The shape: a few users submit most jobs (skewed), each job charged to
-- one of a handful of accounts; Derecho jobs run on whole nodes (1-64,
-- mostly 1-4), Casper jobs on a few cores with memory; 2% of the jobs are
-- still running (no end, no elapsed).

SET search_path = seed004, public;

CREATE OR REPLACE FUNCTION add_jobs(n bigint, since timestamptz DEFAULT '2025-01-01',
                                    days integer DEFAULT 365)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    nu integer := (SELECT max(id) FROM seed004.users);
    na integer := (SELECT max(id) FROM seed004.accounts);
    added bigint;
BEGIN
    INSERT INTO seed004.jobs (job_id, name, machine, user_id, account_id, queue_id, status,
                              submit, start, "end", elapsed, walltime, numcpus, numgpus,
                              numnodes, memory, reqmem)
    SELECT format('%s.%s', 1000000 + g, CASE WHEN derecho THEN 'desched1' ELSE 'casper-pbs' END),
           'job_' || (g % 97),
           CASE WHEN derecho THEN 'derecho' ELSE 'casper' END,
           u, 1 + (u * 7 + floor(random() * 3)::int) % na,
           q.id,
           CASE WHEN running THEN 'R' ELSE 'F' END,
           t_end - make_interval(secs => elapsed + 60 + floor(random() * 3600)),
           t_end - make_interval(secs => elapsed),
           CASE WHEN running THEN NULL ELSE t_end END,
           CASE WHEN running THEN NULL ELSE elapsed END,
           elapsed * 2,
           CASE WHEN derecho THEN nodes * 128 ELSE 1 + floor(random() * 8)::int END,
           CASE WHEN gpu THEN CASE WHEN derecho THEN nodes * 4 ELSE 1 END ELSE 0 END,
           CASE WHEN derecho THEN nodes ELSE 1 END,
           round((random() * 64)::numeric, 1)::float8,
           CASE WHEN derecho THEN 235 * nodes ELSE 16 * (1 + floor(random() * 4)) END
      FROM (SELECT g, random() < 0.6 AS derecho, random() < 0.15 AS gpu, random() < 0.02 AS running,
                   1 + floor(nu * power(random(), 3))::int AS u,
                   (1 + floor(power(random(), 4) * 64))::int AS nodes,
                   (60 + floor(random() * 43140))::int AS elapsed,
                   since + random() * make_interval(days => days) AS t_end
              FROM generate_series(1, n) g) j
      JOIN LATERAL (SELECT id FROM seed004.queues
                     WHERE queue_name LIKE CASE WHEN j.derecho THEN 'd_%' ELSE 'c_%' END
                     ORDER BY id OFFSET floor(random() * 3)::int LIMIT 1) q ON true;
    GET DIAGNOSTICS added = ROW_COUNT;
    RETURN added;
END $$;

CREATE OR REPLACE FUNCTION generate(n_jobs bigint, seed double precision,
                                    n_users integer DEFAULT 400, n_accounts integer DEFAULT 80,
                                    since timestamptz DEFAULT '2025-01-01', days integer DEFAULT 365)
RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    PERFORM setseed(seed);
    IF NOT EXISTS (SELECT FROM seed004.users) THEN
        INSERT INTO seed004.users (username) SELECT 'user' || i FROM generate_series(1, n_users) i;
        INSERT INTO seed004.accounts (account_name)
        SELECT format('P%s', 93000000 + i) FROM generate_series(1, n_accounts) i;
        INSERT INTO seed004.queues (queue_name)
        VALUES ('d_main'), ('d_preempt'), ('d_develop'), ('c_casper'), ('c_gpudev'), ('c_largemem');
    END IF;
    RETURN seed004.add_jobs(n_jobs, since, days);
END $$;
