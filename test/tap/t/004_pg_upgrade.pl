# pg_upgrade keeps dynamic tables working.
#
# A PostgreSQL 15 cluster with the source database of DtTest::build_source
# (dynamic tables of every kind, written, refreshed, with changes pending)
# is upgraded with pg_upgrade to a new PostgreSQL 15 cluster: the same
# binaries, but pg_upgrade's binary-upgrade path (a schema-only dump and
# restore with OIDs kept, then the data files moved) is the same code as
# for a major upgrade.  Both clusters preload the extension.
#
# After the upgrade, with no manual step: every dynamic table is listed
# with its settings; each equals its query after a refresh (the changes
# pending at the upgrade included); the base tables take writes, and the
# refreshes after them are incremental (for incremental tables) and exact,
# a dynamic table over a dynamic table included; and the scheduler, turned
# on, refreshes a table with a one second lag by itself after a write.

use strict;
use warnings;
use Cwd;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use DtTest;

my $old = new_node('old');
create_roles($old);
build_source($old, 'shopdb');
my $snap = snapshot($old, 'shopdb');
$old->stop;

# The new cluster: initialized, never started before the upgrade.
my $new = PostgreSQL::Test::Cluster->new('new');
$new->init;
$new->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_dynamic_tables'
pg_dynamic_tables.enabled = off
});

# pg_upgrade writes its logs in the working directory (and, in 15, under
# the new data directory).
my $bindir = bindir();
my $cwd = getcwd();
chdir $PostgreSQL::Test::Utils::tmp_check;
my ($upgraded) = run_ok(
	[
		'pg_upgrade', '--no-sync',
		'-d', $old->data_dir, '-D', $new->data_dir,
		'-b', $bindir, '-B', $bindir,
		'-s', $new->host,
		'-p', $old->port, '-P', $new->port
	],
	'pg_upgrade succeeds');
chdir $cwd;
if (!$upgraded)
{
	my @logs = glob($new->data_dir . '/pg_upgrade_output.d/*/log/*.log');
	for my $log (grep { -s $_ } @logs)
	{
		my @lines = split /\n/, slurp_file($log);
		diag("$log, last lines:\n" . join("\n", @lines > 20 ? @lines[ -20 .. -1 ] : @lines));
	}
	done_testing();
	exit;
}
$new->start;

check_settings($new, 'shopdb', 'upgraded', $snap, qw(shop report));
check_maintained($new, 'shopdb', 'upgraded', $snap, 3, qw(shop report));
alive_ok($new, 'upgraded');

# The scheduler: on, for a table whose lag is one second; a write reaches
# it by itself.  Waits are for conditions, with poll_query_until's deadline.
my $dt = 'shop.order_stats';
my $before = $new->safe_psql('shopdb', "SELECT data_timestamp FROM dt.dynamic_tables WHERE relid = '$dt'::regclass");
$new->safe_psql('shopdb', "SELECT dt.alter_dynamic_table('$dt', target_lag => '1 second')");
$new->safe_psql('shopdb',
	"INSERT INTO shop.orders VALUES (20000, 5, 'returned', 'sku1', 1, 12.5, 1, now())");
$new->append_conf('postgresql.conf', 'pg_dynamic_tables.enabled = on');
$new->reload;
ok( $new->poll_query_until('shopdb', qq{
SELECT data_timestamp > '$before' AND (SELECT count(*) = 0 FROM dt_test.diff('$dt'))
  FROM dt.dynamic_tables WHERE relid = '$dt'::regclass
}), 'upgraded: the scheduler refreshes a table by itself after a write');
is( $new->safe_psql('shopdb', qq{
SELECT count(*) > 0 FROM dt.refresh_history
 WHERE name = '$dt' AND refresh_trigger = 'SCHEDULED' AND state = 'SUCCEEDED'
}), 't', 'upgraded: and the history says the refresh was a scheduled one');

$new->stop;
done_testing();
