# DtTest: what the operations tests (dump and restore, pg_upgrade, extension
# update, DROP EXTENSION) share.
#
# - new_node: a cluster with the extension preloaded and the scheduler off
#   (these tests refresh by hand; the scheduler has its own test);
#   new_database: a database with the extension and the oracle.
# - create_roles, build_source, write_statements: the source database, rich in
#   every kind of dynamic table (see build_source), written after creation,
#   refreshed, and with changes pending.
# - snapshot: what the source looks like (every dynamic table's settings,
#   the base tables' data), to compare a restored or upgraded copy with.
# - check_settings, check_contents, check_base_data, check_user_objects,
#   check_internals, check_maintained: the checks of a copy.  The oracle is
#   test/oracle.sql's dt_test.diff, the defining query evaluated now; no
#   check uses hand-written numbers.
# - dump_is_clean: no internal object in a dump.
# - run_ok: a client program (pg_dump, pg_restore, psql) that must succeed;
#   alive_ok: the server survived the checks.
#
# No check dies on an SQL error: a copy that lost its dynamic tables makes
# every check fail with the error as diagnostic, and the test goes on.

package DtTest;

use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Exporter 'import';

our @EXPORT = qw(new_node sql each_value run_ok bindir load_oracle new_database create_roles
  build_source write_statements write_round snapshot base_data check_settings
  check_contents check_base_data check_user_objects check_internals
  check_maintained check_restored dump_is_clean alive_ok @BASE_TABLES);

# test/oracle.sql, read now: tests may chdir (pg_upgrade writes its logs
# in the working directory).
my $oracle = slurp_file(dirname(abs_path(__FILE__)) . '/../oracle.sql');

# The base tables of the source database, by schema.
our @BASE_TABLES = qw(shop.customers shop.orders shop.readings report.visits);

# The dynamic tables created with initialize => 'on_schedule' and never
# refreshed: they stay unpopulated through a dump, an upgrade, an update.
my %ON_SCHEDULE = ('shop.big_orders' => 1);

# new_node(name, params...): a started cluster with the extension preloaded
# and the scheduler off.  params go to PostgreSQL::Test::Cluster->new
# (install_path).
sub new_node
{
	my ($name, %params) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name, %params);
	$node->init;
	$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_dynamic_tables'
pg_dynamic_tables.enabled = off
});
	$node->start;
	return $node;
}

# sql(node, db, sql): the output of sql, or undef when it fails, with the
# error as a diagnostic.  Never dies.
sub sql
{
	my ($node, $db, $sql) = @_;
	my ($out, $err) = ('', '');
	my $ret = $node->psql($db, $sql, stdout => \$out, stderr => \$err);
	if ($ret != 0)
	{
		diag("in $db: $err");
		return undef;
	}
	return $out;
}

# each_value(node, db, expr, keys): expr (sprintf: %1$s is a key as an SQL
# literal, %2$s the key as it is) evaluated for each key, one statement per
# key in one session, so that one failing does not stop the others;
# {key => value}, without the keys whose statement failed (their errors as
# diagnostics).
sub each_value
{
	my ($node, $db, $expr, @keys) = @_;
	my $script = join('',
		map { my $lit = "'$_'"; sprintf("SELECT %s, (%s);\n", $lit, sprintf($expr, $lit, $_)) } @keys);
	my ($out, $err) = ('', '');
	$node->psql($db, $script, stdout => \$out, stderr => \$err, on_error_stop => 0);
	diag("in $db: $err") if $err =~ /ERROR|FATAL|PANIC|error:/;
	my %value;
	for my $line (split /\n/, $out)
	{
		my ($key, $value) = split /\|/, $line, 2;
		$value{$key} = $value;
	}
	return \%value;
}

# run_ok(cmd, name): run a client program; it must exit with status 0.
# Returns (ok, stdout, stderr).  Diagnostics carry its output.
sub run_ok
{
	my ($cmd, $name) = @_;
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run($cmd, '>', \$out, '2>', \$err);
	ok($ok, $name) or diag(join(' ', @$cmd) . "\n" . substr($out, -2000) . $err);
	return ($ok, $out, $err);
}

# bindir(): the directory of the server binaries the tests run (the first
# postgres in PATH: test/run's private install tree, whose server loads
# the extension built from this tree).
sub bindir
{
	for my $dir (split /:/, $ENV{PATH})
	{
		return $dir if -x "$dir/postgres";
	}
	die "no postgres in PATH";
}

