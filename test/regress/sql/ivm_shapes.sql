-- The shapes of pg_ivm's regression tests, against the oracle (issue 13).
-- Outer joins: two- and three-way LEFT, RIGHT, INNER and FULL joins
-- selecting both sides' join columns, expressions over the nullable side
-- that are not strict, joins on inequalities and extra conditions, WHERE
-- conditions that keep null-extended rows, aggregates over outer joins.
-- A FULL JOIN of two tables selecting x.k and y.k of its equality (not
-- COALESCE(x.k, y.k)) is recomputed by the pair of them: the rows of (v,
-- v), (v, NULL), (NULL, v) and (NULL, NULL) for the k of every change.
-- Chains of FULL JOINs (three and four tables, mixed with LEFT, RIGHT and
-- INNER joins) by the values of any join column; a FULL JOIN beside a
-- table on no nullable side by that table's key.  Queries that read no
-- table (a function, VALUES): constant.
-- Subqueries and WITH queries in FROM joined with tables, nested, a WITH
-- query read twice: recomputed by key as the joins they are, merged into
-- the levels that read them (querytree_flatten).  (Our own tables and
-- writes; the shapes are those pg_ivm maintains, and more.)
--
-- Seeded random writes on every table: inserts with NULL keys, keys
-- changed (a match made or broken), deletes; after every round every
-- dynamic table must equal its defining query, and every refresh must be
-- incremental.

CREATE SCHEMA dt_iv;
SET search_path = dt_iv, public;

CREATE TABLE r (id serial PRIMARY KEY, i int);
CREATE TABLE s (id serial PRIMARY KEY, i int, j int);
CREATE TABLE t (id serial PRIMARY KEY, j int);
CREATE TABLE a (id serial PRIMARY KEY, i int, j int);
CREATE TABLE b (id serial PRIMARY KEY, i int, k int);
CREATE INDEX ON r (i);
CREATE INDEX ON s (i);
CREATE INDEX ON t (j);
CREATE INDEX ON a (i);
CREATE INDEX ON b (i);

CREATE FUNCTION iv_create(name text, query text) RETURNS void LANGUAGE sql AS $$
SELECT dt.create_dynamic_table(name, query, refresh_mode => 'incremental', initialize => 'on_schedule')
$$;

