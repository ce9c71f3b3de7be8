# Worker starts.  (1) A database that shares the refresh workers with
# another, and has no worker between its refreshes, has each of its units
# run by a worker the launcher starts for it: how late that worker comes (a
# worker asked to exit elsewhere, the start, a wait) is part of the unit's
# lead, as the lateness of a worker between units of its own database is.
# Before, a worker's first pass counted for nothing, so that the tables of
# five databases sharing two workers kept a lead that knew nothing of the
# switches.  (2) With max_worker_processes just large enough, databases
# taking turns at the workers start each worker once the last one is gone,
# without a failed start.  (3) A late start fades from the lead of a
# database whose worker then stays.  (4) With room for fewer workers than
# the extension would run, databases still take turns.  (5) With room for
# none, every database's tables say why they are behind.
#
# (1) One refresh worker; database a has a 1-second table under steady
# writes, so the worker leaves database b after each refresh there; b's
# table has a 12-second lag, under steady writes too.  After a refresh X of
# b's table, a session holds b's refresh history (which the worker's first
# pass reads) until 5 s past the next refresh's due time: that refresh, Y,
# is about 5 s late, and the one after it, Z, is due that much earlier
# than the 12 s less 0.1 s that its lead was: within 9.5 s of Y.  The
# margins are seconds either way: a start late by up to 2.5 s more, or
# early by the most a start is taken to cost (1 s), keeps the result.

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use DtTest qw(new_database);
use Time::HiRes qw(sleep);

# make_db(node, db, lag): a database with test/oracle.sql, table t, the
# dynamic table t_sum over it with lag, and a session inserting into t
# every 50 ms until table stop has a row, which it returns.
sub make_db
{
	my ($node, $db, $lag) = @_;
	new_database($node, $db);
	$node->safe_psql($db, qq{
CREATE TABLE t (k int, v int);
INSERT INTO t SELECT i % 3, i FROM generate_series(1, 30) i;
CREATE TABLE stop (done bool);
CREATE PROCEDURE ingest() LANGUAGE plpgsql AS \$\$
BEGIN
    WHILE NOT EXISTS (SELECT FROM stop) LOOP
        INSERT INTO t VALUES (1, 1);
        COMMIT;
        PERFORM pg_sleep(0.05);
    END LOOP;
END \$\$;
SELECT dt.create_dynamic_table('t_sum', 'SELECT k, count(*) AS n, sum(v) AS s FROM t GROUP BY k',
                               target_lag => '$lag');
});
	my $writer = $node->background_psql($db);
	$writer->query_until(qr/ingesting/, "\\echo ingesting\nCALL ingest();\n");
	return $writer;
}

# stop_writers(node, writers): end the sessions make_db started.
sub stop_writers
{
	my ($node, %writers) = @_;
	for my $db (keys %writers)
	{
		$node->safe_psql($db, 'INSERT INTO stop VALUES (true)');
		$writers{$db}->quit;
	}
}

# served(node, count, what, writers): each database of writers has count
# scheduled refreshes (test named "what"); then, the writers stopped, its
# table is current.
sub served
{
	my ($node, $count, $what, %writers) = @_;
	for my $db (sort keys %writers)
	{
		ok($node->poll_query_until($db, qq{
SELECT count(*) >= $count FROM dt.refresh_history WHERE refresh_trigger = 'SCHEDULED' AND state = 'SUCCEEDED'}),
			"$db: $what");
	}
	stop_writers($node, %writers);
	for my $db (sort keys %writers)
	{
		ok($node->poll_query_until($db, "SELECT count(*) = 0 FROM dt_test.diff('t_sum')"), "$db: and is current");
	}
}

# short_node(name, n): a started node with max_worker_processes n and no
# logical replication workers, so that the extension's workers have at
# most the slots n leaves them.
sub short_node
{
	my ($name, $n) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_dynamic_tables'
max_worker_processes = $n
max_logical_replication_workers = 0
});
	$node->start;
	return $node;
}

my $node = PostgreSQL::Test::Cluster->new('worker_start');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'pg_dynamic_tables'
pg_dynamic_tables.max_concurrent_refreshes = 1
});
$node->start;
my %writer = (a => make_db($node, 'a', '1 second'), b => make_db($node, 'b', '12 seconds'));