# load_oracle(node, db): dt_test.diff and dt_test.check (idempotent).
sub load_oracle
{
	my ($node, $db) = @_;
	return defined sql($node, $db, $oracle);
}

# new_database(node, db): a new database db with the extension and
# test/oracle.sql; dies on an error (the scheduler tests build theirs so).
sub new_database
{
	my ($node, $db) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION pg_dynamic_tables');
	$node->safe_psql($db, $oracle);
	return;
}

# create_roles(node): the roles the source database uses; pg_dump does not
# dump roles, so every cluster a dump is restored into gets them first.
sub create_roles
{
	my ($node) = @_;
	$node->safe_psql('postgres', q{
CREATE ROLE dt_owner LOGIN;
CREATE ROLE dt_reader LOGIN;
});
}

# build_source(node, db): the source database.  Schema shop holds base
# tables (one partitioned) and dynamic tables of every kind; schema report
# a dynamic table over shop's tables and one owned by an ordinary role.
# Then: a suspended table, writes, a refresh of every table but the one
# created on_schedule, and writes left pending.  The extension is created
# in its default version (1.0 with the released build).
sub build_source
{
	my ($node, $db) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION pg_dynamic_tables');
	load_oracle($node, $db) or die "could not load the oracle";
	$node->safe_psql($db, q{
CREATE SCHEMA shop;
CREATE SCHEMA report;
GRANT USAGE ON SCHEMA shop, report TO dt_owner, dt_reader;
GRANT CREATE ON SCHEMA report TO dt_owner;

CREATE TABLE shop.customers (id int PRIMARY KEY, name text NOT NULL, region text);
CREATE TABLE shop.orders (
    id int PRIMARY KEY, customer_id int NOT NULL, status text, sku text,
    qty int, amount numeric(12, 2), weight float8, ordered_at timestamptz NOT NULL);
CREATE INDEX ON shop.orders (customer_id);
CREATE TABLE shop.readings (sensor int NOT NULL, at date NOT NULL, value float8)
    PARTITION BY RANGE (at);
CREATE TABLE shop.readings_2024 PARTITION OF shop.readings
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE shop.readings_2025 PARTITION OF shop.readings
    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');

INSERT INTO shop.customers
SELECT i, 'customer ' || i, (ARRAY['north', 'south', 'east', NULL])[1 + i % 4]
  FROM generate_series(1, 40) i;
INSERT INTO shop.orders
SELECT i, 1 + i % 37, (ARRAY['new', 'paid', 'shipped'])[1 + i % 3], 'sku' || (i % 11),
       1 + i % 5, (i * 7 % 1000) + 0.25, (i % 13) * 1.5,
       '2025-01-01'::timestamptz + i * interval '1 hour'
  FROM generate_series(1, 300) i;
INSERT INTO shop.readings
SELECT 1 + i % 6, '2024-06-01'::date + i, (i % 17) * 0.5 FROM generate_series(1, 400) i;

SET client_min_messages = warning;
-- delta merge: aggregates per group, min/max/count distinct/percentile
-- from per-group value counts
SELECT dt.create_dynamic_table('shop.order_stats', $$
    SELECT status, count(*) AS n, sum(amount) AS total, avg(qty) AS avg_qty,
           min(amount) AS lo, max(amount) AS hi, count(DISTINCT sku) AS skus,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY weight) AS median_weight
      FROM shop.orders GROUP BY status
$$, target_lag => '1 minute', refresh_mode => 'incremental');
-- recompute by key: the latest order of each customer
SELECT dt.create_dynamic_table('shop.latest_order', $$
    SELECT customer_id, id, amount, ordered_at
      FROM (SELECT o.*, row_number() OVER (PARTITION BY customer_id
                                           ORDER BY ordered_at DESC, id DESC) AS rn
              FROM shop.orders o) s
     WHERE rn = 1
$$, target_lag => '2 minutes', refresh_mode => 'incremental');
-- a join; refreshed only for the table that reads it
SELECT dt.create_dynamic_table('shop.region_sales', $$
    SELECT c.region, count(*) AS orders, sum(o.amount) AS total
      FROM shop.orders o JOIN shop.customers c ON c.id = o.customer_id
     GROUP BY c.region
$$, target_lag => 'downstream', refresh_mode => 'incremental');
-- a dynamic table over a dynamic table
SELECT dt.create_dynamic_table('shop.sales_total', $$
    SELECT count(*) AS regions, sum(orders) AS orders, sum(total) AS total
      FROM shop.region_sales
$$, target_lag => '5 minutes', refresh_mode => 'incremental');
-- over a partitioned table
SELECT dt.create_dynamic_table('shop.sensor_stats', $$
    SELECT sensor, count(*) AS n, avg(value) AS mean, max(value) AS top
      FROM shop.readings GROUP BY sensor
$$, refresh_mode => 'incremental');
-- refreshed in full, as requested
SELECT dt.create_dynamic_table('shop.customer_orders', $$
    SELECT customer_id, count(*) AS n, sum(amount) AS total FROM shop.orders GROUP BY customer_id
$$, target_lag => '10 minutes', refresh_mode => 'full');
-- to be suspended
SELECT dt.create_dynamic_table('shop.sku_sales', $$
    SELECT sku, count(*) AS n, sum(qty) AS qty FROM shop.orders GROUP BY sku
$$, refresh_mode => 'incremental');
-- created unpopulated and never refreshed
SELECT dt.create_dynamic_table('shop.big_orders', $$
    SELECT id, customer_id, amount FROM shop.orders WHERE amount > 500
$$, initialize => 'on_schedule');
-- in a second schema, over the first one's tables, the mode chosen by auto
SELECT dt.create_dynamic_table('report.status_by_region', $$
    SELECT c.region, o.status, count(*) AS n
      FROM shop.orders o JOIN shop.customers c ON c.id = o.customer_id
     GROUP BY c.region, o.status
$$);
RESET client_min_messages;

-- a dynamic table is a table: indexed and granted by its user
CREATE INDEX order_stats_total ON shop.order_stats (total);
GRANT SELECT ON shop.order_stats TO dt_reader;

-- owned by an ordinary role, over its own table
SET ROLE dt_owner;
CREATE TABLE report.visits (id int PRIMARY KEY, page text, ms int);
INSERT INTO report.visits SELECT i, 'page' || (i % 4), i % 90 FROM generate_series(1, 60) i;
SELECT dt.create_dynamic_table('report.page_times', $$
    SELECT page, count(*) AS visits, avg(ms) AS mean_ms FROM report.visits GROUP BY page
$$, refresh_mode => 'incremental');
RESET ROLE;

SELECT dt.suspend('shop.sku_sales');
});
	write_round($node, $db, 1);
	my $snap = snapshot($node, $db);
	my @refreshed = grep { !$ON_SCHEDULE{$_} } map { $_->{name} } @{ $snap->{dts} };
	$node->safe_psql($db, join('', map { "SELECT dt.refresh('$_');\n" } @refreshed));
	my $equal = equal($node, $db, @refreshed);
	ok($equal->{$_}, "source: $_ equals its query") for @refreshed;
	# pending at dump, upgrade or update time
	write_round($node, $db, 2);
}

