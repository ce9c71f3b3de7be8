# The background scheduler: launcher, schedulers and refresh workers keep
# dynamic tables within their target lag, and survive what a server lives
# through.  Every wait is for a condition, with the generous deadline of
# poll_query_until; nothing depends on how fast the machine is.

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);

my $node = PostgreSQL::Test::Cluster->new('scheduler');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_dynamic_tables'
pg_dynamic_tables.max_concurrent_refreshes = 2
max_prepared_transactions = 2
});
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION pg_dynamic_tables');
$node->safe_psql('postgres', slurp_file('test/oracle.sql'));

sub workers
{
	my ($type) = @_;
	return "SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_dynamic_tables $type')";
}

# equal: the dynamic table equals its query (test/oracle.sql).
sub equal
{
	my ($dt) = @_;
	return "SELECT count(*) = 0 FROM dt_test.diff('$dt')";
}

ok($node->poll_query_until('postgres', workers('launcher') . ' = 1'), 'the launcher runs');
ok($node->poll_query_until('postgres', workers('refresh worker') . ' >= 1'),
	'a refresh worker starts in the database with the extension');

$node->safe_psql('postgres', q{
CREATE TABLE events (id serial PRIMARY KEY, kind text, amount numeric);
INSERT INTO events (kind, amount) SELECT 'k' || (i % 3), i FROM generate_series(1, 100) i;
SELECT dt.create_dynamic_table('by_kind',
    'SELECT kind, count(*) AS n, sum(amount) AS total, max(amount) AS top FROM events GROUP BY kind',
    target_lag => '1 second');
});

# A table reaches its lag after writes.
$node->safe_psql('postgres', "INSERT INTO events (kind, amount) VALUES ('k9', 1), ('k1', 1000)");
ok($node->poll_query_until('postgres', equal('by_kind')), 'writes reach the dynamic table on schedule');
my $count = $node->safe_psql('postgres',
	"SELECT count(*) FROM dt.refresh_history WHERE refresh_trigger = 'SCHEDULED' AND state = 'SUCCEEDED'");
ok($count > 0, 'the refreshes were scheduled ones');

# The clock of a scheduled refresh is the refresh's own: now() in a defining
# query gives, in the rows a refresh writes, the time of that refresh (as
# the history records it), although refresh workers live across refreshes.
$node->safe_psql('postgres', q{
SELECT dt.create_dynamic_table('stamped',
    'SELECT kind, count(*) AS n, now() AS refreshed_at FROM events GROUP BY kind',
    target_lag => '1 second');
});
for my $round (1 .. 3)
{
	sleep 2;
	$node->safe_psql('postgres', "INSERT INTO events (kind, amount) VALUES ('stamp$round', 1)");
	ok($node->poll_query_until('postgres', "SELECT count(*) = 1 FROM stamped WHERE kind = 'stamp$round'"),
		"write $round reaches a table that reads the clock");
	is($node->safe_psql('postgres', qq{
SELECT s.refreshed_at <= h.refresh_start_time AND s.refreshed_at > h.refresh_start_time - interval '1 second'
  FROM stamped s,
       (SELECT refresh_start_time FROM dt.refresh_history
         WHERE name = 'public.stamped' AND state = 'SUCCEEDED' AND refresh_action <> 'NO_DATA'
         ORDER BY refresh_id DESC LIMIT 1) h
 WHERE s.kind = 'stamp$round'}), 't', "now() in scheduled refresh $round is the refresh's time");
}
$node->safe_psql('postgres', "SELECT dt.drop_dynamic_table('stamped')");

# A scheduled refresh commits asynchronously (its writes are derived: a
# crash that loses it leaves its changes in the logs for the next); a
# manual one commits as its caller's transaction does.
$node->safe_psql('postgres', q{
SELECT dt.create_dynamic_table('commits',
    $$SELECT kind, count(*) AS n, current_setting('synchronous_commit') AS sc FROM events GROUP BY kind$$,
    target_lag => '1 second');
});
$node->safe_psql('postgres', "INSERT INTO events (kind, amount) VALUES ('async', 1)");
ok($node->poll_query_until('postgres', "SELECT count(*) = 1 FROM commits WHERE kind = 'async'"),
	'a write reaches a table that reads synchronous_commit');