-- Two tables, FULL JOIN, both join columns (pg_ivm's mv(r, s)), under a
-- WHERE, and a table with itself.
SELECT iv_create('iv_full', $$
SELECT r.i AS ri, s.i AS si, s.j AS sj FROM r FULL JOIN s ON r.i = s.i
$$);
SELECT iv_create('iv_full_where', $$
SELECT r.i AS ri, s.i AS si FROM r FULL JOIN s ON r.i = s.i WHERE s.i > 0
$$);
SELECT iv_create('iv_full_self', $$
SELECT x.i AS i1, y.i AS i2 FROM r x FULL JOIN r y ON x.i = y.i
$$);
-- Three tables, LEFT, RIGHT and INNER joins in each order, every join
-- column selected.
SELECT iv_create('iv_left_left', $$
SELECT r.i AS ri, s.i AS si, s.j AS sj, t.j AS tj FROM r LEFT JOIN s ON r.i = s.i LEFT JOIN t ON s.j = t.j
$$);
SELECT iv_create('iv_left_right', $$
SELECT r.i AS ri, s.i AS si, s.j AS sj, t.j AS tj FROM r LEFT JOIN s ON r.i = s.i RIGHT JOIN t ON s.j = t.j
$$);
SELECT iv_create('iv_right_inner', $$
SELECT r.i AS ri, s.i AS si, s.j AS sj, t.j AS tj FROM r RIGHT JOIN s ON r.i = s.i INNER JOIN t ON s.j = t.j
$$);
SELECT iv_create('iv_inner_left', $$
SELECT r.i AS ri, s.i AS si, s.j AS sj, t.j AS tj FROM r INNER JOIN s ON r.i = s.i LEFT JOIN t ON s.j = t.j
$$);
SELECT iv_create('iv_right_right', $$
SELECT r.i AS ri, s.i AS si, s.j AS sj, t.j AS tj FROM r RIGHT JOIN s ON r.i = s.i RIGHT JOIN t ON s.j = t.j
$$);
-- A FULL JOIN on the nullable side of an outer join, or under an inner
-- join: the rows of a table on no nullable side partition the query, the
-- FULL JOIN only joined to them (pg_ivm's r FULL JOIN s RIGHT JOIN t,
-- r FULL JOIN s INNER JOIN t, r LEFT JOIN (s CROSS JOIN (t FULL JOIN u))).
SELECT iv_create('iv_full_right', $$
SELECT r.i AS ri, s.i AS si, s.j AS sj, t.j AS tj FROM r FULL JOIN s ON r.i = s.i RIGHT JOIN t ON s.j = t.j
$$);
SELECT iv_create('iv_full_inner', $$
SELECT r.i AS ri, s.i AS si, s.j AS sj, t.j AS tj FROM r FULL JOIN s ON r.i = s.i INNER JOIN t ON s.j = t.j
$$);
SELECT iv_create('iv_left_cross_full', $$
SELECT r.i AS ri, s.i AS si, t.j AS tj, a.j AS aj
  FROM r LEFT JOIN (s CROSS JOIN (t FULL JOIN a ON t.j = a.j)) ON r.i = s.i
$$);
-- Chains of FULL JOINs (pg_ivm's three- and four-table outer joins, every
-- join column selected): recomputed by the values of any join column, the
-- rows with a value a change touches in some join column (its own, or
-- that of a row joined to it), and the rows with every join column NULL
-- when a changed row had them all NULL.
SELECT iv_create('iv_fj_full', $$
SELECT r.i AS ri, s.i AS si, s.j AS sj, t.j AS tj FROM r FULL JOIN s ON r.i = s.i FULL JOIN t ON s.j = t.j
$$);
SELECT iv_create('iv_fj_distinct', $$
SELECT DISTINCT r.i AS ri, s.i AS si, s.j AS sj, t.j AS tj FROM r FULL JOIN s ON r.i = s.i FULL JOIN t ON s.j = t.j
$$);
SELECT iv_create('iv_fj_left', $$
SELECT r.i AS ri, s.i AS si, s.j AS sj, t.j AS tj FROM r FULL JOIN s ON r.i = s.i LEFT JOIN t ON s.j = t.j
$$);
SELECT iv_create('iv_fj_left_full', $$
SELECT r.i AS ri, s.i AS si, s.j AS sj, t.j AS tj FROM r LEFT JOIN s ON r.i = s.i FULL JOIN t ON s.j = t.j
$$);
SELECT iv_create('iv_fj_right_full', $$
SELECT r.i AS ri, s.i AS si, s.j AS sj, t.j AS tj FROM r RIGHT JOIN s ON r.i = s.i FULL JOIN t ON s.j = t.j
$$);
SELECT iv_create('iv_fj_inner_full', $$
SELECT r.i AS ri, s.i AS si, s.j AS sj, t.j AS tj, s.id AS sid FROM r INNER JOIN s ON r.i = s.i FULL JOIN t ON s.j = t.j
 WHERE t.j IS DISTINCT FROM 3
$$);
SELECT iv_create('iv_fj_cond', $$
SELECT r.i AS ri, s.i AS si, s.j AS sj, t.j AS tj
  FROM r FULL JOIN s ON s.j > 0 AND r.i = s.i FULL JOIN t ON s.j = t.j AND t.id > s.id
$$);
SELECT iv_create('iv_fj_four', $$
SELECT r.i AS ri, s.i AS si, t.j AS tj, a.i AS ai, a.j AS aj
  FROM (r FULL JOIN s ON r.i = s.i) FULL JOIN (t FULL JOIN a ON t.j = a.j) ON r.i = a.i
$$);
-- EXISTS in WHERE without aggregates (pg_ivm's mv_ivm_exists_subquery,
-- with a condition, under DISTINCT): recomputed by the correlation's key,
-- duplicates of a row kept as the query has them.
SELECT iv_create('iv_exists', $$
SELECT a.i, a.j FROM a WHERE EXISTS (SELECT 1 FROM b WHERE a.i = b.i)
$$);
SELECT iv_create('iv_exists_cond', $$
SELECT a.i, a.j FROM a WHERE EXISTS (SELECT 1 FROM b WHERE a.i = b.i) AND a.i > 2
$$);
SELECT iv_create('iv_exists_distinct', $$
SELECT DISTINCT a.i, a.j FROM a WHERE EXISTS (SELECT 1 FROM b WHERE a.i = b.i)
$$);
-- What pg_ivm refuses: expressions that are not strict over the nullable
-- side, an inequality, a condition beyond the equality, WHERE keeping
-- null-extended rows, an aggregate over an outer join.
SELECT iv_create('iv_not_strict', $$
SELECT a.i AS ai, b.i AS bi, (b.k > 10 OR b.k = -1) AS big, CASE WHEN b.k > 0 THEN 1 ELSE 0 END AS pos
  FROM a LEFT JOIN b ON a.i = b.i
$$);
SELECT iv_create('iv_inequality', $$
SELECT a.i AS ai, b.i AS bi FROM a LEFT JOIN b ON a.i > b.i
$$);
SELECT iv_create('iv_extra_cond', $$
SELECT a.i AS ai, b.i AS bi, b.k FROM a LEFT JOIN b ON a.i = b.i AND b.k = a.j
$$);
SELECT iv_create('iv_null_kept', $$
SELECT a.i AS ai, b.i AS bi FROM a LEFT JOIN b ON a.i = b.i WHERE b.k IS NULL OR a.j > 5
$$);
SELECT iv_create('iv_agg', $$
SELECT a.i AS ai, b.i AS bi, sum(b.k) AS sum_k, count(*) AS n FROM a LEFT JOIN b ON a.i = b.i GROUP BY a.i, b.i
$$);
-- Subqueries and WITH queries in FROM joined with tables (pg_ivm's
-- mv_ivm_subquery, mv_ivm_join_subquery, mv_cte, mv_cte_multi).
SELECT iv_create('iv_sub_comma', $$
SELECT a.i, a.j, b.k FROM a, (SELECT * FROM b) b WHERE a.i = b.i
$$);
SELECT iv_create('iv_sub_nested', $$
SELECT i, j, k FROM (SELECT i, a.j, b.k FROM b INNER JOIN (SELECT * FROM a) a USING (i)) tmp
$$);
SELECT iv_create('iv_cte_two', $$
WITH x AS (SELECT * FROM a), y AS (SELECT * FROM b WHERE k > 0) SELECT x.i, x.j, y.k FROM x, y WHERE x.i = y.i
$$);
SELECT iv_create('iv_cte_nested', $$
WITH y AS (SELECT * FROM b) SELECT v.i, v.j FROM (WITH x AS (SELECT * FROM a) SELECT x.i, x.j FROM x, y WHERE x.i = y.i) v
$$);
SELECT iv_create('iv_cte_self', $$
WITH t2 AS (SELECT * FROM b) SELECT p.i, p.k AS k1, q.k AS k2 FROM t2 p JOIN t2 q ON p.i = q.i
$$);

SELECT name, refresh_mode, refresh_mode_reason
  FROM dt.dynamic_tables WHERE relid::text LIKE 'iv\_%' ORDER BY relid::text;

-- Refused: FULL JOINs without a join's two columns in the select list, or
-- joined on no equality of two columns, and one side's key without the
-- other's.
SELECT code, error FROM dt_test.create_fails('iv_full3_hidden', $$
SELECT r.i AS ri, s.i AS si, t.j AS tj FROM r FULL JOIN s ON r.i = s.i FULL JOIN t ON s.j = t.j
$$, refresh_mode => 'incremental');
SELECT code, error FROM dt_test.create_fails('iv_full3_inequality', $$
SELECT r.i AS ri, s.i AS si, s.j AS sj, t.j AS tj FROM r FULL JOIN s ON r.i = s.i FULL JOIN t ON s.j < t.j
$$, refresh_mode => 'incremental');
SELECT code, error FROM dt_test.create_fails('iv_full_one_side', $$
SELECT r.i AS ri, s.j AS sj FROM r FULL JOIN s ON r.i = s.i
$$, refresh_mode => 'incremental');

-- A query that reads no table never changes (pg_ivm's mv_ivm_func and
-- mv_ivm_no_tbl): incremental, and a refresh after the first has nothing
-- to do.  The clock changes: now() is refreshed in full, and refused as
-- incremental.
CREATE FUNCTION iv_one() RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 1';
SELECT iv_create('cn_one', 'SELECT 1 AS one');
SELECT iv_create('cn_func', 'SELECT * FROM iv_one()');
SELECT iv_create('cn_series', 'SELECT g, v.x FROM generate_series(1, 3) g, (VALUES (1), (2)) v(x)');
SELECT name, refresh_mode, refresh_mode_reason
  FROM dt.dynamic_tables WHERE relid::text LIKE 'cn\_%' ORDER BY relid::text;
SELECT (SELECT action FROM dt.refresh(t)) AS first, (SELECT action FROM dt.refresh(t)) AS second
  FROM unnest('{cn_one, cn_func, cn_series}'::regclass[]) t;
SELECT dt_test.check('cn_one'), dt_test.check('cn_func'), dt_test.check('cn_series');
SELECT count(*) FROM cn_series;
SELECT kind, detail FROM dt.explain_refresh('cn_func');
SELECT code, error FROM dt_test.create_fails('cn_now', 'SELECT now() AS t', refresh_mode => 'incremental');

CREATE FUNCTION iv_key() RETURNS int LANGUAGE sql AS $$
SELECT CASE WHEN random() < 0.12 THEN NULL ELSE floor(random() * 6)::int END
$$;

CREATE FUNCTION iv_round() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    op float8;
BEGIN
    FOR step IN 1 .. 5 LOOP
        op := random();
        IF op < 0.12 THEN
            INSERT INTO r (i) SELECT iv_key() FROM generate_series(1, 2);
        ELSIF op < 0.24 THEN
            INSERT INTO s (i, j) SELECT iv_key(), iv_key() FROM generate_series(1, 2);
        ELSIF op < 0.32 THEN
            INSERT INTO t (j) SELECT iv_key();
        ELSIF op < 0.44 THEN
            INSERT INTO a (i, j) SELECT iv_key(), floor(random() * 10)::int FROM generate_series(1, 2);
            INSERT INTO b (i, k) SELECT iv_key(), floor(random() * 20)::int - 2 FROM generate_series(1, 2);
        ELSIF op < 0.6 THEN
            UPDATE r SET i = iv_key() WHERE id IN (SELECT id FROM r ORDER BY random() LIMIT 1);
            UPDATE s SET i = iv_key() WHERE id IN (SELECT id FROM s ORDER BY random() LIMIT 1);
            UPDATE t SET j = iv_key() WHERE id IN (SELECT id FROM t ORDER BY random() LIMIT 1);
        ELSIF op < 0.72 THEN
            UPDATE a SET i = iv_key(), j = j + 3 WHERE id IN (SELECT id FROM a ORDER BY random() LIMIT 2);
            UPDATE b SET i = iv_key(), k = k - 4 WHERE id IN (SELECT id FROM b ORDER BY random() LIMIT 2);
        ELSIF op < 0.86 THEN
            DELETE FROM r WHERE id IN (SELECT id FROM r ORDER BY random() LIMIT 1);
            DELETE FROM s WHERE id IN (SELECT id FROM s ORDER BY random() LIMIT 1);
            DELETE FROM t WHERE id IN (SELECT id FROM t ORDER BY random() LIMIT 1);
        ELSE
            DELETE FROM a WHERE id IN (SELECT id FROM a ORDER BY random() LIMIT 1);
            DELETE FROM b WHERE id IN (SELECT id FROM b ORDER BY random() LIMIT 2);
        END IF;
    END LOOP;
END $$;

SELECT setseed(0.3141);
INSERT INTO r (i) SELECT iv_key() FROM generate_series(1, 8);
INSERT INTO s (i, j) SELECT iv_key(), iv_key() FROM generate_series(1, 8);
INSERT INTO t (j) SELECT iv_key() FROM generate_series(1, 5);
INSERT INTO a (i, j) SELECT iv_key(), floor(random() * 10)::int FROM generate_series(1, 10);
INSERT INTO b (i, k) SELECT iv_key(), floor(random() * 20)::int - 2 FROM generate_series(1, 10);
SELECT dt_test.check_all('iv\_%', true);

DO $$
BEGIN
    FOR round IN 1 .. 30 LOOP
        PERFORM iv_round();
        PERFORM dt_test.check_all('iv\_%', true);
        COMMIT;
    END LOOP;
END $$;

-- A match made and broken on the FULL JOIN, rows of one side only.
INSERT INTO r (i) VALUES (100);
SELECT action FROM dt.refresh('iv_full');
SELECT * FROM iv_full WHERE ri = 100 OR si = 100;
INSERT INTO s (i, j) VALUES (100, 7);
SELECT action FROM dt.refresh('iv_full');
SELECT * FROM iv_full WHERE ri = 100 OR si = 100;
DELETE FROM r WHERE i = 100;
SELECT action FROM dt.refresh('iv_full');
SELECT * FROM iv_full WHERE ri = 100 OR si = 100;
SELECT dt_test.check('iv_full');

-- Every refresh after the first (FULL) was incremental or had nothing to do.
SELECT relid::regclass::text AS dt,
       count(*) FILTER (WHERE refresh_action = 'FULL' AND state_message IS NULL) AS full_refreshes,
       count(*) FILTER (WHERE refresh_action = 'INCREMENTAL') > 5 AS incremental
  FROM dt.refresh_history WHERE relid::regclass::text LIKE 'iv\_%'
 GROUP BY 1 ORDER BY 1;

-- A UNION ALL in FROM joined with a table: its branches are flattened
-- each, the set operation kept (its branches were emptied: rows lost, or
-- an internal error where they read the only changed table).  No column
-- partitions it then: full, and right.
CREATE TABLE u_c (id int PRIMARY KEY, region text);
CREATE TABLE u_o (id int PRIMARY KEY, c int, amt int);
CREATE TABLE u_o2 (id int PRIMARY KEY, c int, amt int);
INSERT INTO u_c VALUES (1, 'r0'), (2, 'r1'), (3, 'r0');
INSERT INTO u_o VALUES (1, 1, 10), (2, 2, 20), (3, 3, 30);
INSERT INTO u_o2 VALUES (1, 1, 100), (2, 3, 300);
SELECT dt.create_dynamic_table('un_self',
    $$SELECT u_c.id, x.amt FROM u_c JOIN (SELECT c, amt FROM u_o UNION ALL SELECT id, -1 FROM u_c WHERE region = 'r1') x ON x.c = u_c.id$$,
    refresh_mode => 'auto');
SELECT dt.create_dynamic_table('un_two',
    $$SELECT u_c.id, x.amt FROM u_c JOIN (SELECT c, amt FROM u_o UNION ALL SELECT c, amt FROM u_o2) x ON x.c = u_c.id$$,
    refresh_mode => 'auto');
SELECT relid, refresh_mode FROM dt.dynamic_tables WHERE relid::text LIKE 'un\_%' ORDER BY 1;
UPDATE u_c SET region = 'r1' WHERE id = 3;
SELECT action FROM dt.refresh('un_self');
SELECT * FROM un_self ORDER BY id, amt;
INSERT INTO u_o2 VALUES (3, 2, 222);
SELECT action FROM dt.refresh('un_two');
SELECT * FROM un_two ORDER BY id, amt;
SELECT dt_test.check('un_self'), dt_test.check('un_two');

SET client_min_messages = warning;
DROP SCHEMA dt_iv CASCADE;
RESET client_min_messages;
