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
# launcher starts a worker for the build.  So too for tables whose
# subqueries are held by internal tables, of TPC-H Q20's shape (recomputed
# by key) and Q13's (delta merge): a large batch sets their internal
# tables aside, a worker builds them (refreshes them in full, history
# trigger BUILD), the next refresh catches up, and no refresh rebuilds
# them inline.  Every wait is for a condition (poll_query_until).

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

# refreshed_each(sql, what, dts): run sql, which changes what each of dts
# reads, then wait for each one's scheduled refresh after it; returns
# {dt => that refresh's "action|message"}.  A refresh that read no change
# (NO_DATA) began before the write: not that one.  Each table equals its
# query then.
sub refreshed_each
{
	my ($sql, $what, @dts) = @_;
	my $after = last_id();
	my %done;
	$node->safe_psql('b', $sql);
	for my $dt (@dts)
	{
		my $name = @dts > 1 ? "$what, $dt" : $what;
		my $this = qq{
  FROM dt.refresh_history WHERE relid = '$dt'::regclass AND refresh_id > $after
   AND refresh_trigger = 'SCHEDULED' AND state = 'SUCCEEDED' AND refresh_action <> 'NO_DATA'};
		ok($node->poll_query_until('b', "SELECT count(*) > 0 $this"), "$name is refreshed");
		ok($node->poll_query_until('b', "SELECT count(*) = 0 FROM dt_test.diff('$dt')"),
			"$name: the table equals its query");
		$done{$dt} = $node->safe_psql('b', qq{
SELECT refresh_action || '|' || coalesce(state_message, '') $this ORDER BY refresh_id LIMIT 1});
	}
	return \%done;
}

