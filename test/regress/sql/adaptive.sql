-- Adaptive refresh (src/refresh.c, adaptive_full): a refresh that could be
-- incremental is done in full when the table's own history says that costs
-- less: the incremental cost from the recent incremental refreshes (a fixed
-- part, the cheapest, plus a part proportional to the changed rows, read
-- off the refreshes of the nearest window at least as large), the full
-- cost the median of the last three full refreshes the history chose.  A
-- delta-merge table's full refresh chosen so runs the query and sets its
-- per-group state aside (rebuilding it costs several times the query);
-- until one was timed, it is expected to cost half of those that built
-- the state (its creation).  Once set aside, the state is rebuilt when
-- incremental refreshes are expected to be cheaper again.  Durations
-- depend on the machine, so this test writes the history the choice reads;
-- the databases of the other tests have adaptive_refresh off
-- (test/setup-db).
SET pg_dynamic_tables.adaptive_refresh = on;
CREATE TABLE ad (id serial PRIMARY KEY, g int, x int);
INSERT INTO ad (g, x) SELECT i % 5, i FROM generate_series(1, 100) i;
SELECT dt.create_dynamic_table('ad_sum', 'SELECT g, sum(x) AS s, count(*) AS n FROM ad GROUP BY g',
                               refresh_mode => 'incremental') IS NOT NULL AS created;

-- history(incremental, full, built): replace the table's history by full
-- refreshes that built the state (ms; its creation), full ones the history
-- chose (ms), and incremental ones (changed rows, ms), oldest first.
CREATE FUNCTION history(incremental int[][], "full" int[], built int[] DEFAULT '{}',
                        dt text DEFAULT 'ad_sum') RETURNS void
LANGUAGE sql AS $$
DELETE FROM dt_internal.refresh_log WHERE relid = dt::regclass;
INSERT INTO dt_internal.refresh_log (relid, table_name, refresh_start_time, refresh_end_time,
                                     refresh_action, refresh_trigger, state, changes)
SELECT dt::regclass, dt, t, t + f * interval '1 ms', 'FULL', 'MANUAL', 'SUCCEEDED', NULL
  FROM unnest(built) f, LATERAL (SELECT now() - interval '1 hour' AS t) n;
INSERT INTO dt_internal.refresh_log (relid, table_name, refresh_start_time, refresh_end_time,
                                     refresh_action, refresh_trigger, state, changes, state_message)
SELECT dt::regclass, dt, t, t + f * interval '1 ms', 'FULL', 'MANUAL', 'SUCCEEDED', NULL,
       'an incremental refresh of (written by the test)'
  FROM unnest("full") f, LATERAL (SELECT now() - interval '1 hour' AS t) n;
INSERT INTO dt_internal.refresh_log (relid, table_name, refresh_start_time, refresh_end_time,
                                     refresh_action, refresh_trigger, state, changes)
SELECT dt::regclass, dt, t, t + incremental[i][2] * interval '1 ms', 'INCREMENTAL',
       'MANUAL', 'SUCCEEDED', incremental[i][1]
  FROM generate_subscripts(incremental, 1) i, LATERAL (SELECT now() - interval '1 hour' AS t) n
 ORDER BY i;
$$;

-- change(n): n rows changed (inserted, by two statements: one of 10,000
-- rows or more could be a bulk load, which writes a marker instead, test
-- bulk_marker), then a refresh: its action and message.
CREATE FUNCTION change(n int, OUT action text, OUT message text) LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ad (g, x) SELECT i % 7, i FROM generate_series(1, n / 2) i;
    INSERT INTO ad (g, x) SELECT i % 7, i FROM generate_series(n / 2 + 1, n) i;
    SELECT r.action INTO action FROM dt.refresh('ad_sum') r;
    SELECT h.state_message INTO message FROM dt.refresh_history h
     WHERE h.relid = 'ad_sum'::regclass ORDER BY h.refresh_id DESC LIMIT 1;
END
$$;

-- No incremental refresh in the history yet: incremental.
SELECT * FROM change(10);

-- A full refresh would set the state aside, which a later refresh rebuilds
-- if incremental ones get cheaper again (one of a window as small took 30
-- ms): it must pay that back over the next ten.  100 ms against 190 / 2
-- ms (a guess from the creation): 10 * 5 ms does not pay back 190 - 95
-- ms, incremental (TPC-H Q8 at 1%); against 95 ms timed and a rebuild of
-- 400 ms, incremental.  But if none took less than 100 ms, no rebuild
-- would come: full for good (the history says why).  Against 50 ms timed,
-- full.
SELECT history('{{10,100},{10,100},{10,30}}', '{}', '{190}');
SELECT * FROM change(10);
SELECT history('{{10,100},{10,100},{10,30}}', '{95,95,95}', '{400}');
SELECT * FROM change(10);
SELECT count(*) AS mismatches FROM dt_test.diff('ad_sum');
SELECT history('{{10,100},{10,100},{10,100}}', '{95,95,95}', '{400}');
SELECT * FROM change(10);
SELECT count(*) AS mismatches FROM dt_test.diff('ad_sum');
SELECT history('{{10,100},{10,100},{10,100}}', '{50,50,50}', '{400}');
SELECT * FROM change(10);
SELECT count(*) AS mismatches FROM dt_test.diff('ad_sum');
SELECT history('{{10,1},{10,1},{10,1}}', '{1000,1000,1000}');
SELECT action FROM change(10);