is($node->safe_psql('postgres', "SELECT sc FROM commits WHERE kind = 'async'"), 'off',
	'a scheduled refresh runs with synchronous_commit off');
# The write is the manual refresh's to consume: a transaction that
# refreshed the table holds it from before the write until the read, so
# the scheduler (due about half a second after the write) skips it
# meanwhile, however slowly the client runs.
my $manual = $node->background_psql('postgres');
$manual->query_safe('BEGIN');
$manual->query_safe("SELECT action FROM dt.refresh('commits')");
$node->safe_psql('postgres', "INSERT INTO events (kind, amount) VALUES ('sync', 1)");
is($manual->query_safe("SELECT action FROM dt.refresh('commits')"), 'INCREMENTAL',
	'a manual refresh consumes a write');
is($manual->query_safe("SELECT sc FROM commits WHERE kind = 'sync'"), 'on',
	'a manual refresh keeps its caller\'s synchronous_commit');
$manual->query_safe('COMMIT');
$manual->quit;
$node->safe_psql('postgres', "SELECT dt.drop_dynamic_table('commits')");

# A table held by a manual refresh in an open transaction, and written to:
# its scheduled refreshes back off while they wait (no busy loop: few transactions in the
# database), and its history keeps one SKIPPED row for the whole stretch.
my ($mark, $commits) = split /\|/, $node->safe_psql('postgres', q{
SELECT (SELECT coalesce(max(refresh_id), 0) FROM dt.refresh_history),
       (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database())});
my $holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN');
$holder->query_safe("SELECT action FROM dt.refresh('by_kind')");
$node->safe_psql('postgres', "INSERT INTO events (kind, amount) VALUES ('k1', 2)");
sleep 5;
# held for 5 seconds, and until the skips it saw span more than 3 (the
# first may come late on a busy machine)
ok($node->poll_query_until('postgres', qq{
SELECT max(refresh_end_time) > min(refresh_start_time) + interval '3 seconds' FROM dt.refresh_history
 WHERE refresh_id > $mark AND name = 'public.by_kind' AND state = 'SKIPPED'}),
	'the scheduled refreshes of a held table are skipped while it is held');
$holder->query_safe('COMMIT');
$holder->quit;
ok($node->poll_query_until('postgres', equal('by_kind')), 'a blocked table is refreshed once free');
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM dt.refresh_history
 WHERE refresh_id > $mark AND name = 'public.by_kind' AND state = 'SKIPPED'}),
	'1', 'one SKIPPED row for a stretch of skips');
is($node->safe_psql('postgres', qq{
SELECT duration > interval '3 seconds' FROM dt.refresh_history
 WHERE refresh_id > $mark AND name = 'public.by_kind' AND state = 'SKIPPED'}),
	't', 'which covers the stretch');
is($node->safe_psql('postgres', qq{
SELECT xact_commit - $commits < 150 FROM pg_stat_database WHERE datname = current_database()}),
	't', 'the blocked table cost few transactions while it waited');

# A scheduled refresh running when its table's owner alters or suspends
# the table is cancelled, and the owner's change goes through; the cancel
# is no failure of the refresh: none is counted towards suspension, however
# often the worker tried again meanwhile, and the history says CANCELLED,
# naming the function, not FAILED.  The refresh is held here inside its
# statements, by an advisory lock its query waits for.
$node->safe_psql('postgres', q{
CREATE FUNCTION gate(x int) RETURNS int LANGUAGE plpgsql STABLE
    AS $$ BEGIN PERFORM pg_advisory_xact_lock_shared(4243); RETURN x; END $$;
CREATE TABLE feed (k int, x int);
SELECT dt.create_dynamic_table('gated', 'SELECT k, sum(gate(x)) AS s FROM feed GROUP BY k',
                               target_lag => '1 second');
SELECT dt.create_dynamic_table('gated_total', 'SELECT sum(s) AS s FROM gated', target_lag => '1 second');
});
my $locker = $node->background_psql('postgres');
$locker->query_safe('SELECT pg_advisory_lock(4243)');
$node->safe_psql('postgres', 'INSERT INTO feed VALUES (1, 1), (2, 2)');
ok($node->poll_query_until('postgres', q{
SELECT count(*) > 0 FROM pg_stat_activity
 WHERE backend_type = 'pg_dynamic_tables refresh worker' AND wait_event = 'advisory'}),
	'a scheduled refresh waits inside its statements');