# write_statements(round, schemas): INSERT, UPDATE and DELETE on every base
# table of those schemas, touching a few keys (a recompute refresh of more
# than a quarter of a table's keys is full by design).
sub write_statements
{
	my ($k, @schemas) = @_;
	my %sql = (
		shop => qq{
INSERT INTO shop.customers VALUES (1000 + $k, 'late $k', 'west');
UPDATE shop.customers SET region = 'south', name = name || '+' WHERE id = 3 + $k;
INSERT INTO shop.orders VALUES (10000 + $k, 1000 + $k, 'paid', 'sku-new', 2, 999.50, 2.5,
                                '2026-01-01'::timestamptz + $k * interval '1 day');
UPDATE shop.orders SET amount = amount + 1, status = 'shipped', sku = 'sku-moved' WHERE id = 20 + $k;
DELETE FROM shop.orders WHERE id = 40 + $k;
INSERT INTO shop.readings VALUES (9, '2025-03-01'::date + $k, 4.5), (1, '2024-03-01'::date + $k, NULL);
UPDATE shop.readings SET value = value + 100 WHERE at = '2024-07-01'::date + $k;
DELETE FROM shop.readings WHERE at = '2024-06-08'::date + $k;
},
		report => qq{
INSERT INTO report.visits VALUES (1000 + $k, 'page9', 15);
UPDATE report.visits SET ms = ms + 1 WHERE id = 5 + $k;
DELETE FROM report.visits WHERE id = 30 + $k;
});
	return join('', map { $sql{$_} } @schemas);
}