-- Incremental refreshes of 10 rows took 100 ms, full ones 10 ms: full, and
-- the history says why.  It runs the query and sets the state aside.
SELECT history('{{10,100},{10,100},{10,100}}', '{10,10,10}');
SELECT * FROM change(10);
SELECT count(*) AS mismatches FROM dt_test.diff('ad_sum');
SELECT count(*) AS state_valid FROM dt_internal.state_valid WHERE relid = 'ad_sum'::regclass;

-- The other way round: the state set aside is rebuilt (the history says
-- why), then the refreshes are incremental.
SELECT history('{{10,1},{10,1},{10,1}}', '{1000,1000,1000}');
SELECT * FROM change(10);
SELECT * FROM change(10);
SELECT count(*) AS mismatches FROM dt_test.diff('ad_sum');

-- Without a full refresh the history chose, one is expected to cost half
-- of those that built the state: 100 ms against 500 / 2 ms, incremental;
-- 100 ms against 160 / 2 ms, full (none took less: for good).
SELECT history('{{10,100},{10,100},{10,100}}', '{}', '{500}');
SELECT * FROM change(10);
SELECT history('{{10,100},{10,100},{10,100}}', '{}', '{160}');
SELECT * FROM change(10);
-- Not for a window more than twice as large as any timed: a guess against
-- an extrapolation, where a wrong guess costs a rebuild of the state.
-- 100 ms against 160 ms, incremental.  But the state set aside just now is
-- not rebuilt on such a figure: full from the query, until a window of a
-- size timed rebuilds it.
SELECT history('{{10,100},{10,100},{10,100}}', '{}', '{160}');
SELECT * FROM change(30);
SELECT history('{{10,1},{10,1},{10,1}}', '{1000,1000,1000}');
SELECT action FROM change(10);
SELECT history('{{10,100},{10,100},{10,100}}', '{}', '{160}');
SELECT * FROM change(30);
-- An extrapolated figure is taken to be off by up to a factor of 2 either
-- way: the state is not set aside on one up to twice the full refresh (80
-- ms against 60: TPC-H Q08 at 1% after rounds at 0.1% expected 57 ms
-- against 42, went full, and stayed full for good, where its incremental
-- refreshes took 20 to 27 ms), but is on one above (80 against 30); and
-- set aside, it is rebuilt on one under half the full refresh (20 against
-- 100: TPC-H Q17 stayed full at 86 to 212 ms where 21 were expected).
SELECT history('{{10,20},{10,40},{10,40}}', '{60}', '{100}');
SELECT * FROM change(30);
SELECT history('{{10,20},{10,40},{10,40}}', '{30}', '{100}');
SELECT * FROM change(30);
SELECT history('{{10,20},{10,20},{10,20}}', '{100}', '{100}');
SELECT * FROM change(30);
SELECT count(*) AS state_valid FROM dt_internal.state_valid WHERE relid = 'ad_sum'::regclass;
-- Only so far: from windows more than 16 times smaller the figure is no
-- measure.  Not aside, the state is set aside on one over the full
-- refresh (50 ms against 40 for 300 rows from 10-row windows); aside, it
-- is not rebuilt on one under half of it (figure 10's template statistics,
-- after 125-row refreshes, expected 108 ms for 333,440 rows against a full
-- refresh of 5.6 s, and rebuilt its state in 26 s).
SELECT history('{{10,20},{10,21},{10,21}}', '{40}', '{100}');
SELECT * FROM change(300);
SELECT history('{{10,20},{10,20},{10,20}}', '{100}', '{100}');
SELECT * FROM change(300);
SELECT count(*) AS state_valid FROM dt_internal.state_valid WHERE relid = 'ad_sum'::regclass;
-- ... unless the full refreshes it chose since the last incremental one
-- took as long as a rebuild: then it is rebuilt (inline: the test
-- database's workers build nothing), as waiting on for a figure to trust
-- costs more, and a long full refresh only leaves a larger window; two of
-- 100 ms since, for a rebuild of 150 ms (one of them, before: still full;
-- nor two with a rebuild between them, which ended the first wait)
SELECT history('{{10,20},{10,20},{10,20}}', '{100}', '{150}');
CREATE FUNCTION full_since(ms int, message text DEFAULT 'an incremental refresh of (written by the test)')
RETURNS void LANGUAGE sql AS $$
INSERT INTO dt_internal.refresh_log (relid, table_name, refresh_start_time, refresh_end_time,
                                     refresh_action, refresh_trigger, state, changes, state_message)
SELECT 'ad_sum'::regclass, 'ad_sum', t, t + ms * interval '1 ms', 'FULL', 'MANUAL', 'SUCCEEDED', NULL, message
  FROM (SELECT now() - interval '1 hour' AS t) n;
$$;
SELECT full_since(100);
SELECT * FROM change(300);
SELECT history('{{10,20},{10,20},{10,20}}', '{100}', '{150}');
SELECT full_since(100);
SELECT full_since(150, 'the per-group state (written by the test) was rebuilt');
SELECT full_since(100);
SELECT * FROM change(300);
SELECT history('{{10,20},{10,20},{10,20}}', '{100}', '{150}');
SELECT full_since(100);
SELECT full_since(100);
SELECT * FROM change(300);
SELECT count(*) AS state_valid FROM dt_internal.state_valid WHERE relid = 'ad_sum'::regclass;
-- nor where the window that rebuild would leave, the rows written
-- meanwhile at this window's rate over a full refresh (300 rows over
-- 100 ms, 450 over a 150 ms rebuild), is expected to cost more than a
-- full refresh (20 ms and 4 more for each 20 rows: 80 ms for this one,
-- 110 for that): rebuilds and full refreshes would take turns
DELETE FROM dt_internal.state_valid WHERE relid = 'ad_sum'::regclass;
SELECT history('{{10,20},{20,24},{20,24}}', '{100}', '{150}');
SELECT full_since(100);
SELECT full_since(100);
SELECT * FROM change(300);
-- set aside again: within reach, a figure rebuilds it
DELETE FROM dt_internal.state_valid WHERE relid = 'ad_sum'::regclass;
SELECT history('{{10,20},{10,20},{10,20}}', '{100}', '{100}');
SELECT * FROM change(30);
SELECT count(*) AS state_valid FROM dt_internal.state_valid WHERE relid = 'ad_sum'::regclass;

