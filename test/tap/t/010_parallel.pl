# Tables due while every worker of their database is busy get another
# worker, up to pg_dynamic_tables.max_concurrent_refreshes: a long refresh
# (a catch-up after a bulk load) does not hold up a table that comes due
# while it runs.  The long refresh is held inside its statements by an
# advisory lock its query waits for.  Every wait is for a condition
# (poll_query_until); nothing depends on how fast the machine is.

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('parallel');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_dynamic_tables'
pg_dynamic_tables.max_concurrent_refreshes = 2
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_dynamic_tables');
$node->safe_psql('postgres', slurp_file('test/oracle.sql'));

# equal(dt): the dynamic table equals its query (test/oracle.sql).
sub equal
{
	my ($dt) = @_;
	return "SELECT count(*) = 0 FROM dt_test.diff('$dt')";
}

# settled(dt): the scheduler watches what dt reads after a scheduled
# refresh: until that changes, dt is current.
sub settled
{
	my ($dt) = @_;
	return $node->poll_query_until('postgres', qq{
SELECT dt_internal.fresh_as_of('$dt'::regclass) = now()});
}

my $workers = q{SELECT (SELECT count(*) FROM pg_stat_activity
 WHERE backend_type = 'pg_dynamic_tables refresh worker')};
my $gate_waits = q{SELECT count(*) > 0 FROM pg_stat_activity
 WHERE backend_type = 'pg_dynamic_tables refresh worker' AND wait_event = 'advisory'};

# gated (lag 1 second) waits for the lock in its next refresh of a write;
# later (lag 4 seconds) reads another table.
$node->safe_psql('postgres', q{
CREATE FUNCTION gate(x int) RETURNS int LANGUAGE plpgsql STABLE
    AS $$ BEGIN PERFORM pg_advisory_xact_lock_shared(4243); RETURN x; END $$;
CREATE TABLE feed (k int, x int);
CREATE TABLE feed2 (k int, x int);
INSERT INTO feed VALUES (1, 1), (2, 2);
SELECT dt.create_dynamic_table('gated', 'SELECT k, sum(gate(x)) AS s FROM feed GROUP BY k',
                               target_lag => '1 second');
SELECT dt.create_dynamic_table('later', 'SELECT k, sum(x) AS s FROM feed2 GROUP BY k',
                               target_lag => '4 seconds');
});
ok(settled('later'), 'later is current and watched');
my $locker = $node->background_psql('postgres');
$locker->query_safe('SELECT pg_advisory_lock(4243)');
$node->safe_psql('postgres', 'INSERT INTO feed VALUES (3, 3)');
ok($node->poll_query_until('postgres', $gate_waits), "gated's refresh waits inside its statements");

# Only that worker left (the others stopped): it is busy.
$node->safe_psql('postgres', q{
SELECT pg_terminate_backend(pid) FROM pg_stat_activity
 WHERE backend_type = 'pg_dynamic_tables refresh worker' AND wait_event IS DISTINCT FROM 'advisory'});
ok($node->poll_query_until('postgres', "$workers = 1"), 'one refresh worker is left');
$node->safe_psql('postgres', 'INSERT INTO feed2 VALUES (1, 10), (2, 20)');

# later comes due while gated's refresh runs: another worker refreshes it.
ok($node->poll_query_until('postgres', equal('later')),
	'the table due while the only worker is busy is refreshed by another');
is($node->safe_psql('postgres', $gate_waits), 't', 'while the first refresh still waits');
is($node->safe_psql('postgres', $workers), '2', 'by a second worker');

$locker->query_safe('SELECT pg_advisory_unlock(4243)');
$locker->quit;
ok($node->poll_query_until('postgres', equal('gated')), 'and the held table is refreshed once free');

$node->stop;
done_testing();
