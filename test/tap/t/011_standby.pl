# A hot standby reads dynamic tables, and a promoted standby maintains them.
#
# On a streaming standby of a primary with dynamic tables (an aggregate,
# one with an internal dynamic table, one over a dynamic table):
# - the tables hold what the primary's refreshes gave them;
# - view dt.dynamic_tables can be read whole, its query column included
#   (its definition is read from the catalog, which reads whether the
#   unlogged per-group state is intact: a standby cannot read an unlogged
#   table, and maintains nothing), and dt.explain_refresh works;
# - dt.refresh, dt.alter_dynamic_table, dt.suspend, dt.drop_dynamic_table
#   and dt.create_dynamic_table are refused as in any read-only transaction
#   ("cannot refresh a dynamic table in a read-only transaction"), before
#   taking a lock recovery refuses with a message about lock modes.
# After promotion the unlogged state is empty; the next refreshes (with
# writes) rebuild it and each table equals its query.

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use DtTest;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_dynamic_tables'
pg_dynamic_tables.enabled = off
});
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION pg_dynamic_tables');
$primary->safe_psql('postgres', slurp_file('test/oracle.sql'));
$primary->safe_psql('postgres', q{
CREATE TABLE s (id int PRIMARY KEY, g int, v int);
INSERT INTO s SELECT i, i % 7, i FROM generate_series(1, 1000) i;
SELECT dt.create_dynamic_table('s_sum', 'SELECT g, count(*) AS n, sum(v) AS total FROM s GROUP BY g',
                               refresh_mode => 'incremental');
SELECT dt.create_dynamic_table('s_top', 'SELECT sum(n) AS n, max(total) AS hi FROM s_sum',
                               refresh_mode => 'incremental');
SELECT dt.create_dynamic_table('s_hist', $$
    SELECT n, count(*) AS groups FROM (SELECT g, count(*) AS n FROM s GROUP BY g) x GROUP BY n
$$, refresh_mode => 'incremental');
UPDATE s SET g = 1 WHERE id < 100;
SELECT dt.refresh('s_top'), dt.refresh('s_hist');
DELETE FROM s WHERE id % 10 = 0;
});
$primary->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

my @dts = ('s_sum', 's_top', 's_hist');
# the rows the primary's refreshes gave them (the delete is not refreshed)
for my $dt (@dts)
{
	is($standby->safe_psql('postgres', "SELECT string_agg(t::text, ',' ORDER BY t::text) FROM $dt t"),
		$primary->safe_psql('postgres', "SELECT string_agg(t::text, ',' ORDER BY t::text) FROM $dt t"),
		"$dt on the standby holds what it holds on the primary");
}
is(DtTest::sql($standby, 'postgres', q{SELECT count(*) FROM dt.dynamic_tables WHERE query IS NOT NULL AND populated}),
	"3", 'the standby reads dt.dynamic_tables, definitions included');
ok(defined DtTest::sql($standby, 'postgres', q{SELECT * FROM dt.dynamic_tables}), 'the whole view');
like(DtTest::sql($standby, 'postgres', q{SELECT string_agg(kind, ',') FROM dt.explain_refresh('s_sum')}) // '',
	qr/strategy/, 'dt.explain_refresh works on the standby');

my %refused = (
	"SELECT dt.refresh('s_top')" => 'refresh a dynamic table',
	"SELECT dt.alter_dynamic_table('s_sum', target_lag => '1 hour')" => 'alter a dynamic table',
	"SELECT dt.suspend('s_sum')" => 'suspend a dynamic table',
	"SELECT dt.drop_dynamic_table('s_sum')" => 'drop a dynamic table',
	"SELECT dt.create_dynamic_table('s_new', 'SELECT count(*) AS n FROM s')" => 'create a dynamic table');
for my $call (sort keys %refused)
{
	my ($ret, $out, $err) = $standby->psql('postgres', $call);
	like($err, qr/ERROR:  cannot \Q$refused{$call}\E in a read-only transaction/, "on the standby: $call is refused");
}

# Promoted: the state is rebuilt and the tables are maintained.
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()') or die 'promotion';
$standby->safe_psql('postgres', q{
INSERT INTO s SELECT i, i % 5, i FROM generate_series(2001, 2100) i;
SELECT dt.refresh('s_top'), dt.refresh('s_hist');
UPDATE s SET v = v + 1 WHERE id % 3 = 0;
SELECT dt.refresh('s_top'), dt.refresh('s_hist');
});
for my $dt (@dts)
{
	is($standby->safe_psql('postgres', "SELECT count(*) FROM dt_test.diff('$dt')"), '0',
		"$dt equals its query after promotion");
}

done_testing();
