-- The action a refresh takes: NO_DATA when nothing it reads changed, FULL
-- when its changes cannot be merged (or the query cannot be maintained
-- incrementally), INCREMENTAL otherwise; and whichever it is, the dynamic
-- table equals its query afterwards (dt_test.check).  Inputs whose changes
-- no log can show (unlogged tables), full-mode tables and UPDATEs, views,
-- and the fall back to a full refresh when merging the changes fails.

CREATE SCHEMA dt_act;
SET search_path = dt_act, public;

-- ---------------------------------------------------------------------
-- An unlogged table is emptied by a crash without a trace in any log.
-- Guards: a grouped query over it is full, with the reason; 'incremental'
-- is refused; refreshes are right.
-- ---------------------------------------------------------------------
CREATE UNLOGGED TABLE u (id int, k text, v int);
INSERT INTO u SELECT g, 'k' || g % 3, g FROM generate_series(1, 12) g;
SELECT dt.create_dynamic_table('u_k', 'SELECT k, count(*) AS n, sum(v) AS total FROM u GROUP BY k');
SELECT refresh_mode, refresh_mode_reason FROM dt.dynamic_tables WHERE relid = 'u_k'::regclass;
\set VERBOSITY terse
SELECT dt.create_dynamic_table('u_inc', 'SELECT k, count(*) AS n FROM u GROUP BY k', refresh_mode => 'incremental');
\set VERBOSITY default
INSERT INTO u VALUES (13, 'k1', 13);
DELETE FROM u WHERE id = 2;
SELECT action FROM dt.refresh('u_k');
SELECT dt_test.check('u_k');
-- Guards: made permanent later, it has no change log (nothing captured
-- it): refreshes stay FULL, and right.
ALTER TABLE u SET LOGGED;
INSERT INTO u VALUES (14, 'k2', 14);
SELECT action FROM dt.refresh('u_k');
SELECT dt_test.check('u_k');

-- A table made unlogged after a table over it was created: refreshes are
-- full while it is.  Guards: explain_refresh and the history say why (not
-- how the table is maintained otherwise); right; incremental again once
-- it is permanent.
CREATE TABLE ul (id int, k text, v int);
INSERT INTO ul SELECT g, 'k' || g % 3, g FROM generate_series(1, 12) g;
SELECT dt.create_dynamic_table('ul_k', 'SELECT k, count(*) AS n, sum(v) AS total FROM ul GROUP BY k',
                               refresh_mode => 'incremental');
