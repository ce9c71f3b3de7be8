-- Seeded random writes against the oracle: after every round of writes and
-- refreshes, each dynamic table must equal its defining query.
--
-- The rounds insert rows (NULL keys and values, NaN and infinities among
-- them), update rows so that they move between groups, delete the current
-- minimum and maximum of a group, empty a group and bring it back,
-- TRUNCATE, and sometimes refresh inside the writing transaction.  Four
-- dynamic tables read the same table and are refreshed at different
-- rounds, so they consume the same change log from different positions.

CREATE TABLE rt (
    id serial PRIMARY KEY,
    k1 text,
    k2 int,
    v float8,
    n numeric,
    i int,
    b boolean,
    ts timestamptz,
    j jsonb
);

-- Every aggregate kind, with and without FILTER, over NULL-able keys.
SELECT dt.create_dynamic_table('r_all', $$
SELECT k1, k2,
       count(*) AS cnt, count(v) AS cnt_v, count(*) FILTER (WHERE b) AS cnt_b,
       count(DISTINCT i) AS dist_i, count(DISTINCT j->>'tag') FILTER (WHERE i > 3) AS dist_tag,
       sum(v) AS sum_v, sum(n) AS sum_n, sum(i) AS sum_i, sum(i::bigint) AS sum_i8,
       avg(v) AS avg_v, avg(n) AS avg_n, avg(i) AS avg_i,
       avg(v) FILTER (WHERE i % 2 = 0) AS avg_v_even,
       min(v) AS min_v, max(v) AS max_v, min(ts) AS min_ts, max(k1) AS max_k1,
       min(n) FILTER (WHERE b) AS min_n_b,
       stddev(v) AS sd_v, stddev_pop(i) AS sdp_i, variance(n) AS var_n, var_pop(v) AS varp_v,
       stddev_samp(n) AS sds_n, var_samp(i) AS vars_i,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS med_v,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY i) AS p90_i,
       percentile_disc(0.25) WITHIN GROUP (ORDER BY n) AS p25_n,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY ts) FILTER (WHERE b) AS med_ts_b,
       percentile_cont(0.0) WITHIN GROUP (ORDER BY v) AS p0_v,
       percentile_cont(1.0) WITHIN GROUP (ORDER BY v) AS p100_v,
       bool_and(b) AS all_b, bool_or(b) AS any_b, every(i > 0) AS all_pos,
       CASE WHEN sum(i) > 0 THEN sum(n) / sum(i) * 1000 END AS ratio,
       upper(k1) AS k1_upper, coalesce(k2, -1) * 10 AS k2_x10,
       now() AS refreshed_at
  FROM rt
 WHERE id % 11 <> 0
 GROUP BY k1, k2
$$, refresh_mode => 'incremental');

-- One row whatever the input, even none.
SELECT dt.create_dynamic_table('r_one', $$
SELECT count(*) AS cnt, sum(v) AS sum_v, avg(n) AS avg_n, min(i) AS min_i, max(ts) AS max_ts,
       count(DISTINCT k1) AS dist_k1,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY i) AS med_i, stddev(i) AS sd_i
  FROM rt
$$, refresh_mode => 'incremental');

-- Group keys that are expressions, and HAVING.
SELECT dt.create_dynamic_table('r_expr', $$
SELECT date_trunc('day', ts)::date AS day, j->>'tag' AS tag,
       CASE WHEN i < 3 THEN 'low' WHEN i < 6 THEN 'mid' ELSE 'high' END AS band,
       count(*) AS cnt, sum(n) AS sum_n, max(v) AS max_v,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY i) AS med_i
  FROM rt
 WHERE ts IS NOT NULL
 GROUP BY 1, 2, 3
HAVING count(*) > 1 AND coalesce(sum(i), 0) >= 0
$$, refresh_mode => 'incremental');