$node->safe_psql('postgres', "SELECT dt.alter_dynamic_table('gated', '2 seconds')");
is($node->safe_psql('postgres', q{
SELECT format('%s %s %s', target_lag, scheduling_state, consecutive_failures)
  FROM dt.dynamic_tables WHERE relid = 'gated'::regclass}),
	'00:00:02 ACTIVE 0', 'altering it cancels the refresh, which counts as no failure');
# (a retry while the owner holds the table is SKIPPED, as any refresh
# that finds it locked)
my $gated_history = q{
SELECT string_agg(DISTINCT state || ': ' || state_message, '; ') FROM dt.refresh_history
 WHERE name = 'public.gated' AND state NOT IN ('SUCCEEDED', 'SKIPPED')};
is($node->safe_psql('postgres', $gated_history), 'CANCELLED: cancelled by dt.alter_dynamic_table',
	'the history says it was cancelled, and by what');
is($node->safe_psql('postgres', q{
SELECT string_agg(DISTINCT state || ': ' || state_message, '; ') FROM dt.refresh_history
 WHERE name = 'public.gated_total' AND state NOT IN ('SUCCEEDED', 'SKIPPED')}),
	'UPSTREAM_FAILED: the refresh of "gated" was cancelled', 'and so does the table downstream of it');
ok($node->poll_query_until('postgres', q{
SELECT count(*) > 0 FROM pg_stat_activity
 WHERE backend_type = 'pg_dynamic_tables refresh worker' AND wait_event = 'advisory'}),
	'the scheduled refresh is tried again');
$node->safe_psql('postgres', "SELECT dt.suspend('gated')");
is($node->safe_psql('postgres', q{
SELECT format('%s %s', scheduling_state, consecutive_failures)
  FROM dt.dynamic_tables WHERE relid = 'gated'::regclass}),
	'SUSPENDED 0', 'suspending it cancels the refresh, which counts as no failure');
is($node->safe_psql('postgres', $gated_history),
	'CANCELLED: cancelled by dt.alter_dynamic_table; CANCELLED: cancelled by dt.suspend',
	'nor is recorded as one');
$node->safe_psql('postgres', "SELECT dt.resume('gated')");
$locker->query_safe('SELECT pg_advisory_unlock(4243)');
$locker->quit;
ok($node->poll_query_until('postgres', equal('gated')), 'and the table is refreshed after');
$node->safe_psql('postgres',
	"SELECT dt.drop_dynamic_table('gated_total'); SELECT dt.drop_dynamic_table('gated'); DROP TABLE feed; DROP FUNCTION gate(int)");

# Dropping a dynamic table changes the schedule at once: here the unit of
# sums (1 second), which refreshed totals (1 hour) with it.  Before, the
# workers kept their plan, and refreshed that unit, totals without sums,
# once more on the next write.
$node->safe_psql('postgres', q{
CREATE TABLE drops (k int, v int);
INSERT INTO drops VALUES (1, 1);
SELECT dt.create_dynamic_table('totals', 'SELECT k, sum(v) AS v FROM drops GROUP BY k', target_lag => '1 hour');
SELECT dt.create_dynamic_table('sums', 'SELECT sum(v) AS v FROM totals', target_lag => '1 second');
INSERT INTO drops VALUES (2, 2);
});
ok($node->poll_query_until('postgres', equal('sums')), 'a unit of two tables is refreshed on schedule');
$node->safe_psql('postgres', "SELECT dt.drop_dynamic_table('sums')");
my $dropped_at = $node->safe_psql('postgres', 'SELECT max(refresh_id) FROM dt.refresh_history');
$node->safe_psql('postgres', 'INSERT INTO drops VALUES (3, 3)');
sleep(3);
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM dt.refresh_history WHERE refresh_id > $dropped_at AND name = 'public.totals'}),
	'0', 'once the reader is dropped, the table is refreshed at its own lag');
$node->safe_psql('postgres', 'DROP TABLE drops CASCADE');

