-- min and max of a group that only grew are merged, not read again: the
-- merge keeps the extreme of the old one and the values the window adds
-- (LEAST / GREATEST in the state upsert), and only a group with change
-- rows that remove (a delete, the old side of an update, a term of a join
-- whose inputs both changed) reads them again from its value counts.
-- Rounds of inserts only (new extremes, values between, NULLs, new
-- groups, a group whose values were all NULL), then mixed rounds (current
-- extremes deleted, rows moved into groups that only grow), over text in
-- two collations, floats with NaN and infinities, FILTER, NULL keys, a
-- DT without GROUP BY, and a join whose two sides change in one window;
-- every refresh is compared with the query.

CREATE SCHEMA dt_mmg;
SET search_path = dt_mmg, public;

CREATE TABLE m (id int PRIMARY KEY, g int, x int, y float8, t text, ok boolean);
CREATE TABLE d (g int PRIMARY KEY, label text);
SELECT setseed(0.27);
INSERT INTO m
SELECT i, CASE WHEN i % 19 = 0 THEN NULL ELSE i % 6 END,
       CASE WHEN i % 13 = 0 THEN NULL ELSE 100 + floor(random() * 100)::int END,
       CASE WHEN i % 11 = 0 THEN NULL ELSE round((random() * 100)::numeric, 1)::float8 END,
       chr(ascii('k') + (i % 10)) || i, i % 3 <> 0
  FROM generate_series(1, 600) i;
INSERT INTO m VALUES (601, 7, NULL, NULL, NULL, true);  -- a group of NULL values
INSERT INTO d SELECT g, 'group ' || g FROM generate_series(0, 9) g;

SELECT dt.create_dynamic_table('mm', $$
SELECT g, count(*) AS n, min(x) AS min_x, max(x) AS max_x, min(y) AS min_y, max(y) AS max_y,
       min(t) AS min_t, max(t COLLATE "C") AS max_t_c, max(t) AS max_t,
       min(x) FILTER (WHERE ok) AS min_x_ok, max(y) FILTER (WHERE NOT ok) AS max_y_not_ok
  FROM m GROUP BY g
$$, refresh_mode => 'incremental');
SELECT dt.create_dynamic_table('mm_all', $$
SELECT count(*) AS n, min(x) AS min_x, max(y) AS max_y, max(t) AS max_t FROM m
$$, refresh_mode => 'incremental');
SELECT dt.create_dynamic_table('mm_join', $$
SELECT d.label, min(m.x) AS min_x, max(m.y) AS max_y, max(m.t) AS max_t
  FROM m JOIN d ON d.g = m.g GROUP BY d.label
$$, refresh_mode => 'incremental');
SELECT relid::regclass, refresh_mode FROM dt.dynamic_tables WHERE schema_name = 'dt_mmg' ORDER BY 1;

-- mm_check: refresh the three tables, then the differences from their queries.
CREATE FUNCTION mm_check() RETURNS TABLE (dt text, action text, differences bigint)
LANGUAGE sql AS $$
    SELECT t, (SELECT r.action FROM dt.refresh(t::regclass) r), (SELECT count(*) FROM dt_test.diff(t::regclass))
      FROM unnest(ARRAY['dt_mmg.mm', 'dt_mmg.mm_all', 'dt_mmg.mm_join']) t
$$;

-- Inserts only: new minima and maxima in some groups, values between the
-- extremes in others, NULL values, a new group (8) and the NULL group, a
-- first value in the group of NULL values, NaN and infinities, text that
-- sorts differently in "C".
INSERT INTO m VALUES
    (1001, 0, 5, 150, 'Zz', true),        -- new min x (C sorts 'Z' before 'k')
    (1002, 1, 999, 0.05, 'zz', false),    -- new max x, new min y
    (1003, 2, 150, 50, 'l2x', true),      -- between the extremes
    (1004, 8, 42, 4.2, 'new', true),      -- a new group
    (1005, NULL, 1, 'Infinity', 'a', false),
    (1006, 7, 77, 'NaN', 'seven', true),  -- the first values of group 7
    (1007, 3, NULL, NULL, NULL, true),
    (1008, 4, 100, '-Infinity', 'kz', false);
SELECT * FROM mm_check();
SELECT g, min_x, max_x, min_y, max_y, min_t, max_t_c, max_t, min_x_ok, max_y_not_ok FROM mm ORDER BY g;