# write_round(node, db, round [, schemas]): writes that must succeed (the
# source database's; a copy's are checked by check_maintained).
sub write_round
{
	my ($node, $db, $k, @schemas) = @_;
	@schemas = qw(shop report) unless @schemas;
	$node->safe_psql($db, write_statements($k, @schemas));
}

# snapshot(node, db): the source as a copy must reproduce it.
#   dts: [{name, after_writes, settings}] in dependency order (a table
#        after the dynamic tables it reads); after_writes is the action of a
#        refresh after writes: its refresh mode, FULL while it is suspended
#        (a suspended table keeps no position in the change logs);
#        settings is one line of what dt.dynamic_tables says about it.
#   data: {base table => row count and digest of its rows}
sub snapshot
{
	my ($node, $db) = @_;
	my $out = $node->safe_psql($db, q{
WITH RECURSIVE d(name, depth) AS (
    SELECT t.name::text, 0 FROM dt.dynamic_tables t
    UNION ALL
    SELECT t.name::text, d.depth + 1 FROM dt.dynamic_tables t JOIN d ON d.name::text = ANY (t.inputs::text[]))
SELECT t.name, CASE WHEN t.scheduling_state = 'SUSPENDED' THEN 'FULL' ELSE t.refresh_mode END
  FROM dt.dynamic_tables t JOIN (SELECT name, max(depth) AS depth FROM d GROUP BY name) o ON o.name = t.name::text
 ORDER BY o.depth, t.name::text
});
	my $settings = settings($node, $db);
	my @dts;
	for my $line (split /\n/, $out)
	{
		my ($name, $mode) = split /\|/, $line;
		push @dts, { name => $name, after_writes => $mode, settings => $settings->{$name} };
	}
	return {
		dts => \@dts,
		data => base_data($node, $db, @BASE_TABLES),
		# an unpopulated dynamic table cannot be read (README)
		dt_data => base_data($node, $db, grep { !$ON_SCHEDULE{$_} } map { $_->{name} } @dts) };
}

# settings(node, db): {name => one text of what dt.dynamic_tables says of
# the dynamic table}, {} if there is no dt.dynamic_tables.
sub settings
{
	my ($node, $db) = @_;
	my $json = sql($node, $db, q{
SELECT coalesce(json_object_agg(name::text,
           format('target_lag %s, refresh_mode %s, requested_refresh_mode %s, scheduling_state %s (%s), populated %s, query: %s',
                  target_lag, refresh_mode, requested_refresh_mode, scheduling_state,
                  scheduling_state_reason, populated, query)), '{}')
  FROM dt.dynamic_tables
});
	return defined $json ? decode_json($json) : {};
}

# base_data(node, db, tables): {table => its row count and a digest of its
# rows}.
sub base_data
{
	my ($node, $db, @tables) = @_;
	return each_value($node, $db,
		"SELECT count(*) || ' rows, md5 ' || md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM %2\$s t",
		@tables);
}

# in_schemas(name, schemas): whether a qualified name is in those schemas.
sub in_schemas
{
	my ($name, @schemas) = @_;
	my ($schema) = split /\./, $name;
	return grep { $_ eq $schema } @schemas;
}

# check_settings(node, db, label, snap, schemas): every dynamic table of the
# snapshot in those schemas is a dynamic table of db with the same query,
# target lag, refresh modes, scheduling state and population; no other.
sub check_settings
{
	my ($node, $db, $label, $snap, @schemas) = @_;
	my @expected = grep { in_schemas($_->{name}, @schemas) } @{ $snap->{dts} };
	my $settings = settings($node, $db);
	is( join(' ', sort grep { in_schemas($_, @schemas) } keys %$settings),
		join(' ', sort map { $_->{name} } @expected),
		"$label: the dynamic tables are listed in dt.dynamic_tables");
	for my $t (@expected)
	{
		is($settings->{ $t->{name} }, $t->{settings}, "$label: $t->{name} keeps its settings");
	}
}

