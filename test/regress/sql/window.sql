-- Rank-bounded windows against the oracle (issue 13): seed 000's
-- DT_TEMPLATE_STATISTICS numbers each template's rows by recency in a WITH
-- query, aggregates all of them per template and a few over the rows
-- ranked k or better, and selects expressions of those aggregates.  Delta
-- merge maintains it (window.c): the aggregates over every row are merged,
-- those over the first k rows computed again for the templates a refresh
-- touches, reading k rows through an index on (template, start_time).
--
-- Seeded random writes: inserts, rows moved out of the first k (an older
-- start_time, another template, another status), deletes of the latest
-- rows (rank k + 1 enters), NULL start_time (first in DESC order), NULL
-- keys.  row_number() leaves ties in any order, and any order is a right
-- answer: start_time is unique here (a sequence), but for one NULL per
-- template and for the tied rows of the end, whose values are equal, so
-- that every answer PostgreSQL could give is the same.

CREATE SCHEMA dt_wn;
SET search_path = dt_wn, public;

CREATE SEQUENCE tick;
CREATE TABLE runs (id serial PRIMARY KEY, template text, status text, qps float8, p95 numeric,
                   start_time timestamptz);
CREATE INDEX ON runs (template, start_time DESC);

CREATE FUNCTION wn_time() RETURNS timestamptz LANGUAGE sql AS $$
SELECT '2024-01-01'::timestamptz + nextval('dt_wn.tick') * interval '1 minute'
$$;

-- Seed 000's shape: a WITH query numbering rows, aggregates over all rows
-- and CASE WHEN rank <= k, an outer select of expressions with a condition.
SELECT dt.create_dynamic_table('wn_stats', $$
WITH ranked AS (
    SELECT template, qps, p95, start_time,
           row_number() OVER (PARTITION BY template ORDER BY start_time DESC) AS recency_rank
      FROM dt_wn.runs
     WHERE status = 'done' AND template IS NOT NULL AND qps > 0
), per_template AS (
    SELECT template,
           count(*) AS total_runs,
           count(CASE WHEN recency_rank <= 3 THEN 1 END) AS recent_runs,
           avg(qps) AS avg_qps,
           stddev(qps) AS stddev_qps,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY qps) AS median_qps,
           avg(CASE WHEN recency_rank <= 3 THEN qps END) AS recent_avg_qps,
           avg(CASE WHEN recency_rank < 4 THEN p95 END) AS recent_avg_p95,
           min(start_time) AS first_run,
           max(start_time) AS last_run
      FROM ranked
     GROUP BY template
)
SELECT *,
       CASE WHEN avg_qps > 0 AND recent_avg_qps IS NOT NULL
            THEN (recent_avg_qps - avg_qps) / avg_qps * 100 END AS qps_trend_pct,
       CURRENT_TIMESTAMP AS refreshed_at
  FROM per_template
 WHERE total_runs >= 2
$$, refresh_mode => 'incremental', initialize => 'on_schedule');

-- "The latest row per key" and FILTER, over a subquery in FROM, in HAVING
-- too, the key NULL for some rows (its group read by IS NULL), no index: a
-- NOTICE names the one that would serve.  (HAVING min, not sum, of the one
-- row: a float sum there is left to the query, merge.c.)
SELECT dt.create_dynamic_table('wn_latest', $$
SELECT template, sum(qps) FILTER (WHERE rn = 1) AS latest_qps,
       count(*) FILTER (WHERE rn <= 2) AS latest_two, max(p95) AS max_p95,
       string_agg(status, ',' ORDER BY status) FILTER (WHERE 2 >= rn) AS latest_statuses
  FROM (SELECT template, qps, p95, status,
               row_number() OVER (PARTITION BY template ORDER BY qps, start_time NULLS FIRST) AS rn
          FROM dt_wn.runs) r
 GROUP BY template
HAVING min(qps) FILTER (WHERE rn = 1) < 400
$$, refresh_mode => 'incremental', initialize => 'on_schedule');

SELECT name, refresh_mode, refresh_mode_reason LIKE '%first rows of a partition%' AS rank_bounded,
       refresh_mode_reason LIKE '%no index%' AS unindexed
  FROM dt.dynamic_tables WHERE schema_name = 'dt_wn' ORDER BY name::text;

-- What is not bounded is recomputed by key: the rank outside a bound, or
-- in an aggregate that counts NULLs.
SELECT dt.create_dynamic_table('wn_unbounded', $$
SELECT template, max(rn) AS runs, count(*) AS n
  FROM (SELECT template, row_number() OVER (PARTITION BY template ORDER BY start_time) AS rn FROM dt_wn.runs) r
 GROUP BY template
$$, refresh_mode => 'incremental', initialize => 'on_schedule');
SELECT dt.create_dynamic_table('wn_count_star', $$
SELECT template, count(*) FILTER (WHERE rn > 2) AS older, array_length(array_agg(CASE WHEN rn <= 2 THEN qps END), 1) AS n
  FROM (SELECT template, qps, row_number() OVER (PARTITION BY template ORDER BY start_time) AS rn FROM dt_wn.runs) r
 GROUP BY template
$$, refresh_mode => 'incremental', initialize => 'on_schedule');
SELECT name, refresh_mode_reason LIKE 'the rows of the "template" values%' AS recomputed
  FROM dt.dynamic_tables WHERE name::text IN ('dt_wn.wn_unbounded', 'dt_wn.wn_count_star') ORDER BY name::text;
