# Commits drive the scheduler: a dynamic table whose inputs did not change
# is not refreshed (no refresh transaction, no history row) while its data
# timestamp in dt.dynamic_tables stays current; a write is refreshed after
# its commit; a table over a table is refreshed when only its upstream's
# input changed; DDL that hides writes from capture counts as a change; a
# change of the schedule forgets only the watches of the units it touches.
# Every wait is for a condition (poll_query_until); the assertions are on
# the history's rows, not on how fast the machine is.

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# equal(dt): the dynamic table equals its query (test/oracle.sql).
sub equal
{
	my ($dt) = @_;
	return "SELECT count(*) = 0 FROM dt_test.diff('$dt')";
}

my $node = PostgreSQL::Test::Cluster->new('wake');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_dynamic_tables'
max_prepared_transactions = 2
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_dynamic_tables');
$node->safe_psql('postgres', slurp_file('test/oracle.sql'));

# rows(dt): its history rows so far.
sub rows
{
	my ($dt) = @_;
	return $node->safe_psql('postgres', "SELECT count(*) FROM dt.refresh_history WHERE name = 'public.$dt'");
}

# settled(dt): the scheduler has seen dt current after a scheduled refresh
# and watches what it reads: until that changes, dt is current
# (dt_internal.fresh_as_of gives the transaction's start, now()).
sub settled
{
	my ($dt) = @_;
	return $node->poll_query_until('postgres', qq{
SELECT dt_internal.fresh_as_of('$dt'::regclass) = now()});
}

$node->safe_psql('postgres', q{
CREATE TABLE events (k int, v int);
INSERT INTO events SELECT i % 5, i FROM generate_series(1, 100) i;
CREATE TABLE other (k int);
SELECT dt.create_dynamic_table('fast', 'SELECT k, count(*) AS n, sum(v) AS s FROM events GROUP BY k',
                               target_lag => '100 milliseconds');
});

# (a) Idle: after one NO_DATA refresh, none, while the data timestamp
# advances past the last refresh's.
ok(settled('fast'), 'an idle table is watched after its first scheduled refresh');
is($node->safe_psql('postgres', q{
SELECT string_agg(refresh_trigger || ' ' || refresh_action, ', ' ORDER BY refresh_id)
  FROM dt.refresh_history WHERE name = 'public.fast'}), 'CREATION FULL, SCHEDULED NO_DATA',
	'which is a NO_DATA one');
my $before = rows('fast');
my $last = $node->safe_psql('postgres',
	"SELECT max(data_timestamp) FROM dt.refresh_history WHERE name = 'public.fast'");
# A write to a table the DT does not read changes nothing for it.
$node->safe_psql('postgres', 'INSERT INTO other VALUES (1)');
sleep 3;
is(rows('fast'), $before, 'an idle table at a 100 ms lag writes no history row in 3 seconds');
is($node->safe_psql('postgres', qq{
SELECT data_timestamp > '$last' AND current_lag < interval '100 milliseconds'
       AND scheduling_state_reason IS NULL
  FROM dt.dynamic_tables WHERE name = 'public.fast'}), 't',
	'its data timestamp advanced without a refresh, and its lag is within the target');

# (b) A write is refreshed after its commit, by a refresh that started after it.
my $committed = $node->safe_psql('postgres', q{
BEGIN;
INSERT INTO events VALUES (7, 7);
SELECT clock_timestamp();
COMMIT;});
ok($node->poll_query_until('postgres', equal('fast')), 'the write reaches the table');
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM dt.refresh_history
 WHERE name = 'public.fast' AND refresh_trigger = 'SCHEDULED' AND refresh_action = 'INCREMENTAL'
   AND refresh_start_time > '$committed'}), '1', 'by one scheduled refresh that began after the commit');
ok(settled('fast'), 'and the table is idle again');
my $after = rows('fast');
ok($after - $before <= 2, 'after at most one more refresh (' . ($after - $before) . ')');
sleep 2;
is(rows('fast'), $after, 'and none while idle again');

# A statement that changes no value the table reads is no change: an UPDATE
# setting columns to what they were, an UPDATE or DELETE matching no row.
$node->safe_psql('postgres', q{
UPDATE events SET v = v;
UPDATE events SET k = k + 1 WHERE false;
DELETE FROM events WHERE k < 0;
});
is($node->safe_psql('postgres', q{SELECT dt_internal.fresh_as_of('fast'::regclass) = now()}), 't',
	'statements that change nothing it reads leave the table current');
sleep 2;
is(rows('fast'), $after, 'and refresh it no more');