# equal(node, db, dts): {dt => whether it equals its query} (test/oracle.sql).
sub equal
{
	my ($node, $db, @dts) = @_;
	my $count = each_value($node, $db, 'SELECT count(*) FROM dt_test.diff(%1$s)', @dts);
	return { map { $_ => (defined $count->{$_} && $count->{$_} eq '0') } @dts };
}

# check_contents(node, db, label, snap, schemas): right after a restore,
# every dynamic table holds the rows it was dumped with (README: a restored
# dynamic table keeps them until its next refresh, which is full).
sub check_contents
{
	my ($node, $db, $label, $snap, @schemas) = @_;
	my @dts = grep { in_schemas($_, @schemas) && !$ON_SCHEDULE{$_} } map { $_->{name} } @{ $snap->{dts} };
	my $data = base_data($node, $db, @dts);
	is($data->{$_}, $snap->{dt_data}{$_}, "$label: $_ holds the rows it was dumped with") for @dts;
}

# check_base_data(node, db, label, snap, schemas): the base tables' rows
# are all there.
sub check_base_data
{
	my ($node, $db, $label, $snap, @schemas) = @_;
	my @tables = grep { in_schemas($_, @schemas) } @BASE_TABLES;
	my $data = base_data($node, $db, @tables);
	is($data->{$_}, $snap->{data}{$_}, "$label: the rows of $_ are all there") for @tables;
}

# check_user_objects(node, db, label, schemas): what the user made of the
# dynamic tables, kept: an index, a grant, an owner.
sub check_user_objects
{
	my ($node, $db, $label, @schemas) = @_;
	if (in_schemas('shop', @schemas))
	{
		is( sql($node, $db,
				"SELECT indexdef FROM pg_indexes WHERE schemaname = 'shop' AND indexname = 'order_stats_total'"),
			'CREATE INDEX order_stats_total ON shop.order_stats USING btree (total)',
			"$label: the user's index on a dynamic table is kept");
		is( sql($node, $db,
				"SET ROLE dt_reader; SELECT count(*) >= 0 FROM shop.order_stats"),
			't', "$label: the role granted SELECT on a dynamic table reads it");
	}
	if (in_schemas('report', @schemas))
	{
		is( sql($node, $db,
				"SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'report.page_times'::regclass"),
			'dt_owner', "$label: a dynamic table owned by an ordinary role keeps its owner");
	}
}

# check_internals(node, db, label): no internal object is a user object:
# every relation, type and function of schema dt_internal belongs to the
# extension (a member, or part of a member: an index, a row type), and no
# user trigger calls the capture function.
sub check_internals
{
	my ($node, $db, $label) = @_;
	is( sql($node, $db, q{
WITH RECURSIVE obj(classid, objid, name) AS (
    SELECT 'pg_class'::regclass, c.oid, 'relation ' || c.relname FROM pg_class c
     WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = 'dt_internal')
    UNION ALL
    SELECT 'pg_type'::regclass, t.oid, 'type ' || t.typname FROM pg_type t
     WHERE t.typnamespace = (SELECT oid FROM pg_namespace WHERE nspname = 'dt_internal')
    UNION ALL
    SELECT 'pg_proc'::regclass, p.oid, 'function ' || p.proname FROM pg_proc p
     WHERE p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = 'dt_internal')),
part_of(classid, objid, refclassid, refobjid) AS (
    SELECT classid, objid, classid, objid FROM obj
    UNION
    SELECT p.classid, p.objid, d.refclassid, d.refobjid
      FROM part_of p JOIN pg_depend d ON d.classid = p.refclassid AND d.objid = p.refobjid
     WHERE d.deptype IN ('i', 'a'))
SELECT coalesce(string_agg(name, ', ' ORDER BY name), '') FROM obj
 WHERE NOT EXISTS (
       SELECT FROM part_of p JOIN pg_depend e ON e.classid = p.refclassid AND e.objid = p.refobjid
        WHERE p.classid = obj.classid AND p.objid = obj.objid AND e.deptype = 'e'
          AND e.refclassid = 'pg_extension'::regclass
          AND e.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_dynamic_tables'))
}), '', "$label: every object in dt_internal belongs to the extension");
	is( sql($node, $db, q{
SELECT coalesce(string_agg(format('%s on %s', t.tgname, t.tgrelid::regclass), ', '), '')
  FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
 WHERE p.proname = 'capture_changes' AND p.pronamespace::regnamespace::text = 'dt_internal'
   AND NOT t.tgisinternal
}), '', "$label: no user trigger calls dt_internal.capture_changes");
}