# Idle: the scheduler keeps refreshing, cheaply.
ok($node->poll_query_until('postgres',
	"SELECT count(*) >= 2 FROM dt.refresh_history WHERE refresh_action = 'NO_DATA' AND refresh_trigger = 'SCHEDULED'"),
	'an idle table gets NO_DATA refreshes');
ok($node->poll_query_until('postgres',
	"SELECT current_lag < interval '1 minute' AND time_within_target_lag_ratio > 0 FROM dt.dynamic_tables"),
	'lag figures are reported');

# A bulk load: once every reader consumed it, the worker gives the emptied
# change log's pages back (autovacuum, which may truncate it too, is kept
# off it); not while a writer is open, here a prepared transaction with
# rows in the log, which must survive.  The size is read while the loading
# transaction is open.  It loads with adaptive refresh off, so that its rows
# are logged (with it on, one statement that large logs one marker).
my $log = $node->safe_psql('postgres', "SELECT 'dt_internal.changes_' || 'events'::regclass::oid");
$node->safe_psql('postgres', "ALTER TABLE $log SET (autovacuum_enabled = off)");
$node->safe_psql('postgres', q{
BEGIN;
INSERT INTO events (kind, amount) VALUES ('k8', 8), ('k1', 11);
PREPARE TRANSACTION 'open_writer';
});
is($node->safe_psql('postgres', qq{
SET pg_dynamic_tables.adaptive_refresh = off;
BEGIN;
INSERT INTO events (kind, amount) SELECT 'k' || (i % 5), i FROM generate_series(1, 30000) i;
SELECT pg_relation_size('$log') >= 128 * 8192;
COMMIT;
}), 't', 'a bulk load fills the change log');
ok($node->poll_query_until('postgres', equal('by_kind')), 'the bulk load is refreshed');
my $seen = $node->safe_psql('postgres', 'SELECT max(refresh_id) FROM dt.refresh_history');
ok($node->poll_query_until('postgres',
	"SELECT count(*) >= 2 FROM dt.refresh_history WHERE refresh_id > $seen AND refresh_trigger = 'SCHEDULED'"),
	'scheduled refreshes go on');
# Steady ingest, readers always a little behind: a log that is never
# empty (the open writer here) is never truncated; the worker VACUUMs it,
# so that the next rows fill the space of those consumed, not new pages.
ok($node->poll_query_until('postgres',
	"SELECT vacuum_count > 0 FROM pg_stat_user_tables WHERE relid = '$log'::regclass"),
	'the worker vacuums a log it cannot empty');
is($node->safe_psql('postgres', "SELECT pg_relation_size('$log') > 0"), 't',
	'an open writer keeps the log');
# Emptied while another transaction holds it (here a reader of the log),
# the log cannot be truncated at once: once it is free, it is, although
# nothing is refreshed any more to ask for it.
my $reader = $node->background_psql('postgres');
$reader->query_safe("BEGIN; LOCK TABLE $log IN ACCESS SHARE MODE");
$node->safe_psql('postgres', "COMMIT PREPARED 'open_writer'");
ok($node->poll_query_until('postgres', equal('by_kind')), "the open writer's rows were not lost");
my $vacuums = $node->safe_psql('postgres',
	"SELECT vacuum_count FROM pg_stat_user_tables WHERE relid = '$log'::regclass");
ok($node->poll_query_until('postgres',
	"SELECT vacuum_count > $vacuums FROM pg_stat_user_tables WHERE relid = '$log'::regclass"),
	'the worker tries to compact the log again');
is($node->safe_psql('postgres', "SELECT pg_relation_size('$log') > 0"), 't',
	'a transaction holding the log keeps its pages');
$reader->query_safe('COMMIT');
$reader->quit;
ok($node->poll_query_until('postgres', "SELECT pg_relation_size('$log') = 0"),
	'then the worker truncates the emptied log');
$node->safe_psql('postgres', "INSERT INTO events (kind, amount) VALUES ('k7', 7), ('k1', -3)");
ok($node->poll_query_until('postgres', equal('by_kind')), 'and the next refreshes are right');

