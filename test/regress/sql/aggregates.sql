-- Aggregates maintained incrementally must give what PostgreSQL's own
-- aggregates give: float sums and averages, the variance family over
-- infinities, NaN and constant groups, percentiles, values of extension
-- types (citext: equal values that look different), intervals; and the
-- ones that cannot be maintained fall back to full refreshes with a
-- reason.  Contents are compared with the defining query (dt_test.check);
-- where dt_test.diff's tolerance would hide the difference (NaN, the
-- printed form of a numeric), the text of the values is compared too.

CREATE SCHEMA dt_agg;
SET search_path = dt_agg, public;

-- same_text(dt, key): the rows of a dynamic table next to those of its
-- query, joined on key (never NULL here), with whether their text is the
-- same.
CREATE FUNCTION same_text(dt regclass, key text)
RETURNS TABLE (k text, same boolean, in_table text, in_query text) LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format(
        'SELECT coalesce(d.%1$I, q.%1$I)::text, d::text IS NOT DISTINCT FROM q::text, d::text, q::text
           FROM %2$s d FULL JOIN (%3$s) q ON d.%1$I = q.%1$I ORDER BY 1',
        key, dt, (SELECT query FROM dt.dynamic_tables WHERE relid = dt));
END
$$;

-- ---------------------------------------------------------------------
-- Float sums are exact: 0.1 + 0.2 agrees with the query within
-- dt_test.check's tolerance, and a group of one row (or a table of one
-- row) shows exactly the value the query shows.
-- ---------------------------------------------------------------------
CREATE TABLE f (id int, k text, x float8);
INSERT INTO f VALUES (1, 'a', 0.1), (2, 'a', 0.2), (3, 'b', 1 / 3.0), (4, 'c', 0.1);
SELECT dt.create_dynamic_table('f_k', 'SELECT k, sum(x) AS s, avg(x) AS a, count(*) AS n FROM f GROUP BY k',
                               refresh_mode => 'incremental');
SELECT dt.create_dynamic_table('f_one', 'SELECT sum(x) AS s, avg(x) AS a FROM f WHERE id = 3',
                               refresh_mode => 'incremental');
SELECT dt_test.check('f_k'), dt_test.check('f_one');
-- Guards: one row, compared with = on the float8 values.
SELECT d.s = q.s AS sum_equal, d.a = q.a AS avg_equal
  FROM f_one d, (SELECT sum(x) AS s, avg(x) AS a FROM f WHERE id = 3) q;
SELECT d.k, d.s = q.s AS sum_equal, d.a = q.a AS avg_equal
  FROM f_k d JOIN (SELECT k, sum(x) AS s, avg(x) AS a FROM f GROUP BY k) q USING (k)
 WHERE d.n = 1 ORDER BY d.k;
-- A huge value comes and goes: exact sums lose nothing to it.
INSERT INTO f VALUES (5, 'a', 1e17), (6, 'b', 0.25), (7, 'd', 2 / 3.0);
DELETE FROM f WHERE id = 5;
DELETE FROM f WHERE id = 3;
SELECT action FROM dt.refresh('f_k');
SELECT dt_test.check('f_k');
SELECT d.k, d.s = q.s AS sum_equal, d.a = q.a AS avg_equal
  FROM f_k d JOIN (SELECT k, sum(x) AS s, avg(x) AS a FROM f GROUP BY k) q USING (k)
 WHERE d.n = 1 ORDER BY d.k;

-- ---------------------------------------------------------------------
-- The variance family over a group with +-Infinity or NaN is NaN, float8
-- and numeric, as in PostgreSQL; a constant group's numeric variance
-- prints as 0.  Guards: the text of every value equals the query's.
-- ---------------------------------------------------------------------
CREATE TABLE va (id int, k text, x float8, n numeric);
INSERT INTO va VALUES (1, 'inf', 1, 1), (2, 'inf', 'Infinity', 'Infinity'),
                      (3, 'ninf', '-Infinity', '-Infinity'), (4, 'ninf', 3, 3),
                      (5, 'nan', 1, 1), (6, 'nan', 'NaN', 'NaN'),
                      (7, 'const', 2.5, 2.5), (8, 'const', 2.5, 2.5), (9, 'const', 2.5, 2.5),
                      (10, 'one', 7, 7);