SELECT dt.drop_dynamic_table('wn_unbounded');
SELECT dt.drop_dynamic_table('wn_count_star');

CREATE FUNCTION wn_check() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    action text;
BEGIN
    FOR action IN SELECT r.action FROM unnest('{dt_wn.wn_stats, dt_wn.wn_latest}'::regclass[]) t,
                                       dt.refresh(t) r LOOP
        IF action NOT IN ('INCREMENTAL', 'NO_DATA') THEN
            RAISE EXCEPTION 'a refresh was %', action;
        END IF;
    END LOOP;
    PERFORM dt_test.check('dt_wn.wn_stats', '{refreshed_at}');
    PERFORM dt_test.check('dt_wn.wn_latest');
END $$;

CREATE FUNCTION wn_insert(cnt int) RETURNS void LANGUAGE sql AS $$
INSERT INTO runs (template, status, qps, p95, start_time)
SELECT CASE WHEN random() < 0.05 THEN NULL ELSE 't' || floor(random() * 6)::int END,
       CASE WHEN random() < 0.15 THEN 'failed' ELSE 'done' END,
       CASE WHEN random() < 0.05 THEN 0 ELSE round((random() * 1000)::numeric, 1)::float8 + i * 1e-6 END,
       round((random() * 50)::numeric, 2),
       wn_time()
  FROM generate_series(1, cnt) i
$$;

CREATE FUNCTION wn_round() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    op float8;
BEGIN
    PERFORM wn_insert(3 + floor(random() * 8)::int);
    FOR step IN 1 .. 3 LOOP
        op := random();
        IF op < 0.2 THEN
            -- the latest row of a template leaves: rank k + 1 enters
            DELETE FROM runs WHERE id = (SELECT id FROM runs WHERE template = 't' || floor(random() * 6)::int
                                           AND start_time IS NOT NULL ORDER BY start_time DESC LIMIT 1);
        ELSIF op < 0.35 THEN
            -- a recent row moves out of the first k: older, or failed
            UPDATE runs SET start_time = start_time - interval '1 year' - id * interval '1 second'
             WHERE id IN (SELECT id FROM runs WHERE start_time IS NOT NULL ORDER BY start_time DESC LIMIT 2);
            UPDATE runs SET status = 'failed'
             WHERE id = (SELECT id FROM runs WHERE status = 'done' ORDER BY start_time DESC NULLS LAST LIMIT 1);
        ELSIF op < 0.5 THEN
            -- an old row becomes the latest, or moves to another template
            UPDATE runs SET start_time = wn_time() WHERE id IN (SELECT id FROM runs ORDER BY random() LIMIT 2);
            UPDATE runs SET template = 't' || floor(random() * 6)::int
             WHERE id IN (SELECT id FROM runs ORDER BY random() LIMIT 2);
        ELSIF op < 0.6 THEN
            -- at most one NULL start_time per template: it ranks first
            UPDATE runs SET start_time = NULL
             WHERE id = (SELECT id FROM runs r WHERE template IS NOT NULL AND NOT EXISTS
                           (SELECT FROM runs n WHERE n.template = r.template AND n.start_time IS NULL)
                          ORDER BY random() LIMIT 1);
        ELSIF op < 0.7 THEN
            UPDATE runs SET start_time = wn_time() WHERE start_time IS NULL AND random() < 0.5;
        ELSIF op < 0.85 THEN
            UPDATE runs SET qps = qps + 1, p95 = p95 * 2 WHERE id IN (SELECT id FROM runs ORDER BY random() LIMIT 4);
        ELSE
            DELETE FROM runs WHERE id IN (SELECT id FROM runs ORDER BY random() LIMIT 4);
        END IF;
    END LOOP;
END $$;

SELECT setseed(0.1357);
SELECT wn_insert(80);
SELECT r.action FROM unnest('{dt_wn.wn_stats, dt_wn.wn_latest}'::regclass[]) t, dt.refresh(t) r;
SELECT wn_check();

DO $$
BEGIN
    FOR round IN 1 .. 40 LOOP
        PERFORM wn_round();
        PERFORM wn_check();
        COMMIT;
    END LOOP;
END $$;

-- Ties: rows of one time and the same values, any of them ranked first.
INSERT INTO runs (template, status, qps, p95, start_time)
SELECT 't1', 'done', 500, 5, '2030-01-01' FROM generate_series(1, 4);
SELECT wn_check();
SELECT template, recent_runs, recent_avg_qps, recent_avg_p95 FROM wn_stats WHERE template = 't1';

-- A template emptied, then back; everything emptied.
DELETE FROM runs WHERE template = 't2';
SELECT wn_check();
SELECT wn_insert(20);
SELECT wn_check();
DELETE FROM runs;
SELECT wn_check();
SELECT count(*) AS rows_left FROM wn_stats;
SELECT wn_insert(30);
SELECT wn_check();

SELECT name, count(*) FILTER (WHERE refresh_action = 'FULL') AS full_refreshes,
       count(*) FILTER (WHERE refresh_action = 'INCREMENTAL') > 40 AS incremental
  FROM dt.refresh_history WHERE name LIKE 'dt\_wn.wn%' GROUP BY name ORDER BY name;

RESET search_path;
