# Several databases share the server's refresh workers: with default
# settings every database's tables are refreshed; a database whose due
# refreshes wait for a worker says so in dt.dynamic_tables; a refresh that
# runs too long is cancelled by pg_dynamic_tables.refresh_timeout, or by
# its owner dropping, altering or suspending the table.  Every wait is for
# a condition (poll_query_until); nothing depends on the machine's speed.

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use DtTest qw(new_database);
use Time::HiRes qw(sleep);

# equal(dt): the dynamic table equals its query (test/oracle.sql).
sub equal
{
	my ($dt) = @_;
	return "SELECT count(*) = 0 FROM dt_test.diff('$dt')";
}

# make_db(node, db, lag): a database with the extension and a dynamic
# table t_sum over table t with that lag.
sub make_db
{
	my ($node, $db, $lag) = @_;
	new_database($node, $db);
	$node->safe_psql($db, qq{
CREATE TABLE t (k int, v int);
INSERT INTO t SELECT i % 3, i FROM generate_series(1, 30) i;
SELECT dt.create_dynamic_table('t_sum', 'SELECT k, count(*) AS n, sum(v) AS s FROM t GROUP BY k',
                               target_lag => '$lag');
});
}

# Five databases with one-second tables, default settings (max_worker_processes
# 8, two refresh workers): every table is kept current.
my $node = PostgreSQL::Test::Cluster->new('databases');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_dynamic_tables'");
$node->start;
my @dbs = map { "db$_" } 1 .. 5;
make_db($node, $_, '1 second') for @dbs;
# One database's sessions default to SERIALIZABLE (a refresh refuses it),
# to read-only transactions and to a lock_timeout of a millisecond: its
# workers refresh in READ COMMITTED, write, and wait for locks all the
# same.  Those already connected go, so that the next ones read the
# settings.
$node->safe_psql('postgres', q{
ALTER DATABASE db5 SET default_transaction_isolation = 'serializable';
ALTER DATABASE db5 SET default_transaction_read_only = on;
ALTER DATABASE db5 SET lock_timeout = '1ms';
SELECT pg_terminate_backend(pid) FROM pg_stat_activity
 WHERE datname = 'db5' AND backend_type = 'pg_dynamic_tables refresh worker';
});
for my $round (1 .. 2)
{
	for my $db (@dbs)
	{
		my $seen = $node->safe_psql($db, 'SELECT max(refresh_id) FROM dt.refresh_history');
		$node->safe_psql($db, "SET default_transaction_read_only = off;
INSERT INTO t SELECT i % 5, i FROM generate_series(1, 10) i");
		ok($node->poll_query_until($db, equal('t_sum')), "$db: writes reach its table (round $round)");
		ok($node->poll_query_until($db, qq{
SELECT count(*) > 0 FROM dt.refresh_history WHERE refresh_id > $seen AND refresh_trigger = 'SCHEDULED'}),
			"$db: by scheduled refreshes (round $round)");
	}
}
# A transaction snapshot would also have kept the worker from deleting
# what the refreshes consumed from the change logs.
my $log = $node->safe_psql('db5', "SELECT 'dt_internal.changes_' || 't'::regclass::oid");
ok($node->poll_query_until('db5', "SELECT NOT EXISTS (SELECT FROM $log)"),
	'db5: the worker empties the change log');
# A scheduled refresh does not wait for the lock DDL or LOCK TABLE holds
# on a table it reads: a worker that waited would serve nothing else.
# Two sessions hold such a lock in db4 and db5 while writes make a table
# that reads the held table due in each; the two refresh workers must go on
# serving db1, the blocked tables are skipped (one SKIPPED row each for the
# stretch, no error in the server log, even under db5's lock_timeout),
# and they are made once the locks are released.  Waiting, both workers
# sat in the lock waits and db1 was never refreshed.
my %holder;
my $log_offset = -s $node->logfile;
for my $db ('db4', 'db5')
{
	$node->safe_psql($db, q{
SET default_transaction_isolation = 'read committed';
SET default_transaction_read_only = off;
SET lock_timeout = 0;
CREATE TABLE u (k int);
INSERT INTO u VALUES (1), (2);
SELECT dt.create_dynamic_table('tu', 'SELECT t.k, count(*) AS n FROM t JOIN u USING (k) GROUP BY t.k',
                               target_lag => '1 second');
});
	# in db4 tu is refreshed in the unit of a table that reads it, and is
	# the one that says it is skipped
	$node->safe_psql($db, q{
SELECT dt.create_dynamic_table('tu_top', 'SELECT count(*) AS groups FROM tu', target_lag => '1 second');
}) if $db eq 'db4';
	$holder{$db} = $node->background_psql($db);
	$holder{$db}->query_safe('SET lock_timeout = 0; BEGIN; LOCK TABLE u IN ACCESS EXCLUSIVE MODE');
	$node->safe_psql($db, 'SET default_transaction_read_only = off; INSERT INTO t VALUES (1, 7)');
}
for my $db ('db4', 'db5')
{
	ok($node->poll_query_until($db, q{
SELECT state_message LIKE '%locked by another transaction%' FROM dt.refresh_history
 WHERE name = 'public.tu' AND state = 'SKIPPED'}),
		"$db: a scheduled refresh of a table whose input is locked is skipped");
}
$node->safe_psql('db1', 'INSERT INTO t SELECT i % 5, i FROM generate_series(1, 10) i');
ok($node->poll_query_until('db1', equal('t_sum')), 'db1: its table is refreshed meanwhile');
sleep(2);
for my $db ('db4', 'db5')
{
	is($node->safe_psql($db, q{
SELECT count(*) FROM dt.refresh_history WHERE name = 'public.tu' AND state = 'SKIPPED'}),
		'1', "$db: the history keeps one SKIPPED row for the stretch");
	is($node->safe_psql($db, q{
SELECT scheduling_state_reason FROM dt.dynamic_tables WHERE name = 'public.tu'}),
		'behind its target lag: its scheduled refreshes are skipped: '
		  . 'a table it reads was locked by another transaction (DDL or LOCK TABLE)',
		"$db: dt.dynamic_tables says why it is behind (not that its refreshes take long)");
	$holder{$db}->query_safe('COMMIT');
	$holder{$db}->quit;
	ok($node->poll_query_until($db, equal('tu')), "$db: and is made once the lock is released");
}
# A stretch skipped for another reason is a row of its own, whose reason
# dt.dynamic_tables quotes: here first a manual refresh holds tu (in a
# savepoint, rolled back), then LOCK TABLE holds u.  The first stretch was
# extended with the first reason.
my $last_skip = q{
SELECT state = 'SKIPPED' AND state_message LIKE '%s' FROM dt.refresh_history
 WHERE name = 'public.tu' ORDER BY refresh_id DESC LIMIT 1};
my $both = $node->background_psql('db4');
$both->query_safe("BEGIN; LOCK TABLE u IN ACCESS EXCLUSIVE MODE; SAVEPOINT s; SELECT dt.refresh('tu')");
$node->safe_psql('db4', 'INSERT INTO t VALUES (1, 8)');
ok($node->poll_query_until('db4', sprintf($last_skip, 'another refresh%')),
	'db4: skipped while a refresh holds its table');
$both->query_safe('ROLLBACK TO SAVEPOINT s');
ok($node->poll_query_until('db4', sprintf($last_skip, '%locked by another transaction%')),
	'db4: then a stretch of its own while LOCK TABLE holds a table it reads');
$both->query_safe('COMMIT');
$both->quit;
ok($node->poll_query_until('db4', equal('tu')), 'db4: and is made once the lock is released');
ok(!$node->log_contains(qr/lock timeout|read-only transaction/, $log_offset),
	'without an error in the server log');
# A refresh that fails outside its table's own error handling (no
# history, no failure count: here a check constraint a superuser added
# to the history refuses the table's rows; a trigger there could not be
# dropped again, and is refused) is tried again after a back-off that
# doubles, not at once, when each try was another ERROR in the server log
# (hundreds a second).  So a worker's first six tries are at least the
# first five back-offs apart, 0.1 + 0.2 + 0.4 + 0.8 + 1.6 seconds, however
# slow the machine.  The back-off is the worker's own: when two workers
# serve the database, each backs off, so the tries are counted per worker.
$log_offset = -s $node->logfile;
$node->safe_psql('db5', q{
SET default_transaction_read_only = off;
ALTER TABLE dt_internal.refresh_log ADD CONSTRAINT the_test_refuses_tu
    CHECK (relid <> 'public.tu'::regclass::oid) NOT VALID;
INSERT INTO u VALUES (2);
});
my $span = 0;
for (my $i = 0; $i < 10 * $PostgreSQL::Test::Utils::timeout_default && !$span; $i++)
{
	my %tries;
	for my $line (split /\n/, slurp_file($node->logfile, $log_offset))
	{
		next unless $line =~
		  /^\S+ (\d\d):(\d\d):(\d\d\.\d+) \S+ \[(\d+)\] .*ERROR:  new row for relation "refresh_log" violates check constraint "the_test_refuses_tu"/;
		push @{ $tries{$4} }, 3600 * $1 + 60 * $2 + $3;
	}
	for my $times (values %tries)
	{
		next if @$times < 6;
		$span = $times->[5] - $times->[0];
		$span += 86400 if $span < 0;
		last;
	}
	sleep(0.1) unless $span;
}
ok($span >= 3.1, "db5: a refresh that fails outside its table's handling backs off (a worker's six tries in $span s)");
$node->safe_psql('db5', q{
SET default_transaction_read_only = off;
ALTER TABLE dt_internal.refresh_log DROP CONSTRAINT the_test_refuses_tu;
});
ok($node->poll_query_until('db5', equal('tu')), 'db5: and is made once it can be');
is($node->safe_psql('postgres', q{
SELECT count(*) <= 3 FROM pg_stat_activity WHERE backend_type LIKE 'pg_dynamic_tables %'}),
	't', 'the launcher and at most two refresh workers serve five databases');

# A lag below a second: 100 milliseconds is accepted and kept.
$node->safe_psql('db2', q{
SELECT dt.create_dynamic_table('t_fast', 'SELECT k, max(v) AS top FROM t GROUP BY k',
                               target_lag => '100 milliseconds');
INSERT INTO t VALUES (1, 1000);
});
ok($node->poll_query_until('db2', equal('t_fast')), 'a table with a 100 ms lag is refreshed on schedule');
for my $i (1 .. 3)
{
	my $seen = $node->safe_psql('db2', 'SELECT max(refresh_id) FROM dt.refresh_history');
	$node->safe_psql('db2', "INSERT INTO t VALUES (2, 1000 + $i)");
	ok($node->poll_query_until('db2', qq{
SELECT (SELECT count(*) = 0 FROM dt_test.diff('t_fast')) AND EXISTS (SELECT FROM dt.refresh_history
         WHERE refresh_id > $seen AND name = 'public.t_fast' AND refresh_trigger = 'SCHEDULED')}),
		"and again after write $i");
}

# A table whose refresh takes longer than half its lag (here 0.6 s of 1 s)
# is refreshed back to back, its lag reaching two refreshes, and says it
# is behind and why.
$node->safe_psql('db3', q{
CREATE FUNCTION doze(x int) RETURNS int LANGUAGE plpgsql STABLE
    AS $$ BEGIN PERFORM pg_sleep(0.3); RETURN x; END $$;
CREATE TABLE few (k int);
INSERT INTO few VALUES (1), (2);
SELECT dt.create_dynamic_table('sluggish', 'SELECT k, doze(k) AS d FROM few',
                               target_lag => '1 second', refresh_mode => 'full',
                               initialize => 'on_schedule');
});
ok($node->poll_query_until('db3', q{
SELECT scheduling_state_reason LIKE 'behind its target lag: its refreshes take longer than half its target lag (the last: % ms); it is refreshed back to back'
  FROM dt.dynamic_tables WHERE relid = 'sluggish'::regclass}),
	'a table whose refreshes take longer than half its lag says it is behind');
$node->safe_psql('db3', "SELECT dt.drop_dynamic_table('sluggish')");
$node->stop;

# One refresh worker, held by a slow refresh in one database: the other
# database's table says why it is behind.  Then the slow refresh is
# cancelled by dropping its table, and by the timeout.
$node = PostgreSQL::Test::Cluster->new('one_worker');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'pg_dynamic_tables'
pg_dynamic_tables.max_concurrent_refreshes = 1
});
$node->start;
make_db($node, 'fast', '1 second');
make_db($node, 'slow', '1 second');
$node->safe_psql('slow', q{
CREATE FUNCTION nap(x int) RETURNS int LANGUAGE plpgsql STABLE
    AS $$ BEGIN PERFORM pg_sleep(3600); RETURN x; END $$;
SELECT dt.create_dynamic_table('napping', 'SELECT k, sum(nap(v)) AS s FROM t GROUP BY k',
                               target_lag => '1 second', initialize => 'on_schedule');
});
ok($node->poll_query_until('slow', q{
SELECT count(*) = 1 FROM pg_stat_activity WHERE query = 'refresh of napping'}),
	'a slow refresh runs in the only worker');
