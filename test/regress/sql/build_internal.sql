-- Internal tables (src/internal.c) built apart from their parent's
-- refreshes (dt.build_state; src/refresh.c, refresh_build_state).  A full
-- refresh that adaptive refresh chooses for a table whose subqueries are
-- held by internal tables runs the query as written and sets them aside
-- (moved on unrefreshed, not populated).  The build refreshes them in
-- full as of a snapshot of its own (history trigger BUILD), and of a
-- delta-merge table builds its per-group state from them; the next
-- refresh of the table refreshes them first, from the build's position,
-- then catches up: a delta-merge table merges the changes since into its
-- state, another is filled from its internal tables.  The shapes are
-- TPC-H's (examples/tpch): an aggregate over an aggregate (Q13), a
-- correlated average (Q17), a threshold with NOT EXISTS (Q22), an IN over
-- a join (Q20), a WITH query read twice with its maximum (Q15), a
-- correlated minimum under ORDER BY ... LIMIT (Q2), a HAVING threshold
-- (Q11).  Every table is compared with its query (test/oracle.sql) after
-- seeded random writes.
SELECT setseed(0.47);
CREATE TABLE bi_o (k int PRIMARY KEY, c int, total int, prio text);
CREATE TABLE bi_l (k int, n int, p int, qty int, price int, PRIMARY KEY (k, n));
CREATE TABLE bi_p (p int PRIMARY KEY, name text, size int);
INSERT INTO bi_p SELECT i, 'part' || i, i % 7 FROM generate_series(1, 60) i;
INSERT INTO bi_o SELECT i, (random() * 40)::int, (random() * 1000)::int, 'p' || i % 3
  FROM generate_series(1, 1200) i;
INSERT INTO bi_l SELECT k, n, 1 + (random() * 59)::int, 1 + (random() * 20)::int, (random() * 100)::int
  FROM generate_series(1, 1200) k, generate_series(1, 3) n;
ANALYZE bi_o, bi_l, bi_p;

