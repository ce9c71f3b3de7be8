# The history is trimmed to refresh_history_size rows per dynamic table by
# the scheduler's housekeeping, but for the latest refresh of each kind
# adaptive refresh reads its costs from (src/catalog.c,
# catalog_trim_history): with its timed full refresh from the query
# trimmed, a table whose incremental refreshes cost about half the guess
# tried a full refresh from the query again, every refresh_history_size
# refreshes (and rebuilt its state after it).  The history is written by the test (durations depend on the
# machine), as in regress test adaptive; the decision is the one
# dt.explain_refresh shows.

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('history_trim');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_dynamic_tables'
pg_dynamic_tables.refresh_history_size = 10
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_dynamic_tables');
$node->safe_psql('postgres', slurp_file('test/oracle.sql'));

# A delta-merge table of a target lag of 100 years: only the test
# refreshes it.  Its history,
# oldest first: five failed refreshes (no sample: trimmed), a full refresh
# the history chose (250 ms, timed from the query), the rebuild of the
# state after it (500 ms), nine incremental refreshes of 10 rows (130 ms):
# eleven samples and five rows beyond the ten kept.
$node->safe_psql('postgres', q{
CREATE TABLE ht (id serial PRIMARY KEY, g int, x int);
INSERT INTO ht (g, x) SELECT i % 5, i FROM generate_series(1, 100) i;
SELECT dt.create_dynamic_table('ht_sum', 'SELECT g, sum(x) AS s, count(*) AS n FROM ht GROUP BY g',
                               target_lag => '100 years', refresh_mode => 'incremental');
DELETE FROM dt_internal.refresh_log WHERE relid = 'ht_sum'::regclass;
INSERT INTO dt_internal.refresh_log (relid, table_name, refresh_start_time, refresh_end_time,
                                     refresh_action, refresh_trigger, state, changes, state_message)
SELECT 'ht_sum'::regclass, 'ht_sum', t, t + ms * interval '1 ms', action, 'MANUAL', state, changes, message
  FROM (VALUES (1, 'FAILED', NULL, 1, NULL::bigint, 'failed'), (2, 'FAILED', NULL, 1, NULL, 'failed'),
               (3, 'FAILED', NULL, 1, NULL, 'failed'), (4, 'FAILED', NULL, 1, NULL, 'failed'),
               (5, 'FAILED', NULL, 1, NULL, 'failed'),
               (6, 'SUCCEEDED', 'FULL', 250, NULL, 'an incremental refresh of (written by the test)'),
               (7, 'SUCCEEDED', 'FULL', 500, NULL, 'the per-group state (written by the test)')) v(i, state, action, ms, changes, message),
       LATERAL (SELECT now() - interval '1 hour' AS t) n
 ORDER BY i;
INSERT INTO dt_internal.refresh_log (relid, table_name, refresh_start_time, refresh_end_time,
                                     refresh_action, refresh_trigger, state, changes)
SELECT 'ht_sum'::regclass, 'ht_sum', t, t + interval '130 ms', 'INCREMENTAL', 'MANUAL', 'SUCCEEDED', 10
  FROM generate_series(1, 9), LATERAL (SELECT now() - interval '1 hour' AS t) n;
INSERT INTO ht (g, x) SELECT i % 7, i FROM generate_series(1, 10) i;
});

# action(): the action of the next refresh, as dt.explain_refresh shows it.
sub action
{
	return $node->safe_psql('postgres',
		"SELECT object FROM dt.explain_refresh('ht_sum') WHERE kind = 'action'");
}

is(action(), 'INCREMENTAL', 'with its full refresh from the query timed, the table stays incremental');
ok( $node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM dt_internal.refresh_log WHERE relid = 'ht_sum'::regclass AND state = 'FAILED'"),
	'the history is trimmed');
is( $node->safe_psql('postgres',
		"SELECT count(*) FROM dt_internal.refresh_log WHERE relid = 'ht_sum'::regclass"),
	'11', 'the latest full refresh from the query is kept beyond the ten');
is(action(), 'INCREMENTAL', 'the same decision after the trim');
is($node->safe_psql('postgres', "SELECT action FROM dt.refresh('ht_sum')"), 'INCREMENTAL', 'and refresh');
is($node->safe_psql('postgres', "SELECT count(*) FROM dt_test.diff('ht_sum')"), '0', 'right');

$node->stop;
done_testing();