# scheduled(after): b's scheduled refreshes after refresh_id after, oldest
# first, as "refresh_id|data timestamp in seconds"
sub scheduled
{
	my ($after) = @_;
	return split /\n/, $node->safe_psql('b', qq{
SELECT refresh_id || '|' || extract(epoch FROM data_timestamp) FROM dt.refresh_history
 WHERE refresh_id > $after AND refresh_trigger = 'SCHEDULED' AND state = 'SUCCEEDED'
 ORDER BY refresh_id});
}

# X: a scheduled refresh of b's table (the second, so that its creation is
# behind), after which the worker leaves b for a.
my $first = $node->safe_psql('b', 'SELECT max(refresh_id) FROM dt.refresh_history');
ok($node->poll_query_until('b', qq{
SELECT count(*) >= 2 FROM dt.refresh_history WHERE refresh_id > $first AND refresh_trigger = 'SCHEDULED'}),
	"b's table is refreshed on schedule");
my ($x_id, $x_ts) = split /\|/, (scheduled($first))[-1];
ok($node->poll_query_until('postgres', q{
SELECT count(*) = 0 FROM pg_stat_activity
 WHERE datname = 'b' AND backend_type = 'pg_dynamic_tables refresh worker'}),
	'the only worker leaves b for a');

# Y: held up 5 s past its due time (12 s less its 0.1 s lead after X).
my $holder = $node->background_psql('b');
$holder->query_safe('BEGIN; LOCK TABLE dt_internal.refresh_log IN ACCESS EXCLUSIVE MODE');
my $hold = $node->safe_psql('postgres', "SELECT $x_ts + 12 + 5 - extract(epoch FROM clock_timestamp())");
sleep($hold) if $hold > 0;
$holder->query_safe('COMMIT');
$holder->quit;

ok($node->poll_query_until('b', qq{
SELECT count(*) >= 2 FROM dt.refresh_history
 WHERE refresh_id > $x_id AND refresh_trigger = 'SCHEDULED' AND state = 'SUCCEEDED'}),
	"b's table is refreshed twice more");
my ($y, $z) = scheduled($x_id);
my (undef, $y_ts) = split /\|/, $y;
my (undef, $z_ts) = split /\|/, $z;
diag(sprintf('X to Y %.3f s, Y to Z %.3f s', $y_ts - $x_ts, $z_ts - $y_ts));
cmp_ok($y_ts - $x_ts, '>=', 16, 'the refresh after the hold is late');
cmp_ok($z_ts - $y_ts, '<', 9.5, 'and the next one is due earlier by how late the worker came for it');

stop_writers($node, %writer);
$node->stop;

# (2) max_worker_processes 3: the launcher and the two refresh workers (no
# logical replication launcher).  Three databases with 1-second tables
# under writes take turns at the two workers.  A worker started as soon as
# the last one left its slot, before the postmaster had reaped it, found
# no background worker slot: "could not start a refresh worker" in the
# log, again and again.
$node = short_node('just_enough', 3);
my $log_offset = -s $node->logfile;
%writer = map { ("c$_" => make_db($node, "c$_", '1 second')) } 1 .. 3;
served($node, 10, 'its table is refreshed on schedule', %writer);
ok(!$node->log_contains(qr/could not start a refresh worker/, $log_offset),
	'no worker start failed for want of a background worker slot');

# (3) A database whose worker stays (its only table, with a 2-second lag,
# under writes) once had a worker come late for it: the worker was ended
# while a session held the refresh history its successor's first pass
# reads, 4 s.  That lateness is part of the lead at first (a refresh every
# second, half the lag), then fades as the worker that stays wakes on time
# for its table.  Before, the worker's later passes counted nothing for
# the table it ran last, and the table was refreshed every second for good.
%writer = (d => make_db($node, 'd', '2 seconds'));
ok($node->poll_query_until('d', q{
SELECT count(*) >= 3 FROM dt.refresh_history WHERE refresh_trigger = 'SCHEDULED' AND state = 'SUCCEEDED'}),
	"d's table is refreshed on schedule");
