-- An internal table (src/internal.c) with a per-group state of its own,
-- under a batch that would make it full (adaptive refresh: a window larger
-- than any it timed that holds much of its inputs, or a rebuild marker:
-- src/refresh.c, leave_to_parent).  Its own full refresh set its state
-- aside, and its next refresh, inside its parent's, rebuilt that state
-- inline; now it leaves its window to its parent, which is refreshed in
-- full from its query, its internal tables set aside, to be built apart.
-- The shapes: an IN over a join (TPC-H Q20) and an aggregate over an
-- aggregate (Q13).  Every table is compared with its query
-- (test/oracle.sql) after every refresh.
SET pg_dynamic_tables.adaptive_refresh = on;
SET pg_dynamic_tables.build_state_apart = on;
CREATE TABLE ib_o (k int PRIMARY KEY, c int, prio text);
CREATE TABLE ib_l (k int, n int, p int, qty int, PRIMARY KEY (k, n));
CREATE TABLE ib_p (p int PRIMARY KEY, name text);
INSERT INTO ib_p SELECT i, 'part' || i FROM generate_series(1, 2000) i;
INSERT INTO ib_o SELECT i, i % 500, 'p' || i % 3 FROM generate_series(1, 30000) i;
INSERT INTO ib_l SELECT k, n, 1 + (k * 7 + n * 13) % 2000, 1 + (k + n) % 20
  FROM generate_series(1, 30000) k, generate_series(1, 2) n;
ANALYZE ib_o, ib_l, ib_p;