$node->safe_psql('fast', 'INSERT INTO t VALUES (7, 7)');
ok($node->poll_query_until('fast', q{
SELECT scheduling_state_reason LIKE 'behind its target lag: waiting since % for a refresh worker: all 1 are busy%'
  FROM dt.dynamic_tables WHERE relid = 't_sum'::regclass}),
	'a table waiting for a worker says so');
my ($ret, $out, $err) = $node->psql('slow', "SELECT dt.drop_dynamic_table('napping')", timeout => 60);
is($ret, 0, 'dropping a table whose refresh runs cancels the refresh');
ok($node->poll_query_until('fast', equal('t_sum')), 'and the worker goes on to other databases');
ok($node->poll_query_until('fast', q{
SELECT scheduling_state_reason IS NULL FROM dt.dynamic_tables WHERE relid = 't_sum'::regclass}),
	'which are no longer behind');

$node->safe_psql('postgres', q{
ALTER SYSTEM SET pg_dynamic_tables.refresh_timeout = '1s';
SELECT pg_reload_conf();
});
$node->safe_psql('slow', q{
SELECT dt.create_dynamic_table('napping', 'SELECT k, sum(nap(v)) AS s FROM t GROUP BY k',
                               target_lag => '1 second', initialize => 'on_schedule');
});
ok($node->poll_query_until('slow', q{
SELECT count(*) >= 1 FROM dt.refresh_history
 WHERE name = 'public.napping' AND state = 'FAILED' AND state_message LIKE '%statement timeout%'}),
	'pg_dynamic_tables.refresh_timeout cancels a refresh that runs too long');
