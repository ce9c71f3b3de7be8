# A crash: the per-group state of incremental dynamic tables is unlogged,
# so crash recovery empties it.  The dynamic tables themselves survive;
# the next refresh notices the lost state, rebuilds it in full, says so in
# the history, and the refreshes after that are incremental again.

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_dynamic_tables'
pg_dynamic_tables.enabled = off
});
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION pg_dynamic_tables');
$node->safe_psql('postgres', slurp_file('test/oracle.sql'));

$node->safe_psql('postgres', q{
CREATE TABLE m (id serial PRIMARY KEY, g int, x float8, t text);
INSERT INTO m (g, x, t) SELECT i % 4, i * 1.5, 't' || (i % 7) FROM generate_series(1, 500) i;
SELECT dt.create_dynamic_table('m_stats', $$
SELECT g, count(*) AS n, sum(x) AS s, min(x) AS lo, max(x) AS hi, count(DISTINCT t) AS tags,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS med, stddev(x) AS sd
  FROM m GROUP BY g
$$, refresh_mode => 'incremental');
});

# Changes made before the crash and committed: they must all arrive.
$node->safe_psql('postgres', q{
INSERT INTO m (g, x, t) SELECT i % 5, i, 'u' FROM generate_series(1, 50) i;
DELETE FROM m WHERE id % 9 = 0;
});
my $before = $node->safe_psql('postgres', 'SELECT count(*) FROM m_stats');

$node->stop('immediate');
$node->start;

is($node->safe_psql('postgres', 'SELECT count(*) FROM m_stats'), $before,
	'the dynamic table itself survives the crash');
is($node->safe_psql('postgres', "SELECT action FROM dt.refresh('m_stats')"), 'FULL',
	'the first refresh after the crash is full (the lost state rebuilt, or left to be built apart)');
like($node->safe_psql('postgres',
		"SELECT state_message FROM dt.refresh_history WHERE relid = 'm_stats'::regclass ORDER BY refresh_id DESC LIMIT 1"),
	qr/state was lost/, 'the history says why it refreshed in full');
is($node->safe_psql('postgres', "SELECT count(*) FROM dt_test.diff('m_stats')"), '0',
	'after the rebuild the table equals its query');
# built apart (by a refresh worker, or here if none did yet), the next
# refresh catches up
$node->safe_psql('postgres', "SELECT dt.build_state('m_stats')");

$node->safe_psql('postgres', q{
UPDATE m SET g = g + 1, x = x * 2 WHERE id % 3 = 0;
INSERT INTO m (g, x, t) VALUES (NULL, 7, 'n'), (2, NULL, NULL);
});
is($node->safe_psql('postgres', "SELECT action FROM dt.refresh('m_stats')"), 'INCREMENTAL',
	'the refreshes after it are incremental again');
is($node->safe_psql('postgres', "SELECT count(*) FROM dt_test.diff('m_stats')"), '0',
	'and exact');

$node->stop;
done_testing();