CREATE TABLE ib_dts (name text, query text);
INSERT INTO ib_dts VALUES
  ('ib_q20', 'SELECT p.p, p.name FROM ib_p p
               WHERE p.p IN (SELECT l.p FROM ib_l l JOIN ib_o o ON o.k = l.k
                              WHERE o.prio = ''p1'' AND l.qty > 17)'),
  ('ib_q13', 'SELECT cnt, count(*) AS custdist
                FROM (SELECT c, count(k) AS cnt FROM ib_o GROUP BY c) s GROUP BY cnt');
SELECT count(dt.create_dynamic_table(name, query, refresh_mode => 'incremental')) AS created FROM ib_dts;
CREATE VIEW ib_subs AS
SELECT b.name, s.relid
  FROM ib_dts b JOIN dt_internal.dynamic_table s
    ON s.relid::regclass::text LIKE format('dt_internal.sub\_%s\_%%', b.name::regclass::oid);
SELECT name, count(*) AS internal_tables FROM ib_subs GROUP BY name ORDER BY name;

-- small(i): a few orders and lines changed, a part renamed
CREATE FUNCTION small(i int) RETURNS void LANGUAGE sql AS $$
UPDATE ib_o SET prio = 'p1', c = (c + 7) % 500 WHERE k IN (3 * i + 1, 3 * i + 3001, 3 * i + 6001);
UPDATE ib_l SET qty = CASE WHEN qty > 17 THEN 1 ELSE 20 END WHERE k IN (3 * i + 1, 3 * i + 3001, 3 * i + 6001);
UPDATE ib_p SET name = name || '.' WHERE p IN (i, i + 500);
$$;

-- refresh_all(): each table refreshed: its action, its message (names and
-- figures masked), whether it equals its query (dt_test.refresh_each)
CREATE FUNCTION refresh_all() RETURNS TABLE (name text, action text, message text, equal boolean)
LANGUAGE sql AS $$
SELECT * FROM dt_test.refresh_each(ARRAY(SELECT d.name FROM ib_dts d ORDER BY d.name))
$$;

-- state(): per table, is its state valid, and how many of its internal
-- tables are populated
CREATE FUNCTION state() RETURNS TABLE (name text, valid boolean, populated bigint) LANGUAGE sql AS $$
SELECT b.name, EXISTS (SELECT FROM dt_internal.state_valid v WHERE v.relid = b.name::regclass),
       (SELECT count(*) FILTER (WHERE d.populated) FROM ib_subs s
          JOIN dt_internal.dynamic_table d USING (relid) WHERE s.name = b.name)
  FROM ib_dts b ORDER BY b.name
$$;

-- internal_rows(after): the internal tables' refreshes since history row
-- "after", by trigger and action
CREATE FUNCTION internal_rows(after bigint) RETURNS TABLE (refresh_trigger text, refresh_action text, n bigint)
LANGUAGE sql AS $$
SELECT l.refresh_trigger, l.refresh_action, count(*)
  FROM dt_internal.refresh_log l JOIN ib_subs s USING (relid)
 WHERE l.refresh_id > after GROUP BY 1, 2 ORDER BY 1, 2
$$;

SELECT small(1);
SELECT name, action, equal FROM refresh_all();
SELECT small(2);
SELECT name, action, equal FROM refresh_all();
SELECT small(3);
SELECT name, action, equal FROM refresh_all();
SELECT max(refresh_id) AS before_bulk FROM dt_internal.refresh_log \gset

-- 1. A batch that changes every order, under the internal tables only:
-- explained, then refreshed, each table in full from its query, its
-- internal tables left alone (no refresh of theirs) and set aside.
UPDATE ib_o SET prio = 'p' || (k + 1) % 3, c = (c + 11) % 500;
SELECT e.name, a.object AS action,
       dt_test.mask_figures(a.detail) AS why
  FROM ib_dts e, dt.explain_refresh(e.name::regclass) a
 WHERE a.kind = 'action' ORDER BY e.name;
SELECT * FROM refresh_all();
SELECT * FROM internal_rows(:before_bulk);
SELECT * FROM state();
-- Explained again in this session, after those refreshes, nothing
-- changed since: nothing to do (the reason a table's internal table left
-- its window to it is that refresh's only, and gone with its transaction).
SELECT e.name, a.object AS action, a.detail AS why
  FROM ib_dts e, dt.explain_refresh(e.name::regclass) a
 WHERE a.kind = 'action' ORDER BY e.name;

-- 2. Built apart, then caught up: no internal table is ever rebuilt
-- inline.
SELECT small(4);
SELECT name, action, equal FROM refresh_all();
SELECT name, dt.build_state(name::regclass) AS built FROM ib_dts ORDER BY name;
SELECT small(5);
SELECT name, action, equal FROM refresh_all();
SELECT * FROM state();
SELECT small(6);
SELECT name, action, equal FROM refresh_all();
SELECT * FROM internal_rows(:before_bulk);

-- 3. A bulk load under the internal table of ib_q20 (a rebuild marker in
-- the log of ib_l, which ib_q13 does not read): ib_q20 in full from its
-- query, its internal table left alone and set aside.
SELECT max(refresh_id) AS before_load FROM dt_internal.refresh_log \gset
INSERT INTO ib_l SELECT k, n, 1 + (k * 11 + n) % 2000, 18 + k % 3
  FROM generate_series(1, 30000) k, generate_series(3, 3) n;
SELECT * FROM refresh_all();
SELECT * FROM internal_rows(:before_load);
SELECT * FROM state();
SELECT name, dt.build_state(name::regclass) AS built FROM ib_dts ORDER BY name;
SELECT small(7);
SELECT name, action, equal FROM refresh_all();
SELECT * FROM state();
SELECT small(8);
SELECT name, action, equal FROM refresh_all();
SELECT * FROM internal_rows(:before_bulk);

-- 4. A table that never timed an incremental refresh (its refreshes so
-- far planned their statements): set aside so, it is built apart all the
-- same under build_state_apart on, not rebuilt inline by its next refresh.
SELECT dt.create_dynamic_table('ib_young', 'SELECT p.p, p.name FROM ib_p p
  WHERE p.p IN (SELECT l.p FROM ib_l l JOIN ib_o o ON o.k = l.k WHERE o.prio = ''p2'' AND l.qty > 18)',
  refresh_mode => 'incremental') IS NOT NULL AS created;
INSERT INTO ib_dts VALUES ('ib_young', NULL);
SELECT max(refresh_id) AS before_young FROM dt_internal.refresh_log \gset
UPDATE ib_o SET prio = 'p' || (k + 2) % 3;
SELECT name, action, CASE WHEN name = 'ib_young' THEN message END AS message, equal FROM refresh_all();
SELECT small(9);
SELECT name, action, CASE WHEN name = 'ib_young' THEN message END AS message, equal FROM refresh_all();
SELECT * FROM internal_rows(:before_young);
SELECT name, dt.build_state(name::regclass) AS built FROM ib_dts WHERE name = 'ib_young';
SELECT small(10);
SELECT name, action, equal FROM refresh_all();
SELECT * FROM internal_rows(:before_young);

-- 5. A lost state (a crash empties dt_internal.state_valid, unlogged),
-- then a bulk load into ib_p, which ib_q20 reads itself (a rebuild marker
-- in its own window), and changes under its internal table: ib_q20 is
-- rebuilt inline, and its internal table, populated, with no figures of
-- its own (its parent's history decides for it), is rebuilt with it, not
-- left to be built apart: dt.build_state refuses an internal table, and
-- ib_q20, its state valid, has nothing to build; it stayed full from its
-- query at every refresh.  (ib_q20, set aside in 4, is built and caught
-- up first.)
SELECT dt.build_state('ib_q20') AS built;
SELECT small(11);
SELECT action FROM dt.refresh('ib_q20');
SELECT * FROM state() WHERE name = 'ib_q20';
SELECT max(refresh_id) AS before_lost FROM dt_internal.refresh_log \gset
DELETE FROM dt_internal.state_valid WHERE relid IN (SELECT 'ib_q20'::regclass UNION ALL
                                                    SELECT relid FROM ib_subs WHERE name = 'ib_q20');
INSERT INTO ib_p SELECT i, 'part' || i FROM generate_series(2001, 14000) i;
SELECT small(12);
SELECT action FROM dt.refresh('ib_q20');
SELECT small(13);
SELECT action FROM dt.refresh('ib_q20');
SELECT small(14);
SELECT action FROM dt.refresh('ib_q20');
SELECT count(*) AS mismatches FROM dt_test.diff('ib_q20');
SELECT * FROM internal_rows(:before_lost);
SELECT * FROM state() WHERE name = 'ib_q20';
SELECT EXISTS (SELECT FROM dt_internal.state_valid v JOIN ib_subs s USING (relid) WHERE s.name = 'ib_q20')
       AS internal_valid;

SELECT dt.drop_dynamic_table(name) FROM ib_dts ORDER BY name;
DROP VIEW ib_subs;
DROP TABLE ib_dts, ib_o, ib_l, ib_p;
DROP FUNCTION small(int), refresh_all(), state(), internal_rows(bigint);
