# A configuration reload while a refresh worker starts reaches it
# (src/workers.c, reload_missed_at_start).  PostgreSQL ignores SIGHUP in a
# background worker from its fork until the worker installs its own
# handler, so a reload in between was lost: a worker started just before
# ALTER SYSTEM SET pg_dynamic_tables.refresh_timeout and pg_reload_conf()
# kept no timeout and let a refresh run for an hour (TAP test 008 under
# load).  post_auth_delay holds a starting worker in that window (it sleeps
# before setting up its signals), and one database that allows connections
# makes the worker caught there the one that refreshes the table.

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use DtTest qw(new_database);
use Time::HiRes qw(sleep);

my $node = PostgreSQL::Test::Cluster->new('reload');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'pg_dynamic_tables'
pg_dynamic_tables.enabled = off
pg_dynamic_tables.max_concurrent_refreshes = 1
});
$node->start;
new_database($node, 'r');
$node->safe_psql('r', q{
CREATE TABLE t (k int, v int);
INSERT INTO t VALUES (1, 1);
CREATE FUNCTION nap(x int) RETURNS int LANGUAGE plpgsql STABLE
    AS $$ BEGIN PERFORM pg_sleep(3600); RETURN x; END $$;
SELECT dt.create_dynamic_table('napping', 'SELECT k, sum(nap(v)) AS s FROM t GROUP BY k',
                               target_lag => '1 second', initialize => 'on_schedule');
ALTER DATABASE template1 ALLOW_CONNECTIONS false;
DROP DATABASE postgres;
});
$node->stop;

# Restarted with the scheduler on: the launcher starts a worker for r, the
# only database it can connect to, which waits post_auth_delay after its
# fork.  Then refresh_timeout is set and the configuration reloaded.
$node->append_conf('postgresql.conf', q{
pg_dynamic_tables.enabled = on
post_auth_delay = 3
});
$node->start;
# starting_worker(): is a child of the postmaster titled as a refresh
# worker (its title is set before the delay)?  Read from /proc.
sub starting_worker
{
	my $postmaster = $node->{_pid};
	for my $stat (glob('/proc/[0-9]*/stat'))
	{
		open(my $fh, '<', $stat) or next;
		my $line = <$fh>;
		close($fh);
		next unless defined $line && $line =~ /\)\s+\S+\s+(\d+)/ && $1 == $postmaster;
		(my $cmdline = $stat) =~ s/stat$/cmdline/;
		open($fh, '<', $cmdline) or next;
		my $title = <$fh>;
		close($fh);
		return 1 if defined $title && $title =~ /pg_dynamic_tables refresh worker/;
	}
	return 0;
}

my $caught = 0;
for (my $i = 0; $i < 600 && !$caught; $i++)
{
	$caught = starting_worker();
	sleep(0.05) unless $caught;
}
ok($caught, 'a refresh worker is starting');
$node->append_conf('postgresql.conf', "pg_dynamic_tables.refresh_timeout = '1s'\npost_auth_delay = 0\n");
$node->reload;

# The worker's refresh of napping is cancelled after a second (within a
# minute, the worker's start included); before, it slept an hour.
my $failed = 0;
for (my $i = 0; $i < 600 && !$failed; $i++)
{
	$failed = $node->safe_psql('r', q{
SELECT count(*) >= 1 FROM dt.refresh_history
 WHERE name = 'public.napping' AND state = 'FAILED' AND state_message LIKE '%statement timeout%'}) eq 't';
	sleep(0.1) unless $failed;
}
ok($failed, 'the worker started before the reload applies pg_dynamic_tables.refresh_timeout');
$node->stop('immediate');
done_testing();