-- While the state is set aside, the history still decides each refresh:
-- full again (no rebuild), until incremental is expected to be cheaper.
SELECT history('{{10,100},{10,100},{10,100}}', '{10,10,10}');
SELECT * FROM change(10);
SELECT count(*) AS mismatches FROM dt_test.diff('ad_sum');

-- Turned off: incremental whatever the history says, once the state set
-- aside is rebuilt.
SET pg_dynamic_tables.adaptive_refresh = off;
SELECT history('{{10,100},{10,100},{10,100}}', '{10,10,10}');
SELECT * FROM change(10);
SELECT * FROM change(10);
SET pg_dynamic_tables.adaptive_refresh = on;

-- 10 rows took 5 ms, 100 rows 14 ms; a full refresh 40 ms.  50 rows are
-- expected to take 5 + 9 * 50 / 100 ms (incremental), 1000 rows 5 + 9 * 10
-- ms, more than twice the full refresh, as much as an extrapolated figure
-- may be off (full).  A window of rows inserted and deleted again counts
-- its rows.
SELECT history('{{10,5},{100,14}}', '{40}');
SELECT * FROM change(50);
SELECT history('{{10,5},{100,14}}', '{40}');
SELECT * FROM change(1000);
SELECT count(*) AS mismatches FROM dt_test.diff('ad_sum');

-- A window of 10,000 rows or more, more than twice any timed and at least
-- a fifth of the rows of the table, is full whatever the figures (a bulk
-- load: each changed row costs an incremental refresh several times what
-- it costs the query); the state set aside is rebuilt when small windows
-- are expected to be cheaper again.
SELECT history('{{10,1},{10,1},{10,1}}', '{1000,1000,1000}');
SELECT action, message LIKE 'an incremental refresh of 12000 changed rows, %, was expected to cost more than a full refresh; refreshed in full from the query, its per-group state set aside' AS bulk
  FROM change(12000);
SELECT count(*) AS mismatches FROM dt_test.diff('ad_sum');
SELECT history('{{10,1},{10,1},{10,1}}', '{1000,1000,1000}');
SELECT action FROM change(10);
DELETE FROM ad WHERE id > 3000;
SELECT action IS NOT NULL AS refreshed FROM dt.refresh('ad_sum');

-- The median of the last three full refreshes; an outlier among the
-- incremental ones of the same size is not the measure (the state set
-- aside by the last refresh is rebuilt: incremental is cheaper).
SELECT history('{{20,30},{20,2000},{20,30}}', '{5000,40,45,50}');
SELECT * FROM change(20);
SELECT history('{{20,30},{20,2000},{20,30}}', '{5000,40,45,50}');
SELECT * FROM change(20);

-- Full refreshes chosen by the history, the state set aside, the
-- incremental refresh expected to cost ten times a full one: every refresh
-- is full, none tries incremental again (every eleventh was, and for a
-- delta-merge table that was a rebuild of the state, several times the
-- query).
SELECT history('{{10,100},{10,100},{10,100}}', '{10,10,10}');
SELECT 'SELECT action FROM change(10)' FROM generate_series(1, 12) \gexec
SELECT count(*) AS mismatches FROM dt_test.diff('ad_sum');
-- The messages of the history are those the refreshes gave (they were
-- read from freed memory: "pg_catalog" was seen).
SELECT count(*) AS messages, count(*) FILTER (WHERE state_message LIKE 'an incremental refresh of 10 changed rows was expected to take%') AS adaptive
  FROM dt.refresh_history WHERE relid = 'ad_sum'::regclass AND refresh_action = 'FULL' AND state_message IS NOT NULL;

-- Unless the windows got far smaller than any incremental refresh timed:
-- the figure, read off those, says nothing of them (its fixed part is the
-- cheapest of those large windows), and no incremental refresh would ever
-- time a small one.  Incremental refreshes of 1000 rows took 100 ms, full
-- ones 10 ms: full; after ten full ones in a row of 10 rows, at most a
-- tenth of the smallest timed, the state is rebuilt and the next refresh
-- is incremental (the history says why; then the windows of 10 rows
-- timed decide).
SELECT history('{{1000,100},{1000,100},{1000,100}}', '{10,10,10}');
SELECT 'SELECT action FROM change(10)' FROM generate_series(1, 10) \gexec
SELECT * FROM change(10);
SELECT * FROM change(10);
SELECT count(*) AS mismatches FROM dt_test.diff('ad_sum');
-- Not for windows only five times smaller: full, the state set aside.
SELECT history('{{50,100},{50,100},{50,100}}', '{10,10,10}');
SELECT 'SELECT action FROM change(10)' FROM generate_series(1, 12) \gexec
SELECT count(*) AS state_valid FROM dt_internal.state_valid WHERE relid = 'ad_sum'::regclass;

