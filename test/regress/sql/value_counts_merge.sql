-- The value counts of a delta merge (aux_merge_ctes in src/deparse.c):
-- the change's delta per group, item and value deletes the value's count
-- (the delta takes it to zero) or is added to it (upserted, a new value
-- inserted); count distinct counts the values that appeared or left, and
-- each percentile the change rows below its cursor, whose value the
-- merge carries with the change rows of its group.  Every way a count
-- moves, each checked against the defining query and for counts of zero
-- or less: new values and values counted again; a value's last row
-- updated to another value, deleted, or set to NULL; NULL set to a value;
-- a value inserted and deleted in one window; rows moved to another
-- group; a group that empties and one emptied and filled again in one
-- window; text under "C" and under a case-insensitive collation (equal
-- values that look different), floats, FILTER, a DT without GROUP BY;
-- then random rounds of mixed changes; and a state damaged by hand,
-- whose lowered count that has no row must show, not vanish.

CREATE SCHEMA dt_vcm;
SET search_path = dt_vcm, public;
CREATE COLLATION vcm_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);

CREATE TABLE m (id int PRIMARY KEY, g int, x float8, t text COLLATE "C", u text COLLATE vcm_ci, ok boolean);
INSERT INTO m SELECT i, i % 3, (i % 7)::float8, 'v' || (i % 5), chr(ascii('a') + i % 4), i % 2 = 0
  FROM generate_series(1, 60) i;

SELECT dt.create_dynamic_table('vcm', $$
SELECT g, count(*) AS n, count(DISTINCT x) AS dx, count(DISTINCT t) AS dt, count(DISTINCT u) AS du,
       min(x) AS min_x, max(t) AS max_t,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS med_x,
       percentile_disc(0.25) WITHIN GROUP (ORDER BY t) AS q1_t,
       percentile_disc(0.9) WITHIN GROUP (ORDER BY x) FILTER (WHERE ok) AS p90_x_ok
  FROM m GROUP BY g
$$, refresh_mode => 'incremental');
SELECT dt.create_dynamic_table('vcm_all', $$
SELECT count(DISTINCT x) AS dx, count(DISTINCT u) AS du, max(x) AS max_x,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY t) AS med_t,
       percentile_cont(0.75) WITHIN GROUP (ORDER BY x) AS p75_x
  FROM m
$$, refresh_mode => 'incremental');

-- vcm_check: refresh both, then their differences from their queries and
-- the value counts of zero or less.
CREATE FUNCTION vcm_check() RETURNS TABLE (dt text, action text, differences bigint, bad_counts bigint)
LANGUAGE sql AS $$
    SELECT t, (SELECT r.action FROM dt.refresh(t::regclass) r), (SELECT count(*) FROM dt_test.diff(t::regclass)),
           dt_test.bad_value_counts(t::regclass)
      FROM unnest(ARRAY['dt_vcm.vcm', 'dt_vcm.vcm_all']) t
$$;
SELECT * FROM vcm_check();

-- new values (inserted) and values counted again (updated), in every group
INSERT INTO m VALUES (101, 0, 100.5, 'w1', 'E', true), (102, 1, 3, 'v3', 'A', false), (103, 2, 6, 'v0', 'b', true);
SELECT * FROM vcm_check();

-- a value's last row: updated to another value, deleted, set to NULL (its
-- count goes to zero), and NULL set to a value
UPDATE m SET x = 200, t = 'w2' WHERE id = 101;
DELETE FROM m WHERE id = 103;
INSERT INTO m VALUES (104, 1, NULL, NULL, NULL, true);
UPDATE m SET x = NULL, t = NULL, u = NULL WHERE id = 102;
SELECT * FROM vcm_check();
UPDATE m SET x = 7.25, t = 'w3', u = 'Z' WHERE id = 104;
SELECT * FROM vcm_check();

-- inserted and deleted in one window (its delta sums to zero); a value
-- deleted in one group while another group keeps it; rows moved to
-- another group
INSERT INTO m VALUES (105, 0, 999, 'zz', 'q', true);
DELETE FROM m WHERE id = 105;
DELETE FROM m WHERE g = 0 AND x = 1;
UPDATE m SET g = 2 WHERE id IN (2, 5, 8);
SELECT * FROM vcm_check();

-- equal values that look different under the case-insensitive collation:
-- a value's rows replaced by rows of an equal value, and the last row of a
-- value deleted while an equal one is inserted, in one window
UPDATE m SET u = upper(u) WHERE g = 1 AND u = 'a';
DELETE FROM m WHERE id = 101;
INSERT INTO m VALUES (106, 0, 1, 'v1', 'e', false);
SELECT * FROM vcm_check();