$node->safe_psql('fast', 'INSERT INTO t VALUES (8, 8)');
ok($node->poll_query_until('fast', equal('t_sum')), 'and other databases are refreshed');
$node->stop;

# Two refresh workers, and a refresh that runs for an hour in each of two
# databases (refresh_timeout off, the default): the second is not started
# while the first runs, so that one worker stays for the other databases'
# tables; the table left waiting says why.
$node = PostgreSQL::Test::Cluster->new('long_refreshes');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'pg_dynamic_tables'
pg_dynamic_tables.max_concurrent_refreshes = 2
});
$node->start;
make_db($node, 'fast', '1 second');
for my $db ('slow1', 'slow2')
{
	make_db($node, $db, '1 second');
	$node->safe_psql($db, q{
CREATE FUNCTION nap(x int) RETURNS int LANGUAGE plpgsql STABLE
    AS $$ BEGIN PERFORM pg_sleep(3600); RETURN x; END $$;
});
}
$node->safe_psql('slow1', q{
SELECT dt.create_dynamic_table('napping', 'SELECT k, sum(nap(v)) AS s FROM t GROUP BY k',
                               target_lag => '1 second', initialize => 'on_schedule');
});
ok($node->poll_query_until('slow1', q{
SELECT count(*) = 1 FROM pg_stat_activity WHERE query = 'refresh of napping'}),
	'a refresh of an hour runs in one worker');