# (c) A chain: down reads up (DOWNSTREAM), which reads events: a write to
# events changes none of down's own inputs, and still reaches it.
$node->safe_psql('postgres', q{
SELECT dt.create_dynamic_table('up', 'SELECT k, count(*) AS n FROM events GROUP BY k',
                               target_lag => 'downstream');
SELECT dt.create_dynamic_table('down', 'SELECT n, count(*) AS groups FROM up GROUP BY n',
                               target_lag => '100 milliseconds');
});
ok(settled('down'), 'the chain settles');
$before = rows('down');
sleep 2;
is(rows('down'), $before, 'an idle chain writes no history row');
$node->safe_psql('postgres', 'INSERT INTO events SELECT 1, i FROM generate_series(1, 10) i');
ok($node->poll_query_until('postgres', 'SELECT (' . equal('up') . ') AND (' . equal('down') . ')'),
	'a write to the upstream table reaches the table downstream');

# (d) DDL that hides writes from capture counts as a change: the next
# refresh sees the capture triggers disabled and refreshes in full.
ok(settled('fast'), 'the table is idle before the DDL');
$node->safe_psql('postgres', q{
ALTER TABLE events DISABLE TRIGGER ALL;
INSERT INTO events VALUES (3, 3);
});
ok($node->poll_query_until('postgres', equal('fast')), 'a write the capture did not see reaches the table');
$node->safe_psql('postgres', q{
ALTER TABLE events ENABLE TRIGGER ALL;
INSERT INTO events VALUES (4, 4);
});
ok($node->poll_query_until('postgres', equal('fast')), 'and so do writes after capture is enabled again');

# (e) The lag statistics: a table idle for a while, then written, was
# current all along until the write; the stretch between its two refreshes
# counts as lag only from the write (the history row of the later one
# records when the earlier content stopped being current).
$node->safe_psql('postgres', q{
SELECT dt.create_dynamic_table('quiet', 'SELECT k, count(*) AS n FROM other GROUP BY k',
                               target_lag => '100 milliseconds');
});
ok(settled('quiet'), 'a new table settles');
sleep 5;
$committed = $node->safe_psql('postgres', q{
BEGIN;
INSERT INTO other VALUES (2);
SELECT clock_timestamp();
COMMIT;});
ok($node->poll_query_until('postgres', equal('quiet')), 'a write after 5 idle seconds reaches it');
ok($node->poll_query_until('postgres', qq{
SELECT count(*) = 1 FROM dt.refresh_history
 WHERE name = 'public.quiet' AND refresh_action = 'INCREMENTAL' AND refresh_start_time > '$committed'}),
	'by a scheduled refresh');
is($node->safe_psql('postgres', qq{
SELECT maximum_lag < interval '3 seconds' AND mean_lag < interval '1 second'
       AND time_within_target_lag_ratio > 0.5
  FROM dt.dynamic_tables WHERE name = 'public.quiet'}), 't',
	'its idle seconds do not count as lag in maximum_lag, mean_lag and time_within_target_lag_ratio');

# (f) After a restart the scheduler knows nothing: one NO_DATA refresh each,
# then none.
my $last_id = $node->safe_psql('postgres', 'SELECT max(refresh_id) FROM dt.refresh_history');
$node->restart;
ok(settled('fast'), 'after a restart, the table is watched again');
is($node->safe_psql('postgres', qq{
SELECT string_agg(refresh_trigger || ' ' || refresh_action, ', ' ORDER BY refresh_id)
  FROM dt.refresh_history WHERE name = 'public.fast' AND refresh_id > $last_id}), 'SCHEDULED NO_DATA',
	'after one NO_DATA refresh');
$before = rows('fast');
sleep 2;
is(rows('fast'), $before, 'then none');

# (g) A prepared transaction that outlives a restart: its writer's counts
# are gone with the restart, and COMMIT PREPARED (which writes nothing of
# its own) counts as a change of every table.
$node->safe_psql('postgres', q{
BEGIN;
INSERT INTO events VALUES (9, 9);
PREPARE TRANSACTION 'w1';
});
$node->restart;
ok(settled('fast'), 'with a transaction prepared before the restart, the table is idle');
$node->safe_psql('postgres', "COMMIT PREPARED 'w1'");
ok($node->poll_query_until('postgres', equal('fast')), 'its COMMIT PREPARED reaches the table');

# (h) A prepared transaction's writes are in flight until it ends, in
# whatever session: after ROLLBACK PREPARED the table is idle again, and
# after COMMIT PREPARED its writes reach the table, which is then idle.
ok(settled('fast'), 'the table is idle before a transaction is prepared');
$node->safe_psql('postgres', q{
BEGIN;
INSERT INTO events VALUES (11, 11);
PREPARE TRANSACTION 'w2';
});
# Known current, fresh_as_of is now() itself; while a write is in flight it
# is the time a refresh last read its inputs, which a refresh at the
# table's lag (100 ms) can put after this statement's start: not "<".
is($node->safe_psql('postgres', q{SELECT dt_internal.fresh_as_of('fast'::regclass) <> now()}), 't',
	'while it is prepared, the table is not known current');