SELECT dt.create_dynamic_table('va_k',
    'SELECT k, var_samp(x) AS vx, var_pop(x) AS vpx, stddev_samp(x) AS sx, stddev_pop(x) AS spx,
            variance(n) AS vn, var_pop(n) AS vpn, stddev(n) AS sn, stddev_pop(n) AS spn
       FROM va GROUP BY k', refresh_mode => 'incremental');
SELECT * FROM same_text('va_k', 'k');
SELECT dt_test.check('va_k');
-- More infinities, NaN and constants arrive; then they leave, and the
-- groups have ordinary variances again.
INSERT INTO va VALUES (11, 'const', 2.5, 2.5), (12, 'inf', 'Infinity', 'Infinity'), (13, 'nan', 2, 2),
                      (14, 'one', 'NaN', 'NaN'), (15, 'mixed', 'Infinity', 'Infinity'),
                      (16, 'mixed', '-Infinity', '-Infinity');
SELECT action FROM dt.refresh('va_k');
SELECT * FROM same_text('va_k', 'k');
DELETE FROM va WHERE id IN (2, 12, 3, 6, 14, 15);
SELECT action FROM dt.refresh('va_k');
SELECT * FROM same_text('va_k', 'k');
SELECT dt_test.check('va_k');

-- A float8 value whose square is beyond double precision (above 1.3e154)
-- in a variance: the query gives one (PostgreSQL squares distances from
-- the mean, not values), the sum of squares an incremental refresh keeps
-- cannot.  Guards: the refresh is full from the query, its state set
-- aside, and says why; so is every refresh while such a value is there
-- (creation included); once they are gone the state is rebuilt (within
-- the ten refreshes after a failed rebuild, which do not try it again) and
-- the refreshes are incremental again.  A query that fails itself fails the
-- refresh.
CREATE TABLE vb (id int, k int, x float8);
INSERT INTO vb VALUES (1, 1, 1), (2, 1, 2);
SELECT dt.create_dynamic_table('vb_k', 'SELECT k, stddev(x) AS s FROM vb GROUP BY k', refresh_mode => 'incremental');
INSERT INTO vb VALUES (3, 2, 1e160), (4, 2, 1e160);
SELECT k, stddev(x) AS s FROM vb GROUP BY k ORDER BY k;
SELECT action FROM dt.refresh('vb_k');
SELECT refresh_action, state_message FROM dt.refresh_history
 WHERE relid = 'vb_k'::regclass ORDER BY refresh_id DESC LIMIT 1;
SELECT dt_test.check('vb_k');
SELECT dt.create_dynamic_table('vb_v', 'SELECT k, variance(x) AS v, count(*) AS n FROM vb GROUP BY k');
SELECT dt_test.check('vb_v');
INSERT INTO vb VALUES (5, 1, 3);
SELECT action FROM dt.refresh('vb_k');
SELECT refresh_action, state_message FROM dt.refresh_history
 WHERE relid = 'vb_k'::regclass ORDER BY refresh_id DESC LIMIT 1;
SELECT dt_test.check('vb_k');
DELETE FROM vb WHERE x = 1e160;
SELECT action FROM dt.refresh('vb_k');
SELECT refresh_action, state_message FROM dt.refresh_history
 WHERE relid = 'vb_k'::regclass ORDER BY refresh_id DESC LIMIT 1;
SELECT dt_test.check('vb_k');
-- A failed rebuild costs its statement, then the query: the ten refreshes
-- after one run the query without trying (the history and explain_refresh
-- say so; with nothing changed, NO_DATA), the next tries again, and the
-- state is rebuilt: the big values are gone.
SELECT object, detail FROM dt.explain_refresh('vb_k') WHERE kind = 'action';
CREATE FUNCTION vb_round(i int) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO vb VALUES (100 + i, 1, i);
    RETURN (SELECT action FROM dt.refresh('vb_k'));
END
$$;
SELECT format('SELECT vb_round(%s) AS action', i) FROM generate_series(1, 9) i \gexec
SELECT refresh_action, state_message FROM dt.refresh_history
 WHERE relid = 'vb_k'::regclass ORDER BY refresh_id DESC LIMIT 2;
SELECT dt_test.check('vb_k');
DROP FUNCTION vb_round(int);
INSERT INTO vb VALUES (6, 2, 4);
SELECT action FROM dt.refresh('vb_k');
SELECT dt_test.check('vb_k');
INSERT INTO vb VALUES (7, 3, 1e160), (8, 3, -1e160);
SELECT * FROM dt_test.fails($$SELECT dt.refresh('vb_k')$$);
DELETE FROM vb WHERE id IN (7, 8);
SELECT dt.alter_dynamic_table('vb_k', refresh_mode => 'full');
SELECT action FROM dt.refresh('vb_k');
SELECT dt_test.check('vb_k');

-- The variance of float sums is dt_internal.fsum_variance: the numeric
-- arithmetic that finalized it in SQL over fsum_numeric (each sum
-- converted wherever it was named), in one call.  Guards: bit for bit the
-- same as that SQL, over random sums of values of many magnitudes (their
-- expansions several components long), constant groups (a numerator of
-- 0) and groups of two.
SELECT setseed(0.61);
SELECT count(*) AS variances, count(*) FILTER (WHERE v.new IS DISTINCT FROM v.old) AS differ,
       count(*) FILTER (WHERE v.new = 0) AS zero, max(array_length(v.s, 1)) > 2 AS long_sums
  FROM (SELECT g.s, dt_internal.fsum_variance(g.n, g.s, g.ss, sample) AS new,
               CASE WHEN (g.n::numeric * dt_internal.fsum_numeric(g.ss)
                          - dt_internal.fsum_numeric(g.s) * dt_internal.fsum_numeric(g.s)) <= 0 THEN 0::float8
                    ELSE ((g.n::numeric * dt_internal.fsum_numeric(g.ss)
                           - dt_internal.fsum_numeric(g.s) * dt_internal.fsum_numeric(g.s))
                          / (g.n::numeric * CASE WHEN sample THEN g.n - 1 ELSE g.n END::numeric))::float8 END AS old
          FROM (SELECT k, count(*) AS n, dt_internal.fsum(x, 1::int2) AS s, dt_internal.fsum_sq(x, 1::int2) AS ss
                  FROM (SELECT i % 40 AS k,
                               CASE WHEN i % 40 < 4 THEN 1.1 * (i % 40 + 1)
                                    ELSE (random() - 0.3) * 10 ^ (floor(random() * 24) - 12) END AS x
                          FROM generate_series(1, 2000) i
                         WHERE i % 40 <> 5 OR i < 90) r
                 GROUP BY k) g,
               (VALUES (true), (false)) AS m(sample)) v;

-- ---------------------------------------------------------------------
-- Percentiles ordered DESC (or USING >): the per-group cursors walk
-- ascending values only, so they are not merged.  Guards: the groups the
-- changes touch are recomputed instead (refresh_mode_reason says so),
-- 'incremental' accepts them, and the table is right.
-- ---------------------------------------------------------------------
CREATE TABLE pc (id int, k text, x float8, c int);
INSERT INTO pc SELECT g, 'k' || g % 3, g * 1.5, g % 7 FROM generate_series(1, 30) g;
SELECT dt.create_dynamic_table('pc_desc',
    'SELECT k, percentile_cont(0.25) WITHIN GROUP (ORDER BY x DESC) AS p25,
            percentile_disc(0.9) WITHIN GROUP (ORDER BY c DESC) AS p90
       FROM pc GROUP BY k');
SELECT dt.create_dynamic_table('pc_using',
    'SELECT k, percentile_disc(0.3) WITHIN GROUP (ORDER BY c USING >) AS p30 FROM pc GROUP BY k');
SELECT name, refresh_mode, refresh_mode_reason FROM dt.dynamic_tables
 WHERE relid IN ('pc_desc'::regclass, 'pc_using'::regclass) ORDER BY table_name;
\set VERBOSITY terse
SELECT dt.create_dynamic_table('pc_desc_inc',
    'SELECT k, percentile_cont(0.25) WITHIN GROUP (ORDER BY x DESC) AS p25 FROM pc GROUP BY k',
    refresh_mode => 'incremental');
\set VERBOSITY default
SELECT dt_test.check('pc_desc'), dt_test.check('pc_using');
INSERT INTO pc VALUES (100, 'k1', 1000, 100), (101, 'k1', 999, 99), (102, 'k0', -5, -5);
DELETE FROM pc WHERE id IN (3, 6, 7);
UPDATE pc SET x = x * 10 WHERE id % 4 = 0;
SELECT action FROM dt.refresh('pc_desc');
SELECT action FROM dt.refresh('pc_using');
SELECT dt_test.check('pc_desc'), dt_test.check('pc_using');

-- ---------------------------------------------------------------------
-- An extension type: citext, whose equal values may differ in case.
-- Min, max and percentiles order values, and count(DISTINCT) and the
-- group key compare them, with the type's own btree operators.  citext
-- brings its own min and max aggregates, which are not maintained
-- incrementally.  Guards: after inserts and deletes of case variants,
-- every table equals its query.
-- ---------------------------------------------------------------------
CREATE EXTENSION citext SCHEMA dt_agg;
CREATE TABLE ci (id int, k text, c citext, g citext);
INSERT INTO ci VALUES (1, 'a', 'Apple', 'X'), (2, 'a', 'apple', 'x'), (3, 'a', 'BANANA', 'Y'),
                      (4, 'b', 'cherry', 'y'), (5, 'b', 'Cherry', 'X'), (6, 'b', 'date', 'Z'),
                      (7, 'b', 'Elder', 'z'), (8, 'a', 'fig', 'Y');
SELECT dt.create_dynamic_table('ci_k',
    'SELECT k, count(DISTINCT c) AS nd, percentile_disc(0.5) WITHIN GROUP (ORDER BY c) AS med,
            percentile_disc(0.9) WITHIN GROUP (ORDER BY c) AS p90, count(*) AS n
       FROM ci GROUP BY k', refresh_mode => 'incremental');
SELECT dt.create_dynamic_table('ci_minmax', 'SELECT k, min(c) AS lo, max(c) AS hi FROM ci GROUP BY k');
SELECT dt.create_dynamic_table('ci_g',
    'SELECT g, count(*) AS n, count(DISTINCT c) AS nd, max(id) AS top FROM ci GROUP BY g',
    refresh_mode => 'incremental');
SELECT name, refresh_mode, refresh_mode_reason FROM dt.dynamic_tables
 WHERE relid = 'ci_minmax'::regclass;
SELECT dt_test.check('ci_k'), dt_test.check('ci_minmax'), dt_test.check('ci_g');
INSERT INTO ci VALUES (9, 'a', 'APPLE', 'z'), (10, 'b', 'CHERRY', 'Y'), (11, 'a', 'banana', 'x'),
                      (12, 'b', 'DATE', 'x');
DELETE FROM ci WHERE id IN (1, 5);
SELECT action FROM dt.refresh('ci_k');
SELECT action FROM dt.refresh('ci_minmax');
SELECT action FROM dt.refresh('ci_g');
SELECT dt_test.check('ci_k'), dt_test.check('ci_minmax'), dt_test.check('ci_g');
DELETE FROM ci WHERE id IN (2, 9);
UPDATE ci SET c = upper(c), g = lower(g) WHERE k = 'b';
DELETE FROM ci WHERE g = 'Y' AND id = 3;
SELECT action FROM dt.refresh('ci_k');
SELECT action FROM dt.refresh('ci_minmax');
SELECT action FROM dt.refresh('ci_g');
SELECT dt_test.check('ci_k'), dt_test.check('ci_minmax'), dt_test.check('ci_g');

-- ---------------------------------------------------------------------
-- Composite values: count(p) counts ROW(1, NULL) (not null as a whole)
-- but not ROW(NULL, NULL); the state cannot tell them apart.  Guards:
-- the groups the changes touch are recomputed, and right.  GROUP BY a
-- composite value is FULL, with the reason (IS NULL of a composite looks
-- at its fields, so it cannot select partitions), and right.
-- ---------------------------------------------------------------------
CREATE TYPE pair AS (a int, b int);
CREATE TABLE cp (id int, k text, p pair);
INSERT INTO cp VALUES (1, 'a', ROW(1, NULL)), (2, 'a', ROW(1, 2)), (3, 'b', NULL), (4, 'b', ROW(NULL, NULL));
SELECT dt.create_dynamic_table('cp_count', 'SELECT k, count(p) AS n, count(*) AS rows FROM cp GROUP BY k');
SELECT dt.create_dynamic_table('cp_group', 'SELECT p, count(*) AS n FROM cp GROUP BY p');
SELECT name, refresh_mode, refresh_mode_reason FROM dt.dynamic_tables
 WHERE relid IN ('cp_count'::regclass, 'cp_group'::regclass) ORDER BY table_name;
SELECT dt_test.check('cp_count'), dt_test.check('cp_group');
INSERT INTO cp VALUES (5, 'a', ROW(NULL, 3)), (6, 'b', ROW(1, NULL)), (7, 'b', ROW(NULL, NULL));
DELETE FROM cp WHERE id = 2;
SELECT action FROM dt.refresh('cp_count');
SELECT action FROM dt.refresh('cp_group');
SELECT dt_test.check('cp_count'), dt_test.check('cp_group');

-- ---------------------------------------------------------------------
-- sum and avg over interval.  Guards: created incrementally and right
-- after inserts, deletes and NULLs.
-- ---------------------------------------------------------------------
CREATE TABLE iv (id int, k text, d interval);
INSERT INTO iv VALUES (1, 'a', '1 day'), (2, 'a', '1 month 2 hours'), (3, 'b', '-3 minutes'), (4, 'b', '1 year');
SELECT dt.create_dynamic_table('iv_k', 'SELECT k, sum(d) AS s, avg(d) AS a, count(d) AS n FROM iv GROUP BY k',
                               refresh_mode => 'incremental');
SELECT dt_test.check('iv_k');
INSERT INTO iv VALUES (5, 'a', '1 year 1 second'), (6, 'b', NULL), (7, 'c', '10 seconds'), (8, 'c', '-10 seconds');
DELETE FROM iv WHERE id = 1;
SELECT action FROM dt.refresh('iv_k');
SELECT dt_test.check('iv_k');
DELETE FROM iv WHERE k = 'b' AND d IS NOT NULL;
UPDATE iv SET d = d * 3 WHERE id = 2;
SELECT action FROM dt.refresh('iv_k');
SELECT dt_test.check('iv_k');
-- An interval's time beyond 2^53 microseconds (3,000,000 hours) is summed
-- to the microsecond: a change row's sign does not go through float8
-- (interval * float8 rounded 10800000000000001 us to ...000, 3 us lost).
INSERT INTO iv VALUES (9, 'd', '3000000 hours 0.000001 sec'), (10, 'd', '3000000 hours 0.000001 sec'),
                      (11, 'd', '3000000 hours 0.000001 sec'), (12, 'd', '1 hour');
SELECT action FROM dt.refresh('iv_k');
SELECT s, a FROM iv_k WHERE k = 'd';
SELECT dt_test.check('iv_k');
DELETE FROM iv WHERE id = 9;
SELECT action FROM dt.refresh('iv_k');
SELECT s, a FROM iv_k WHERE k = 'd';
SELECT dt_test.check('iv_k');

-- A query of 330 float sums: their per-group state (five columns each)
-- would have more columns than a table can have (1600).  Guards: 'auto'
-- refreshes it in full and says why, 'incremental' refuses it saying so.
CREATE TABLE wide (k int, x float8);
INSERT INTO wide SELECT g % 3, g FROM generate_series(1, 9) g;
SELECT 'SELECT k, ' || string_agg(format('sum(x + %s) AS s%s', i, i), ', ') || ' FROM wide GROUP BY k' AS wide_query
  FROM generate_series(1, 330) i \gset
SELECT dt.create_dynamic_table('wide_sums', :'wide_query');
SELECT refresh_mode, refresh_mode_reason FROM dt.dynamic_tables WHERE relid = 'wide_sums'::regclass;
SELECT * FROM dt_test.create_fails('wide_inc', :'wide_query', refresh_mode => 'incremental');
INSERT INTO wide VALUES (1, 100), (7, 7);
SELECT action FROM dt.refresh('wide_sums');
SELECT dt_test.check('wide_sums');

-- sum(money): its state is numeric.  Guards: a window whose delta leaves
-- money's range while the group's sum does not (a large negative amount
-- made a large positive one) is incremental and right (a money state
-- overflowed: the refresh failed and was done in full); NULLs, a group
-- left with none.
CREATE TABLE mo (id int PRIMARY KEY, g int, m money);
INSERT INTO mo VALUES (1, 1, '-90000000000000000'), (2, 1, '1.25'), (3, 2, '5'), (4, 2, NULL);
SELECT dt.create_dynamic_table('mo_sum', 'SELECT g, sum(m) AS s, count(m) AS n FROM mo GROUP BY g',
                               refresh_mode => 'incremental') IS NOT NULL AS created;
UPDATE mo SET m = '90000000000000000' WHERE id = 1;
SELECT action FROM dt.refresh('mo_sum');
SELECT dt_test.check('mo_sum');
INSERT INTO mo VALUES (5, 1, '-90000000000000000.99'), (6, 1, '5.50');
DELETE FROM mo WHERE id = 3;
UPDATE mo SET m = NULL WHERE id = 2;
SELECT action FROM dt.refresh('mo_sum');
SELECT dt_test.check('mo_sum');
SELECT * FROM mo_sum ORDER BY g;
SELECT count(*) AS failed_refreshes FROM dt.refresh_history
 WHERE relid = 'mo_sum'::regclass AND state_message LIKE '%failed%';

-- A float sum's last digits depend on the order of the rows: the state
-- keeps it exactly (0.6 for 0.1, 0.2 and 0.3), the query sums in its
-- scan's order (0.6000000000000001).  Where those digits pick the rows
-- (HAVING, an order under LIMIT), delta merge does not keep it: the
-- tables equal their queries, in full or by another strategy.  A float
-- output column stays merged.  (HAVING sum(f) > 0.6 kept group 1, of 0.1,
-- 0.2 and 0.3, out of the table.)
CREATE TABLE fh (id serial PRIMARY KEY, g int, f float8);
INSERT INTO fh (g, f) VALUES (1, 0.1), (1, 0.2), (1, 0.3), (2, 0.6), (3, 0.7);
CREATE TABLE fh_one (id int PRIMARY KEY);
INSERT INTO fh_one VALUES (1);
SELECT dt.create_dynamic_table('fh_having', 'SELECT g, count(*) AS n FROM fh GROUP BY g HAVING sum(f) > 0.6');
SELECT dt.create_dynamic_table('fh_top', 'SELECT g FROM fh GROUP BY g ORDER BY sum(f) DESC, g LIMIT 1');
SELECT dt.create_dynamic_table('fh_split', $$
SELECT g, count(*) AS n FROM fh GROUP BY g HAVING sum(f) > (SELECT count(*) * 0.6 FROM fh_one)
$$);
SELECT dt.create_dynamic_table('fh_output', 'SELECT g, sum(f) AS s, avg(f) AS a FROM fh GROUP BY g');
SELECT name, refresh_mode_reason LIKE 'aggregates are merged%' AS merged
  FROM dt.dynamic_tables WHERE name::text LIKE 'dt_agg.fh\_%' ORDER BY name::text;
SELECT dt_test.check_all('fh\_%');
INSERT INTO fh (g, f) VALUES (2, 0.1), (2, -0.1), (3, -0.1);
SELECT dt_test.check_all('fh\_%', true);
DELETE FROM fh WHERE id IN (6, 7);
SELECT dt_test.check_all('fh\_%', true);

-- An aggregate's argument under FILTER is computed only for the rows the
-- filter keeps, as PostgreSQL does (merge.c, filter_guarded): here the
-- rows with x = 0 would divide by zero, the state could not be built, and
-- the table refreshed in full.
CREATE TABLE fg (id serial PRIMARY KEY, g int, x int, y numeric);
INSERT INTO fg (g, x, y) SELECT i % 3, i % 4, i % 5 FROM generate_series(1, 40) i;
SELECT dt.create_dynamic_table('fg_dt', $$
SELECT g, sum(100 / x) FILTER (WHERE x <> 0) AS s, avg(100.0 / y) FILTER (WHERE y > 0) AS a,
       max(10 / x) FILTER (WHERE x <> 0) AS m, count(1 / x) FILTER (WHERE x > 1) AS c,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY 7 / x) FILTER (WHERE x <> 0) AS p, count(*) AS n
  FROM fg GROUP BY g
$$, refresh_mode => 'incremental') IS NOT NULL AS created;
INSERT INTO fg (g, x, y) VALUES (1, 0, 0), (2, 5, 2), (0, 0, 1);
UPDATE fg SET x = 0, y = 0 WHERE id IN (1, 2);
DELETE FROM fg WHERE id = 3;
SELECT action FROM dt.refresh('fg_dt');
SELECT count(*) AS state_valid FROM dt_internal.state_valid WHERE relid = 'fg_dt'::regclass;
SELECT dt_test.check_all('fg\_%');

SET client_min_messages = warning;
DROP SCHEMA dt_agg CASCADE;
RESET client_min_messages;