$node->safe_psql('slow2', q{
SELECT dt.create_dynamic_table('napping', 'SELECT k, sum(nap(v)) AS s FROM t GROUP BY k',
                               target_lag => '1 second', initialize => 'on_schedule');
});
ok($node->poll_query_until('slow2', q{
SELECT scheduling_state_reason LIKE 'behind its target lag: waiting since % for a refresh worker: the other 1 run refreshes of 5 seconds or more, and the last is kept for shorter ones%'
  FROM dt.dynamic_tables WHERE relid = 'napping'::regclass}),
	'another one, whose time is not known, waits for it and says why');
for my $i (1 .. 3)
{
	$node->safe_psql('fast', "INSERT INTO t VALUES ($i, 100)");
	ok($node->poll_query_until('fast', equal('t_sum')), "the last worker refreshes another database ($i)");
}
is($node->safe_psql('postgres', q{
SELECT count(*) FROM pg_stat_activity WHERE query = 'refresh of napping'}), '1',
	'while one refresh of an hour runs');
($ret, $out, $err) = $node->psql('slow1', "SELECT dt.drop_dynamic_table('napping')", timeout => 60);
is($ret, 0, 'dropping its table cancels it');
ok($node->poll_query_until('slow2', q{
SELECT count(*) = 1 FROM pg_stat_activity WHERE query = 'refresh of napping'}),
	'and the one that waited runs then');