-- Refreshed only every third round: it consumes long windows.
SELECT dt.create_dynamic_table('r_slow', $$
SELECT k2 % 3 AS bucket, count(*) AS cnt, sum(i) AS sum_i, min(v) AS min_v, max(n) AS max_n,
       count(DISTINCT k1) AS dist_k1
  FROM rt
 GROUP BY k2 % 3
$$, refresh_mode => 'incremental');

-- A random row; NULLs and special values now and then.
CREATE FUNCTION rt_insert(cnt int) RETURNS void LANGUAGE sql AS $$
INSERT INTO rt (k1, k2, v, n, i, b, ts, j)
SELECT CASE WHEN random() < 0.05 THEN NULL ELSE (ARRAY['a', 'b', 'c', 'd'])[1 + floor(random() * 4)::int] END,
       CASE WHEN random() < 0.05 THEN NULL ELSE floor(random() * 4)::int END,
       CASE WHEN random() < 0.05 THEN NULL
            WHEN random() < 0.01 THEN 'NaN'::float8
            WHEN random() < 0.01 THEN 'Infinity'::float8
            WHEN random() < 0.01 THEN '-Infinity'::float8
            ELSE round((random() * 1000)::numeric, 3)::float8 END,
       CASE WHEN random() < 0.05 THEN NULL ELSE round((random() * 100)::numeric, 2) END,
       CASE WHEN random() < 0.05 THEN NULL ELSE floor(random() * 10)::int END,
       CASE WHEN random() < 0.05 THEN NULL ELSE random() < 0.7 END,
       CASE WHEN random() < 0.05 THEN NULL
            ELSE timestamptz '2025-01-01' + floor(random() * 5) * interval '1 day'
                 + floor(random() * 1000) * interval '1 minute' END,
       jsonb_build_object('tag', (ARRAY['x', 'y', 'z'])[1 + floor(random() * 3)::int])
  FROM generate_series(1, cnt)
$$;