-- Rounds of random inserts only.
INSERT INTO m SELECT 2000 + i, i % 9, floor(random() * 400)::int, round((random() * 200 - 50)::numeric, 1)::float8,
                     chr(ascii('a') + floor(random() * 26)::int) || i, random() < 0.5
  FROM generate_series(1, 200) i;
SELECT * FROM mm_check();
INSERT INTO m SELECT 3000 + i, CASE WHEN i % 5 = 0 THEN NULL ELSE i % 4 END, -i, i * 1000.5, 'Y' || i, i % 2 = 0
  FROM generate_series(1, 50) i;
SELECT * FROM mm_check();

-- Mixed: the current extremes of some groups deleted, rows moved into
-- groups that only gain rows, a row inserted and deleted in one window,
-- an update of a value in place (delete and insert in one group).
BEGIN;
DELETE FROM m WHERE (g, x) IN (SELECT g, min(x) FROM m WHERE g IN (0, 1) GROUP BY g);
DELETE FROM m WHERE (g, y) IN (SELECT g, max(y) FROM m WHERE g IN (2, 3) GROUP BY g);
DELETE FROM m WHERE y = 'NaN' OR y = 'Infinity';
UPDATE m SET g = 8 WHERE id IN (SELECT id FROM m WHERE g = 5 ORDER BY x DESC NULLS LAST LIMIT 3);
INSERT INTO m VALUES (4001, 6, -1000, 1e6, '~', true);
DELETE FROM m WHERE id = 4001;
UPDATE m SET x = x + 500, t = t || '!' WHERE id IN (SELECT id FROM m WHERE g = 4 ORDER BY id LIMIT 2);
COMMIT;
SELECT * FROM mm_check();

-- Groups emptied and filled again, and every min and max of group 1
-- deleted while smaller values arrive in the same window.
BEGIN;
DELETE FROM m WHERE g = 6;
INSERT INTO m VALUES (5001, 6, 3, 3, 'c', false);
DELETE FROM m WHERE g = 1 AND (x = (SELECT max(x) FROM m WHERE g = 1) OR t = (SELECT min(t) FROM m WHERE g = 1));
INSERT INTO m VALUES (5002, 1, -7, -7, '0', true);
COMMIT;
SELECT * FROM mm_check();

-- A group emptied by one refresh (its state row goes) and filled again
-- by the next (a new gid, which the merge takes from its upsert, the
-- others' from the state as it was), with rows of groups that exist.
DELETE FROM m WHERE g = 3;
SELECT * FROM mm_check();
INSERT INTO m VALUES (5101, 3, 31, 31, 'again', true), (5102, 3, 30, 32, 'again2', false),
                     (5103, 2, 1, 1, 'two', true), (5104, NULL, 2, 2, 'null', false);
SELECT * FROM mm_check();

-- The join: both sides change in one window (a new group label with its
-- rows: the terms count them twice and take them back once), then rows
-- inserted only.
BEGIN;
INSERT INTO d VALUES (10, 'group 10');
INSERT INTO m VALUES (6001, 10, 10, 10, 'ten', true), (6002, 10, 11, 11, 'eleven', true);
COMMIT;
SELECT * FROM mm_check();
INSERT INTO m VALUES (6003, 10, 9, 12, 'twelve', true), (6004, 0, -50, 500, 'zzz', false);
SELECT * FROM mm_check();

-- Random mixed rounds.
DO $$
BEGIN
    FOR r IN 1..4 LOOP
        INSERT INTO m SELECT 10000 * r + i, CASE WHEN random() < 0.1 THEN NULL ELSE floor(random() * 10)::int END,
                             CASE WHEN random() < 0.1 THEN NULL ELSE floor(random() * 1000 - 300)::int END,
                             round((random() * 500)::numeric, 2)::float8, md5(i::text || r), random() < 0.5
          FROM generate_series(1, 40) i;
        IF r % 2 = 0 THEN
            DELETE FROM m WHERE id IN (SELECT id FROM m ORDER BY x DESC NULLS LAST LIMIT 5);
            UPDATE m SET g = (g + 1) % 10 WHERE id % 17 = r;
        END IF;
        IF (SELECT sum(differences) FROM dt_mmg.mm_check()) <> 0 THEN
            RAISE EXCEPTION 'round %: a dynamic table differs from its query', r;
        END IF;
    END LOOP;
END $$;
SELECT * FROM mm_check();

DROP SCHEMA dt_mmg CASCADE;