# Suspended: no scheduled refreshes; resumed: caught up.
$node->safe_psql('postgres', "SELECT dt.suspend('by_kind')");
my $before = $node->safe_psql('postgres', 'SELECT max(refresh_id) FROM dt.refresh_history');
$node->safe_psql('postgres', "INSERT INTO events (kind, amount) VALUES ('k2', 5)");
sleep 3;
is($node->safe_psql('postgres', "SELECT count(*) FROM dt.refresh_history WHERE refresh_id > $before"),
	'0', 'a suspended table is not refreshed');
$node->safe_psql('postgres', "SELECT dt.resume('by_kind')");
ok($node->poll_query_until('postgres', equal('by_kind')), 'a resumed table catches up');

# A refresh that keeps failing suspends its table after five attempts; the
# other tables go on.
$node->safe_psql('postgres', q{
CREATE TABLE ratios (k int, num int, den int);
INSERT INTO ratios VALUES (1, 4, 2);
SELECT dt.create_dynamic_table('quotients',
    'SELECT k, sum(num / den) AS q FROM ratios GROUP BY k', target_lag => '1 second');
INSERT INTO ratios VALUES (2, 1, 0);
});
ok($node->poll_query_until('postgres',
	"SELECT scheduling_state = 'SUSPENDED' FROM dt.dynamic_tables WHERE relid = 'quotients'::regclass"),
	'five failed refreshes suspend the table');
is($node->safe_psql('postgres',
	"SELECT count(*) FROM dt.refresh_history WHERE name = 'public.quotients' AND state = 'FAILED'"),
	'5', 'each failure is in the history');
# Tried again after a back-off that doubles, not at once: five failures
# in a row took a few milliseconds, and a cause that lasted as long
# suspended the table.  The first five back-offs: 0.1 + 0.2 + 0.4 + 0.8 s.
is($node->safe_psql('postgres', q{
SELECT max(refresh_start_time) - min(refresh_start_time) >= interval '1.5 seconds'
  FROM dt.refresh_history WHERE name = 'public.quotients' AND state = 'FAILED'}),
	't', 'the failures are tried again after a back-off');
like($node->safe_psql('postgres',
	"SELECT scheduling_state_reason FROM dt.dynamic_tables WHERE relid = 'quotients'::regclass"),
	qr/division by zero/, 'the reason names the error');
$node->safe_psql('postgres', "INSERT INTO events (kind, amount) VALUES ('k0', 7)");
ok($node->poll_query_until('postgres', equal('by_kind')), 'other tables are refreshed meanwhile');

# A failed manual refresh is recorded although its transaction rolled back.
my ($ret, $out, $err) = $node->psql('postgres', "SELECT * FROM dt.refresh('quotients')");
like($err, qr/division by zero/, 'a failed manual refresh raises the error');
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM dt.refresh_history WHERE refresh_trigger = 'MANUAL' AND state = 'FAILED'"),
	'and is recorded in the history');
$node->safe_psql('postgres', "DELETE FROM ratios WHERE den = 0; SELECT dt.resume('quotients')");
ok($node->poll_query_until('postgres', equal('quotients')), 'fixed and resumed, it recovers');

# Killed workers come back: the launcher at once, a refresh worker when a
# table is due again (nothing may be due right after the kill, and a pid
# can wrap, so a new worker is seen by the scheduled refresh it makes).
$seen = $node->safe_psql('postgres', "SELECT coalesce(max(refresh_id), 0) FROM dt.refresh_history");
my $killed_at = $node->safe_psql('postgres', "SELECT clock_timestamp()");
$node->safe_psql('postgres',
	"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type LIKE 'pg_dynamic_tables %'");
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_dynamic_tables launcher' AND backend_start > '$killed_at'"),
	'a terminated launcher is started again');
$node->safe_psql('postgres', "INSERT INTO events (kind, amount) VALUES ('k3', 3)");
ok($node->poll_query_until('postgres',
	"SELECT count(*) >= 1 FROM dt.refresh_history WHERE refresh_id > $seen AND refresh_trigger = 'SCHEDULED' AND state = 'SUCCEEDED'"),
	'so is a refresh worker, which refreshes a table due again');
ok($node->poll_query_until('postgres', equal('by_kind')), 'and refreshes go on');

