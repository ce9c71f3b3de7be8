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
# (an aggregate over an aggregate, read through an internal dynamic table,
# among them)
# with its settings; each equals its query after a refresh (the changes
# pending at the upgrade included); the base tables take writes, and the
# refreshes after them are incremental (for incremental tables) and exact,
# a dynamic table over a dynamic table included; and the scheduler, turned
# on, refreshes a table with a one second lag by itself after a write.
#
# A dynamic table whose query uses a function, a type and an operator of
# the user's (pg_upgrade keeps the OIDs of types, not of functions and
# operators): its table is renamed before anything else reads it, then it
# refreshes, equals its query, and keeps its pg_depend entries (what it
# uses cannot be dropped, nor its key index; it depends on the extension).

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
$old->safe_psql('shopdb', q{
CREATE SCHEMA calc;
CREATE TYPE calc.size AS ENUM ('small', 'large');
CREATE FUNCTION calc.size_of(numeric) RETURNS calc.size IMMUTABLE LANGUAGE sql
    AS $$ SELECT CASE WHEN $1 > 500 THEN 'large'::calc.size ELSE 'small'::calc.size END $$;
CREATE FUNCTION calc.weighted(numeric, int) RETURNS numeric IMMUTABLE LANGUAGE sql
    AS $$ SELECT $1 * $2 $$;
CREATE OPERATOR calc.*** (LEFTARG = numeric, RIGHTARG = int, FUNCTION = calc.weighted);
CREATE TABLE calc.items (id int PRIMARY KEY, price numeric, qty int);
INSERT INTO calc.items SELECT i, i * 3.5, i % 7 FROM generate_series(1, 300) i;
SET client_min_messages = warning;
SELECT dt.create_dynamic_table('calc.by_size', $$
    SELECT calc.size_of(price) AS size, count(*) AS n, sum(price OPERATOR(calc.***) qty) AS weighted
      FROM calc.items GROUP BY 1
$$, refresh_mode => 'incremental');
INSERT INTO calc.items VALUES (1000, 10, 1);
-- an aggregate over an aggregate: an internal dynamic table, which
-- pg_upgrade carries over as a member of the extension
SELECT dt.create_dynamic_table('calc.items_per_qty', $$
    SELECT n, count(*) AS qtys FROM (SELECT qty, count(*) AS n FROM calc.items GROUP BY qty) q GROUP BY n
$$, refresh_mode => 'incremental');
INSERT INTO calc.items VALUES (1001, 10, 2);
});
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

# Before anything reads it: its table renamed.
ok(defined sql($new, 'shopdb', 'ALTER TABLE calc.items RENAME TO items_renamed'),
	'upgraded: a table a dynamic table with user functions reads can be renamed');
check_settings($new, 'shopdb', 'upgraded', $snap, qw(shop report));
check_maintained($new, 'shopdb', 'upgraded', $snap, 3, qw(shop report));

my $calc = 'calc.by_size';
ok(defined sql($new, 'shopdb', "SELECT action FROM dt.refresh('$calc')"),
	'upgraded: a dynamic table using a function, type and operator of the user refreshes');
is(sql($new, 'shopdb', "SELECT count(*) FROM dt_test.diff('$calc')"), '0', 'upgraded: and equals its query');
sql($new, 'shopdb', q{
INSERT INTO calc.items_renamed VALUES (2000, 900, 3);
UPDATE calc.items_renamed SET price = price + 600 WHERE id = 5;
DELETE FROM calc.items_renamed WHERE id = 7;
});
is(sql($new, 'shopdb', "SELECT action FROM dt.refresh('$calc')"), 'INCREMENTAL',
	'upgraded: after writes it refreshes incrementally');
is(sql($new, 'shopdb', "SELECT count(*) FROM dt_test.diff('$calc')"), '0', 'upgraded: and equals its query');
is( sql($new, 'shopdb', qq{
SELECT tree_major = current_setting('server_version_num')::int / 10000
       AND tree_system = (SELECT system_identifier FROM pg_control_system())
  FROM dt_internal.dynamic_table WHERE relid = '$calc'::regclass}),
	't', 'upgraded: its query tree is stored again, by the new cluster');
my $agg = 'calc.items_per_qty';
ok(defined sql($new, 'shopdb', "SELECT action FROM dt.refresh('$agg')"),
	'upgraded: an aggregate over an aggregate (an internal dynamic table) refreshes');
is(sql($new, 'shopdb', "SELECT count(*) FROM dt_test.diff('$agg')"), '0', 'upgraded: and equals its query');
sql($new, 'shopdb', q{
INSERT INTO calc.items_renamed VALUES (2001, 5, 4);
UPDATE calc.items_renamed SET qty = qty + 1 WHERE id BETWEEN 10 AND 14;
DELETE FROM calc.items_renamed WHERE id BETWEEN 20 AND 23;
});
is(sql($new, 'shopdb', "SELECT action FROM dt.refresh('$agg')"), 'INCREMENTAL',
	'upgraded: after writes the aggregate over an aggregate refreshes incrementally');
is(sql($new, 'shopdb', "SELECT count(*) FROM dt_test.diff('$agg')"), '0', 'upgraded: and equals its query');
for my $object ('FUNCTION calc.size_of(numeric)', 'OPERATOR calc.*** (numeric, int)')
{
	my ($out, $err) = ('', '');
	$new->psql('shopdb', "DROP $object", stdout => \$out, stderr => \$err);
	like($err, qr/cannot drop .* because other objects depend on it\nDETAIL:  table calc\.by_size depends on/,
		"upgraded: DROP $object is refused: the dynamic table depends on it");
}
{
	my ($out, $err) = ('', '');
	$new->psql('shopdb', q{
DO $$ BEGIN EXECUTE format('DROP INDEX %s',
    (SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'calc.by_size'::regclass)); END $$},
		stdout => \$out, stderr => \$err);
	like($err, qr/cannot drop index .* because table calc\.by_size requires it/,
		'upgraded: the key index of a dynamic table is part of it');
}
is( sql($new, 'shopdb', q{
SELECT count(*) FROM pg_depend
 WHERE classid = 'pg_class'::regclass AND objid = 'calc.by_size'::regclass
   AND refclassid = 'pg_extension'::regclass
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_dynamic_tables')}),
	'1', 'upgraded: a dynamic table depends on the extension');
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
