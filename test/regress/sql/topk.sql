-- Top-k against the oracle (issue 13): a grouped query ending in ORDER BY
-- ... LIMIT (TPC-H Q3, Q10) is maintained by delta merge; every group is
-- in the state, and each refresh chooses the rows within the LIMIT again
-- from the groups it touched and the others' state.
--
-- Small value domains make ties at the cut frequent: there any of the tied
-- rows is a right answer (dt_test.diff_topn); where the ORDER BY orders
-- every row (a unique column last), dt_test.diff compares exactly.  The
-- shapes: a join with the top groups by a sum (Q3's), ORDER BY an
-- aggregate that is not an output column, OFFSET, HAVING, FETCH FIRST ...
-- WITH TIES, NULL group keys and NULL sums sorted first and last.  Seeded
-- random writes on both tables: inserts, moves between groups, value
-- changes, deletes that empty a group at the top, dimension rows renamed
-- and deleted.

CREATE SCHEMA dt_tk;
SET search_path = dt_tk, public;

CREATE TABLE tc (id int PRIMARY KEY, seg text);
CREATE TABLE tl (id serial PRIMARY KEY, c_id int, g int, v int);

CREATE FUNCTION tk_create(name text, query text) RETURNS void LANGUAGE sql AS $$
SELECT dt.create_dynamic_table(name, query, refresh_mode => 'incremental', initialize => 'on_schedule')
$$;

-- Q3's shape: the top groups of a join by a sum, ties broken by nothing.
SELECT tk_create('tk_join', $$
SELECT tl.g, tc.seg, sum(tl.v) AS revenue, count(*) AS n
  FROM tl, tc
 WHERE tc.id = tl.c_id AND tc.seg <> 'x'
 GROUP BY tl.g, tc.seg
 ORDER BY revenue DESC
 LIMIT 4
$$);
-- ORDER BY an aggregate that is not an output column, NULLs first, and a
-- unique tie-breaker: a total order.
SELECT tk_create('tk_hidden', $$
SELECT g, count(*) AS n FROM tl GROUP BY g ORDER BY sum(v) DESC NULLS FIRST, g NULLS FIRST LIMIT 3
$$);
-- OFFSET and HAVING, a total order.
SELECT tk_create('tk_offset', $$
SELECT c_id, max(v) AS top_v, count(*) AS n FROM tl GROUP BY c_id HAVING count(*) > 1
 ORDER BY max(v) NULLS LAST, c_id DESC NULLS LAST LIMIT 5 OFFSET 2
$$);
-- WITH TIES: every row tied with the last one.
SELECT tk_create('tk_ties', $$
SELECT g, v % 3 AS r, count(*) AS n FROM tl GROUP BY g, v % 3 ORDER BY count(*) DESC FETCH FIRST 2 ROWS WITH TIES
$$);

SELECT name, refresh_mode, refresh_mode_reason LIKE '%chosen again%' AS top_k
  FROM dt.dynamic_tables WHERE schema_name = 'dt_tk' ORDER BY name::text;

-- Without GROUP BY there is no group to choose from: the query without
-- its LIMIT is an internal dynamic table (a one-row aggregate), and the row
-- within the LIMIT is chosen again from it (below, for queries that do not
-- aggregate).
SELECT tk_create('tk_keyless', 'SELECT sum(v) AS s FROM dt_tk.tl ORDER BY 1 LIMIT 1');
-- An order that changes with the clock would leave the rows within the
-- LIMIT wrong when nothing changed.
SELECT * FROM dt_test.create_fails('tk_clock', 'SELECT g, count(*) AS n FROM dt_tk.tl GROUP BY g
                                    ORDER BY count(*) * extract(epoch FROM now()) LIMIT 2',
                                   refresh_mode => 'incremental');

CREATE FUNCTION tk_check() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    wrong bigint;
BEGIN
    PERFORM dt.refresh(t) FROM unnest('{dt_tk.tk_join, dt_tk.tk_hidden, dt_tk.tk_offset, dt_tk.tk_ties, dt_tk.tk_keyless}'::regclass[]) t;
    SELECT count(*) INTO wrong FROM dt_test.diff_topn('dt_tk.tk_join', 'revenue DESC');
    IF wrong > 0 THEN
        RAISE EXCEPTION 'tk_join differs from its query';
    END IF;
    PERFORM dt_test.check('dt_tk.tk_hidden');
    PERFORM dt_test.check('dt_tk.tk_offset');
    PERFORM dt_test.check('dt_tk.tk_ties');
    PERFORM dt_test.check('dt_tk.tk_keyless');
END $$;

CREATE FUNCTION tk_insert(cnt int) RETURNS void LANGUAGE sql AS $$
INSERT INTO tl (c_id, g, v)
SELECT CASE WHEN random() < 0.05 THEN NULL ELSE 1 + floor(random() * 9)::int END,
       CASE WHEN random() < 0.05 THEN NULL ELSE floor(random() * 8)::int END,
       CASE WHEN random() < 0.08 THEN NULL ELSE floor(random() * 6)::int END
  FROM generate_series(1, cnt)
$$;

CREATE FUNCTION tk_round() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    op float8;
    top int;
BEGIN
    PERFORM tk_insert(5 + floor(random() * 15)::int);
    FOR step IN 1 .. 4 LOOP
        op := random();
        IF op < 0.2 THEN
            UPDATE tl SET g = floor(random() * 8)::int, c_id = 1 + floor(random() * 9)::int
             WHERE id IN (SELECT id FROM tl ORDER BY random() LIMIT 5);
        ELSIF op < 0.35 THEN
            UPDATE tl SET v = (v + 4) % 7 WHERE id IN (SELECT id FROM tl ORDER BY random() LIMIT 6);
        ELSIF op < 0.5 THEN
            -- empty the group at the top
            SELECT g INTO top FROM tk_join ORDER BY revenue DESC LIMIT 1;
            DELETE FROM tl WHERE g = top;
        ELSIF op < 0.65 THEN
            DELETE FROM tl WHERE id IN (SELECT id FROM tl ORDER BY random() LIMIT 6);
        ELSIF op < 0.75 THEN
            UPDATE tc SET seg = (ARRAY['a', 'b', 'x'])[1 + floor(random() * 3)::int]
             WHERE id = 1 + floor(random() * 9)::int;
        ELSIF op < 0.85 THEN
            DELETE FROM tc WHERE id = 1 + floor(random() * 9)::int;
            INSERT INTO tc SELECT i, 'a' FROM generate_series(1, 9) i ON CONFLICT DO NOTHING;
        ELSE
            PERFORM tk_insert(10);
        END IF;
    END LOOP;
END $$;

SELECT setseed(0.2468);
INSERT INTO tc SELECT i, (ARRAY['a', 'b', 'x'])[1 + i % 3] FROM generate_series(1, 9) i;
SELECT tk_insert(120);
SELECT tk_check();

-- The rounds: writes, refresh, compare; a mismatch raises an error.
DO $$
BEGIN
    FOR round IN 1 .. 30 LOOP
        PERFORM tk_round();
        PERFORM tk_check();
        COMMIT;
    END LOOP;
END $$;

-- Emptied, then back.
DELETE FROM tl;
SELECT tk_check();
SELECT count(*) AS rows_left FROM tk_join;
SELECT tk_insert(50);
SELECT tk_check();

SELECT name, count(*) FILTER (WHERE refresh_action = 'FULL') AS full_refreshes,
       count(*) FILTER (WHERE refresh_action = 'INCREMENTAL') > 25 AS incremental
  FROM dt.refresh_history WHERE name LIKE 'dt\_tk.tk%' GROUP BY name ORDER BY name;

-- Top-k over a query that does not aggregate (TPC-H Q2's shape): the rows
-- of a join whose cost is the minimum of a correlated scalar subquery over
-- two tables, ORDER BY ... LIMIT.  The subquery is an internal dynamic
-- table grouped by its correlation (min by part, delta merge), the query
-- without its LIMIT another, joining it (recompute by part), and the
-- dynamic table chooses its rows again from that one when it changed.
-- Also: the top rows of one table under a condition (no internal table),
-- OFFSET, FETCH FIRST ... WITH TIES and an ORDER BY expression that is not
-- an output column.  Small domains: ties for the minimum and at the cut.
CREATE TABLE tp (pk int PRIMARY KEY, size int, name text);
CREATE TABLE ts (sk int PRIMARY KEY, region text, bal int);
CREATE TABLE tps (pk int, sk int, cost int, PRIMARY KEY (pk, sk));

SELECT tk_create('tk_cheapest', $$
SELECT ts.bal, ts.sk, tp.pk, tp.name, tps.cost
  FROM tp, ts, tps
 WHERE tp.pk = tps.pk AND ts.sk = tps.sk AND tp.size < 4 AND ts.region = 'eu'
   AND tps.cost = (SELECT min(c.cost) FROM tps c, ts s
                    WHERE c.pk = tp.pk AND s.sk = c.sk AND s.region = 'eu')
 ORDER BY ts.bal DESC
 LIMIT 5
$$);
SELECT tk_create('tk_cheapest_offset', $$
SELECT ts.bal, ts.sk, tp.pk
  FROM tp JOIN tps ON tps.pk = tp.pk JOIN ts ON ts.sk = tps.sk
 WHERE tps.cost < (SELECT max(c.cost) FROM tps c WHERE c.pk = tp.pk)
 ORDER BY ts.bal DESC NULLS LAST, tps.cost + tp.pk, ts.sk, tp.pk
 OFFSET 2 LIMIT 4
$$);
SELECT tk_create('tk_rows', $$
SELECT pk, sk, cost FROM tps WHERE cost > 2 ORDER BY cost DESC, pk, sk LIMIT 6
$$);
SELECT tk_create('tk_rows_ties', $$
SELECT tp.pk, tps.sk, tps.cost FROM tp JOIN tps USING (pk) WHERE tp.size < 3
 ORDER BY tps.cost FETCH FIRST 3 ROWS WITH TIES
$$);
-- The internal table of a correlated scalar subquery keeps the keys that
-- the query's conditions on the outer side's relation let through (an
-- EXISTS over it), but not where that relation is on the nullable side of
-- a LEFT JOIN (the first, with a condition that keeps NULLs: the query
-- evaluates it only on the rows the join keeps); in the second the
-- correlation reads two relations, each with conditions of its own.
SELECT tk_create('tk_cheapest_nullable', $$
SELECT ts.sk, tps.pk, tp.name, tps.cost
  FROM ts LEFT JOIN tps ON tps.sk = ts.sk LEFT JOIN tp ON tp.pk = tps.pk
 WHERE (tp.size IS NULL OR tp.size < 3) AND tps.cost >= (SELECT avg(c.cost) FROM tps c WHERE c.pk = tp.pk)
$$);
SELECT tk_create('tk_cheapest_two', $$
SELECT tp.pk, ts.sk, tps.cost
  FROM tp, ts, tps
 WHERE tp.pk = tps.pk AND ts.sk = tps.sk AND tp.size < 4 AND ts.bal > 0
   AND tps.cost * 4 > (SELECT sum(c.cost) FROM tps c, ts s
                        WHERE c.pk = tp.pk AND s.sk = c.sk AND s.region = ts.region)
$$);
SELECT name, refresh_mode, refresh_mode_reason FROM dt.dynamic_tables
 WHERE name::text LIKE '%tk\_cheapest%' OR name::text LIKE '%tk\_rows%' ORDER BY name::text;

-- The internal tables and their indexes: the key index of each strategy,
-- and the ORDER BY of a top-k over the query without its LIMIT.
SELECT d.name, regexp_replace(i.indexdef, '^.* USING ', '') AS index
  FROM dt.dynamic_tables d
  JOIN pg_indexes i ON i.schemaname = 'dt_internal' AND i.tablename LIKE 'sub\_' || d.relid::oid || '\_%'
 WHERE d.name::text LIKE '%tk\_cheapest%' OR d.name::text LIKE '%tk\_rows%' OR d.name::text LIKE '%tk\_keyless%'
 ORDER BY 1, 2;

-- A top-k over one table chooses its rows again from the table: without
-- an index in its ORDER BY every refresh sorts the table, and creating the
-- dynamic table names the index in a NOTICE (tk_rows above); an index
-- read forward or backward in that order (ASC NULLS LAST backward is DESC
-- NULLS FIRST) needs none; nor does an ORDER BY no index can follow.
CREATE TABLE tn (id int PRIMARY KEY, a int, b text COLLATE "C");
SELECT tk_create('tk_notice', 'SELECT id, a FROM tn WHERE b <> ''x'' ORDER BY a DESC, id LIMIT 3');
CREATE INDEX tn_a_id ON tn (a, id DESC);
SELECT tk_create('tk_notice_backward', 'SELECT id, a FROM tn WHERE b <> ''x'' ORDER BY a DESC, id LIMIT 3');
SELECT tk_create('tk_notice_nulls', 'SELECT id, a FROM tn ORDER BY a DESC NULLS LAST, id LIMIT 3');
SELECT tk_create('tk_notice_expr', 'SELECT id, a FROM tn ORDER BY a + id LIMIT 3');
SELECT name, refresh_mode_reason FROM dt.dynamic_tables
 WHERE name::text LIKE '%tk\_notice%' ORDER BY name::text;
INSERT INTO tn SELECT i, i % 4, 'b' || i FROM generate_series(1, 20) i;
SELECT t, (SELECT action FROM dt.refresh(t)) FROM unnest('{tk_notice, tk_notice_backward, tk_notice_nulls}'::regclass[]) t;
UPDATE tn SET a = NULL WHERE id = 7;
UPDATE tn SET b = 'x' WHERE id = 11;
SELECT t, (SELECT action FROM dt.refresh(t)) FROM unnest('{tk_notice, tk_notice_backward, tk_notice_nulls}'::regclass[]) t;
SELECT * FROM tk_notice_backward ORDER BY a DESC, id;
SELECT dt_test.check('tk_notice'), dt_test.check('tk_notice_backward'), dt_test.check('tk_notice_nulls');

CREATE FUNCTION tk_rows_check() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    wrong bigint;
BEGIN
    PERFORM dt.refresh(t) FROM unnest('{dt_tk.tk_cheapest, dt_tk.tk_cheapest_offset, dt_tk.tk_rows, dt_tk.tk_rows_ties,
                                        dt_tk.tk_cheapest_nullable, dt_tk.tk_cheapest_two}'::regclass[]) t;
    SELECT count(*) INTO wrong FROM dt_test.diff_topn('dt_tk.tk_cheapest', 'bal DESC');
    IF wrong > 0 THEN
        RAISE EXCEPTION 'tk_cheapest differs from its query: %',
            (SELECT string_agg(side || ' ' || row_data, '; ') FROM dt_test.diff_topn('dt_tk.tk_cheapest', 'bal DESC'));
    END IF;
    PERFORM dt_test.check('dt_tk.tk_cheapest_offset');
    PERFORM dt_test.check('dt_tk.tk_rows');
    PERFORM dt_test.check('dt_tk.tk_rows_ties');
    PERFORM dt_test.check('dt_tk.tk_cheapest_nullable');
    PERFORM dt_test.check('dt_tk.tk_cheapest_two');
END $$;

-- Seeded random writes on the three tables: new parts and rows, costs
-- changed (the minimum moves, ties for it), the cheapest row of a part
-- deleted, every row of a part deleted, suppliers moved between regions,
-- their balances changed (ties at the cut), suppliers deleted, parts
-- given another size (or none: in or out of the conditions of the
-- internal tables' EXISTS) and deleted.
CREATE FUNCTION tk_rows_round() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    op float8;
BEGIN
    FOR step IN 1 .. 4 LOOP
        op := random();
        IF op < 0.15 THEN
            INSERT INTO tp SELECT coalesce(max(pk), 0) + 1, floor(random() * 6)::int, 'p' || floor(random() * 3)::int FROM tp;
            INSERT INTO tps SELECT (SELECT max(pk) FROM tp), sk, floor(random() * 5)::int FROM ts
             WHERE random() < 0.5 ON CONFLICT DO NOTHING;
        ELSIF op < 0.35 THEN
            UPDATE tps SET cost = floor(random() * 5)::int
             WHERE (pk, sk) IN (SELECT pk, sk FROM tps ORDER BY random() LIMIT 4);
        ELSIF op < 0.45 THEN
            DELETE FROM tps WHERE (pk, sk) IN (SELECT pk, sk FROM tps
                                                WHERE cost = (SELECT min(cost) FROM tps c WHERE c.pk = tps.pk)
                                                ORDER BY random() LIMIT 2);
        ELSIF op < 0.5 THEN
            DELETE FROM tps WHERE pk = (SELECT pk FROM tps ORDER BY random() LIMIT 1);
        ELSIF op < 0.65 THEN
            UPDATE ts SET region = CASE WHEN region = 'eu' THEN 'us' ELSE 'eu' END
             WHERE sk = (SELECT sk FROM ts ORDER BY random() LIMIT 1);
        ELSIF op < 0.8 THEN
            UPDATE ts SET bal = CASE WHEN random() < 0.1 THEN NULL ELSE floor(random() * 4)::int END
             WHERE sk IN (SELECT sk FROM ts ORDER BY random() LIMIT 2);
        ELSIF op < 0.85 THEN
            DELETE FROM ts WHERE sk = (SELECT sk FROM ts ORDER BY random() LIMIT 1);
            INSERT INTO ts SELECT i, 'eu', floor(random() * 4)::int FROM generate_series(1, 8) i ON CONFLICT DO NOTHING;
        ELSIF op < 0.95 THEN
            UPDATE tp SET size = CASE WHEN random() < 0.1 THEN NULL ELSE floor(random() * 6)::int END, name = 'p' || floor(random() * 3)::int
             WHERE pk IN (SELECT pk FROM tp ORDER BY random() LIMIT 2);
        ELSE
            DELETE FROM tp WHERE pk = (SELECT pk FROM tp ORDER BY random() LIMIT 1);
        END IF;
    END LOOP;
END $$;

SELECT setseed(0.1357);
INSERT INTO ts SELECT i, (ARRAY['eu', 'us'])[1 + i % 2], i % 4 FROM generate_series(1, 8) i;
INSERT INTO tp SELECT i, i % 6, 'p' || i % 3 FROM generate_series(1, 30) i;
INSERT INTO tps SELECT p, s, floor(random() * 5)::int FROM generate_series(1, 30) p, generate_series(1, 8) s
 WHERE random() < 0.5;
SELECT tk_rows_check();
DO $$
BEGIN
    FOR round IN 1 .. 30 LOOP
        PERFORM tk_rows_round();
        PERFORM tk_rows_check();
        COMMIT;
    END LOOP;
END $$;
-- The minimum's internal table keeps only the parts the query can reach,
-- those of size under 4: its query has the query's condition on tp as an
-- EXISTS, so tp is one of its inputs, and the costs of other parts, or of
-- parts that left that size, are in no group.
SELECT format('dt_internal.sub_%s_1', 'tk_cheapest'::regclass::oid) AS cheapest_min \gset
SELECT kind, object FROM dt.explain_refresh(:'cheapest_min') WHERE kind IN ('strategy', 'input') ORDER BY step;
SELECT count(*) > 0 AS some_parts,
       count(*) FILTER (WHERE NOT EXISTS (SELECT FROM tp WHERE tp.pk = m.k1 AND tp.size < 4)) AS unreachable_parts
  FROM :cheapest_min m;
SELECT d.name, i.query_text
  FROM dt.dynamic_tables d
  JOIN dt_internal.dynamic_table i ON i.relid = format('dt_internal.sub_%s_1', d.relid::oid)::regclass
 WHERE d.name::text LIKE '%tk\_cheapest\_%' ORDER BY 1;
-- Emptied, then back.
DELETE FROM tps;
SELECT tk_rows_check();
SELECT count(*) AS rows_left FROM tk_cheapest;
INSERT INTO tps SELECT p, s, (p + s) % 3 FROM generate_series(1, 30) p, generate_series(1, 8) s;
SELECT tk_rows_check();
SELECT name, count(*) FILTER (WHERE refresh_action = 'FULL') AS full_refreshes,
       count(*) FILTER (WHERE refresh_action = 'INCREMENTAL') > 25 AS incremental
  FROM dt.refresh_history WHERE name LIKE 'dt\_tk.tk\_cheapest%' OR name LIKE 'dt\_tk.tk\_rows%'
 GROUP BY name ORDER BY name;

-- A guard on the nullable side's relation: the query divides by tp.size
-- only where it is not NULL, and only on the rows its LEFT JOIN keeps;
-- parts of size 0 that no order reaches (they have costs, so groups in
-- the internal table) must not make a refresh divide by zero where the
-- query does not: the rewrite must not let the planner make the join an
-- inner one (evaluating the guard on every part), nor copy the guard into
-- the internal table's EXISTS (every part with costs).
CREATE TABLE go (id int PRIMARY KEY, pk int, v int);
SELECT tk_create('tk_guarded', $$
SELECT go.id, tp.pk, tp.size
  FROM go LEFT JOIN tp ON tp.pk = go.pk
 WHERE (tp.size IS NULL OR 12 / tp.size > 2) AND go.v > (SELECT min(c.cost) FROM tps c WHERE c.pk = tp.pk)
$$);
SELECT refresh_mode, refresh_mode_reason FROM dt.dynamic_tables WHERE name::text = 'dt_tk.tk_guarded';
-- Seeded writes: orders added (some for no part, some for parts that do
-- not exist), moved and deleted; parts of size 0 that no order reaches
-- added, given costs, and sized NULL and back; an order's part never of
-- size 0 (the query itself would divide by zero).
CREATE FUNCTION tk_guarded_round() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO go SELECT coalesce(max(id), 0) + 1,
                          CASE WHEN random() < 0.2 THEN NULL ELSE floor(random() * 40)::int END,
                          floor(random() * 5)::int FROM go;
    UPDATE go SET pk = floor(random() * 40)::int, v = floor(random() * 5)::int
     WHERE id = (SELECT id FROM go ORDER BY random() LIMIT 1);
    DELETE FROM go WHERE random() < 0.05;
    INSERT INTO tp SELECT coalesce(max(pk), 0) + 1, 0, 'zero' FROM tp;
    INSERT INTO tps SELECT (SELECT max(pk) FROM tp), sk, floor(random() * 5)::int FROM ts WHERE random() < 0.5
        ON CONFLICT DO NOTHING;
    UPDATE tp SET size = CASE WHEN size IS NULL THEN 0 ELSE NULL END
     WHERE pk = (SELECT pk FROM tp WHERE size = 0 OR size IS NULL ORDER BY random() LIMIT 1);
    UPDATE tp SET size = 1 WHERE size = 0 AND pk IN (SELECT pk FROM go);
END $$;
INSERT INTO go SELECT i, CASE WHEN i % 9 = 0 THEN NULL ELSE i % 45 END, i % 5 FROM generate_series(1, 40) i;
UPDATE tp SET size = 1 WHERE size = 0 AND pk IN (SELECT pk FROM go);
DO $$
BEGIN
    FOR round IN 1 .. 20 LOOP
        PERFORM tk_guarded_round();
        PERFORM dt.refresh('dt_tk.tk_guarded');
        PERFORM dt_test.check('dt_tk.tk_guarded');
        COMMIT;
    END LOOP;
END $$;
-- Reached parts of no size: the guard's other branch.
UPDATE tp SET size = NULL WHERE pk IN (SELECT pk FROM go ORDER BY id LIMIT 6);
UPDATE go SET v = 9 WHERE id IN (SELECT id FROM go ORDER BY id LIMIT 6);
SELECT dt.refresh('dt_tk.tk_guarded') IS NOT NULL AS refreshed;
SELECT dt_test.check('dt_tk.tk_guarded');
SELECT count(*) > 10 AS unreached_parts_of_size_0,
       (SELECT count(*) FROM tk_guarded) > 5 AS some_rows,
       (SELECT count(*) FROM tk_guarded WHERE size IS NULL) > 0 AS rows_of_size_null
  FROM tp WHERE size = 0;
SELECT count(*) FILTER (WHERE refresh_action = 'FULL') AS full_refreshes,
       count(*) FILTER (WHERE refresh_action = 'INCREMENTAL') AS incremental_refreshes
  FROM dt.refresh_history WHERE name = 'dt_tk.tk_guarded';

RESET search_path;