$node->safe_psql('postgres', "ROLLBACK PREPARED 'w2'");
ok(settled('fast'), 'after ROLLBACK PREPARED it is idle again');
$before = rows('fast');
sleep 2;
is(rows('fast'), $before, 'and refreshed no more');
$node->safe_psql('postgres', q{
BEGIN;
INSERT INTO events VALUES (12, 12);
PREPARE TRANSACTION 'w3';
});
$node->safe_psql('postgres', "COMMIT PREPARED 'w3'");
ok($node->poll_query_until('postgres', equal('fast')), 'a COMMIT PREPARED reaches the table');
ok(settled('fast'), 'which is idle again after it');
$before = rows('fast');
sleep 2;
is(rows('fast'), $before, 'and refreshed no more');

# (i) A bulk load (a rebuild marker in the log: here an INSERT of 10,000
# rows into a table of 100) makes the tables reading it due at its commit,
# whatever their target lag: their next refresh is a full one, which their
# recent refresh times do not foretell.  A small write waits for the lag.
$node->safe_psql('postgres', q{
CREATE TABLE loads (k int, v int);
INSERT INTO loads SELECT i % 5, i FROM generate_series(1, 100) i;
SELECT dt.create_dynamic_table('hourly', 'SELECT k, count(*) AS n, sum(v) AS s FROM loads GROUP BY k',
                               target_lag => '100 milliseconds');
});
ok(settled('hourly'), 'a table is watched');
$node->safe_psql('postgres', q{SELECT dt.alter_dynamic_table('hourly', target_lag => '1 hour')});
$before = rows('hourly');
$node->safe_psql('postgres', 'INSERT INTO loads VALUES (1, 1)');
sleep 2;
is(rows('hourly'), $before, 'a small write to its input is not refreshed before its lag');
$committed = $node->safe_psql('postgres', q{
BEGIN;
INSERT INTO loads SELECT i % 7, i FROM generate_series(1, 10000) i;
SELECT clock_timestamp();
COMMIT;});
ok($node->poll_query_until('postgres', qq{
SELECT count(*) = 1 FROM dt.refresh_history
 WHERE name = 'public.hourly' AND refresh_trigger = 'SCHEDULED' AND refresh_action = 'FULL'
   AND refresh_start_time > '$committed'}), 'a bulk load is refreshed at once, in full');
ok($node->safe_psql('postgres', equal('hourly')) eq 't', 'with the small write before it');

# (j) A bulk load that commits while a refresh of the table runs, as of a
# snapshot that does not see it, makes the table due at once after that
# refresh too: it is not left for its lag (an hour).  The refresh is held
# inside its statements by an advisory lock its query waits for (in a
# function declared immutable, which a table refreshed incrementally, and
# so watched, may call; a stable one is refreshed in full at its lag).
$node->safe_psql('postgres', q{
CREATE FUNCTION gate(x int) RETURNS int LANGUAGE plpgsql IMMUTABLE
    AS $$ BEGIN PERFORM pg_advisory_xact_lock_shared(4244); RETURN x; END $$;
CREATE TABLE gated_in (k int, v int);
INSERT INTO gated_in SELECT i % 5, i FROM generate_series(1, 100) i;
SELECT dt.create_dynamic_table('gated', 'SELECT k, count(*) AS n, sum(gate(v)) AS s FROM gated_in GROUP BY k',
                               target_lag => '100 milliseconds');
});
ok(settled('gated'), 'a table whose query waits for an advisory lock is watched');
$node->safe_psql('postgres', q{SELECT dt.alter_dynamic_table('gated', target_lag => '1 hour')});
my $locker = $node->background_psql('postgres');
$locker->query_safe('SELECT pg_advisory_lock(4244)');
$node->safe_psql('postgres', 'INSERT INTO gated_in SELECT i % 7, i FROM generate_series(1, 10000) i');
ok($node->poll_query_until('postgres', q{
SELECT count(*) > 0 FROM pg_stat_activity
 WHERE backend_type = 'pg_dynamic_tables refresh worker' AND wait_event = 'advisory'}),
	'a bulk load is refreshed at once: the refresh waits inside its statements');
$committed = $node->safe_psql('postgres', q{
BEGIN;
INSERT INTO gated_in SELECT i % 9, i FROM generate_series(1, 20000) i;
SELECT clock_timestamp();
COMMIT;});
$locker->query_safe('SELECT pg_advisory_unlock(4244)');
$locker->quit;
ok($node->poll_query_until('postgres', qq{
SELECT count(*) > 0 FROM dt.refresh_history
 WHERE name = 'public.gated' AND refresh_trigger = 'SCHEDULED' AND state = 'SUCCEEDED'
   AND refresh_start_time > '$committed'}),
	'a second bulk load, committed while that refresh ran, is refreshed at once after it');