-- a group that empties; one emptied and filled again in one window
DELETE FROM m WHERE g = 2;
SELECT * FROM vcm_check();
SELECT g, n FROM vcm ORDER BY g;
DELETE FROM m WHERE g = 1;
INSERT INTO m VALUES (107, 1, 42, 'w4', 'k', true), (108, 1, 43, 'w5', 'K', false);
SELECT * FROM vcm_check();
SELECT g, n, dx, du FROM vcm ORDER BY g;

-- random rounds of inserts, updates (values and groups) and deletes
SELECT setseed(0.41);
CREATE FUNCTION vcm_round(r int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO m SELECT 1000 * r + i, floor(random() * 4)::int,
                         CASE WHEN random() < 0.1 THEN NULL ELSE floor(random() * 20)::float8 END,
                         CASE WHEN random() < 0.1 THEN NULL ELSE 'v' || floor(random() * 8) END,
                         chr(CASE WHEN random() < 0.5 THEN ascii('a') ELSE ascii('A') END + floor(random() * 6)::int),
                         random() < 0.5
      FROM generate_series(1, 15) i;
    UPDATE m SET x = CASE WHEN random() < 0.1 THEN NULL ELSE floor(random() * 20)::float8 END,
                 g = CASE WHEN random() < 0.3 THEN floor(random() * 4)::int ELSE g END
     WHERE random() < 0.15;
    UPDATE m SET t = 'v' || floor(random() * 8), u = upper(u) WHERE random() < 0.1;
    DELETE FROM m WHERE random() < 0.12;
END $$;
-- (each round prints nothing when both tables agree with their queries)
SELECT FROM vcm_round(1);
SELECT * FROM vcm_check() WHERE differences <> 0 OR bad_counts <> 0 OR action <> 'INCREMENTAL';
SELECT FROM vcm_round(2);
SELECT * FROM vcm_check() WHERE differences <> 0 OR bad_counts <> 0 OR action <> 'INCREMENTAL';
SELECT FROM vcm_round(3);
SELECT * FROM vcm_check() WHERE differences <> 0 OR bad_counts <> 0 OR action <> 'INCREMENTAL';
SELECT FROM vcm_round(4);
SELECT * FROM vcm_check() WHERE differences <> 0 OR bad_counts <> 0 OR action <> 'INCREMENTAL';
SELECT FROM vcm_round(5);
SELECT * FROM vcm_check() WHERE differences <> 0 OR bad_counts <> 0 OR action <> 'INCREMENTAL';
SELECT FROM vcm_round(6);
SELECT * FROM vcm_check() WHERE differences <> 0 OR bad_counts <> 0 OR action <> 'INCREMENTAL';
SELECT FROM vcm_round(7);
SELECT * FROM vcm_check() WHERE differences <> 0 OR bad_counts <> 0 OR action <> 'INCREMENTAL';
SELECT FROM vcm_round(8);
SELECT * FROM vcm_check() WHERE differences <> 0 OR bad_counts <> 0 OR action <> 'INCREMENTAL';
SELECT FROM vcm_round(9);
SELECT * FROM vcm_check() WHERE differences <> 0 OR bad_counts <> 0 OR action <> 'INCREMENTAL';
SELECT FROM vcm_round(10);
SELECT * FROM vcm_check() WHERE differences <> 0 OR bad_counts <> 0 OR action <> 'INCREMENTAL';
SELECT FROM vcm_round(11);
SELECT * FROM vcm_check() WHERE differences <> 0 OR bad_counts <> 0 OR action <> 'INCREMENTAL';
SELECT FROM vcm_round(12);
SELECT * FROM vcm_check() WHERE differences <> 0 OR bad_counts <> 0 OR action <> 'INCREMENTAL';
SELECT count(*) > 0 AS rows_left FROM m;
SELECT * FROM vcm_check();

-- a damaged state: the row of a value counted once deleted by hand from
-- the value counts, then that value's row deleted from m.  The delta that
-- lowers a count finds no row: it must leave a count below zero, which
-- dt_test.bad_value_counts reports, not vanish (its row found once, then
-- deleted or updated through its ctid, aux_merge_ctes)
INSERT INTO m VALUES (9001, 0, 12345.5, NULL, NULL, false);
SELECT * FROM vcm_check();
DO $$
DECLARE
    aux regclass;
BEGIN
    FOR aux IN SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'dt_internal' AND c.relkind = 'r'
                  AND c.relname LIKE 'aux\_' || 'dt_vcm.vcm'::regclass::oid || '\_%'
    LOOP
        EXECUTE format('DELETE FROM %s WHERE v::text = %L', aux, '12345.5');
    END LOOP;
END $$;
DELETE FROM m WHERE id = 9001;
SELECT dt, action, bad_counts FROM vcm_check() WHERE dt = 'dt_vcm.vcm';

SET client_min_messages = warning;  -- the objects dropped name OIDs
DROP SCHEMA dt_vcm CASCADE;