($ret, $out, $err) = $node->psql('slow2', "SELECT dt.drop_dynamic_table('napping')", timeout => 60);
is($ret, 0, 'which its drop cancels too');
$node->stop;

# Two refresh workers, and in each of two databases a table whose refreshes
# take 5.5 s (long), refreshed back to back under steady writes, and no
# other table: they take turns.  The worker whose long refresh ended took its own table's next one
# before the worker left waiting woke, and the other table was never
# refreshed (fails without claim_unit's waits_since_before: run).
$node = PostgreSQL::Test::Cluster->new('long_turns');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'pg_dynamic_tables'
pg_dynamic_tables.max_concurrent_refreshes = 2
});
$node->start;
for my $db ('turn1', 'turn2')
{
	make_db($node, $db, '1 second');
	$node->safe_psql($db, q{
CREATE FUNCTION nap(x bigint) RETURNS bigint LANGUAGE plpgsql STABLE
    AS $$ BEGIN PERFORM pg_sleep(5.5); RETURN x; END $$;
SELECT dt.drop_dynamic_table('t_sum');
SELECT dt.create_dynamic_table('napping', 'SELECT nap(count(*)) AS n FROM t', target_lag => '1 second');
});
}
my @runs;
for my $i (1 .. 90)
{
	my %n = (turn1 => 0, turn2 => 0);
	@runs = ();
	for my $db ('turn1', 'turn2')
	{
		$node->safe_psql($db, "INSERT INTO t VALUES (1, $i)");
		my $starts = $node->safe_psql($db, q{
SELECT string_agg(extract(epoch FROM refresh_start_time)::text, ' ') FROM dt_internal.refresh_log
 WHERE relid = 'napping'::regclass AND refresh_trigger = 'SCHEDULED' AND state = 'SUCCEEDED'
   AND refresh_end_time - refresh_start_time > interval '5 seconds'});
		push @runs, map { [ $_, $db ] } split / /, $starts;
	}
	$n{ $_->[1] }++ for @runs;
	last if $n{turn1} >= 3 && $n{turn2} >= 3;
	sleep(1);
}
# from the first refresh of the table made second on, no table is
# refreshed twice in a row
@runs = sort { $a->[0] <=> $b->[0] } @runs;
shift @runs while @runs && $runs[0][1] ne 'turn2';
my $order = join(' ', map { substr($_->[1], -1) } @runs);
ok(@runs >= 4 && $order !~ /(\d) \1/,
	"two databases' tables of long refreshes refreshed back to back take turns ($order)");
$node->stop;
done_testing();