$holder = $node->background_psql('d');
$holder->query_safe('BEGIN; LOCK TABLE dt_internal.refresh_log IN ACCESS EXCLUSIVE MODE');
$node->safe_psql('postgres', q{
SELECT pg_terminate_backend(pid) FROM pg_stat_activity
 WHERE datname = 'd' AND backend_type = 'pg_dynamic_tables refresh worker'});
sleep(4);
$holder->query_safe('COMMIT');
$holder->quit;
my $late = $node->safe_psql('d', 'SELECT max(refresh_id) FROM dt.refresh_history');
ok($node->poll_query_until('d', qq{
SELECT count(*) >= 25 FROM dt.refresh_history
 WHERE refresh_id > $late AND refresh_trigger = 'SCHEDULED' AND state = 'SUCCEEDED'}, 't'),
	"d's table is refreshed 25 times more");
my $gap = $node->safe_psql('d', qq{
SELECT extract(epoch FROM (max(data_timestamp) - min(data_timestamp)) / (count(*) - 1))
  FROM (SELECT data_timestamp FROM dt.refresh_history
         WHERE refresh_id > $late AND refresh_trigger = 'SCHEDULED' AND state = 'SUCCEEDED'
         ORDER BY refresh_id DESC LIMIT 6) last});
diag(sprintf('the last refreshes 1 in %.3f s', $gap));
cmp_ok($gap, '>', 1.4, 'the late start fades from the lead of a table whose worker stays');
stop_writers($node, %writer);
ok($node->poll_query_until('d', "SELECT count(*) = 0 FROM dt_test.diff('t_sum')"), 'd: and is current');
$node->stop;

# (4) max_worker_processes 2: the launcher and one refresh worker, where
# the extension would run two.  Databases e1 (a 4-second table) and e2 (a
# 1-second table), both under writes, take turns at the one worker: a
# start that fails for want of a background worker slot asks the idle
# worker of the other database to make room.  Before, the database that
# had the worker kept it for good (idle less than 30 s at a time), and the
# other's table was never refreshed.
$node = short_node('too_few', 2);
%writer = (e1 => make_db($node, 'e1', '4 seconds'), e2 => make_db($node, 'e2', '1 second'));
served($node, 5, 'its table is refreshed on schedule with room for one worker', %writer);
$node->stop;

# (5) max_worker_processes 2 with the logical replication launcher: no
# refresh worker can start at all.  Every database's tables, behind their
# target lag, say why.  Before, only the first database the launcher tried
# did; the others, never tried again while a start could not succeed,
# showed a blank scheduling_state_reason.  But not those of a database
# whose scheduler is off (f4, its tables refreshed by hand): no refresh of
# theirs waits for a worker.  They said they did, as the launcher, which
# starts a worker in each database at first, marks them all waiting.
$node = PostgreSQL::Test::Cluster->new('no_room');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'pg_dynamic_tables'
max_worker_processes = 2
});
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE f4');
$node->safe_psql('postgres', 'ALTER DATABASE f4 SET pg_dynamic_tables.enabled = off');
$node->safe_psql('f4', 'CREATE EXTENSION pg_dynamic_tables');
for my $db (qw(f1 f2 f3 f4))
{
	new_database($node, $db) unless $db eq 'f4';
	$node->safe_psql($db, q{
CREATE TABLE t (k int, v int);
SELECT dt.create_dynamic_table('t_sum', 'SELECT k, count(*) AS n FROM t GROUP BY k', target_lag => '1 second',
                               initialize => 'on_schedule');
});
}
for my $db (qw(f1 f2 f3))
{
	ok($node->poll_query_until($db, q{
SELECT scheduling_state_reason LIKE 'behind its target lag: waiting since % for a refresh worker: no background worker slot is free (raise max_worker_processes)'
  FROM dt.dynamic_tables}),
		"$db: its table says that no worker can start");
}
ok($node->poll_query_until('f4', q{SELECT now() - created_at > interval '1 second' FROM dt.dynamic_tables}),
	'f4: its table is behind its target lag');
is($node->safe_psql('f4', 'SELECT scheduling_state_reason IS NULL FROM dt.dynamic_tables'), 't',
	'f4, its scheduler off: its table does not say that it waits for a worker');
$node->stop;
done_testing();