-- The state set aside comes back only when the next ten incremental
-- refreshes are expected to save more than rebuilding it costs over a
-- full refresh: 10 * (20 - 1) ms against 1000 - 20 ms, full (the history
-- says why); against 100 - 20 ms, rebuilt.
SELECT history('{{10,1},{10,1},{10,1}}', '{20,20,20}', '{1000}');
SELECT * FROM change(10);
SELECT history('{{10,1},{10,1},{10,1}}', '{20,20,20}', '{100}');
SELECT * FROM change(10);
SELECT * FROM change(10);
SELECT count(*) AS mismatches FROM dt_test.diff('ad_sum');
-- Over the cheapest of the last three full refreshes, not their median:
-- the incremental figure stays as it was timed while the full refreshes
-- are timed again, under another load.  Full ones of 45, 40 and 31 ms,
-- incremental ones of 30 ms, a rebuild of 100 ms: 10 * (40 - 30) ms would
-- pay back 100 - 40 ms, 10 * (31 - 30) ms does not pay back 100 - 31 ms:
-- full (TPC-H Q22 on a loaded machine: rebuilt, then set aside again).
SELECT history('{{10,100},{10,100},{10,100}}', '{10,10,10}');
SELECT action FROM change(10);
SELECT history('{{10,30},{10,30},{10,30}}', '{45,40,31}', '{100}');
SELECT * FROM change(10);
SELECT count(*) AS mismatches FROM dt_test.diff('ad_sum');

-- A full refresh that the recompute strategy chose after finding the keys
-- of a window is what trying incremental cost: an incremental sample.
SELECT history('{}', '{10,10,10}');
INSERT INTO dt_internal.refresh_log (relid, table_name, refresh_start_time, refresh_end_time,
                                     refresh_action, refresh_trigger, state, changes, state_message)
SELECT 'ad_sum'::regclass, 'ad_sum', now(), now() + interval '100 ms', 'FULL', 'MANUAL', 'SUCCEEDED',
       10, 'the changes touched 5 keys, of about 6; refreshed in full'
  FROM generate_series(1, 3);
SELECT * FROM change(10);
SELECT count(*) AS mismatches FROM dt_test.diff('ad_sum');