# refreshed(sql, dt, what): refreshed_each for one table; its "action|message"
sub refreshed
{
	my ($sql, $dt, $what) = @_;
	return refreshed_each($sql, $what, $dt)->{$dt};
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

# Tables whose subqueries are held by internal tables (src/internal.c),
# of TPC-H's shapes (test/regress/sql/build_internal.sql): an IN over a
# join, recomputed by key (Q20), and an aggregate over an aggregate, by
# delta merge (Q13), each over tables of its own, so that a large batch
# reaches one only.  A large batch sets their internal tables aside (with
# Q13's per-group state); the first refresh after it whose history says
# rebuilding them would pay stays full, its message saying they are to be
# built apart; a worker builds them (refreshed in full, history trigger
# BUILD, then Q13's per-group state from them), and the next refresh
# catches up.  No refresh rebuilds them inline: before, such a refresh did
# (at up to 9.7 times a full refresh, TPC-H Q11), only a delta-merge table
# without internal tables being built apart.
$node->safe_psql('b', q{
CREATE TABLE parts (p int PRIMARY KEY, name text);
CREATE TABLE orders (k int PRIMARY KEY, prio text);
CREATE TABLE lines (k int, n int, p int, qty int, PRIMARY KEY (k, n));
INSERT INTO parts SELECT i, 'part' || i FROM generate_series(1, 10000) i;
INSERT INTO orders SELECT i, 'p' || i % 3 FROM generate_series(1, 50000) i;
INSERT INTO lines SELECT k, n, 1 + (k * 7 + n * 13) % 10000, 1 + (k + n) % 20
  FROM generate_series(1, 50000) k, generate_series(1, 2) n;
CREATE TABLE sales (k int PRIMARY KEY, c int);
INSERT INTO sales SELECT i, (i::bigint * i / 40000000)::int FROM generate_series(1, 200000) i;
ANALYZE parts, orders, lines, sales;
SELECT dt.create_dynamic_table('q20', $$
    SELECT p.p, p.name FROM parts p
     WHERE p.p IN (SELECT l.p FROM lines l JOIN orders o ON o.k = l.k WHERE o.prio = 'p1' AND l.qty > 17)$$,
    target_lag => '1 second', refresh_mode => 'incremental');
SELECT dt.create_dynamic_table('q13',
    'SELECT cnt, count(*) AS custdist FROM (SELECT c, count(k) AS cnt FROM sales GROUP BY c) s GROUP BY cnt',
    target_lag => '1 second', refresh_mode => 'incremental');
});
my @shapes = qw(q20 q13);

# internal(dt): the internal tables of dt, an SQL condition on relid
sub internal
{
	my ($dt) = @_;
	return "relid::regclass::text LIKE format('dt_internal.sub\\_%s\\_%%', '$dt'::regclass::oid)";
}
is($node->safe_psql('b', join(' UNION ALL ',
			map { 'SELECT count(*) FROM dt_internal.dynamic_table WHERE ' . internal($_) } @shapes)),
	"1\n1", 'q20 and q13 have an internal table each');

# shape_writes(i, dts): small writes to the tables of each of dts, in one
# transaction; each changes rows that table reads itself (q20: parts) or
# through its internal table
sub shape_writes
{
	my ($i, @dts) = @_;
	my %sql = (
		q20 => "UPDATE parts SET name = name || '.' WHERE p IN ($i, $i + 3000, $i + 6000);
UPDATE orders SET prio = 'p1' WHERE k IN ($i, $i + 10000, $i + 20000);
UPDATE lines SET qty = CASE WHEN qty > 17 THEN 1 ELSE 20 END WHERE k IN ($i, $i + 10000, $i + 20000);",
		q13 => "UPDATE sales SET c = c + 1 WHERE k IN ($i, $i + 1000, $i + 2000);");
	return join("\n", 'BEGIN;', (map { $sql{$_} } @dts), 'COMMIT;');
}

# timed(dt): how many incremental refreshes of dt the history times (not
# the first of a worker's session, which plans its statements)
sub timed
{
	my ($dt) = @_;
	return $node->safe_psql('b', qq{
SELECT count(*) FROM dt_internal.refresh_log
 WHERE relid = '$dt'::regclass AND refresh_action = 'INCREMENTAL' AND changes IS NOT NULL});
}

# Small writes, incremental, until the history times two of each.
my $round = 1;
for (; $round <= 10 && grep { timed($_) < 2 } @shapes; $round++)
{
	my $done = refreshed_each(shape_writes($round, @shapes), "shapes: write $round", @shapes);
	like($done->{$_}, qr/^INCREMENTAL\|/, "$_: small write $round is incremental") for @shapes;
}
is(scalar(grep { timed($_) < 2 } @shapes), 0, 'the history times incremental refreshes of both');

# The large batch: every part, half the sales (moving every customer by
# one would leave the counts of customers by count as they were, and q13
# unchanged); refreshed in full, the internal tables set aside.
my $done = refreshed_each("BEGIN; UPDATE parts SET name = name || '+'; UPDATE sales SET c = c + k % 2; COMMIT;",
	'shapes: the large batch', @shapes);
like($done->{q20}, qr/^FULL\|.*its internal tables set aside$/, 'q20: the large batch sets its internal tables aside');
like($done->{q13}, qr/^FULL\|.*its per-group state and internal tables set aside$/,
	'q13: the large batch sets its per-group state and internal tables aside');

# Small writes, each to the tables of the shapes not decided yet, until
# each one's refresh leaves its internal tables to be built apart, or
# rebuilds them inline (its message begins "the per-group state" or "the
# internal tables", as refresh.c's rebuild_state writes it, and says
# "; built inline" if it was deferred).
my %asked;
for (my $i = 101; $i <= 110 && grep { !defined $asked{$_} } @shapes; $i++)
{
	my @open = grep { !defined $asked{$_} } @shapes;
	$done = refreshed_each(shape_writes($i, @open), "shapes: write $i", @open);
	for my $dt (@open)
	{
		$asked{$dt} = $done->{$dt}
		  if $done->{$dt} =~ /^FULL\|(the per-group state |the internal tables |.*to be built apart)/;
	}
}
my $to_build = grep {
	like($asked{$_} // 'none',
		qr/^FULL\|.*internal tables, set aside, are to be built apart \(dt\.build_state\) by an idle refresh worker/,
		"$_: its internal tables are to be built apart by an idle refresh worker, not rebuilt inline")
} @shapes;
BAIL_OUT('no internal tables to build') unless $to_build == @shapes;

# An idle worker builds each: the internal tables refreshed in full (BUILD),
# the position recorded until a refresh catches up; the build is recorded
# on the refresh that asked for it.
for my $dt (@shapes)
{
	ok($node->poll_query_until('b', qq{
SELECT EXISTS (SELECT FROM dt_internal.state_position WHERE relid = '$dt'::regclass)}),
		"a refresh worker builds the internal tables of $dt apart");
	is($node->safe_psql('b', qq{
SELECT string_agg(refresh_action || ' ' || state, ', ') FROM dt.refresh_history
 WHERE } . internal($dt) . qq{ AND refresh_trigger = 'BUILD'}), 'FULL SUCCEEDED',
		"$dt: the build refreshed its internal table in full");
	is($node->safe_psql('b', qq{
SELECT state_build_ms > 0 AND strpos(state_message, 'to be built apart') > 0 FROM dt_internal.refresh_log
 WHERE relid = '$dt'::regclass AND refresh_action = 'FULL' ORDER BY refresh_id DESC LIMIT 1}),
		't', "$dt: the build is recorded on the refresh that asked for it");
	ok($node->poll_query_until('b', "SELECT count(*) = 0 FROM dt_test.diff('$dt')"),
		"$dt equals its query while its internal tables are built");
}

# The next refresh catches up (q20: its internal table refreshed from the
# build's position, then the table filled from it; q13: the changes since
# merged into its per-group state); then the refreshes are incremental.
$done = refreshed_each(shape_writes(201, @shapes), 'shapes: write 201', @shapes);
for my $dt (@shapes)
{
	like($done->{$dt},
		qr/^(FULL|INCREMENTAL)\|its (per-group state and )?internal tables, built apart \(dt\.build_state\).* caught up/,
		"$dt: the next refresh catches up");
	is($node->safe_psql('b', qq{
SELECT EXISTS (SELECT FROM dt_internal.state_valid WHERE relid = '$dt'::regclass)
       AND NOT EXISTS (SELECT FROM dt_internal.state_position WHERE relid = '$dt'::regclass)}),
		't', "$dt: its state is valid, its build position gone");
}
$done = refreshed_each(shape_writes(202, @shapes), 'shapes: write 202', @shapes);
like($done->{$_}, qr/^INCREMENTAL\|/, "$_: then incremental") for @shapes;
is($node->safe_psql('b', qq{
SELECT coalesce(string_agg(relid::regclass || ': ' || state_message, E'\\n' ORDER BY refresh_id), '')
  FROM dt.refresh_history
 WHERE (relid IN ('q20'::regclass, 'q13'::regclass) OR } . internal('q20') . ' OR ' . internal('q13') . qq{)
   AND refresh_trigger NOT IN ('CREATION', 'BUILD')
   AND (starts_with(state_message, 'the per-group state ') OR starts_with(state_message, 'the internal tables ')
        OR strpos(state_message, '; built inline') > 0)}),
	'', 'no refresh rebuilt their internal tables inline');

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

# A long build while a unit is always due soon (src/workers.c,
# build_state_work): in a database whose table hot_sum has a change to
# read but is held by a session's refresh, its scheduled refreshes are
# skipped and tried again within a second, so a build expected to take
# longer never fits before the next unit is due, as under steady writes
# to tables of a short lag.  The build waits while the full refreshes of
# its table that wait for it took less than half what it is expected to
# (5 s, the history's build apart, written); once they took half as long
# (3 s: the table's next refresh would rebuild it inline only at 5), an
# idle worker builds it all the same (another worker slot being free or
# idle).
# Before, it never did: the table stayed full, ten refreshes, then one
# rebuilt its state inline.
new_database($node, 'busy');
$node->safe_psql('busy', q{
CREATE TABLE hot (k int, v int);
SELECT dt.create_dynamic_table('hot_sum', 'SELECT k, count(*) AS n, sum(v) AS s FROM hot GROUP BY k',
                               target_lag => '1 second', refresh_mode => 'incremental');
CREATE TABLE u (id int PRIMARY KEY, k int, v int);
INSERT INTO u SELECT i, i % 2000, i % 97 FROM generate_series(1, 20000) i;
SELECT dt.create_dynamic_table('u_sum', 'SELECT k, count(*) AS n, sum(v) AS s FROM u GROUP BY k',
                               target_lag => '1 second', refresh_mode => 'incremental');
});
my $holder = $node->background_psql('busy');
$holder->query_safe('BEGIN');
$holder->query_safe("SELECT action FROM dt.refresh('hot_sum')");
$node->safe_psql('busy', 'INSERT INTO hot VALUES (1, 1)');
ok($node->poll_query_until('busy', q{
SELECT count(*) > 0 FROM dt.refresh_history WHERE relid = 'hot_sum'::regclass AND state = 'SKIPPED'}),
	'hot_sum, held, is skipped');
$node->safe_psql('busy', q{
DELETE FROM dt_internal.refresh_log WHERE relid = 'u_sum'::regclass;
INSERT INTO dt_internal.refresh_log (relid, table_name, refresh_start_time, refresh_end_time,
                                     refresh_action, refresh_trigger, state, state_message, state_build_ms)
SELECT 'u_sum'::regclass, 'u_sum', t, t + interval '1 s', 'FULL', 'MANUAL', 'SUCCEEDED',
       'an incremental refresh of (written by the test)', CASE WHEN i = 2 THEN 5000 END
  FROM generate_series(1, 2) i, LATERAL (SELECT now() - interval '1 hour' + i * interval '1 min' AS t) n;
INSERT INTO dt_internal.refresh_log (relid, table_name, refresh_start_time, refresh_end_time,
                                     refresh_action, refresh_trigger, state, changes)
SELECT 'u_sum'::regclass, 'u_sum', t, t + interval '1 ms', 'INCREMENTAL', 'MANUAL', 'SUCCEEDED', 10
  FROM generate_series(1, 3) i, LATERAL (SELECT now() - interval '30 min' + i * interval '1 min' AS t) n;
DELETE FROM dt_internal.state_valid WHERE relid = 'u_sum'::regclass;
UPDATE u SET v = v + 1 WHERE id IN (1, 2, 3);
});
ok($node->poll_query_until('busy', q{
SELECT count(*) = 1 FROM dt.refresh_history WHERE relid = 'u_sum'::regclass
   AND refresh_trigger = 'SCHEDULED' AND refresh_action = 'FULL'
   AND state_message ~ 'to be built apart .* by an idle refresh worker.*deferred refresh 1 of at most 10'}),
	"u_sum's state is left to be built apart by an idle worker");
my $waiting = 1;
for (my $i = 0; $i < 16 && $waiting; $i++)
{
	sleep(0.25);
	$waiting = $node->safe_psql('busy', q{
SELECT NOT EXISTS (SELECT FROM dt_internal.state_position WHERE relid = 'u_sum'::regclass)}) eq 't';
}
ok($waiting, 'a build longer than the time until the next unit is due waits');
$node->safe_psql('busy', q{
UPDATE dt_internal.refresh_log SET refresh_end_time = refresh_start_time + interval '3 s'
 WHERE relid = 'u_sum'::regclass AND refresh_trigger = 'SCHEDULED' AND refresh_action = 'FULL'});
ok($node->poll_query_until('busy', q{
SELECT EXISTS (SELECT FROM dt_internal.state_position WHERE relid = 'u_sum'::regclass)}),
	'once the full refreshes that waited took half as long as the build, a worker builds it');
ok($node->log_contains(qr/built the state of "u_sum" apart/), 'the build is logged');
my $mark = $node->safe_psql('busy', 'SELECT max(refresh_id) FROM dt.refresh_history');
$node->safe_psql('busy', 'UPDATE u SET v = v + 1 WHERE id IN (4, 5, 6)');
ok($node->poll_query_until('busy', qq{
SELECT count(*) = 1 FROM dt.refresh_history WHERE relid = 'u_sum'::regclass AND refresh_id > $mark
   AND refresh_action = 'INCREMENTAL' AND state_message ~ 'its per-group state, built apart .* caught up'}),
	'the next refresh catches up incrementally');
ok($node->poll_query_until('busy', "SELECT count(*) = 0 FROM dt_test.diff('u_sum')"), 'u_sum equals its query');
$holder->query_safe('COMMIT');
$holder->quit;
ok($node->poll_query_until('busy', "SELECT count(*) = 0 FROM dt_test.diff('hot_sum')"),
	'hot_sum, free again, equals its query');

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