ALTER TABLE ul SET UNLOGGED;
INSERT INTO ul VALUES (13, 'k1', 13);
SELECT kind, object, detail FROM dt.explain_refresh('ul_k') WHERE kind IN ('strategy', 'action');
SELECT action FROM dt.refresh('ul_k');
SELECT state_message FROM dt.refresh_history WHERE relid = 'ul_k'::regclass ORDER BY refresh_id DESC LIMIT 1;
SELECT dt_test.check('ul_k');
-- made permanent again: the state is rebuilt, then incremental
ALTER TABLE ul SET LOGGED;
INSERT INTO ul VALUES (14, 'k2', 14);
SELECT action FROM dt.refresh('ul_k');
INSERT INTO ul VALUES (15, 'k0', 15);
SELECT action FROM dt.refresh('ul_k');
SELECT dt_test.check('ul_k');
-- Also for a table that reads internal tables (a top-k over the rows of
-- a correlated minimum): the reason is the input made unlogged, not what
-- the query as written lacks (its LIMIT).
CREATE TABLE ul2 (id int, k text, v int);
INSERT INTO ul2 SELECT g, 'k' || g % 3, g FROM generate_series(1, 12) g;
SELECT dt.create_dynamic_table('ul2_top', 'SELECT id, v FROM ul2 a WHERE a.v > (SELECT min(b.v) FROM ul2 b WHERE b.k = a.k)
                                            ORDER BY v DESC, id LIMIT 3', refresh_mode => 'incremental');
ALTER TABLE ul2 SET UNLOGGED;
INSERT INTO ul2 VALUES (13, 'k1', 13);
SELECT kind, object, detail FROM dt.explain_refresh('ul2_top') WHERE kind IN ('strategy', 'action');
SELECT action FROM dt.refresh('ul2_top');
SELECT state_message FROM dt.refresh_history WHERE relid = 'ul2_top'::regclass ORDER BY refresh_id DESC LIMIT 1;
SELECT count(*) AS differences FROM dt_test.diff_topn('ul2_top', 'v DESC, id');
ALTER TABLE ul2 SET LOGGED;

-- ---------------------------------------------------------------------
-- An unlogged partition is emptied by a crash without a trace in the log
-- of its partitioned table.  Guards: with one, a query over the table is
-- full ('incremental' is refused); one added later makes the refreshes
-- FULL (the backends that replan after a crash see it too) and sets the
-- per-group state aside, rebuilt once the partition is permanent again.
-- ---------------------------------------------------------------------
CREATE TABLE pu (id int, k text, v int) PARTITION BY LIST (k);
CREATE TABLE pu_a PARTITION OF pu FOR VALUES IN ('a');
CREATE UNLOGGED TABLE pu_b PARTITION OF pu FOR VALUES IN ('b');
INSERT INTO pu SELECT g, CASE WHEN g % 2 = 0 THEN 'a' ELSE 'b' END, g FROM generate_series(1, 10) g;
SELECT * FROM dt_test.create_fails('pu_inc', 'SELECT k, count(*) AS n FROM pu GROUP BY k', refresh_mode => 'incremental');
ALTER TABLE pu_b SET LOGGED;
SELECT dt.create_dynamic_table('pu_k', 'SELECT k, count(*) AS n, sum(v) AS total FROM pu GROUP BY k',
                               refresh_mode => 'incremental');
CREATE UNLOGGED TABLE pu_c PARTITION OF pu FOR VALUES IN ('c');
INSERT INTO pu VALUES (11, 'c', 11), (12, 'a', 12);
-- explain_refresh and the history say why it is full (not how the table
-- is maintained otherwise)
SELECT kind, object, detail FROM dt.explain_refresh('pu_k') WHERE kind IN ('strategy', 'action');
SELECT action FROM dt.refresh('pu_k');
SELECT state_message FROM dt.refresh_history WHERE relid = 'pu_k'::regclass ORDER BY refresh_id DESC LIMIT 1;
SELECT dt_test.check('pu_k');
ALTER TABLE pu_c SET LOGGED;
\c
SET search_path = dt_act, public;
INSERT INTO pu VALUES (13, 'c', 13);
DELETE FROM pu WHERE id = 1;
SELECT action FROM dt.refresh('pu_k');
SELECT state_message FROM dt.refresh_history WHERE relid = 'pu_k'::regclass ORDER BY refresh_id DESC LIMIT 1;
SELECT dt_test.check('pu_k');
INSERT INTO pu VALUES (14, 'c', 14);
SELECT action FROM dt.refresh('pu_k');
SELECT dt_test.check('pu_k');

-- ---------------------------------------------------------------------
-- A full-mode dynamic table sees UPDATEs of the columns it reads: the
-- change log records every column some dynamic table reads, full-mode
-- ones included.
-- ---------------------------------------------------------------------
CREATE TABLE t (id int PRIMARY KEY, k text, v int, w int, x int);
INSERT INTO t SELECT g, 'k' || g % 3, g, g * 10, g * 100 FROM generate_series(1, 12) g;
SELECT dt.create_dynamic_table('t_str', 'SELECT k, string_agg(v::text, '','' ORDER BY v) AS vs FROM t GROUP BY k',
                               refresh_mode => 'full');
SELECT refresh_mode FROM dt.dynamic_tables WHERE relid = 't_str'::regclass;
-- Guards: an UPDATE of a column it reads: FULL, and right.
UPDATE t SET v = v + 100 WHERE id = 3;
SELECT action FROM dt.refresh('t_str');
SELECT dt_test.check('t_str');
-- Guards: an UPDATE of a column it does not read: NO_DATA.
UPDATE t SET w = w + 1 WHERE id = 4;
SELECT action FROM dt.refresh('t_str');
SELECT dt_test.check('t_str');

-- With an incremental dynamic table over the same table, reading w.
SELECT dt.create_dynamic_table('t_inc', 'SELECT k, count(*) AS n, sum(w) AS sw FROM t GROUP BY k',
                               refresh_mode => 'incremental');
-- Guards: an UPDATE of a column only the full-mode one reads: FULL, and
-- both right.
UPDATE t SET v = v + 1 WHERE id IN (5, 6);
SELECT action FROM dt.refresh('t_str');
SELECT (dt.refresh('t_inc')).action IS NOT NULL AS refreshed;
SELECT dt_test.check('t_str'), dt_test.check('t_inc');
-- Guards: an UPDATE of a column only the incremental one reads: it is
-- INCREMENTAL, and both are right.  (The full-mode one's action is not
-- shown: the shared log records the change, so it takes FULL, not
-- NO_DATA.)
UPDATE t SET w = w + 5 WHERE id = 7;
SELECT action FROM dt.refresh('t_inc');
SELECT (dt.refresh('t_str')).action IS NOT NULL AS refreshed;
SELECT dt_test.check('t_str'), dt_test.check('t_inc');
-- Guards: an UPDATE of a column neither reads: NO_DATA for both.
UPDATE t SET x = x + 1;
SELECT action FROM dt.refresh('t_str');
SELECT action FROM dt.refresh('t_inc');
-- An UPDATE of both, in one statement, and of the group key.
UPDATE t SET v = v * 2, w = w * 2, k = 'k9' WHERE id = 8;
SELECT action FROM dt.refresh('t_str');
SELECT action FROM dt.refresh('t_inc');
SELECT dt_test.check('t_str'), dt_test.check('t_inc');

-- ---------------------------------------------------------------------
-- A dynamic table over a view reads the view's tables: they are its
-- inputs, not the view, and a simple view's query is merged into it.
-- Guards: NO_DATA when nothing changed, INCREMENTAL after a write to the
-- table, right.
-- ---------------------------------------------------------------------
CREATE VIEW tv AS SELECT k, v FROM t WHERE v > 3;
SELECT dt.create_dynamic_table('tv_k', 'SELECT k, count(*) AS n, sum(v) AS total FROM tv GROUP BY k');
SELECT refresh_mode, inputs FROM dt.dynamic_tables WHERE relid = 'tv_k'::regclass;
SELECT action FROM dt.refresh('tv_k');
INSERT INTO t VALUES (20, 'k1', 20, 200, 2000);
SELECT action FROM dt.refresh('tv_k');
SELECT action FROM dt.refresh('tv_k');
SELECT dt_test.check('tv_k');
-- A view that aggregates, read alone and joined with a table, and a view
-- joined with a table: each is expanded into the query, which is
-- recomputed by key.  A materialized view's changes are not captured: a
-- query reading one is full, and its reason says so.  Guards: the
-- strategy and action explain_refresh shows, the refresh's action, right.
CREATE TABLE tnames (k text PRIMARY KEY, label text);
INSERT INTO tnames SELECT 'k' || g, 'label ' || g FROM generate_series(0, 9) g;
CREATE VIEW tv_agg AS SELECT k, count(*) AS n, sum(v) AS total FROM t GROUP BY k;
CREATE MATERIALIZED VIEW tmv AS SELECT k, sum(v) AS total FROM t GROUP BY k;
SELECT dt.create_dynamic_table('tv_agg_all', 'SELECT * FROM tv_agg');
SELECT dt.create_dynamic_table('tv_agg_join', 'SELECT a.k, n.label, a.total FROM tv_agg a JOIN tnames n USING (k)');
SELECT dt.create_dynamic_table('tv_join', 'SELECT tv.k, tv.v, n.label FROM tv JOIN tnames n USING (k)');
SELECT dt.create_dynamic_table('tmv_all', 'SELECT * FROM tmv');
SELECT table_name, refresh_mode FROM dt.dynamic_tables
 WHERE table_name IN ('tv_agg_all', 'tv_agg_join', 'tv_join', 'tmv_all') ORDER BY table_name;
INSERT INTO t VALUES (21, 'k2', 21, 210, 2100);
UPDATE tnames SET label = 'two' WHERE k = 'k2';
REFRESH MATERIALIZED VIEW tmv;
SELECT n.name, e.kind, e.object, e.detail
  FROM unnest(ARRAY['tv_agg_all', 'tv_agg_join', 'tv_join', 'tmv_all']) AS n(name),
       LATERAL dt.explain_refresh(n.name::regclass) e
 WHERE e.kind IN ('strategy', 'action') ORDER BY n.name, e.step;
SELECT n.name, r.action
  FROM unnest(ARRAY['tv_agg_all', 'tv_agg_join', 'tv_join', 'tmv_all']) AS n(name),
       LATERAL dt.refresh(n.name::regclass) r ORDER BY n.name;
SELECT dt_test.check('tv_agg_all'), dt_test.check('tv_agg_join'), dt_test.check('tv_join'), dt_test.check('tmv_all');

-- ---------------------------------------------------------------------
-- The fall back from an incremental to a full refresh: the group key
-- divides by a column, and a row with 0 is inserted and deleted again
-- before the refresh.  The query never sees it, the change log does.
-- Guards: the refresh succeeds, in full, says why, and is right.  (b is
-- a float: rows of integers inserted and deleted again would cancel out
-- of the window before any division, deparse.c's net_changes_sql.)
-- ---------------------------------------------------------------------
CREATE TABLE z (id int, a int, b float8);
INSERT INTO z SELECT g, g, 1 + g % 3 FROM generate_series(1, 12) g;
SELECT dt.create_dynamic_table('z_q', 'SELECT a / b AS q, count(*) AS n, sum(a) AS total FROM z GROUP BY a / b',
                               refresh_mode => 'incremental');
INSERT INTO z VALUES (100, 5, 0);
DELETE FROM z WHERE id = 100;
INSERT INTO z VALUES (101, 50, 5);
UPDATE z SET a = a + 1 WHERE id = 1;
SELECT action FROM dt.refresh('z_q');
SELECT refresh_action, state, state_message FROM dt.refresh_history
 WHERE relid = 'z_q'::regclass ORDER BY refresh_id DESC LIMIT 1;
SELECT dt_test.check('z_q');
-- The next changes are merged again.
INSERT INTO z VALUES (102, 7, 7);
SELECT action FROM dt.refresh('z_q');
SELECT dt_test.check('z_q');

-- A unique index of the user's on a dynamic table holds for the query's
-- result, but not between the rows an incremental refresh updates one at
-- a time: two groups swap their sums.  Guards: the refresh falls back to
-- a full one (which deletes every row first), says why, and is right; a
-- result that breaks the index fails, in full too.
CREATE TABLE sw (k int, v int);
INSERT INTO sw VALUES (1, 10), (2, 20), (3, 30);
SELECT dt.create_dynamic_table('sw_sum', 'SELECT k, sum(v) AS total FROM sw GROUP BY k',
                               refresh_mode => 'incremental');
CREATE UNIQUE INDEX ON sw_sum (total);
UPDATE sw SET v = 30 - v WHERE k IN (1, 2);
SELECT action FROM dt.refresh('sw_sum');
SELECT refresh_action, state, state_message FROM dt.refresh_history
 WHERE relid = 'sw_sum'::regclass ORDER BY refresh_id DESC LIMIT 1;
SELECT dt_test.check('sw_sum');
UPDATE sw SET v = 7 WHERE k = 3;
SELECT action FROM dt.refresh('sw_sum');
SELECT dt_test.check('sw_sum');
UPDATE sw SET v = 20 WHERE k = 3;
SELECT * FROM dt_test.fails($$SELECT dt.refresh('sw_sum')$$);
-- A violation of an index on the per-group state is no index of the
-- user's: only a fault of the refresh would make one, and a full refresh
-- would hide it.  Guards: the refresh fails with it (made here by a
-- unique constraint on the state's counts, which two groups swap: a
-- superuser may add one, not create an index there).
CREATE TABLE swc (id int PRIMARY KEY, k text);
INSERT INTO swc VALUES (1, 'a'), (2, 'b'), (3, 'b');
SELECT dt.create_dynamic_table('swc_n', 'SELECT k, count(*) AS n FROM swc GROUP BY k',
                               refresh_mode => 'incremental');
DO $$
BEGIN
    EXECUTE format('ALTER TABLE dt_internal.state_%s ADD CONSTRAINT swc_state_n UNIQUE (n)', 'swc_n'::regclass::oid);
END
$$;
INSERT INTO swc VALUES (4, 'a');
DELETE FROM swc WHERE id = 3;
SELECT * FROM dt_test.fails($$SELECT dt.refresh('swc_n')$$);
-- (no full refresh after its creation: the history of failures is written
-- by a worker, later)
SELECT refresh_action, state FROM dt.refresh_history
 WHERE relid = 'swc_n'::regclass AND state = 'SUCCEEDED' ORDER BY refresh_id;
SELECT dt.drop_dynamic_table('swc_n');

-- ---------------------------------------------------------------------
-- System columns (xmin, ctid, tableoid, ...) change in an UPDATE that
-- leaves every user column as it was, which writes nothing to the change
-- log.  Guards: 'incremental' refuses them, naming the column; in 'auto'
-- (and 'full') every refresh is FULL, never NO_DATA, and the table equals
-- its query after such an UPDATE.
-- ---------------------------------------------------------------------
CREATE TABLE sc (id int PRIMARY KEY, k text, v int);
INSERT INTO sc SELECT g, 'k' || g % 3, g FROM generate_series(1, 9) g;
SELECT * FROM dt_test.create_fails('sc_inc', 'SELECT id, xmin AS x FROM sc', refresh_mode => 'incremental');
SELECT * FROM dt_test.create_fails('sc_inc', 'SELECT k, count(*) AS n FROM sc WHERE ctid > ''(0,3)'' GROUP BY k',
                                   refresh_mode => 'incremental');
SELECT * FROM dt_test.create_fails('sc_inc', 'SELECT s.id, s.tableoid::regclass AS t FROM (SELECT id, tableoid FROM sc) s',
                                   refresh_mode => 'incremental');
SELECT dt.create_dynamic_table('sc_xmin', 'SELECT id, k, xmin::text AS x FROM sc');
SELECT dt.create_dynamic_table('sc_ctid', 'SELECT k, max(ctid) AS last_ctid, count(*) AS n FROM sc GROUP BY k');
SELECT dt.create_dynamic_table('sc_full', 'SELECT id, cmin::text AS c FROM sc', refresh_mode => 'full');
SELECT name, refresh_mode, refresh_mode_reason FROM dt.dynamic_tables
 WHERE relid::text LIKE 'sc\_%' ORDER BY relid::text;
-- An UPDATE that changes no user column.
UPDATE sc SET v = v WHERE id IN (2, 5);
SELECT action FROM dt.refresh('sc_xmin');
SELECT action FROM dt.refresh('sc_ctid');
SELECT action FROM dt.refresh('sc_full');
SELECT dt_test.check('sc_xmin'), dt_test.check('sc_ctid'), dt_test.check('sc_full');
-- Nothing written at all: still FULL, and still right.
SELECT action FROM dt.refresh('sc_xmin');
SELECT dt_test.check('sc_xmin');

-- ---------------------------------------------------------------------
-- After a manual refresh, the rows every reader of a log has consumed are
-- deleted, in each log in which the refresh's window held rows; a log in
-- which it held none is left alone (none of its rows became consumed by
-- all): only the count of the window reads it.  Guards: the log with rows
-- is emptied; the other is scanned once (the count), not twice (the count
-- and the cleanup's delete).
-- ---------------------------------------------------------------------
CREATE TABLE cf (id int PRIMARY KEY, d int, v int);
CREATE TABLE cd (d int PRIMARY KEY, name text);
INSERT INTO cd VALUES (1, 'one'), (2, 'two');
INSERT INTO cf SELECT g, 1 + g % 2, g FROM generate_series(1, 10) g;
SELECT dt.create_dynamic_table('cf_by_name',
    'SELECT cd.name, sum(cf.v) AS total FROM cf JOIN cd ON cd.d = cf.d GROUP BY cd.name');
CREATE FUNCTION log_scans(t regclass) RETURNS bigint LANGUAGE sql AS $$
    SELECT seq_scan FROM pg_stat_user_tables
     WHERE relid = format('dt_internal.changes_%s', t::oid)::regclass $$;
CREATE FUNCTION log_rows(t regclass, n OUT bigint) LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('SELECT count(*) FROM dt_internal.changes_%s', t::oid) INTO n;
END $$;
INSERT INTO cf VALUES (11, 1, 11), (12, 2, 12);
SELECT pg_stat_force_next_flush();
SELECT log_scans('cf') AS cf_scans, log_scans('cd') AS cd_scans \gset
SELECT action FROM dt.refresh('cf_by_name');
SELECT pg_stat_force_next_flush();
SELECT log_scans('cd') - :cd_scans AS cd_log_scans;
SELECT log_rows('cf') AS cf_log_rows;
SELECT dt_test.check('cf_by_name');
-- Nothing changed: each log is scanned by the count alone.
SELECT pg_stat_force_next_flush();
SELECT log_scans('cf') AS cf_scans, log_scans('cd') AS cd_scans \gset
SELECT action FROM dt.refresh('cf_by_name');
SELECT pg_stat_force_next_flush();
SELECT log_scans('cf') - :cf_scans AS cf_log_scans, log_scans('cd') - :cd_scans AS cd_log_scans;
-- With a second reader of cf's log: a row becomes consumed by all only
-- when its last reader consumes it, so after the first reader's refresh
-- the cleanup tests the transactions of the window it read (recorded by
-- read_changes) against the readers, and the log's first row alone (where
-- rows a cleanup skipped for the lock left are: isolation two_dts), not
-- every row of the log, and keeps the rows; the second reader's deletes
-- them.  Guards: the first refresh reads the log's 2 rows for its count
-- and for its merge, and 1 for the cleanup (not 2: a scan of the log);
-- the rows are kept, then gone.
CREATE FUNCTION log_rows_read(t regclass) RETURNS bigint LANGUAGE sql AS $$
    SELECT seq_tup_read FROM pg_stat_user_tables
     WHERE relid = format('dt_internal.changes_%s', t::oid)::regclass $$;
SELECT dt.create_dynamic_table('cf_by_d', 'SELECT d, count(*) AS n FROM cf GROUP BY d');
INSERT INTO cf VALUES (13, 1, 13), (14, 2, 14);
SELECT pg_stat_force_next_flush();
SELECT log_rows_read('cf') AS cf_read \gset
SELECT action FROM dt.refresh('cf_by_name');
SELECT pg_stat_force_next_flush();
SELECT log_rows_read('cf') - :cf_read AS cf_log_rows_read, log_rows('cf') AS cf_log_rows;
SELECT action FROM dt.refresh('cf_by_d');
SELECT log_rows('cf') AS cf_log_rows;
SELECT dt_test.check('cf_by_name'), dt_test.check('cf_by_d');

-- ---------------------------------------------------------------------
-- The clock where it decides which rows there are (WHERE at <= now(), a
-- sliding window): rows come and go with no write to the table.  Guards:
-- every refresh is full, never NO_DATA for want of a change; the row
-- that fell due after the table was made is counted.  (The clock in the
-- select list is the time of the refresh that wrote the row: README.)
-- ---------------------------------------------------------------------
CREATE TABLE ev (id int, k text, at timestamptz);
INSERT INTO ev VALUES (1, 'a', now() - interval '1 hour'), (2, 'a', now() + interval '1 second'),
                      (3, 'b', now() + interval '1 hour');
SELECT dt.create_dynamic_table('ev_due', 'SELECT k, count(*) AS n FROM ev WHERE at <= now() GROUP BY k');
SELECT refresh_mode, refresh_mode_reason FROM dt.dynamic_tables WHERE relid = 'ev_due'::regclass;
-- so in a subquery of the select list: each row's count of the due rows
SELECT dt.create_dynamic_table('ev_due_each', 'SELECT id, (SELECT count(*) FROM ev e WHERE e.at <= now()) AS due FROM ev');
-- and in a select-list entry that is a key: rows grouped, deduplicated
-- or ranked by whether they are due
SELECT dt.create_dynamic_table('ev_due_groups', 'SELECT at <= now() AS due, count(*) AS n FROM ev GROUP BY 1');
SELECT dt.create_dynamic_table('ev_due_distinct', 'SELECT DISTINCT k, at <= now() AS due FROM ev');
SELECT dt.create_dynamic_table('ev_due_rank', 'SELECT id, rank() OVER (ORDER BY at <= now()) AS r FROM ev');
SELECT dt.create_dynamic_table('ev_due_first', 'SELECT DISTINCT ON (k) k, id FROM ev ORDER BY k, at <= now() DESC, id DESC');
-- and in the arguments of a set-returning function: how many rows a row gives
SELECT dt.create_dynamic_table('ev_due_rows', 'SELECT id, unnest(CASE WHEN at <= now() THEN ARRAY[1, 2] ELSE ARRAY[1] END) AS n FROM ev');
SELECT pg_sleep(1.2);
SELECT action FROM dt.refresh('ev_due');
SELECT k, n FROM ev_due ORDER BY k;
SELECT dt_test.check('ev_due');
SELECT action FROM dt.refresh('ev_due_each');
SELECT id, due FROM ev_due_each ORDER BY id;
SELECT dt_test.check('ev_due_each');
SELECT action FROM dt.refresh('ev_due_groups');
SELECT dt_test.check('ev_due_groups');
SELECT action FROM dt.refresh('ev_due_distinct');
SELECT dt_test.check('ev_due_distinct');
SELECT action FROM dt.refresh('ev_due_rank');
SELECT dt_test.check('ev_due_rank');
SELECT action FROM dt.refresh('ev_due_first');
SELECT dt_test.check('ev_due_first');
SELECT action FROM dt.refresh('ev_due_rows');
SELECT dt_test.check('ev_due_rows');
-- age() of one timestamp counts from today's midnight: the clock too.
SELECT dt.create_dynamic_table('ev_recent', 'SELECT k, count(*) AS n FROM ev WHERE age(at::timestamp) < interval ''1 day'' GROUP BY k');
SELECT refresh_mode, refresh_mode_reason FROM dt.dynamic_tables WHERE relid = 'ev_recent'::regclass;

SET client_min_messages = warning;
DROP SCHEMA dt_act CASCADE;
RESET client_min_messages;
