-- Subqueries in WHERE correlated by an equality and by other conditions
-- (issue 13, TPC-H Q21): EXISTS (SELECT ... FROM l2 WHERE l2.o_id =
-- l1.o_id AND l2.s_id <> l1.s_id).  A change of any row of an order can
-- flip the subquery for every row of that order, and only for those: the
-- query is recomputed by the key of the equality (recompute.c, a leaf's
-- subqueries), the keys of a window being those of the changed rows of the
-- query's tables and of the subquery's table.  Where the query groups
-- those rows, the rows are an internal dynamic table (recomputed by
-- order) and the groups are merged from its changes (and a LIMIT chosen
-- again from every group's state).
--
-- Seeded random writes on every table: lines added, deleted (the other
-- suppliers' lines of an order: EXISTS turns false), flagged late and
-- back (NOT EXISTS flips), given no supplier (<> is unknown) or another
-- one, moved to another order; orders finished and reopened, deleted;
-- suppliers renamed (ties at the cut), moved to another nation, deleted.

CREATE SCHEMA dt_cr;
SET search_path = dt_cr, public;

CREATE TABLE cs (id int PRIMARY KEY, name text, nation int);
CREATE TABLE co (id int PRIMARY KEY, status text);
CREATE TABLE cl (id serial PRIMARY KEY, o_id int, s_id int, late boolean, qty int);
CREATE INDEX ON cl (o_id);
CREATE TABLE csh (id serial PRIMARY KEY, o_id int, s_id int);

CREATE FUNCTION cr_create(name text, query text) RETURNS void LANGUAGE sql AS $$
SELECT dt.create_dynamic_table(name, query, refresh_mode => 'incremental', initialize => 'on_schedule')
$$;

-- Q21's shape: suppliers of nation 1 whose late lines kept a finished
-- multi-supplier order waiting, the top 3 by count.
SELECT cr_create('cr_waiting', $$
SELECT cs.name, count(*) AS numwait
  FROM cs, cl l1, co
 WHERE cs.id = l1.s_id AND co.id = l1.o_id AND co.status = 'F' AND l1.late AND cs.nation = 1
   AND EXISTS (SELECT * FROM cl l2 WHERE l2.o_id = l1.o_id AND l2.s_id <> l1.s_id)
   AND NOT EXISTS (SELECT * FROM cl l3 WHERE l3.o_id = l1.o_id AND l3.s_id <> l1.s_id AND l3.late)
 GROUP BY cs.name
 ORDER BY numwait DESC, cs.name
 LIMIT 3
$$);
-- The same without the LIMIT and with a sum, ties broken by nothing.
SELECT cr_create('cr_waiting_all', $$
SELECT cs.nation, count(*) AS numwait, sum(l1.qty) AS qty
  FROM cs JOIN cl l1 ON cs.id = l1.s_id
 WHERE l1.late
   AND EXISTS (SELECT * FROM cl l2 WHERE l2.o_id = l1.o_id AND l2.s_id <> l1.s_id)
   AND NOT EXISTS (SELECT * FROM cl l3 WHERE l3.o_id = l1.o_id AND l3.s_id <> l1.s_id AND l3.late)
 GROUP BY cs.nation
$$);
-- The rows themselves (recomputed by order, no internal table), and a
-- scalar subquery correlated the same way, with ties at a cut.
SELECT cr_create('cr_rows', $$
SELECT l1.o_id, l1.s_id, l1.qty
  FROM cl l1
 WHERE EXISTS (SELECT * FROM cl l2 WHERE l2.o_id = l1.o_id AND l2.s_id <> l1.s_id)
$$);
-- The subquery over another table: lines no other supplier shipped for.
SELECT cr_create('cr_unshipped', $$
SELECT l1.o_id, l1.s_id, count(*) AS n
  FROM cl l1
 WHERE NOT EXISTS (SELECT FROM csh WHERE csh.o_id = l1.o_id AND csh.s_id <> l1.s_id)
 GROUP BY l1.o_id, l1.s_id
$$);
SELECT cr_create('cr_above', $$
SELECT l1.o_id, l1.qty
  FROM cl l1
 WHERE l1.qty > (SELECT avg(l2.qty) FROM cl l2 WHERE l2.o_id = l1.o_id AND l2.id <> l1.id)
 ORDER BY l1.qty DESC
 LIMIT 4
$$);
SELECT name, refresh_mode, refresh_mode_reason FROM dt.dynamic_tables
 WHERE schema_name = 'dt_cr' ORDER BY name::text;

-- Not by the key: a subquery correlated only otherwise is refused.
SELECT * FROM dt_test.create_fails('cr_bad', $$
SELECT l1.o_id, count(*) AS n FROM dt_cr.cl l1
 WHERE EXISTS (SELECT * FROM dt_cr.cl l2 WHERE l2.s_id <> l1.s_id) GROUP BY l1.o_id
$$, refresh_mode => 'incremental');

CREATE FUNCTION cr_check() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    wrong bigint;
BEGIN
    PERFORM dt.refresh(t)
       FROM unnest('{dt_cr.cr_waiting, dt_cr.cr_waiting_all, dt_cr.cr_rows, dt_cr.cr_unshipped, dt_cr.cr_above}'::regclass[]) t;
    PERFORM dt_test.check('dt_cr.cr_waiting');
    PERFORM dt_test.check('dt_cr.cr_unshipped');
    PERFORM dt_test.check('dt_cr.cr_waiting_all');
    PERFORM dt_test.check('dt_cr.cr_rows');
    SELECT count(*) INTO wrong FROM dt_test.diff_topn('dt_cr.cr_above', 'qty DESC');
    IF wrong > 0 THEN
        RAISE EXCEPTION 'cr_above differs from its query';
    END IF;
END $$;

CREATE FUNCTION cr_lines(cnt int) RETURNS void LANGUAGE sql AS $$
INSERT INTO cl (o_id, s_id, late, qty)
SELECT 1 + floor(random() * 20)::int, 1 + floor(random() * 6)::int, random() < 0.4, floor(random() * 5)::int
  FROM generate_series(1, cnt)
$$;

CREATE FUNCTION cr_round() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    op float8;
    o int;
BEGIN
    FOR step IN 1 .. 4 LOOP
        op := random();
        o := 1 + floor(random() * 20)::int;
        IF op < 0.15 THEN
            PERFORM cr_lines(3);
        ELSIF op < 0.25 THEN
            -- the other suppliers' lines of an order that counts go
            DELETE FROM cl WHERE o_id = (SELECT l1.o_id FROM cl l1 WHERE l1.late ORDER BY random() LIMIT 1)
               AND s_id IS DISTINCT FROM (SELECT s_id FROM cl WHERE o_id = o AND late LIMIT 1);
        ELSIF op < 0.4 THEN
            UPDATE cl SET late = NOT late WHERE id IN (SELECT id FROM cl ORDER BY random() LIMIT 2);
        ELSIF op < 0.45 THEN
            UPDATE cl SET s_id = NULL WHERE id IN (SELECT id FROM cl ORDER BY random() LIMIT 1);
        ELSIF op < 0.55 THEN
            UPDATE cl SET s_id = 1 + floor(random() * 6)::int, qty = floor(random() * 5)::int
             WHERE id IN (SELECT id FROM cl ORDER BY random() LIMIT 2);
        ELSIF op < 0.6 THEN
            UPDATE cl SET o_id = o WHERE id IN (SELECT id FROM cl ORDER BY random() LIMIT 2);
        ELSIF op < 0.7 THEN
            UPDATE co SET status = CASE WHEN status = 'F' THEN 'O' ELSE 'F' END WHERE id = o;
        ELSIF op < 0.75 THEN
            DELETE FROM co WHERE id = o;
            INSERT INTO co SELECT i, 'F' FROM generate_series(1, 20) i ON CONFLICT DO NOTHING;
        ELSIF op < 0.85 THEN
            UPDATE cs SET name = 's' || floor(random() * 3)::int, nation = floor(random() * 3)::int
             WHERE id = 1 + floor(random() * 6)::int;
        ELSIF op < 0.9 THEN
            DELETE FROM cs WHERE id = 1 + floor(random() * 6)::int;
            INSERT INTO cs SELECT i, 's' || i, 1 FROM generate_series(1, 6) i ON CONFLICT DO NOTHING;
        ELSIF op < 0.95 THEN
            INSERT INTO csh (o_id, s_id) VALUES (o, CASE WHEN random() < 0.1 THEN NULL ELSE 1 + floor(random() * 6)::int END);
            DELETE FROM csh WHERE id IN (SELECT id FROM csh ORDER BY random() LIMIT 1);
            UPDATE csh SET o_id = o WHERE id IN (SELECT id FROM csh ORDER BY random() LIMIT 1);
        ELSE
            DELETE FROM cl WHERE id IN (SELECT id FROM cl ORDER BY random() LIMIT 3);
        END IF;
    END LOOP;
END $$;

SELECT setseed(0.4242);
INSERT INTO cs SELECT i, 's' || i % 4, i % 3 FROM generate_series(1, 6) i;
INSERT INTO co SELECT i, CASE WHEN i % 4 = 0 THEN 'O' ELSE 'F' END FROM generate_series(1, 20) i;
SELECT cr_lines(80);
INSERT INTO csh (o_id, s_id) SELECT 1 + i % 20, 1 + i % 6 FROM generate_series(1, 15) i;
SELECT cr_check();
SELECT (SELECT count(*) FROM cr_waiting) > 0 AS some_waiting, (SELECT count(*) FROM cr_rows) > 0 AS some_rows;

-- The rounds: writes, refresh, compare; a mismatch raises an error.
DO $$
BEGIN
    FOR round IN 1 .. 40 LOOP
        PERFORM cr_round();
        PERFORM cr_check();
        COMMIT;
    END LOOP;
END $$;

-- Every other supplier's lines of every order go: EXISTS turns false
-- everywhere.  Then they come back.
DELETE FROM cl WHERE s_id IS DISTINCT FROM 1;
SELECT cr_check();
SELECT count(*) AS rows_left FROM cr_rows;
SELECT cr_lines(60);
SELECT cr_check();

SELECT name, count(*) FILTER (WHERE refresh_action = 'FULL') AS full_refreshes,
       count(*) FILTER (WHERE refresh_action = 'INCREMENTAL') > 10 AS incremental
  FROM dt.refresh_history WHERE name LIKE 'dt\_cr.cr%' GROUP BY name ORDER BY name;

-- Dropped with their internal tables (the scheduler's tests count them).
SET client_min_messages = warning;
DROP SCHEMA dt_cr CASCADE;
RESET client_min_messages;
SELECT count(*) AS dynamic_tables_left FROM dt.dynamic_tables WHERE schema_name = 'dt_cr';
SELECT count(*) AS internal_tables_left FROM pg_class
 WHERE relnamespace = 'dt_internal'::regnamespace AND relname LIKE 'sub\_%' AND relkind = 'r'
   AND NOT EXISTS (SELECT FROM dt.dynamic_tables d WHERE relname LIKE 'sub\_' || d.relid::oid || '\_%');
RESET search_path;
