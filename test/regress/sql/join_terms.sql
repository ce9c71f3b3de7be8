-- The change of a join whose inputs all changed in one window
-- (src/deparse.c, change_terms): each changed relation's changes joined
-- with the relations before it as they are now and those after it as they
-- were, "now minus the changes", which is expanded into signed terms for
-- the first four changed relations and read as a union for the others.
-- Six tables take seeded random inserts, updates (that move rows between
-- groups and across the join) and deletes, all in one window, then in
-- windows that change five, two and one of them; after each the dynamic
-- tables must equal their queries, and every refresh must be incremental.
-- A delta-merge table and a recompute-by-key table (whose key query reads
-- the same terms) read the same join.

CREATE TABLE jt_r (id int PRIMARY KEY, name text);
CREATE TABLE jt_n (id int PRIMARY KEY, r int, name text);
CREATE TABLE jt_c (id int PRIMARY KEY, n int, bal int);
CREATE TABLE jt_o (id int PRIMARY KEY, c int, prio int);
CREATE TABLE jt_s (id int PRIMARY KEY, n int, bal int);
CREATE TABLE jt_l (id int PRIMARY KEY, o int, s int, x int);
CREATE INDEX ON jt_c (n);
CREATE INDEX ON jt_o (c);
CREATE INDEX ON jt_l (o);

SELECT setseed(0.31);
INSERT INTO jt_r SELECT i, 'r' || i FROM generate_series(1, 3) i;
INSERT INTO jt_n SELECT i, 1 + i % 3, 'n' || i FROM generate_series(1, 8) i;
INSERT INTO jt_c SELECT i, 1 + i % 8, i * 7 % 50 FROM generate_series(1, 40) i;
INSERT INTO jt_o SELECT i, 1 + i % 40, i % 5 FROM generate_series(1, 120) i;
INSERT INTO jt_s SELECT i, 1 + i % 8, i * 3 FROM generate_series(1, 10) i;
INSERT INTO jt_l SELECT i, 1 + i % 120, 1 + i % 10, i % 17 FROM generate_series(1, 400) i;

SELECT dt.create_dynamic_table('jt_merge', $$
SELECT r.name, count(*) AS n, sum(l.x) AS x, max(s.bal) AS max_bal, count(DISTINCT o.prio) AS prios
  FROM jt_r r, jt_n n, jt_c c, jt_o o, jt_l l, jt_s s
 WHERE n.r = r.id AND c.n = n.id AND o.c = c.id AND l.o = o.id AND l.s = s.id AND s.n = c.n
 GROUP BY r.name
$$, refresh_mode => 'incremental') IS NOT NULL AS created;
SELECT dt.create_dynamic_table('jt_keys', $$
SELECT l.id, l.x + s.bal AS v, c.n AS nation, r.name
  FROM jt_r r JOIN jt_n n ON n.r = r.id JOIN jt_c c ON c.n = n.id JOIN jt_o o ON o.c = c.id
  JOIN jt_l l ON l.o = o.id JOIN jt_s s ON s.id = l.s
 WHERE r.name <> 'r0'
$$, refresh_mode => 'incremental') IS NOT NULL AS created;
SELECT refresh_mode_reason FROM dt.dynamic_tables WHERE relid = 'jt_keys'::regclass;

