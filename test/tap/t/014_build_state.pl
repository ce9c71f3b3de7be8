# The scheduler's refresh workers build the per-group state that adaptive
# refresh set aside (src/workers.c, build_state_when_idle).  Under the
# default settings (pg_dynamic_tables.build_state_apart auto: built apart
# where a refresh worker would build it, as here), a scheduled delta-merge table
# goes full on a large batch (a bulk load); the first refresh after it
# whose history says rebuilding the state would pay stays full, its
# message saying the state is to be built apart; an idle worker builds it
# (dt_internal.state_position holds the build's position until the
# catch-up), and the next refresh catches up incrementally; the table
# equals its query (test/oracle.sql) after every refresh.  Before it, a
# table whose state cannot be built (a variance beyond float8) asked for a
# build apart first, and the worker's build of it failed: it is not tried
# again before ten more refreshes of that table, or the worker would try
# it, older request first, at every idle pass and never reach the other.
# The build is recorded on the refresh that asked for it (state_build_ms),
# where adaptive refresh reads what a rebuild costs.  Without the workers'
# builds the first table stays full (nothing calls dt.build_state).  So it
# is with the scheduler off, for a table refreshed only by hand: the
# launcher starts a worker for the build.  Every wait is for a condition
# (poll_query_until).

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use DtTest qw(new_database);
use Time::HiRes qw(sleep);

my $node = PostgreSQL::Test::Cluster->new('build_state');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'pg_dynamic_tables'
});
$node->start;
new_database($node, 'b');

# Two tables of 200,000 rows in 20,000 groups: a full refresh costs far
# more than an incremental refresh of a few rows, so that rebuilding the
# state pays.  vb's group 0 gets values whose squares overflow.
$node->safe_psql('b', q{
CREATE TABLE t (id int PRIMARY KEY, k int, v int);
INSERT INTO t SELECT i, i % 20000, i % 97 FROM generate_series(1, 200000) i;
SELECT dt.create_dynamic_table('t_sum',
    'SELECT k, count(*) AS n, sum(v) AS s FROM t GROUP BY k',
    target_lag => '1 second', refresh_mode => 'incremental');
CREATE TABLE vb (id int PRIMARY KEY, k int, x float8);
INSERT INTO vb SELECT i, i % 20000, i % 97 FROM generate_series(1, 200000) i;
SELECT dt.create_dynamic_table('vb_k', 'SELECT k, count(*) AS n, stddev(x) AS s FROM vb GROUP BY k',
    target_lag => '1 second', refresh_mode => 'incremental');
});

# last_id(): the newest row of the history
sub last_id
{
	return $node->safe_psql('b', "SELECT coalesce(max(refresh_id), 0) FROM dt.refresh_history");
}

# refreshed(sql, dt, what): run sql, then wait for dt's scheduled refresh
# after it; returns that refresh's "action|message".  The table equals its
# query then.
sub refreshed
{
	my ($sql, $dt, $what) = @_;
	my $after = last_id();
	$node->safe_psql('b', $sql);
	ok($node->poll_query_until('b', qq{
SELECT count(*) > 0 FROM dt.refresh_history WHERE relid = '$dt'::regclass
   AND refresh_id > $after AND refresh_trigger = 'SCHEDULED' AND state = 'SUCCEEDED'}),
		"$what is refreshed");
	ok($node->poll_query_until('b', "SELECT count(*) = 0 FROM dt_test.diff('$dt')"),
		"$what: the table equals its query");
	return $node->safe_psql('b', qq{
SELECT refresh_action || '|' || coalesce(state_message, '') FROM dt.refresh_history
 WHERE relid = '$dt'::regclass AND refresh_id > $after AND refresh_trigger = 'SCHEDULED'
   AND state = 'SUCCEEDED' ORDER BY refresh_id LIMIT 1});
}

# small_write(table, dt, i): change three rows of table; as refreshed
sub small_write
{
	my ($table, $dt, $i) = @_;
	my $set = $table eq 't' ? 'v = v + 1' : 'x = x + 1';
	return refreshed("UPDATE $table SET $set WHERE id IN ($i, $i + 1000, $i + 2000)", $dt, "$table: write $i");
}

# built_apart(table, dt, from): small writes until dt's refresh leaves its
# state to be built apart; the number of the write that did, or undef
sub built_apart
{
	my ($table, $dt, $from) = @_;
	for my $i ($from .. $from + 24)
	{
		return $i if small_write($table, $dt, $i) =~ /^FULL\|.*is to be built apart/;
	}
	return undef;
}

# Incremental refreshes of small writes: the history's figures.
for my $i (1 .. 4)
{
	like(small_write('t', 't_sum', $i), qr/^INCREMENTAL\|/, "t: small write $i is incremental");
	like(small_write('vb', 'vb_k', $i), qr/^INCREMENTAL\|/, "vb: small write $i is incremental");
}