# refresh_all(node, db, snap, schemas): dt.refresh of every dynamic table,
# in dependency order; {name => action}, none for a failure.
sub refresh_all
{
	my ($node, $db, $snap, @schemas) = @_;
	return each_value($node, $db, 'SELECT action FROM dt.refresh(%1$s)',
		grep { in_schemas($_, @schemas) } map { $_->{name} } @{ $snap->{dts} });
}

# check_maintained(node, db, label, snap, round, schemas): the dynamic
# tables work: each equals its query after its next refresh; then its base
# tables take INSERT, UPDATE and DELETE, and the refreshes after them are
# INCREMENTAL for incremental tables (FULL for full and suspended ones) and
# exact.
sub check_maintained
{
	my ($node, $db, $label, $snap, $k, @schemas) = @_;
	my @dts = grep { in_schemas($_->{name}, @schemas) } @{ $snap->{dts} };
	my @names = map { $_->{name} } @dts;

	my $action = refresh_all($node, $db, $snap, @schemas);
	my $equal = equal($node, $db, @names);
	ok(defined $action->{$_} && $equal->{$_}, "$label: $_ equals its query after a refresh") for @names;

	ok(defined sql($node, $db, write_statements($k, @schemas)),
		"$label: the base tables take INSERT, UPDATE and DELETE");
	$action = refresh_all($node, $db, $snap, @schemas);
	$equal = equal($node, $db, @names);
	for my $t (@dts)
	{
		is($action->{ $t->{name} }, $t->{after_writes}, "$label: after writes, $t->{name} refreshes $t->{after_writes}");
		ok($equal->{ $t->{name} }, "$label: and equals its query");
	}
}

# dump_is_clean(text, label): a dump (as SQL) creates nothing in
# dt_internal: the only lines naming it are the dt_guard triggers of the
# dynamic tables, which call dt_internal.guard_dynamic_table with the
# table's definition.
sub dump_is_clean
{
	my ($text, $label) = @_;
	my @bad = grep {
		/dt_internal/
		  && !/^CREATE TRIGGER dt_guard .*EXECUTE FUNCTION dt_internal\.guard_dynamic_table\(/
	} split /\n/, $text;
	ok($text ne '' && !@bad, "$label: the dump names dt_internal only in dt_guard triggers")
	  or diag($text eq '' ? 'no dump' : join("\n", 'e.g.', grep { defined } @bad[ 0 .. 9 ]));
}

# alive_ok(node, label): the server is still up.  A crash fails the test
# and the server is started again, so that the next checks can run (the
# test clusters do not restart after a crash by themselves).
sub alive_ok
{
	my ($node, $label) = @_;
	my $up = $node->psql('postgres', 'SELECT 1') == 0;
	ok($up, "$label: the server is still running")
	  or diag('it crashed: see ' . $node->logfile);
	unless ($up)
	{
		$node->stop('immediate', fail_ok => 1);    # forget the dead postmaster
		$node->start;
	}
	return $up;
}

# check_restored(node, db, label, snap, %opts): the checks of a restored
# database, in order.  opts: schemas (default all), immediate (check the
# contents before any refresh, default yes), round (of write_round).
sub check_restored
{
	my ($node, $db, $label, $snap, %opts) = @_;
	my @schemas = @{ $opts{schemas} // [qw(shop report)] };
	load_oracle($node, $db);
	check_settings($node, $db, $label, $snap, @schemas);
	check_contents($node, $db, $label, $snap, @schemas) if $opts{immediate} // 1;
	check_base_data($node, $db, $label, $snap, @schemas);
	check_user_objects($node, $db, $label, @schemas);
	check_maintained($node, $db, $label, $snap, $opts{round} // 3, @schemas);
	check_internals($node, $db, $label);
	# a dump of the restored database is as clean as the first
	my ($ok, $out) = run_ok([ 'pg_dump', '-d', $node->connstr($db) ], "$label: pg_dump of the restored database");
	dump_is_clean($out, "$label, dumped again");
	alive_ok($node, $label);
}

1;