-- Every refresh records the rows of changes it read, except one that
-- planned a statement (its duration is no measure of the next ones):
-- windows of 30 and 31 rows share their plans, a window of 300 rows gets
-- a plan of its own (decided without the history, which would compare
-- the two refreshes' times).
SELECT history('{}', '{}');
SELECT action FROM change(30);
SELECT action FROM change(31);
SET pg_dynamic_tables.adaptive_refresh = off;
SELECT action FROM change(300);
SET pg_dynamic_tables.adaptive_refresh = on;
SELECT refresh_action, changes FROM dt_internal.refresh_log
 WHERE relid = 'ad_sum'::regclass ORDER BY refresh_id;
SELECT count(*) AS mismatches FROM dt_test.diff('ad_sum');

-- Never timed, the guess is tried when even the cheapest incremental
-- refresh took at least 90% of it: 230 ms against 250 ms (half the
-- creation), full, tried once (the state set aside is rebuilt at once:
-- incremental is cheaper, by enough); 220 ms against 250 ms, incremental
-- (tried at half the guess, TPC-H Q08's incremental refreshes, which tied
-- its query, went full on a guess, then rebuilt the state).
SELECT history('{{10,1},{10,1},{10,1}}', '{1000,1000,1000}');
SELECT action FROM change(10);
SELECT history('{{10,230},{10,230},{10,230}}', '{}', '{500}');
SELECT * FROM change(10);
SELECT history('{{10,1},{10,1},{10,1}}', '{250}', '{500}');
SELECT * FROM change(10);
SELECT history('{{10,230},{10,230},{10,220}}', '{}', '{500}');
SELECT * FROM change(10);
-- Where the creation timed the statement that built the state from the
-- inputs (state_query_ms), which computes what the query does, that is
-- the guess, not half the creation: 400 ms, so 240 ms stays incremental
-- (against 250 ms it went full), and 370 ms tries the full refresh.
SELECT history('{{10,240},{10,240},{10,240}}', '{}', '{500}');
UPDATE dt_internal.refresh_log SET state_query_ms = 400
 WHERE relid = 'ad_sum'::regclass AND refresh_action = 'FULL';
SELECT * FROM change(10);
SELECT history('{{10,370},{10,370},{10,370}}', '{}', '{500}');
UPDATE dt_internal.refresh_log SET state_query_ms = 400
 WHERE relid = 'ad_sum'::regclass AND refresh_action = 'FULL';
SELECT * FROM change(10);
SELECT history('{{10,1},{10,1},{10,1}}', '{250}', '{500}');
SELECT action FROM change(10);
SELECT count(*) AS mismatches FROM dt_test.diff('ad_sum');
-- A window far larger than most, expected to take at least a hundred
-- times the cheapest incremental refresh and a quarter of the guess, tries
-- it too (seed 000's table-type summary at 1M rows: its state built in
-- 17.6 s, its query 4.9 s, its refreshes of 100,000 rows 5 to 10 s, its
-- usual ones 30 ms): 120 ms for 100 rows against 400, full; 90 ms (under a
-- quarter) and, the cheapest 2 ms, 120 ms (not a hundred times it) stay
-- incremental.
CREATE FUNCTION large_window(incremental int[][]) RETURNS TABLE (action text, message text)
LANGUAGE sql AS $$
SELECT history(incremental, '{}', '{500}');
UPDATE dt_internal.refresh_log SET state_query_ms = 400
 WHERE relid = 'ad_sum'::regclass AND refresh_action = 'FULL';
SELECT * FROM change(100);
$$;
SELECT * FROM large_window('{{10,1},{10,1},{100,120},{100,120}}');
SELECT history('{{10,1},{10,1},{10,1}}', '{250}', '{500}');
SELECT action FROM change(10);
SELECT * FROM large_window('{{10,1},{10,1},{100,90},{100,90}}');
SELECT * FROM large_window('{{10,2},{10,2},{100,120},{100,120}}');
SELECT count(*) AS mismatches FROM dt_test.diff('ad_sum');

-- Thirty full refreshes from the query and more since the last rebuild:
-- its cost is still read (the latest of each kind of full refresh is),
-- and the payback rule still holds (as with three above: incremental, the
-- history says why).
SELECT history('{{10,100},{10,100},{10,30}}', array_fill(95, ARRAY[31]), '{400}');
SELECT * FROM change(10);
SELECT count(*) AS mismatches FROM dt_test.diff('ad_sum');

-- Top-k (and every strategy but delta merge: its full refresh needs no
-- state): after ten full refreshes in a row chosen by the history, the next
-- is incremental again if expected to cost at most 1.2 times a full one,
-- to learn whether it got cheaper (11 ms against 10 ms); not at ten times.
SELECT dt.create_dynamic_table('ad_top', 'SELECT id, x FROM ad ORDER BY x DESC, id LIMIT 3',
                               refresh_mode => 'incremental') IS NOT NULL AS created;
-- top_action(incremental, fulls): incremental refreshes of 10 rows that
-- took "incremental" ms, then "fulls" full ones of 10 ms the history chose;
-- 10 rows changed, a refresh: its action.
CREATE FUNCTION top_action(incremental int, fulls int) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM history(ARRAY[[10, incremental], [10, incremental], [10, incremental]], '{}', '{}', 'ad_top');
    INSERT INTO dt_internal.refresh_log (relid, table_name, refresh_start_time, refresh_end_time,
                                         refresh_action, refresh_trigger, state, state_message)
    SELECT 'ad_top'::regclass, 'ad_top', now(), now() + interval '10 ms', 'FULL', 'MANUAL', 'SUCCEEDED',
           'an incremental refresh of (written by the test)'
      FROM generate_series(1, fulls);
    INSERT INTO ad (g, x) SELECT j % 7, 100000 + fulls * 100 + incremental + j FROM generate_series(1, 10) j;
    RETURN (SELECT r.action FROM dt.refresh('ad_top') r);
END
$$;
SELECT top_action(11, 9) AS "11 ms, 9 full", top_action(11, 10) AS "11 ms, 10 full",
       top_action(100, 10) AS "100 ms, 10 full", top_action(100, 30) AS "100 ms, 30 full";
SELECT count(*) AS mismatches FROM dt_test.diff('ad_top');
SELECT dt.drop_dynamic_table('ad_top');
DROP FUNCTION top_action(int, int);

SELECT dt.drop_dynamic_table('ad_sum');
DROP TABLE ad;

-- Internal tables (internal.c: here TPC-H Q15's shape, a WITH query read
-- twice, and the maximum over it, which reads the first) are state too: a
-- full refresh the history chooses runs the query as written, without
-- refreshing them, and sets them aside: moved on unrefreshed, not
-- populated (nothing reads their stale rows); the changes under them
-- still count in the history's choice.  The refresh that resumes
-- incremental refreshes rebuilds them: each is refreshed in full, in
-- order, then the table is filled from them.
CREATE TABLE ic (id int PRIMARY KEY, region text);
CREATE TABLE io (id serial PRIMARY KEY, cust int, amount int);
INSERT INTO ic SELECT i, 'r' || i % 3 FROM generate_series(1, 10) i;
INSERT INTO io (cust, amount) SELECT i % 10 + 1, i FROM generate_series(1, 100) i;
SELECT dt.create_dynamic_table('ia_top', $$
WITH revenue (cust, total) AS (SELECT cust, sum(amount) FROM io GROUP BY cust)
SELECT ic.id, ic.region, revenue.total
  FROM ic, revenue
 WHERE ic.id = revenue.cust
   AND revenue.total = (SELECT max(total) FROM revenue)
$$, refresh_mode => 'incremental') IS NOT NULL AS created;
CREATE VIEW ia_subs AS
SELECT relid, row_number() OVER (ORDER BY relid) AS n FROM dt_internal.dynamic_table
 WHERE relid::regclass::text LIKE format('dt_internal.sub\_%s\_%%', 'ia_top'::regclass::oid);
SELECT count(*) AS internal_tables FROM ia_subs;
-- ichange(n): n orders added, then a refresh: its action and message, and
-- the actions of the refreshes of the internal tables it ran.
CREATE FUNCTION ichange(n int, OUT action text, OUT message text, OUT internal text) LANGUAGE plpgsql AS $$
DECLARE last bigint := (SELECT max(refresh_id) FROM dt_internal.refresh_log);
BEGIN
    INSERT INTO io (cust, amount) SELECT i % 10 + 1, i + n FROM generate_series(1, n) i;
    SELECT r.action INTO action FROM dt.refresh('ia_top') r;
    SELECT h.state_message INTO message FROM dt.refresh_history h
     WHERE h.relid = 'ia_top'::regclass ORDER BY h.refresh_id DESC LIMIT 1;
    SELECT string_agg(format('%s %s', s.n, l.refresh_action), ', ' ORDER BY l.refresh_id) INTO internal
      FROM dt_internal.refresh_log l JOIN ia_subs s ON s.relid = l.relid WHERE l.refresh_id > last;
END
$$;
SELECT * FROM ichange(10);
SELECT history('{{10,100},{10,100},{10,100}}', '{10,10,10}', '{}', 'ia_top');
SELECT * FROM ichange(10);
-- timed from its own start, not from its internal tables' refreshes
-- before it in its unit (as incremental refreshes are), which the next
-- full refreshes skip
SELECT p.refresh_start_time >= max(i.refresh_end_time) AS timed_alone
  FROM dt_internal.refresh_log p, dt_internal.refresh_log i JOIN ia_subs USING (relid)
 WHERE p.refresh_id = (SELECT max(refresh_id) FROM dt_internal.refresh_log WHERE relid = 'ia_top'::regclass)
   AND i.refresh_id BETWEEN p.refresh_id - 2 AND p.refresh_id - 1
 GROUP BY p.refresh_start_time;
SELECT count(*) AS mismatches FROM dt_test.diff('ia_top');
SELECT count(*) AS state_valid FROM dt_internal.state_valid WHERE relid = 'ia_top'::regclass;
SELECT s.n, d.populated, d.position_snapshot IS NOT NULL AS has_position
  FROM ia_subs s JOIN dt_internal.dynamic_table d USING (relid) ORDER BY s.n;
-- nothing reads the stale rows of an internal table (its name masked: an
-- OID, which depends on what the cluster made before)
DO $$
DECLARE
    detail text;
    hint text;
BEGIN
    EXECUTE (SELECT format('SELECT count(*) FROM %s', relid::regclass) FROM ia_subs WHERE n = 1);
    RAISE NOTICE 'the internal table was read';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RAISE NOTICE '%', dt_test.mask_oids(SQLERRM) USING DETAIL = detail, HINT = hint;
END
$$;
-- still full: the internal tables are not refreshed; the rows of io under
-- them count (the table itself reads none of io)
SELECT history('{{10,100},{10,100},{10,100}}', '{10,10,10}', '{}', 'ia_top');
SELECT * FROM ichange(10);
SELECT count(*) AS mismatches FROM dt_test.diff('ia_top');
-- the figure is read off the rows of the table's own window and of its
-- internal tables' windows, which its history counts (timing its
-- refreshes from its internal tables'): set aside, the table has no rows
-- of its own from them, only the rows under them.  40 rows of io under
-- the first, none the table reads itself, and its refreshes of 40 rows
-- took 500 ms (one of a row 1 ms): still full, against 10 ms.  (Read off
-- its own rows, none, such a refresh was expected to cost the cheapest,
-- and the state was rebuilt at once however dear: TPC-H Q13 and Q20 at
-- 1%, a full refresh then a rebuild.)
SELECT history('{{1,1},{40,500},{40,500},{40,500}}', '{10,10,10}', '{}', 'ia_top');
SELECT * FROM ichange(40);
-- refreshes of 40 rows took 1 ms: rebuilt.  Then set aside again.
SELECT history('{{40,1},{40,1},{40,1}}', '{1000,1000,1000}', '{}', 'ia_top');
SELECT * FROM ichange(40);
SELECT count(*) AS mismatches FROM dt_test.diff('ia_top');
SELECT history('{{10,100},{10,100},{10,100}}', '{10,10,10}', '{}', 'ia_top');
SELECT action FROM ichange(10);
-- what the next refresh would do: a rebuild (the history says incremental
-- is cheaper), the internal tables refreshed first
SELECT history('{{10,1},{10,1},{10,1}}', '{1000,1000,1000}', '{}', 'ia_top');
INSERT INTO io (cust, amount) VALUES (3, 1000);
SELECT kind, object, regexp_replace(detail, 'sub_[0-9]+_', 'sub_R_') AS detail
  FROM dt.explain_refresh('ia_top') WHERE kind = 'action' OR object = 'refresh internal table';
SELECT * FROM ichange(10);
SELECT count(*) AS mismatches FROM dt_test.diff('ia_top');
SELECT count(*) AS state_valid FROM dt_internal.state_valid WHERE relid = 'ia_top'::regclass;
SELECT s.n, d.populated FROM ia_subs s JOIN dt_internal.dynamic_table d USING (relid) ORDER BY s.n;
-- incremental again, over what the rebuild's refreshes of the internal
-- tables wrote: none of it is read again.  The internal tables are the
-- table's state, and its history chooses for them: their own histories,
-- written to say that full refreshes are cheaper for them, change
-- nothing (one refreshed in full on its own made the table's window a
-- rebuild marker: the table refreshed in full, then rebuilt).
SELECT count(*) AS histories
  FROM ia_subs, history('{{10,100},{10,100},{10,100}}', '{10,10,10}', '{}', relid::regclass::text);
SELECT * FROM ichange(10);
-- its history counts the rows of the windows of its internal tables,
-- refreshed before it in its unit, instead of what they wrote into its
-- own, and those of its own over its other inputs (none here), as a
-- refresh with its state set aside counts them (a refresh that planned a
-- statement, as the first of a size may, counts none)
SELECT action FROM ichange(10);
SELECT (SELECT l.changes FROM dt_internal.refresh_log l WHERE l.relid = 'ia_top'::regclass
         ORDER BY l.refresh_id DESC LIMIT 1) AS changes,
       (SELECT sum(l.changes) FROM dt_internal.refresh_log l JOIN ia_subs s USING (relid)
         WHERE l.refresh_id > (SELECT max(refresh_id) - 3 FROM dt_internal.refresh_log
                                WHERE relid = 'ia_top'::regclass)) AS internal;
SELECT count(*) AS mismatches FROM dt_test.diff('ia_top');
UPDATE io SET amount = amount + 5000 WHERE cust = 7;
SELECT action FROM dt.refresh('ia_top');
SELECT count(*) AS mismatches FROM dt_test.diff('ia_top');
-- A lost state (a crash empties dt_internal.state_valid, unlogged): the
-- unit skips the internal tables, and the refresh refreshes them (each as
-- it decides: they are populated) before filling the table from them.
DELETE FROM dt_internal.state_valid WHERE relid = 'ia_top'::regclass;
SET pg_dynamic_tables.adaptive_refresh = off;
SELECT * FROM ichange(10);
SELECT count(*) AS mismatches FROM dt_test.diff('ia_top');
SELECT * FROM ichange(10);
SET pg_dynamic_tables.adaptive_refresh = on;
DROP VIEW ia_subs;
SELECT dt.drop_dynamic_table('ia_top');
DROP TABLE ic, io;
DROP FUNCTION history(int[], int[], int[], text), change(int), ichange(int);

-- Recompute by key: changes that touch more than a quarter of the keys
-- refresh in full.  With adaptive refresh the keys are the distinct values
-- of the table's key column (by ANALYZE), not its rows: 2 of 4 keys is
-- half the table, though 8 is far under its 400 rows.  Without it, the
-- rows (statistics that autovacuum gathers at any moment would move the
-- choice in the other tests).
CREATE TABLE rk (id int PRIMARY KEY, k int, v int);
CREATE INDEX ON rk (k);
INSERT INTO rk SELECT i, i % 4, i FROM generate_series(1, 400) i;
SELECT dt.create_dynamic_table('rk_share',
    'SELECT k, id, v, sum(v) OVER (PARTITION BY k) AS total FROM rk',
    refresh_mode => 'incremental') IS NOT NULL AS created;
ANALYZE rk_share;
UPDATE rk SET v = v + 1 WHERE id IN (1, 2);
SELECT action FROM dt.refresh('rk_share');
SELECT state_message FROM dt.refresh_history WHERE relid = 'rk_share'::regclass
 ORDER BY refresh_id DESC LIMIT 1;
UPDATE rk SET v = v + 1 WHERE id = 3;
SELECT action FROM dt.refresh('rk_share');
-- Changes that touch every key: the message gives the keys touched in the
-- most selective key column and their estimate (it said "0 keys, of about
-- 0" when no column's share was under 1), with one key column and with two.
-- The table's history is cleared first: its timings, of this machine's
-- load, could make adaptive refresh choose the full refresh before the
-- keys do (the test was flaky so).
DELETE FROM dt_internal.refresh_log WHERE relid = 'rk_share'::regclass;
UPDATE rk SET v = v + 1 WHERE id IN (1, 2, 3, 4);
SELECT action FROM dt.refresh('rk_share');
SELECT state_message FROM dt.refresh_history WHERE relid = 'rk_share'::regclass
 ORDER BY refresh_id DESC LIMIT 1;
CREATE TABLE rk2 (id int PRIMARY KEY, k int, j int, v int);
CREATE INDEX ON rk2 (k, j);
INSERT INTO rk2 SELECT i, i % 2, i % 3, i FROM generate_series(1, 600) i;
SELECT dt.create_dynamic_table('rk_pair',
    'SELECT k, j, id, v, sum(v) OVER (PARTITION BY k, j) AS total FROM rk2',
    refresh_mode => 'incremental') IS NOT NULL AS created;
SELECT refresh_mode_reason FROM dt.dynamic_tables WHERE relid = 'rk_pair'::regclass;
ANALYZE rk_pair;
UPDATE rk2 SET v = v + 1 WHERE id IN (1, 2, 3);
SELECT action FROM dt.refresh('rk_pair');
SELECT state_message FROM dt.refresh_history WHERE relid = 'rk_pair'::regclass
 ORDER BY refresh_id DESC LIMIT 1;
SELECT count(*) AS mismatches FROM dt_test.diff('rk_pair');
SELECT dt.drop_dynamic_table('rk_pair');
DROP TABLE rk2;
SET pg_dynamic_tables.adaptive_refresh = off;
UPDATE rk SET v = v + 1 WHERE id IN (1, 2);
SELECT action FROM dt.refresh('rk_share');
SELECT count(*) AS mismatches FROM dt_test.diff('rk_share');
SELECT dt.drop_dynamic_table('rk_share');
DROP TABLE rk;
RESET pg_dynamic_tables.adaptive_refresh;

-- A table whose incremental refreshes cannot win refreshes in full for
-- good: TPC-H Q22's shape, whose threshold moves with every change, so
-- that every incremental refresh evaluates every customer before and
-- after, more than the query (Q22's own avg(bal) is kept in an internal
-- table now, internal_subqueries.sql; an expression over it is not).
-- Going full sets its per-group state aside, but a rebuild would come
-- only if an incremental refresh got cheaper than a full one by enough to
-- pay it back over the next ten, and not even the cheapest timed did: no
-- rebuild is owed, full.  Until a
-- full refresh from the query is timed, one is expected to cost what the
-- statement that built the state from the inputs took (recorded with the
-- creation: state_query_ms), not the creation, which also planned, and
-- created and indexed tables (TPC-H Q22's query of 13 ms was created in
-- 30 to 88 ms, and stayed incremental at 0.8 times the query's speed).
-- Here the history says: incremental refreshes of 20 rows took 180 ms
-- (the cheapest too), the creation 600 ms, of which 120 ms built the
-- state; the refreshes from the query that follow take what they take (a
-- few ms), and the table stays full, equal to its query every round.
SET pg_dynamic_tables.adaptive_refresh = on;
CREATE TABLE cu (id int PRIMARY KEY, phone text, bal numeric);
CREATE TABLE od (id serial PRIMARY KEY, cust int);
INSERT INTO cu SELECT i, (10 + i % 25)::text || '-' || i, (i * 37) % 1000 - 100 FROM generate_series(1, 500) i;
INSERT INTO od (cust) SELECT i * 3 FROM generate_series(1, 100) i;
SELECT dt.create_dynamic_table('cu_q22', $$
SELECT cc, count(*) AS n, sum(bal) AS total
  FROM (SELECT substring(phone FROM 1 FOR 2) AS cc, bal
          FROM cu
         WHERE substring(phone FROM 1 FOR 2) IN ('13', '31', '23', '29', '30', '18', '17')
           AND bal > (SELECT avg(bal) * 1 FROM cu
                       WHERE bal > 0 AND substring(phone FROM 1 FOR 2) IN ('13', '31', '23', '29', '30', '18', '17'))
           AND NOT EXISTS (SELECT FROM od WHERE od.cust = cu.id)) s
 GROUP BY cc
$$, refresh_mode => 'incremental') IS NOT NULL AS created;
SELECT refresh_mode_reason LIKE 'aggregates are merged%' AS delta_merge FROM dt.dynamic_tables
 WHERE relid = 'cu_q22'::regclass;
-- its creation timed the statement that built the state
SELECT refresh_action, state_query_ms > 0 AS state_query_timed FROM dt_internal.refresh_log
 WHERE relid = 'cu_q22'::regclass;
DELETE FROM dt_internal.refresh_log WHERE relid = 'cu_q22'::regclass;
INSERT INTO dt_internal.refresh_log (relid, table_name, refresh_start_time, refresh_end_time,
                                     refresh_action, refresh_trigger, state, state_query_ms)
VALUES ('cu_q22'::regclass, 'cu_q22', now() - interval '1 hour', now() - interval '1 hour' + interval '600 ms',
        'FULL', 'MANUAL', 'SUCCEEDED', 120);
INSERT INTO dt_internal.refresh_log (relid, table_name, refresh_start_time, refresh_end_time,
                                     refresh_action, refresh_trigger, state, changes)
SELECT 'cu_q22'::regclass, 'cu_q22', now() - interval '1 hour', now() - interval '1 hour' + interval '180 ms',
       'INCREMENTAL', 'MANUAL', 'SUCCEEDED', 20
  FROM generate_series(1, 3);
-- q22_round(r): round r moves balances (and the average) and orders of
-- some customers, then a refresh: its action, why (the reason, short), and
-- whether the table equals its query.
CREATE FUNCTION q22_round(r int, OUT action text, OUT why text, OUT mismatches bigint) LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cu SET bal = bal + 50 * r WHERE id % 50 = r;
    DELETE FROM od WHERE cust % 50 = r;
    INSERT INTO od (cust) SELECT i FROM generate_series(r, 500, 97) i;
    SELECT a.action INTO action FROM dt.refresh('cu_q22') a;
    SELECT CASE WHEN h.state_message LIKE '%cannot win%' THEN 'cannot win'
                WHEN h.state_message LIKE 'the per-group state%' THEN 'rebuilt'
                WHEN h.state_message LIKE 'an incremental refresh of%refreshed in full%' THEN 'cheaper in full'
                ELSE h.state_message END INTO why
      FROM dt.refresh_history h WHERE h.relid = 'cu_q22'::regclass ORDER BY h.refresh_id DESC LIMIT 1;
    SELECT count(*) INTO mismatches FROM dt_test.diff('cu_q22');
END
$$;
SELECT r, q.* FROM generate_series(1, 5) r, q22_round(r) q;
SELECT count(*) AS state_valid FROM dt_internal.state_valid WHERE relid = 'cu_q22'::regclass;
-- the reason, in full (the full refresh's figure is the guess: 120 ms)
SELECT state_message AS reason
  FROM dt.refresh_history WHERE relid = 'cu_q22'::regclass AND state_message LIKE '%cannot win%';
DROP FUNCTION q22_round(int);
SELECT dt.drop_dynamic_table('cu_q22');
DROP TABLE cu, od;
RESET pg_dynamic_tables.adaptive_refresh;