# vb_k's state overflows: set aside, not rebuilt for ten refreshes, then
# to be built apart; the worker's build fails.
like(refreshed('UPDATE vb SET x = 1e160 WHERE k = 0', 'vb_k', 'vb: the overflow'),
	qr/^FULL\|its per-group state could not be built/, 'vb: the overflow sets the state aside');
ok(defined built_apart('vb', 'vb_k', 11), "vb_k's state is to be built apart")
  or BAIL_OUT('no state to build');
ok($node->wait_for_log(qr/ERROR:  value out of range: overflow/), "a worker's build of vb_k's state fails");

# The large batch: every row of t changes, a bulk load; refreshed in full.
my $before = last_id();
$node->safe_psql('b', 'UPDATE t SET v = v + 1');
ok($node->poll_query_until('b', qq{
SELECT count(*) > 0 FROM dt.refresh_history
 WHERE refresh_id > $before AND refresh_trigger = 'SCHEDULED' AND refresh_action = 'FULL'}),
	'the large batch is refreshed in full');
ok($node->poll_query_until('b', "SELECT count(*) = 0 FROM dt_test.diff('t_sum')"),
	'after the large batch the table equals its query');

# Small writes again: the first refresh whose history says the rebuild of
# the state pays stays full, its state to be built apart.
my $asked = built_apart('t', 't_sum', 101);
ok(defined $asked, "t_sum's state is to be built apart")
  or BAIL_OUT('no state to build');

# An idle worker builds it (vb_k's request is older, but its build failed
# lately): its position is recorded, until a refresh catches up, which
# only a later write would cause.
ok($node->poll_query_until('b', q{
SELECT EXISTS (SELECT FROM dt_internal.state_position WHERE relid = 't_sum'::regclass)}),
	"a refresh worker builds t_sum's state apart");
ok($node->log_contains(qr/built the state of "t_sum" apart/), 'the build is logged');
is($node->safe_psql('b', q{
SELECT state_build_ms > 0 AND strpos(state_message, 'is to be built apart (dt.build_state) by an idle refresh worker') > 0
  FROM dt_internal.refresh_log WHERE relid = 't_sum'::regclass AND refresh_action = 'FULL'
 ORDER BY refresh_id DESC LIMIT 1}), 't', 'the build is recorded on the refresh that asked for it');
my @failures = (slurp_file($node->logfile) =~ /ERROR:  value out of range: overflow/g);
is(scalar(@failures), 1, "vb_k's failed build was not tried again");
ok($node->poll_query_until('b', "SELECT count(*) = 0 FROM dt_test.diff('t_sum')"),
	'the table equals its query while its state is built');

# The next refresh catches up incrementally; the state is valid, and the
# refreshes after it are incremental.
like(small_write('t', 't_sum', $asked + 100), qr/^INCREMENTAL\|its per-group state, built apart .* caught up/,
	'the next refresh catches up incrementally');
is($node->safe_psql('b', q{
SELECT EXISTS (SELECT FROM dt_internal.state_valid WHERE relid = 't_sum'::regclass)
       AND NOT EXISTS (SELECT FROM dt_internal.state_position WHERE relid = 't_sum'::regclass)}),
	't', 'the state is valid, its build position gone');
like(small_write('t', 't_sum', $asked + 200), qr/^INCREMENTAL\|/, 'then incremental');

# A database with the scheduler off, its table refreshed only by hand
# (dt.refresh): the refresh that would rebuild the state set aside by a
# bulk load stays full too, and the launcher starts a refresh worker for
# the build (before, that refresh rebuilt the state inline, at several
# times a full refresh).
new_database($node, 'm');
$node->safe_psql('postgres', 'ALTER DATABASE m SET pg_dynamic_tables.enabled = off');
$node->safe_psql('m', q{
CREATE TABLE t (id int PRIMARY KEY, k int, v int);
INSERT INTO t SELECT i, i % 20000, i % 97 FROM generate_series(1, 200000) i;
SELECT dt.create_dynamic_table('m_sum', 'SELECT k, count(*) AS n, sum(v) AS s FROM t GROUP BY k',
    refresh_mode => 'incremental');
-- m_write(sql): sql, then a manual refresh of m_sum: its action, message,
-- and whether the table equals its query, logged in m_log
CREATE TABLE m_log (n serial, what text, action text, message text, equal boolean);
CREATE PROCEDURE m_write(what text, sql text) LANGUAGE plpgsql AS $$
DECLARE a text;
BEGIN
    EXECUTE sql;
    SELECT r.action INTO a FROM dt.refresh('m_sum') r;
    INSERT INTO m_log (what, action, message, equal)
    SELECT what, a, (SELECT coalesce(state_message, '') FROM dt.refresh_history
                      WHERE relid = 'm_sum'::regclass ORDER BY refresh_id DESC LIMIT 1),
           NOT EXISTS (SELECT FROM dt_test.diff('m_sum'));
END
$$;
CREATE FUNCTION small(i int) RETURNS text LANGUAGE sql
    RETURN format('UPDATE t SET v = v + 1 WHERE id IN (%s, %s, %s)', i, i + 1000, i + 2000);
});