CREATE TABLE bi_dts (name text, query text);
INSERT INTO bi_dts VALUES
  ('bi_q13', 'SELECT cnt, count(*) AS custdist
                FROM (SELECT c, count(k) AS cnt FROM bi_o GROUP BY c) s GROUP BY cnt'),
  ('bi_q17', 'SELECT sum(l.price) AS s, count(*) AS n FROM bi_l l JOIN bi_p p ON p.p = l.p
               WHERE p.size = 3 AND l.qty < (SELECT 0.5 * avg(l2.qty) FROM bi_l l2 WHERE l2.p = l.p)'),
  ('bi_q22', 'SELECT prio, count(*) AS n, sum(total) AS t FROM bi_o
               WHERE total > (SELECT avg(total) FROM bi_o WHERE total > 100)
                 AND NOT EXISTS (SELECT FROM bi_l WHERE bi_l.k = bi_o.k AND bi_l.qty > 19)
               GROUP BY prio'),
  ('bi_q20', 'SELECT p.p, p.name FROM bi_p p
               WHERE p.p IN (SELECT l.p FROM bi_l l JOIN bi_o o ON o.k = l.k
                              WHERE o.prio = ''p1'' AND l.qty > 17)'),
  ('bi_q15', 'WITH rev AS (SELECT p, sum(price * qty) AS r FROM bi_l GROUP BY p)
              SELECT p.p, p.name, rev.r FROM bi_p p JOIN rev ON rev.p = p.p
               WHERE rev.r = (SELECT max(r) FROM rev)'),
  ('bi_q02', 'SELECT p.p, p.name, l.price, l.k, l.n FROM bi_p p JOIN bi_l l ON l.p = p.p
               WHERE p.size = 2 AND l.price = (SELECT min(l2.price) FROM bi_l l2 WHERE l2.p = p.p)
               ORDER BY l.price DESC, p.p, l.k, l.n LIMIT 5'),
  ('bi_q11', 'SELECT p, sum(price * qty) AS v FROM bi_l GROUP BY p
              HAVING sum(price * qty) > (SELECT sum(price * qty) * 0.02 FROM bi_l)');
SELECT count(dt.create_dynamic_table(name, query, refresh_mode => 'incremental')) AS created FROM bi_dts;

-- subs: each table's internal tables, numbered in the order they were made
CREATE VIEW bi_subs AS
SELECT b.name, s.relid, row_number() OVER (PARTITION BY b.name ORDER BY s.relid) AS n
  FROM bi_dts b JOIN dt_internal.dynamic_table s
    ON s.relid::regclass::text LIKE format('dt_internal.sub\_%s\_%%', b.name::regclass::oid);
SELECT b.name, a.strategy, count(s.relid) AS internal_tables
  FROM bi_dts b LEFT JOIN bi_subs s USING (name),
       LATERAL (SELECT detail AS strategy FROM dt.explain_refresh(b.name::regclass)
                 WHERE kind = 'strategy') a
 GROUP BY b.name, a.strategy ORDER BY b.name;

-- writes(n): n random inserts, updates and deletes, a statement each
CREATE FUNCTION writes(n int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE i int; r float8; nk int;
BEGIN
    FOR i IN 1 .. n LOOP
        r := random();
        IF r < 0.3 THEN
            nk := (SELECT coalesce(max(o.k), 0) + 1 FROM bi_o o);
            INSERT INTO bi_o VALUES (nk, (random() * 40)::int, (random() * 1000)::int, 'p' || nk % 3);
            INSERT INTO bi_l SELECT nk, g.n, 1 + (random() * 59)::int, 1 + (random() * 20)::int,
                                    (random() * 100)::int FROM generate_series(1, 3) g(n);
        ELSIF r < 0.5 THEN
            nk := (SELECT o.k FROM bi_o o ORDER BY random() LIMIT 1);
            DELETE FROM bi_l WHERE bi_l.k = nk;
            DELETE FROM bi_o WHERE bi_o.k = nk;
        ELSIF r < 0.7 THEN
            UPDATE bi_l SET qty = 1 + (random() * 20)::int, price = (random() * 100)::int
             WHERE (bi_l.k, bi_l.n) = (SELECT l.k, l.n FROM bi_l l ORDER BY random() LIMIT 1);
        ELSIF r < 0.85 THEN
            UPDATE bi_o SET total = (random() * 1000)::int, c = (random() * 40)::int
             WHERE bi_o.k = (SELECT o.k FROM bi_o o ORDER BY random() LIMIT 1);
        ELSE
            UPDATE bi_p SET size = (random() * 6)::int, name = 'part' || (random() * 100)::int
             WHERE p = 1 + (random() * 59)::int;
        END IF;
    END LOOP;
END
$$;

-- refresh_all(): each table refreshed: its action, its message (figures
-- masked), whether it equals its query (dt_test.refresh_each)
CREATE FUNCTION refresh_all() RETURNS TABLE (name text, action text, message text, equal boolean)
LANGUAGE sql AS $$
SELECT * FROM dt_test.refresh_each(ARRAY(SELECT d.name FROM bi_dts d ORDER BY d.name))
$$;

-- history(full, incremental): every table's history says a full refresh
-- costs full, an incremental one of 10 rows incremental
CREATE FUNCTION history("full" interval, incremental interval) RETURNS void LANGUAGE sql AS $$
DELETE FROM dt_internal.refresh_log WHERE relid IN (SELECT name::regclass FROM bi_dts);
INSERT INTO dt_internal.refresh_log (relid, table_name, refresh_start_time, refresh_end_time,
                                     refresh_action, refresh_trigger, state, changes, state_message)
SELECT b.name::regclass, b.name, t, t + "full", 'FULL', 'MANUAL', 'SUCCEEDED', NULL,
       'an incremental refresh of (written by the test)'
  FROM bi_dts b, generate_series(1, 3), LATERAL (SELECT now() - interval '1 hour' AS t) n;
INSERT INTO dt_internal.refresh_log (relid, table_name, refresh_start_time, refresh_end_time,
                                     refresh_action, refresh_trigger, state, changes)
SELECT b.name::regclass, b.name, t, t + incremental, 'INCREMENTAL', 'MANUAL', 'SUCCEEDED', 10
  FROM bi_dts b, generate_series(1, 3), LATERAL (SELECT now() - interval '1 hour' AS t) n;
$$;
-- cheap_full(): a full refresh 10 ms, an incremental one 100 ms: the next
-- refresh that reads changes is full and sets the internal tables aside
CREATE FUNCTION cheap_full() RETURNS void LANGUAGE sql AS $$
SELECT history('10 ms', '100 ms')
$$;

-- aside_all(): with adaptive refresh and a history saying full refreshes
-- are cheaper (cheap_full), writes, then each table refreshed: in full,
-- its internal tables set aside
CREATE FUNCTION aside_all() RETURNS TABLE (name text, action text, equal boolean) LANGUAGE sql
SET pg_dynamic_tables.adaptive_refresh = on AS $$
SELECT cheap_full();
SELECT writes(20);
SELECT r.name, r.action, r.equal FROM refresh_all() r
$$;

-- state(): per table, is its state valid, built apart, and how many of its
-- internal tables are populated
CREATE FUNCTION state() RETURNS TABLE (name text, valid boolean, built_apart boolean, populated bigint)
LANGUAGE sql AS $$
SELECT b.name, EXISTS (SELECT FROM dt_internal.state_valid v WHERE v.relid = b.name::regclass),
       EXISTS (SELECT FROM dt_internal.state_position p WHERE p.relid = b.name::regclass),
       (SELECT count(*) FILTER (WHERE d.populated) FROM bi_subs s
          JOIN dt_internal.dynamic_table d USING (relid) WHERE s.name = b.name)
  FROM bi_dts b ORDER BY b.name
$$;

SELECT writes(30);
SELECT name, action, equal FROM refresh_all();

-- 1. Set aside by adaptive refresh, then built apart: the internal tables
-- are refreshed in full by the build, the next refresh catches up.
SELECT * FROM aside_all();
SELECT * FROM state();
SELECT writes(20);
SELECT name, dt.build_state(name::regclass) AS built FROM bi_dts ORDER BY name;
SELECT * FROM state();
-- the internal tables' refreshes of the build
SELECT DISTINCT l.refresh_trigger, l.refresh_action
  FROM dt_internal.refresh_log l JOIN bi_subs s USING (relid)
 WHERE l.refresh_id > (SELECT max(refresh_id) FROM dt_internal.refresh_log
                        WHERE relid IN (SELECT name::regclass FROM bi_dts));
SELECT dt.build_state('bi_q13') AS built_again;
-- explained with nothing merged since the build (bi_q17, which has no
-- internal table, read nothing since; the others' internal tables are not
-- refreshed by an explanation): the table filled from its state
SELECT e.object AS action, string_agg(s.object, ', ' ORDER BY s.step) AS statements
  FROM dt.explain_refresh('bi_q17') e, dt.explain_refresh('bi_q17') s
 WHERE e.kind = 'action' AND s.kind = 'statement' GROUP BY e.object;
SELECT e.object AS action, string_agg(s.object, ', ' ORDER BY s.step) AS statements
  FROM dt.explain_refresh('bi_q13') e, dt.explain_refresh('bi_q13') s
 WHERE e.kind = 'action' AND s.kind = 'statement' GROUP BY e.object;
SELECT writes(20);
SELECT * FROM refresh_all();
SELECT * FROM state();
SELECT writes(30);
SELECT name, action, equal FROM refresh_all();

-- 2. The build, the writes and the refreshes in one transaction.
SELECT * FROM aside_all();
BEGIN;
SELECT writes(10);
SELECT count(*) FILTER (WHERE dt.build_state(name::regclass)) AS built FROM bi_dts;
SELECT writes(10);
SELECT name, action, equal FROM refresh_all();
SELECT writes(10);
SELECT name, action, equal FROM refresh_all();
COMMIT;
SELECT * FROM state();

-- 3. A rebuild marker after the build (TRUNCATE): the internal tables
-- built apart are of no use; forgotten, and rebuilt by the refresh.
SELECT * FROM aside_all();
SELECT count(*) FILTER (WHERE dt.build_state(name::regclass)) AS built FROM bi_dts;
CREATE TEMP TABLE bi_copy AS SELECT * FROM bi_l;
TRUNCATE bi_l;
INSERT INTO bi_l SELECT * FROM bi_copy;
SELECT name, action, equal FROM refresh_all();
SELECT * FROM state();
SELECT writes(20);
SELECT name, action, equal FROM refresh_all();

-- 4. With adaptive refresh and pg_dynamic_tables.build_state_apart on, the
-- refresh whose history says rebuilding the internal tables would pay
-- refreshes in full from the query instead, leaving them set aside (its
-- message says so); nothing changed, the next is NO_DATA, not a rebuild.
SELECT * FROM aside_all();
SET pg_dynamic_tables.adaptive_refresh = on;
SELECT history('1 s', '1 ms');
SET pg_dynamic_tables.build_state_apart = on;
SELECT writes(5);
SELECT * FROM refresh_all();
SELECT * FROM state();
SELECT name, action FROM refresh_all();
SELECT count(*) FILTER (WHERE dt.build_state(name::regclass)) AS built FROM bi_dts;
SELECT writes(10);
SELECT name, action, equal FROM refresh_all();
SELECT * FROM state();
RESET pg_dynamic_tables.build_state_apart;
RESET pg_dynamic_tables.adaptive_refresh;

-- 5. Under auto, the default (the database's workers' setting reset in a
-- transaction rolled back, which they never see), a table of internal
-- tables alone waits for a build apart while its full refreshes that
-- waited took less in all than the build is expected to: the longest of
-- its last rebuilds, here one of its internal tables inline of 2 s as
-- written (its message begins "the internal tables"), not six times its
-- full refresh of 1 s.  Each waiting refresh is set to 1 s after it: the
-- third rebuilds them inline, not the seventh.
SELECT * FROM aside_all();
BEGIN;
SELECT format('ALTER DATABASE %I RESET pg_dynamic_tables.build_state_apart', current_database()) \gexec
SET LOCAL pg_dynamic_tables.adaptive_refresh = on;
SET LOCAL pg_dynamic_tables.build_state_apart = auto;
SELECT history('1 s', '1 ms');
INSERT INTO dt_internal.refresh_log (relid, table_name, refresh_start_time, refresh_end_time,
                                     refresh_action, refresh_trigger, state, state_message)
SELECT 'bi_q11'::regclass, 'bi_q11', t, t + interval '2 s', 'FULL', 'MANUAL', 'SUCCEEDED',
       'the internal tables (written by the test)'
  FROM (SELECT now() - interval '1 hour' AS t) n;
CREATE FUNCTION waits(cnt int) RETURNS TABLE (i int, action text, waited text, equal boolean)
LANGUAGE plpgsql AS $$
DECLARE j int;
BEGIN
    FOR j IN 1 .. cnt LOOP
        i := j;
        UPDATE bi_l l SET qty = 18 + j % 3
         WHERE (l.k, l.n) IN (SELECT l2.k, l2.n FROM bi_l l2 ORDER BY l2.k, l2.n LIMIT 3);
        SELECT r.action, substring(r.message FROM 'deferred refresh [0-9]+|built inline after [0-9]+ deferred refreshes'),
               r.equal INTO action, waited, equal FROM dt_test.refresh_each(ARRAY['bi_q11']) r;
        PERFORM dt_test.time_last_refresh('bi_q11', interval '1 s');
        RETURN NEXT;
    END LOOP;
END
$$;
SELECT * FROM waits(4);
ROLLBACK;

SELECT count(dt.drop_dynamic_table(name::regclass)) AS dropped FROM bi_dts;
SELECT count(*) AS internal_left FROM dt_internal.dynamic_table
 WHERE relid::regclass::text LIKE 'dt_internal.sub\_%';
DROP VIEW bi_subs;
DROP TABLE bi_dts, bi_o, bi_l, bi_p;
DROP FUNCTION writes(int), refresh_all(), aside_all(), cheap_full(), history(interval, interval), state();