# A function a dynamic table's query calls runs in the refresh worker, as
# the table's owner: a session-level advisory lock it takes does not stay
# with the worker, which refreshes every owner's tables.
$node->safe_psql('postgres', q{
CREATE ROLE grabber;
GRANT CREATE ON SCHEMA public TO grabber;
SET ROLE grabber;
CREATE FUNCTION grab(x int) RETURNS int LANGUAGE plpgsql STABLE
    AS $$ BEGIN PERFORM pg_advisory_lock(4242); RETURN x; END $$;
CREATE TABLE grabbed (id int);
INSERT INTO grabbed VALUES (1);
SELECT dt.create_dynamic_table('grabbing', 'SELECT grab(id) AS g FROM grabbed',
                               target_lag => '1 second', initialize => 'on_schedule');
});
ok($node->poll_query_until('postgres',
	"SELECT count(*) >= 2 FROM dt.refresh_history WHERE name = 'public.grabbing' AND state = 'SUCCEEDED'"),
	'a table whose query takes an advisory lock is refreshed on schedule');
ok($node->poll_query_until('postgres', 'SELECT pg_try_advisory_lock(4242)'),
	'and the lock is not kept by the refresh worker');
$node->safe_psql('postgres', q{
SELECT dt.drop_dynamic_table('grabbing');
DROP TABLE grabbed;
DROP FUNCTION grab(int);
REVOKE CREATE ON SCHEMA public FROM grabber;
DROP ROLE grabber;
});

# Scheduling off for the server, then for the database.
$node->safe_psql('postgres', 'ALTER SYSTEM SET pg_dynamic_tables.enabled = off; SELECT pg_reload_conf()');
sleep 1;
$before = $node->safe_psql('postgres', 'SELECT max(refresh_id) FROM dt.refresh_history');
sleep 3;
is($node->safe_psql('postgres', "SELECT count(*) FROM dt.refresh_history WHERE refresh_id > $before"),
	'0', 'pg_dynamic_tables.enabled = off stops the scheduler');
$node->safe_psql('postgres', 'ALTER SYSTEM RESET pg_dynamic_tables.enabled; SELECT pg_reload_conf()');
$node->safe_psql('postgres', "INSERT INTO events (kind, amount) VALUES ('k4', 4)");
ok($node->poll_query_until('postgres', equal('by_kind')), 'and on again restarts it');
$node->safe_psql('postgres', 'ALTER DATABASE postgres SET pg_dynamic_tables.enabled = off');
sleep 1;
$before = $node->safe_psql('postgres', 'SELECT max(refresh_id) FROM dt.refresh_history');
sleep 3;
is($node->safe_psql('postgres', "SELECT count(*) FROM dt.refresh_history WHERE refresh_id > $before"),
	'0', 'so does ALTER DATABASE ... SET pg_dynamic_tables.enabled = off');

# A restart, then a crash: the tables stay correct and refreshes resume.
# The restart is made with the database's scheduling off, and an ALTER
# ROLE ... SET of the role the workers connect as, which is for sessions:
# the refresh worker started with the server connects with both applied.
# Written to meanwhile, the table is refreshed once the database's setting
# is reset, by that worker (it reads the database's setting, not its
# own of when it connected) or by the next.
$node->safe_psql('postgres', 'ALTER ROLE CURRENT_USER SET pg_dynamic_tables.enabled = off');
$node->restart;
ok($node->poll_query_until('postgres', workers('refresh worker') . ' >= 1'),
	'a refresh worker starts with the server');
$node->safe_psql('postgres', "INSERT INTO events (kind, amount) VALUES ('k5', 5)");
$seen = $node->safe_psql('postgres', "SELECT coalesce(max(refresh_id), 0) FROM dt.refresh_history");
$node->safe_psql('postgres', 'ALTER DATABASE postgres RESET pg_dynamic_tables.enabled');
ok($node->poll_query_until('postgres',
	"SELECT count(*) >= 1 FROM dt.refresh_history WHERE refresh_id > $seen AND refresh_trigger = 'SCHEDULED'"),
	'resetting the database\'s setting after a restart starts scheduled refreshes');