CREATE FUNCTION rt_refresh(round int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dt.refresh('r_all');
    PERFORM dt.refresh('r_one');
    IF round % 2 = 0 THEN
        PERFORM dt.refresh('r_expr');
    END IF;
    IF round % 3 = 0 THEN
        PERFORM dt.refresh('r_slow');
    END IF;
END $$;

-- One round of random writes, refreshes in between.
CREATE FUNCTION rt_round(round int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    op float8;
    grp text;
BEGIN
    PERFORM rt_insert(20 + floor(random() * 40)::int);
    FOR step IN 1 .. 6 LOOP
        op := random();
        grp := (ARRAY['a', 'b', 'c', 'd'])[1 + floor(random() * 4)::int];
        IF op < 0.2 THEN
            -- move rows between groups
            UPDATE rt SET k1 = (ARRAY['a', 'b', 'c', 'd', NULL])[1 + floor(random() * 5)::int],
                          k2 = floor(random() * 4)::int
             WHERE id IN (SELECT id FROM rt ORDER BY random() LIMIT 8);
        ELSIF op < 0.35 THEN
            -- change values in place
            UPDATE rt SET v = v * 2 + 1, n = n - 3, i = (i + 1) % 10, b = NOT b,
                          ts = ts + interval '7 hours'
             WHERE id IN (SELECT id FROM rt ORDER BY random() LIMIT 10);
        ELSIF op < 0.5 THEN
            -- delete the current minimum and maximum of a group
            DELETE FROM rt WHERE id IN (
                (SELECT id FROM rt WHERE k1 = grp AND v IS NOT NULL ORDER BY v LIMIT 1)
                UNION ALL
                (SELECT id FROM rt WHERE k1 = grp AND v IS NOT NULL ORDER BY v DESC LIMIT 1)
                UNION ALL
                (SELECT id FROM rt WHERE k1 = grp AND n IS NOT NULL ORDER BY n LIMIT 1)
                UNION ALL
                (SELECT id FROM rt WHERE i IS NOT NULL ORDER BY i DESC, id LIMIT 2));
        ELSIF op < 0.58 THEN
            -- empty a group; later inserts bring it back
            DELETE FROM rt WHERE k1 = grp;
        ELSIF op < 0.7 THEN
            -- refresh inside the writing transaction, then write more
            PERFORM rt_refresh(round);
            PERFORM rt_insert(5);
        ELSIF op < 0.85 THEN
            DELETE FROM rt WHERE id IN (SELECT id FROM rt ORDER BY random() LIMIT 10);
        ELSE
            PERFORM rt_insert(15);
        END IF;
    END LOOP;
END $$;

-- check_all: every dynamic table equals its query (refreshed_at aside).
CREATE FUNCTION rt_check_all() RETURNS bigint LANGUAGE sql AS $$
SELECT (SELECT count(*) FROM dt_test.diff('r_all', '{refreshed_at}'))
     + (SELECT count(*) FROM dt_test.diff('r_one'))
     + (SELECT count(*) FROM dt_test.diff('r_expr'))
     + (SELECT count(*) FROM dt_test.diff('r_slow'))
$$;

SELECT setseed(0.1234);
SELECT rt_insert(300);
SELECT rt_refresh(0);

-- The rounds: writes, refresh, compare, each round a transaction.  A
-- mismatch raises an error naming the table and the first differing row.
DO $$
BEGIN
    FOR round IN 1 .. 40 LOOP
        PERFORM rt_round(round);
        PERFORM rt_refresh(round);
        PERFORM dt.refresh('r_expr');
        PERFORM dt.refresh('r_slow');
        PERFORM dt_test.check('r_all', '{refreshed_at}');
        PERFORM dt_test.check('r_one');
        PERFORM dt_test.check('r_expr');
        PERFORM dt_test.check('r_slow');
        COMMIT;
    END LOOP;
END $$;

-- Each refresh in its own transaction, writes in others.
SELECT rt_round(100);
SELECT rt_refresh(6);
SELECT rt_round(101);
SELECT rt_insert(10);
SELECT rt_refresh(6);
SELECT rt_check_all();

-- A bulk COPY.
COPY rt (k1, k2, v, n, i, b, ts, j) FROM stdin;
a	1	1.5	2.25	3	t	2025-01-02 10:00:00+00	{"tag": "x"}
a	1	\N	7	\N	f	2025-01-02 11:00:00+00	{"tag": "y"}
e	\N	100	1	9	t	\N	{"tag": "z"}
\N	2	-5	\N	0	\N	2025-01-03 00:00:00+00	{"tag": "x"}
b	3	Infinity	1e10	4	t	2025-01-04 00:00:00+00	{"tag": "x"}
\.
SELECT rt_refresh(6);
SELECT rt_check_all();

-- TRUNCATE: the next refresh rebuilds.
TRUNCATE rt;
SELECT rt_insert(50);
SELECT action FROM dt.refresh('r_all');
SELECT action FROM dt.refresh('r_one');
SELECT rt_refresh(6);
SELECT rt_check_all();

-- Emptied completely: no groups, and the one-row aggregate still has its row.
DELETE FROM rt;
SELECT rt_refresh(6);
SELECT rt_check_all();
SELECT count(*) AS all_groups FROM r_all;
SELECT cnt, sum_v, med_i FROM r_one;

-- Rows come back.
SELECT rt_insert(40);
SELECT rt_refresh(6);
SELECT rt_check_all();

-- Every refresh was recorded and succeeded.
SELECT refresh_action, count(*) > 0 AS happened
  FROM dt.refresh_history
 WHERE name IN ('public.r_all', 'public.r_one', 'public.r_expr', 'public.r_slow')
 GROUP BY refresh_action ORDER BY refresh_action;
SELECT count(*) AS not_succeeded FROM dt.refresh_history
 WHERE state <> 'SUCCEEDED' AND name IN ('public.r_all', 'public.r_one', 'public.r_expr', 'public.r_slow');

DROP TABLE rt CASCADE;
DROP FUNCTION rt_insert, rt_refresh, rt_round, rt_check_all;