ok($node->safe_psql('postgres', equal('gated')) eq 't', 'with both loads');

# (k) A change of the schedule keeps the watches of the units it does not
# touch: creating, altering, suspending and resuming another table leaves
# an idle table current, with no refresh (before, every change made every
# table of the database pay a NO_DATA refresh).  A unit that reads a
# changed table is watched no more: down, over up, after up is suspended,
# written under and resumed, gets the write.
# A refresh of fast or down that began before a change and ends after it
# makes a watch of the old schedule, which the change cannot keep: under
# load that can happen, so up to three tries (without the fix every try
# refreshes both).
my $kept = 0;
for my $try (1 .. 3)
{
	ok(settled('fast'), "an idle table is watched (try $try)");
	ok(settled('down'), "and so is a chain (try $try)");
	$before = rows('fast');
	my $down_before = rows('down');
	$node->safe_psql('postgres', qq{
SELECT dt.create_dynamic_table('bystander$try', 'SELECT k, count(*) AS n FROM other GROUP BY k',
                               target_lag => '1 hour');
});
	$node->safe_psql('postgres', qq{SELECT dt.alter_dynamic_table('bystander$try', target_lag => '2 hours')});
	$node->safe_psql('postgres', qq{SELECT dt.suspend('bystander$try')});
	$node->safe_psql('postgres', qq{SELECT dt.resume('bystander$try')});
	my $current = $node->safe_psql('postgres', q{
SELECT dt_internal.fresh_as_of('fast'::regclass) = now() AND dt_internal.fresh_as_of('down'::regclass) = now()});
	sleep 2;
	my $after = rows('fast') . ' ' . rows('down');
	note("try $try: current $current, refreshes $before $down_before -> $after");
	if ($current eq 't' && $after eq "$before $down_before")
	{
		$kept = 1;
		last;
	}
}
ok($kept, 'another table created, altered, suspended and resumed: the idle tables are still known current, and are not refreshed');
$node->safe_psql('postgres', q{SELECT dt.suspend('up')});
$node->safe_psql('postgres', 'INSERT INTO events SELECT 2, i FROM generate_series(1, 10) i');
$node->safe_psql('postgres', q{SELECT dt.resume('up')});
ok($node->poll_query_until('postgres', 'SELECT (' . equal('up') . ') AND (' . equal('down') . ')'),
	'a table over one suspended, written under and resumed gets the write');

# (l) A worker's schedule that took a table for unpopulated (created
# on_schedule), read before another transaction populated it (here a
# manual refresh, holding the table, so that the worker's refreshes of it
# are skipped until it commits; or another worker's refresh): the
# worker's next refresh of it is NO_DATA, and then it is watched as any
# other and refreshed no more.  (That schedule took it for unpopulated,
# due at once, after its refresh too: it was refreshed, NO_DATA, back to
# back until the schedule was read again, up to ten seconds, hundreds of
# times, trimming its history.)
$node->safe_psql('postgres', q{
ALTER DATABASE postgres SET pg_dynamic_tables.enabled = off;
SELECT dt.create_dynamic_table('later', 'SELECT k, count(*) AS n FROM other GROUP BY k',
                               target_lag => '1 hour', initialize => 'on_schedule');
});
my $populating = $node->background_psql('postgres');
$populating->query_safe(q{BEGIN; SELECT dt.refresh('later')});
$node->safe_psql('postgres', 'ALTER DATABASE postgres RESET pg_dynamic_tables.enabled');
ok($node->poll_query_until('postgres', q{
SELECT count(*) > 0 FROM dt.refresh_history WHERE name = 'public.later' AND state = 'SKIPPED'}),
	'a table created on_schedule is due, and its scheduled refresh skipped while a manual one holds it');
$populating->query_safe('COMMIT');
$populating->quit;
ok(settled('later'), 'once that committed, the table is watched');
# a second NO_DATA refresh may follow the first, as in (b)
sleep 2;
$before = rows('later');
sleep 2;
is(rows('later'), $before, 'and refreshed no more');
my $no_data = $node->safe_psql('postgres', q{
SELECT count(*) FROM dt.refresh_history
 WHERE name = 'public.later' AND refresh_trigger = 'SCHEDULED' AND refresh_action = 'NO_DATA'});
ok($no_data >= 1 && $no_data <= 2, "after one or two scheduled refreshes, NO_DATA ($no_data)");
ok($node->safe_psql('postgres', equal('later')) eq 't', 'it equals its query');

$node->stop;
done_testing();