ok($node->poll_query_until('postgres', equal('by_kind')), 'refreshes resume after a restart');
$node->safe_psql('postgres', 'ALTER ROLE CURRENT_USER RESET pg_dynamic_tables.enabled');
$node->safe_psql('postgres', "INSERT INTO events (kind, amount) SELECT 'k6', i FROM generate_series(1, 50) i");
$node->stop('immediate');
$node->start;
ok($node->poll_query_until('postgres', equal('by_kind')), 'no change is lost in a crash');

# Dropping a table, then the extension, while the scheduler runs.
$node->safe_psql('postgres', "SELECT dt.drop_dynamic_table('quotients')");
$node->safe_psql('postgres', "INSERT INTO events (kind, amount) VALUES ('k7', 7)");
ok($node->poll_query_until('postgres', equal('by_kind')), 'dropping one table leaves the others scheduled');
$node->safe_psql('postgres', 'DROP EXTENSION pg_dynamic_tables CASCADE');
ok($node->poll_query_until('postgres', workers('refresh worker') . ' = 0'), 'DROP EXTENSION stops the refresh workers');
ok($node->poll_query_until('postgres', workers('launcher') . ' = 1'), 'the launcher stays');

# CREATE EXTENSION in another database starts a refresh worker there; DROP
# DATABASE stops it without waiting for the user.
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql('other', 'CREATE EXTENSION pg_dynamic_tables');
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_dynamic_tables refresh worker' AND datname = 'other'"),
	'CREATE EXTENSION starts a refresh worker');
$node->safe_psql('postgres', 'DROP DATABASE other');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_database WHERE datname = 'other'"), '0',
	'DROP DATABASE of a database with the extension succeeds');

$node->stop;

# One refresh worker: a change log emptied while another transaction holds
# it (here a reader) is tried again after a back-off (1, 2, 4 s...), also
# while the worker compacts the logs of another table it refreshes four
# times a second; it was tried, with a VACUUM of the log, at each of those
# compactions, once a second.  (Idle, the worker tried it every ten
# seconds, with its housekeeping.)
$node = PostgreSQL::Test::Cluster->new('one_worker');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'pg_dynamic_tables'
pg_dynamic_tables.max_concurrent_refreshes = 1
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_dynamic_tables;
CREATE TABLE loaded (k int, v int);
SELECT dt.create_dynamic_table('loaded_sum', 'SELECT k, sum(v) AS s FROM loaded GROUP BY k',
                               target_lag => '1 second');
CREATE TABLE busy (k int);
SELECT dt.create_dynamic_table('busy_count', 'SELECT k, count(*) AS n FROM busy GROUP BY k',
                               target_lag => '100 milliseconds');
});
$log = $node->safe_psql('postgres', "SELECT 'dt_internal.changes_' || 'loaded'::regclass::oid");
$node->safe_psql('postgres', "ALTER TABLE $log SET (autovacuum_enabled = off)");
$reader = $node->background_psql('postgres');
$reader->query_safe("BEGIN; LOCK TABLE $log IN ACCESS SHARE MODE");
$node->safe_psql('postgres', q{
SET pg_dynamic_tables.adaptive_refresh = off;
INSERT INTO loaded SELECT i % 5, i FROM generate_series(1, 30000) i;
});
ok($node->poll_query_until('postgres',
	"SELECT vacuum_count > 0 FROM pg_stat_user_tables WHERE relid = '$log'::regclass"),
	'one worker: a bulk load is refreshed, and its log, held, is not truncated');
# no refresh of the loaded table asks for its log again (each would)
$node->safe_psql('postgres', "SELECT dt.alter_dynamic_table('loaded_sum', target_lag => '1 hour')");
$vacuums = $node->safe_psql('postgres',
	"SELECT vacuum_count FROM pg_stat_user_tables WHERE relid = '$log'::regclass");
for my $i (1 .. 40)
{
	$node->safe_psql('postgres', "INSERT INTO busy VALUES ($i % 3)");
	sleep 0.25;
}
cmp_ok($node->safe_psql('postgres',
	"SELECT vacuum_count - $vacuums FROM pg_stat_user_tables WHERE relid = '$log'::regclass"), '<=', 4,
	'the worker backs off while the log stays held');
$reader->query_safe('COMMIT');
$reader->quit;
ok($node->poll_query_until('postgres', "SELECT pg_relation_size('$log') = 0"),
	'then it truncates the emptied log');
$node->stop;
done_testing();
