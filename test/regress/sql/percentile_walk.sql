-- Percentile cursors walk to their new rank after a merge (percentile.c):
-- up through the values above the cursor, down through those below.  A
-- percentile_cont cursor also needs the value after its own when its
-- second rank is beyond it: taken from the walk where the walk read it
-- (the row after the target on a walk up; on a walk down the row read
-- before it, or the value the cursor left if that value is still
-- there), else read with a query of its own.  Rounds move the cursors of
-- groups by one rank and by several, up and down, with the cursor's own
-- value deleted or kept, over even and odd counts and values counted more
-- than once; every refresh is compared with the query.

CREATE SCHEMA dt_pw;
SET search_path = dt_pw, public;
SET pg_dynamic_tables.adaptive_refresh = off;

CREATE TABLE p (id int PRIMARY KEY, k int, x float8);
INSERT INTO p SELECT i, i % 4, CASE WHEN i % 4 = 3 THEN (i % 9) ELSE i * 1.5 END
  FROM generate_series(1, 80) i;

SELECT dt.create_dynamic_table('pw', $$
SELECT k, percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS med,
       percentile_cont(0.25) WITHIN GROUP (ORDER BY x) AS q1,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY x) AS p90,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY x) AS dmed, count(*) AS n
  FROM p GROUP BY k
$$, refresh_mode => 'incremental');

-- pw_check(): refresh, then the action and the differences from the query
CREATE FUNCTION pw_check() RETURNS TABLE (action text, differences bigint) LANGUAGE sql AS $$
    SELECT (SELECT r.action FROM dt.refresh('dt_pw.pw') r), (SELECT count(*) FROM dt_test.diff('dt_pw.pw'))
$$;
SELECT * FROM pw_check();

-- up by one rank: a value above every median
INSERT INTO p SELECT 100 + k, k, 1000 + k FROM generate_series(0, 3) k;
SELECT * FROM pw_check();
-- up by several ranks, the count odd again and even again
INSERT INTO p SELECT 200 + i, i % 4, 2000 + i FROM generate_series(0, 11) i;
SELECT * FROM pw_check();
INSERT INTO p SELECT 300 + i, i % 4, 3000 + i FROM generate_series(0, 6) i;
SELECT * FROM pw_check();
-- down, the cursor's own values gone: the rows at each group's median
-- and first quartile, and a value below them
DELETE FROM p WHERE id IN (
    SELECT id FROM (SELECT id, x, percent_rank() OVER (PARTITION BY k ORDER BY x) AS pr FROM p) s
     WHERE pr BETWEEN 0.45 AND 0.55 OR pr BETWEEN 0.22 AND 0.28);
INSERT INTO p SELECT 400 + k, k, -1 - k FROM generate_series(0, 3) k;
SELECT * FROM pw_check();
-- down, the cursor's own values kept: values below every median
INSERT INTO p SELECT 500 + i, i % 4, -100 - i FROM generate_series(0, 14) i;
SELECT * FROM pw_check();
-- down by one: one value below each median
INSERT INTO p SELECT 600 + k, k, -500 FROM generate_series(0, 3) k;
SELECT * FROM pw_check();
-- up again with the cursor's value gone: the rows at each median leave
DELETE FROM p WHERE id IN (
    SELECT id FROM (SELECT id, x, percent_rank() OVER (PARTITION BY k ORDER BY x) AS pr FROM p) s
     WHERE pr BETWEEN 0.47 AND 0.53 OR pr BETWEEN 0.88 AND 0.92);
INSERT INTO p SELECT 700 + i, i % 4, 5000 + i FROM generate_series(0, 7) i;
SELECT * FROM pw_check();

-- Random rounds: inserts and deletes, values counted more than once.
SELECT setseed(0.42);
DO $$
BEGIN
    FOR r IN 1..8 LOOP
        INSERT INTO p SELECT 1000 * r + i, floor(random() * 4)::int, floor(random() * 60) - 20
          FROM generate_series(1, 12) i;
        DELETE FROM p WHERE id IN (SELECT id FROM p ORDER BY random() LIMIT 1 + r % 6);
        IF (SELECT differences FROM dt_pw.pw_check()) <> 0 THEN
            RAISE EXCEPTION 'round %: the table differs from its query', r;
        END IF;
    END LOOP;
END $$;
SELECT * FROM pw_check();
SELECT dt_test.bad_value_counts('pw');

-- One refresh that makes 12000 groups: the change rows of a new group get
-- its gid from the upsert's rows through a hash join, not a scan of those
-- rows for each change row (that took minutes; the timeout fails here).
CREATE TABLE many (k int, v int);
INSERT INTO many SELECT i % 1000, i FROM generate_series(1, 40000) i;
SELECT dt.create_dynamic_table('many_p', $$SELECT k, percentile_disc(0.5) WITHIN GROUP (ORDER BY v) AS m,
    count(DISTINCT v) AS d FROM many GROUP BY k$$, refresh_mode => 'incremental') IS NOT NULL AS created;
INSERT INTO many SELECT 100000 + i, i FROM generate_series(1, 12000) i;
SET statement_timeout = '20s';
SELECT action FROM dt.refresh('many_p');
RESET statement_timeout;
SELECT count(*) AS differences FROM dt_test.diff('many_p');

DROP SCHEMA dt_pw CASCADE;
