-- rank() and dense_rank() bounded by k against the oracle (issue 13): the
-- same shape as seed 000's recency_rank <= 10 (window.c), numbered with
-- rank() or dense_rank() instead of row_number(), over an order with many
-- ties.  Rows tied in the order share a rank, so "rank <= k" can take more
-- than k rows (all the ties of the k-th: FETCH FIRST k ROWS WITH TIES),
-- and "dense_rank <= k" the rows of the first k distinct values (the
-- window stops at the first row beyond).  Ties are ranked as PostgreSQL
-- ranks them, exactly, so the oracle compares exactly.
--
-- Seeded random writes: inserts (new ties), scores moved (a row enters or
-- leaves the first k ranks, or joins a tie), rows moved to another group
-- or to the NULL group, deletes (a tie at the cut broken, a group emptied).

CREATE SCHEMA dt_wr;
SET search_path = dt_wr, public;

CREATE TABLE scores (id serial PRIMARY KEY, grp text, score int, v numeric, note text);
CREATE INDEX ON scores (grp, score DESC);

-- rank() in a WITH query with CASE WHEN rank <= k and an outer select
-- with a condition (seed 000's shape).
SELECT dt.create_dynamic_table('wr_rank', $$
WITH ranked AS (
    SELECT grp, score, v, rank() OVER (PARTITION BY grp ORDER BY score DESC) AS r FROM dt_wr.scores
), per_grp AS (
    SELECT grp, count(*) AS n, sum(v) AS total,
           count(CASE WHEN r <= 3 THEN 1 END) AS top3_rows,
           sum(CASE WHEN r <= 3 THEN v END) AS top3_v,
           avg(v) FILTER (WHERE r = 1) AS best_avg_v
      FROM ranked GROUP BY grp
)
SELECT grp, n, total, top3_rows, top3_v, best_avg_v FROM per_grp WHERE n >= 2
$$, refresh_mode => 'incremental', initialize => 'on_schedule');

-- dense_rank() with FILTER, in HAVING too, the order ascending with NULLs.
SELECT dt.create_dynamic_table('wr_dense', $$
SELECT grp, count(*) FILTER (WHERE dr <= 2) AS top2_rows, max(v) FILTER (WHERE dr < 3) AS top2_max_v,
       string_agg(note, ',' ORDER BY note) FILTER (WHERE dr = 1) AS first_notes, count(*) AS n
  FROM (SELECT grp, v, note, dense_rank() OVER (PARTITION BY grp ORDER BY score NULLS FIRST) AS dr
          FROM dt_wr.scores) s
 GROUP BY grp
HAVING count(*) FILTER (WHERE dr <= 2) > 0
$$, refresh_mode => 'incremental', initialize => 'on_schedule');

-- rank() ordered by two columns, a bound of 1 (the best rows, ties
-- included).
SELECT dt.create_dynamic_table('wr_best', $$
SELECT grp, count(*) FILTER (WHERE r <= 1) AS best_rows, sum(v) FILTER (WHERE r <= 1) AS best_v,
       min(score) AS worst
  FROM (SELECT grp, v, score, rank() OVER (PARTITION BY grp ORDER BY score DESC, v) AS r FROM dt_wr.scores) s
 GROUP BY grp
$$, refresh_mode => 'incremental', initialize => 'on_schedule');

SELECT name, refresh_mode, refresh_mode_reason LIKE '%first rows of a partition%' AS rank_bounded
  FROM dt.dynamic_tables WHERE schema_name = 'dt_wr' ORDER BY name::text;

-- Not bounded: row_number() and rank() over one window, the rank outside
-- an aggregate; recomputed by key.
SELECT dt.create_dynamic_table('wr_mixed', $$
SELECT grp, count(*) FILTER (WHERE r <= 2 AND rn <= 2) AS n
  FROM (SELECT grp, rank() OVER w AS r, row_number() OVER w AS rn FROM dt_wr.scores WINDOW w AS (PARTITION BY grp ORDER BY score)) s
 GROUP BY grp
$$, refresh_mode => 'incremental', initialize => 'on_schedule');
SELECT dt.create_dynamic_table('wr_outside', $$
SELECT grp, max(dr) AS distinct_scores
  FROM (SELECT grp, dense_rank() OVER (PARTITION BY grp ORDER BY score) AS dr FROM dt_wr.scores) s
 GROUP BY grp
$$, refresh_mode => 'incremental', initialize => 'on_schedule');
SELECT name, refresh_mode_reason LIKE 'the rows of the "grp" values%' AS recomputed
  FROM dt.dynamic_tables WHERE name::text IN ('dt_wr.wr_mixed', 'dt_wr.wr_outside') ORDER BY name::text;

CREATE FUNCTION wr_check() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t regclass;
    action text;
BEGIN
    FOR t IN SELECT relid FROM dt.dynamic_tables WHERE schema_name = 'dt_wr' ORDER BY relid::text LOOP
        SELECT r.action INTO action FROM dt.refresh(t) r;
        IF action NOT IN ('INCREMENTAL', 'NO_DATA') THEN
            RAISE EXCEPTION 'a refresh of % was %', t, action;
        END IF;
        PERFORM dt_test.check(t);
    END LOOP;
END $$;

-- Scores from 0 to 5: many ties in every group.
CREATE FUNCTION wr_insert(cnt int) RETURNS void LANGUAGE sql AS $$
INSERT INTO scores (grp, score, v, note)
SELECT CASE WHEN random() < 0.08 THEN NULL ELSE 'g' || floor(random() * 4)::int END,
       CASE WHEN random() < 0.08 THEN NULL ELSE floor(random() * 6)::int END,
       round((random() * 100)::numeric, 1),
       'n' || floor(random() * 1000)::int
  FROM generate_series(1, cnt)
$$;

CREATE FUNCTION wr_round() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    op float8;
BEGIN
    PERFORM wr_insert(2 + floor(random() * 6)::int);
    FOR step IN 1 .. 3 LOOP
        op := random();
        IF op < 0.3 THEN
            UPDATE scores SET score = CASE WHEN random() < 0.1 THEN NULL ELSE floor(random() * 6)::int END
             WHERE id IN (SELECT id FROM scores ORDER BY random() LIMIT 3);
        ELSIF op < 0.45 THEN
            -- the best row of a group leaves: the next ties enter
            DELETE FROM scores WHERE id = (SELECT id FROM scores WHERE grp = 'g' || floor(random() * 4)::int
                                            ORDER BY score DESC NULLS LAST LIMIT 1);
        ELSIF op < 0.6 THEN
            UPDATE scores SET grp = CASE WHEN random() < 0.2 THEN NULL ELSE 'g' || floor(random() * 4)::int END
             WHERE id IN (SELECT id FROM scores ORDER BY random() LIMIT 2);
        ELSIF op < 0.8 THEN
            UPDATE scores SET v = v + 1, note = note || '+' WHERE id IN (SELECT id FROM scores ORDER BY random() LIMIT 3);
        ELSE
            DELETE FROM scores WHERE id IN (SELECT id FROM scores ORDER BY random() LIMIT 4);
        END IF;
    END LOOP;
END $$;

SELECT setseed(0.4242);
SELECT wr_insert(60);
SELECT r.action, count(*) FROM dt.dynamic_tables d, dt.refresh(d.relid) r WHERE d.schema_name = 'dt_wr' GROUP BY 1;
SELECT wr_check();

DO $$
BEGIN
    FOR round IN 1 .. 40 LOOP
        PERFORM wr_round();
        PERFORM wr_check();
        COMMIT;
    END LOOP;
END $$;

-- Ties at the cut: five rows tied for the best score of g9 are all of
-- rank 1 (and dense rank 1); one better row makes them all rank 2.
INSERT INTO scores (grp, score, v, note) SELECT 'g9', 3, i, 'tie' FROM generate_series(1, 5) i;
SELECT wr_check();
SELECT grp, top3_rows, top3_v, best_avg_v FROM wr_rank WHERE grp = 'g9';
INSERT INTO scores (grp, score, v, note) VALUES ('g9', 4, 100, 'top');
SELECT wr_check();
SELECT grp, top3_rows, top3_v, best_avg_v FROM wr_rank WHERE grp = 'g9';
SELECT grp, top2_rows, first_notes FROM wr_dense WHERE grp = 'g9';
-- A group emptied.
DELETE FROM scores WHERE grp = 'g9';
SELECT wr_check();
SELECT count(*) AS g9_rows FROM wr_rank WHERE grp = 'g9';

-- Partitioned by an expression that an expression index finds (window.c
-- reads the index's expressions once: each read is a new copy).
CREATE TABLE lscores (id int PRIMARY KEY, grp text, score int);
CREATE INDEX ON lscores (lower(grp), score DESC);
INSERT INTO lscores SELECT i, CASE WHEN i % 2 = 0 THEN 'A' ELSE 'a' END || (i % 3), i % 7 FROM generate_series(1, 30) i;
SELECT dt.create_dynamic_table('wr_lower', $$
WITH ranked AS (
    SELECT lower(grp) AS g, score, rank() OVER (PARTITION BY lower(grp) ORDER BY score DESC) AS r FROM dt_wr.lscores
)
SELECT g, count(*) AS n, count(CASE WHEN r <= 2 THEN 1 END) AS top2 FROM ranked GROUP BY g
$$);
SELECT count(*) AS wr_lower_diff FROM dt_test.diff('wr_lower');

SET client_min_messages = warning;
DROP SCHEMA dt_wr CASCADE;
RESET client_min_messages;