-- jt_writes(tables): seeded random writes on the tables named, a few rows
-- each (pick() is a random key for each row: about one row matches).
CREATE FUNCTION pick(n int) RETURNS int LANGUAGE sql AS 'SELECT 1 + floor(random() * n)::int';
CREATE FUNCTION jt_writes(tables text[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF 'r' = ANY (tables) THEN
        UPDATE jt_r SET name = 'r' || pick(4) WHERE id = pick(6);
    END IF;
    IF 'n' = ANY (tables) THEN
        UPDATE jt_n SET r = pick(3) WHERE id = pick(10);
        DELETE FROM jt_n WHERE id = pick(20);
        INSERT INTO jt_n SELECT i, 1 + i % 3, 'n' || i FROM generate_series(1, 8) i ON CONFLICT DO NOTHING;
    END IF;
    IF 'c' = ANY (tables) THEN
        UPDATE jt_c SET n = pick(8) WHERE id = pick(40) OR id = pick(40);
        DELETE FROM jt_c WHERE id = pick(40);
        INSERT INTO jt_c VALUES (pick(45), pick(8), pick(50)) ON CONFLICT DO NOTHING;
    END IF;
    IF 'o' = ANY (tables) THEN
        UPDATE jt_o SET c = pick(45), prio = pick(6) WHERE id = pick(120) OR id = pick(120);
        DELETE FROM jt_o WHERE id = pick(120);
        INSERT INTO jt_o VALUES (pick(140), pick(45), pick(5)) ON CONFLICT DO NOTHING;
    END IF;
    IF 's' = ANY (tables) THEN
        UPDATE jt_s SET n = pick(8), bal = pick(40) WHERE id = pick(10);
    END IF;
    IF 'l' = ANY (tables) THEN
        UPDATE jt_l SET o = pick(140), x = pick(20) WHERE id = pick(400) OR id = pick(400) OR id = pick(400);
        DELETE FROM jt_l WHERE id = pick(400) OR id = pick(400);
        INSERT INTO jt_l SELECT 400 + pick(1000), pick(140), pick(10), pick(20)
          FROM generate_series(1, 5) ON CONFLICT DO NOTHING;
    END IF;
END $$;

-- Rounds, each its own window: all six tables, five, two, one.
DO $$
DECLARE
    tables text[];
BEGIN
    FOREACH tables SLICE 1 IN ARRAY ARRAY[
        ['r', 'n', 'c', 'o', 'l', 's'], ['r', 'n', 'c', 'o', 'l', 's'], ['n', 'c', 'o', 'l', 's', 's'],
        ['c', 'l', 'l', 'l', 'l', 'l'], ['l', 'l', 'l', 'l', 'l', 'l'], ['r', 'n', 'c', 'o', 'l', 's'],
        ['s', 'n', 's', 's', 's', 's'], ['r', 'n', 'c', 'o', 'l', 's']]
    LOOP
        PERFORM jt_writes(tables);
        COMMIT;
        PERFORM dt_test.check_all('jt_%', true);
        COMMIT;
    END LOOP;
END $$;

-- The merge is always incremental; the key query finds few keys, so most
-- recompute refreshes are too (one touching a quarter of the keys is full).
SELECT refresh_action, count(*) FROM dt.refresh_history
 WHERE relid = 'jt_merge'::regclass GROUP BY 1 ORDER BY 1;
SELECT count(*) FILTER (WHERE refresh_action = 'INCREMENTAL') >= 4 AS mostly_incremental
  FROM dt.refresh_history WHERE relid = 'jt_keys'::regclass;
SELECT count(*) > 0 AS rows FROM jt_merge;
SELECT count(*) > 0 AS rows FROM jt_keys;

SELECT dt.drop_dynamic_table('jt_merge');
SELECT dt.drop_dynamic_table('jt_keys');
DROP FUNCTION jt_writes(text[]), pick(int);
DROP TABLE jt_r, jt_n, jt_c, jt_o, jt_s, jt_l;

-- The terms of a change probe the tables they join as they are now by the
-- keys of the change (src/refresh.c, run_window): issue 13's minimal join,
-- a quarter of its size.  1,000 new rows of jp_o join jp_l (100,000 rows)
-- through its primary key: at the default random_page_cost the planner
-- hashed all of jp_l for them (and the refresh cost more than recomputing).
CREATE TABLE jp_o (k int PRIMARY KEY, g int);
CREATE TABLE jp_l (k int, n int, x int, PRIMARY KEY (k, n));
INSERT INTO jp_o SELECT i, i % 10 FROM generate_series(1, 25000) i;
INSERT INTO jp_l SELECT i, n, n FROM generate_series(1, 25000) i, generate_series(1, 4) n;
ANALYZE jp_o, jp_l;
SELECT dt.create_dynamic_table('jp_j', 'SELECT o.g, sum(l.x) AS s FROM jp_o o JOIN jp_l l ON l.k = o.k GROUP BY o.g',
                               refresh_mode => 'incremental') IS NOT NULL AS created;
INSERT INTO jp_o SELECT 25000 + i, i % 10 FROM generate_series(1, 1000) i;
INSERT INTO jp_l SELECT 25000 + i, n, n FROM generate_series(1, 1000) i, generate_series(1, 4) n;
-- (the counts of this transaction only: those of the earlier ones flushed)
SELECT pg_stat_force_next_flush();
BEGIN;
SELECT action FROM dt.refresh('jp_j');
SELECT seq_scan AS jp_l_scanned, idx_scan > 0 AS jp_l_probed FROM pg_stat_xact_user_tables WHERE relid = 'jp_l'::regclass;
COMMIT;
SELECT count(*) AS mismatches FROM dt_test.diff('jp_j');
SELECT dt.drop_dynamic_table('jp_j');
DROP TABLE jp_o, jp_l;
