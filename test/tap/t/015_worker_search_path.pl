# A refresh worker runs its catalog queries as the bootstrap superuser: a
# database's search_path must not choose their functions.  The owner of a
# database, no superuser, puts public before pg_catalog in its search_path
# (ALTER DATABASE ... SET, hers to run) and defines public.starts_with(text,
# text), which the worker's read of the database's settings
# (database_setting) called: as the superuser, it made her one.  Now the
# worker keeps search_path = pg_catalog, pg_temp, and her function is never
# called by it: waited for until the worker has refreshed her table on
# schedule, after reading those settings (after a restart, so that no
# worker connected before her search_path was set).

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use DtTest qw(new_node);

my $node = new_node('search_path');
$node->safe_psql('postgres', 'CREATE ROLE mallory LOGIN CREATEDB');
$node->safe_psql('postgres', 'CREATE DATABASE e', extra_params => ['-U', 'mallory']);
$node->safe_psql('e', 'CREATE EXTENSION pg_dynamic_tables');
$node->safe_psql('e', q{
ALTER DATABASE e SET search_path = public, pg_catalog;
CREATE TABLE called (by text, superuser text);
CREATE FUNCTION public.starts_with(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.called VALUES (current_user, current_setting('is_superuser'));
    IF current_setting('is_superuser') = 'on' THEN
        ALTER ROLE mallory SUPERUSER;
    END IF;
    RETURN pg_catalog.starts_with($1, $2);
END
$$;
CREATE TABLE t (k int, v int);
INSERT INTO t SELECT i % 10, i FROM generate_series(1, 100) i;
SELECT dt.create_dynamic_table('t_sum', 'SELECT k, sum(v) AS s FROM t GROUP BY k', target_lag => '1 second');
INSERT INTO t VALUES (1, 1);
}, extra_params => ['-U', 'mallory']);
# every worker from now on connects with her search_path
$node->restart;
$node->safe_psql('postgres', 'ALTER DATABASE e SET pg_dynamic_tables.enabled = on');
ok($node->poll_query_until('e', q{
SELECT count(*) > 0 FROM dt.refresh_history WHERE relid = 't_sum'::regclass AND refresh_trigger = 'SCHEDULED'}),
	'a refresh worker refreshed her table on schedule');
is($node->safe_psql('e', q{SELECT count(*) FROM called WHERE superuser = 'on'}), '0',
	'the worker never called her function');
is($node->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'}), 'f',
	'she is no superuser');
is($node->safe_psql('e', q{SET ROLE mallory; SELECT starts_with('ab', 'a'); SELECT count(*) FROM called}), "t\n1",
	'in her own session her function is found first');

$node->stop;
done_testing();
