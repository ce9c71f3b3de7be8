# DROP EXTENSION pg_dynamic_tables CASCADE removes the extension and
# everything it made, and nothing of the user's but the dynamic tables.
#
# On the source database of DtTest::build_source (dynamic tables of every
# kind, written, refreshed, with changes pending): after the drop there is
# no schema dt or dt_internal and no object of the extension left, the
# dynamic tables are gone, and the base tables are plain tables with their
# rows, no trigger, taking writes.  CREATE EXTENSION then starts afresh,
# and a new dynamic table over a base table works.
#
# Another session that was open all along sees each change at once: the
# ProcessUtility hook keeps whether the extension is installed between
# statements (ddl_guard.c), and must drop that when it is created or
# dropped elsewhere.

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use DtTest;

my $node = new_node('drop');
create_roles($node);
build_source($node, 'shopdb');
my $snap = snapshot($node, 'shopdb');
my $data = base_data($node, 'shopdb', @BASE_TABLES);
my $other = $node->background_psql('shopdb', on_error_stop => 0);
$other->query_safe('BEGIN');
$other->query_safe('COMMIT');

ok(defined sql($node, 'shopdb', 'DROP EXTENSION pg_dynamic_tables CASCADE'),
	'DROP EXTENSION pg_dynamic_tables CASCADE succeeds');

is(sql($node, 'shopdb', "SELECT string_agg(nspname, ', ') FROM pg_namespace WHERE nspname IN ('dt', 'dt_internal')"),
	'', 'no schema dt or dt_internal is left');
is( sql($node, 'shopdb', q{
SELECT string_agg(evtname, ', ') FROM pg_event_trigger
}), '', 'no event trigger is left');
my $dts = join(', ', map { "'$_->{name}'" } @{ $snap->{dts} });
is(sql($node, 'shopdb', "SELECT string_agg(n, ', ') FROM unnest(ARRAY[$dts]) n WHERE to_regclass(n) IS NOT NULL"),
	'', 'the dynamic tables are dropped');
is( sql($node, 'shopdb', q{
SELECT string_agg(format('%s on %s', tgname, tgrelid::regclass), ', ') FROM pg_trigger
}), '', 'no trigger is left on any table');
is_deeply(base_data($node, 'shopdb', @BASE_TABLES), $data, 'the base tables keep their rows');
ok(defined sql($node, 'shopdb', write_statements(3, qw(shop report))),
	'the base tables take INSERT, UPDATE and DELETE');
$other->query('BEGIN; CREATE TABLE shop.made_after_drop (a int); '
	  . 'ALTER TABLE shop.made_after_drop ADD COLUMN b int; ROLLBACK');
is($other->{stderr}, '', 'a session open since before the drop runs DDL without the extension');

# Nothing left in the way of a new start.
ok(defined sql($node, 'shopdb', 'CREATE EXTENSION pg_dynamic_tables'), 'CREATE EXTENSION again succeeds');
load_oracle($node, 'shopdb');
ok( defined sql($node, 'shopdb', q{
SELECT dt.create_dynamic_table('shop.order_counts',
    'SELECT status, count(*) AS n, sum(amount) AS total FROM shop.orders GROUP BY status',
    refresh_mode => 'incremental');
}), 'a new dynamic table over a base table is created');
sql($node, 'shopdb', write_statements(4, qw(shop)));
is(sql($node, 'shopdb', "SELECT action FROM dt.refresh('shop.order_counts')"), 'INCREMENTAL',
	'it refreshes incrementally');
is(sql($node, 'shopdb', "SELECT count(*) FROM dt_test.diff('shop.order_counts')"), '0', 'and exactly');

# The other session, which used the hook while the extension was there
# and again while it was not, refuses DDL on the new dynamic table.
$other->query('ALTER TABLE shop.order_counts ADD COLUMN extra int');
like($other->{stderr}, qr/of dynamic table "order_counts"/,
	'a session open since before the drop refuses ALTER TABLE on the new dynamic table');
$other->quit;

$node->stop;
done_testing();