# In one session (a refresh that plans its statements, the first of a
# session, is no measure for adaptive refresh): small writes, the large
# batch, then small writes until one leaves the state to be built apart
# or rebuilds it inline.
$node->safe_psql('m', q{
DO $$
BEGIN
    FOR i IN 1 .. 4 LOOP
        CALL m_write('small ' || i, small(i));
        COMMIT;
    END LOOP;
    CALL m_write('large', 'UPDATE t SET v = v + 1');
    COMMIT;
    FOR i IN 11 .. 35 LOOP
        CALL m_write('small ' || i, small(i));
        COMMIT;
        EXIT WHEN (SELECT message FROM m_log ORDER BY n DESC LIMIT 1) ~ 'built apart|built inline';
    END LOOP;
END
$$;
});
my @log = split /\n/, $node->safe_psql('m', 'SELECT what, action, message, equal FROM m_log ORDER BY n');
note($_) for @log;
like($log[$_], qr/^small \d+\|INCREMENTAL\|/, "m: small write $_ is incremental") for 0 .. 3;
like($log[4], qr/^large\|FULL\|/, 'm: the large batch is refreshed in full');
like($log[-1], qr/^small \d+\|FULL\|.*is to be built apart .* by an idle refresh worker/,
	"m_sum's state is to be built apart, the scheduler off, not rebuilt inline")
  or BAIL_OUT('no state to build');
is(scalar(grep { !/\|t$/ } @log), 0, 'm_sum equals its query after every manual refresh');
ok($node->poll_query_until('m', q{
SELECT EXISTS (SELECT FROM dt_internal.state_position WHERE relid = 'm_sum'::regclass)}),
	"a refresh worker started for it builds m_sum's state apart");
is($node->safe_psql('m', q{
SELECT count(*) FROM dt.refresh_history WHERE relid = 'm_sum'::regclass AND refresh_trigger = 'SCHEDULED'}),
	'0', 'the worker refreshed nothing');
$node->safe_psql('m', q{
CALL m_write('catch-up', small(100));
CALL m_write('after', small(101));
});
@log = split /\n/, $node->safe_psql('m', q{SELECT what, action, message, equal FROM m_log WHERE what IN ('catch-up', 'after') ORDER BY n});
like($log[0], qr/^catch-up\|INCREMENTAL\|its per-group state, built apart .* caught up.*\|t$/,
	'the next manual refresh catches up incrementally');
like($log[1], qr/^after\|INCREMENTAL\|.*\|t$/, 'then incremental');

# The server's setting off keeps the workers out whatever a database's
# owner sets for it (ALTER DATABASE ... SET is any owner's to make): a
# refresh under on leaves the state to be built apart, and no worker
# builds it.  Before, the database's on brought a worker in.
$node->append_conf('postgresql.conf', "pg_dynamic_tables.build_state_apart = off\n");
$node->reload;
$node->safe_psql('postgres', 'ALTER DATABASE m SET pg_dynamic_tables.build_state_apart = on');
sleep(1);
$node->safe_psql('m', q{
DELETE FROM dt_internal.state_valid WHERE relid = 'm_sum'::regclass;
CALL m_write('database on', small(102));
});
like($node->safe_psql('m', q{SELECT action, message FROM m_log WHERE what = 'database on'}),
	qr/^FULL\|.*is to be built apart \(dt\.build_state\); refreshed in full/,
	'under on, the state is left to be built apart');
my $built = 0;
for (my $i = 0; $i < 40 && !$built; $i++)
{
	sleep(0.25);
	$built = $node->safe_psql('m', q{
SELECT EXISTS (SELECT FROM dt_internal.state_position WHERE relid = 'm_sum'::regclass)}) eq 't';
}
ok(!$built, "no worker builds it with the server's setting off");

# on a failure, the history's full refreshes and why
diag($node->safe_psql('b', q{
SELECT name, round(extract(epoch FROM refresh_end_time - refresh_start_time) * 1000), state_message
  FROM dt.refresh_history WHERE refresh_action = 'FULL' ORDER BY refresh_id}))
  unless Test::More->builder->is_passing;
$node->stop;
done_testing();
