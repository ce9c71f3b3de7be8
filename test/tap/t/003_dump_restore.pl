# pg_dump and pg_restore keep dynamic tables, with no manual step.
#
# A source database with dynamic tables of every kind (DtTest::build_source:
# delta merge, recompute, a join, a chain, a partitioned input, full mode,
# downstream lag, suspended, on_schedule and never refreshed, in a second
# schema, indexed, granted, owned by an ordinary role, redefined in place),
# written, refreshed
# and with changes pending, is dumped in each way an operator dumps and
# restored into a fresh cluster with the extension preloaded:
#
#   plain, custom (-Fc) and directory (-Fd, pg_restore -j 2) formats,
#   pg_restore --clean and --clean --if-exists over a restored database,
#   --schema-only then --data-only into one database (also with
#   --disable-triggers, with COPY and with --inserts),
#   -n shop into a database with the extension created first (pg_dump
#   does not dump extensions with -n),
#   -t shop.orders, a base table, into a database with and without the
#   extension.
#
# Each restore runs without an error (psql with ON_ERROR_STOP, pg_restore
# exit status 0).  The dump, and a dump of the restored database, create
# nothing in dt_internal.  In the restored database every dynamic table is
# one again, with its query, target lag, refresh mode, scheduling state and
# population; right after the restore each holds the rows it was dumped
# with, and after its next refresh (full) it equals its query; the base tables hold all their rows, take
# writes, and the refreshes after the writes are incremental and exact; the
# internal objects belong to the extension, and no user trigger captures
# changes.  One of them is an aggregate over an aggregate, whose internal
# dynamic table is made again by the restore.  A table dumped alone with -t is a plain writable table.  Two of
# the dynamic tables name columns by aliases, one because a column it
# reads was renamed after its creation.

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use DtTest;

my $source = new_node('source');
create_roles($source);
build_source($source, 'shopdb');
# Two of them redefined in place first (the dt_guard trigger that carries a
# definition into the dump is rewritten): a new query whose columns moved
# (the table keeps dropped columns), and a new refresh mode.
$source->safe_psql('shopdb', q{
SET client_min_messages = warning;
SELECT dt.create_dynamic_table('report.status_by_region', $$
    SELECT o.status, c.region, count(*) AS n, sum(o.qty) AS qty
      FROM shop.orders o JOIN shop.customers c ON c.id = o.customer_id
     GROUP BY c.region, o.status
$$, or_replace => true);
SELECT dt.alter_dynamic_table('shop.customer_orders', refresh_mode => 'incremental');
});
# Column aliases, and a column renamed after creation, which PostgreSQL
# prints as an alias of its old name: a restore parses them.
$source->safe_psql('shopdb', q{
CREATE TABLE shop.status_names (status text PRIMARY KEY, label text);
INSERT INTO shop.status_names VALUES ('new', 'New'), ('paid', 'Paid'), ('shipped', 'Shipped');
SELECT dt.create_dynamic_table('shop.status_labels', $$
    SELECT status, label, count(*) AS n, sum(amount) AS total
      FROM shop.orders JOIN shop.status_names USING (status) GROUP BY status, label
$$, refresh_mode => 'incremental');
SELECT dt.create_dynamic_table('shop.customer_amounts', $$
    SELECT cust, count(*) AS n, sum(amt) AS total
      FROM shop.orders AS o(num, cust, st, item, q, amt) GROUP BY cust
$$, refresh_mode => 'incremental');
ALTER TABLE shop.status_names RENAME COLUMN status TO code;
INSERT INTO shop.orders VALUES (30000, 7, 'paid', 'sku1', 1, 5.5, 1, now());
});
# An aggregate over an aggregate: its inner grouping is an internal dynamic
# table (dt_internal.sub_<oid>_1), a member of the extension that the dump
# leaves out; the restore makes it again from the definition, which is the
# query as its user wrote it.
$source->safe_psql('shopdb', q{
SELECT dt.create_dynamic_table('shop.orders_per_customer', $$
    SELECT n, count(*) AS customers
      FROM (SELECT customer_id, count(*) AS n FROM shop.orders GROUP BY customer_id) per_customer
     GROUP BY n
$$, refresh_mode => 'incremental');
INSERT INTO shop.orders VALUES (30001, 7, 'paid', 'sku1', 1, 5.5, 1, now());
});
my $snap = snapshot($source, 'shopdb');

# The fresh cluster the dumps are restored into; roles are not in a dump.
my $target = new_node('target');
create_roles($target);

my $tmp = PostgreSQL::Test::Utils::tempdir;
my $src = $source->connstr('shopdb');

# take_dump(name, args): run pg_dump on the source database into $tmp/name and
# return the dump as SQL text (pg_restore -f - for an archive).
sub take_dump
{
	my ($name, @args) = @_;
	my $file = "$tmp/$name";
	my ($ok) = run_ok([ 'pg_dump', @args, '-f', $file, '-d', $src ], "pg_dump" . join("", map { " $_" } @args) . " into $name");
	return '' unless $ok;
	return slurp_file($file) if !grep { /^-F[cd]$/ } @args;
	my ($ok2, $text) = run_ok([ 'pg_restore', '-f', '-', $file ], "pg_restore -f - of the $name dump");
	return $text;
}

# restore_plain(db, file, label) and restore_archive(db, file, label, args):
# restore into database db of the target cluster; they must succeed.
sub restore_plain
{
	my ($db, $file, $label) = @_;
	run_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', "$tmp/$file", '-d', $target->connstr($db) ],
		"$label: psql restores the dump without an error");
}

sub restore_archive
{
	my ($db, $file, $label, @args) = @_;
	my ($ok, $out, $err) =
	  run_ok([ 'pg_restore', @args, '-d', $target->connstr($db), "$tmp/$file" ],
		"$label: pg_restore" . join("", map { " $_" } @args) . " exits with status 0");
	unlike($err, qr/errors ignored/, "$label: pg_restore ignored no error");
}

sub createdb
{
	my ($db, @sql) = @_;
	$target->safe_psql('postgres', "CREATE DATABASE $db");
	$target->safe_psql($db, $_) for @sql;
}

# Whole database, in the three formats.
dump_is_clean(take_dump('whole.sql'), 'plain dump');
createdb('plain');
restore_plain('plain', 'whole.sql', 'plain');
check_restored($target, 'plain', 'plain', $snap);

dump_is_clean(take_dump('whole.dump', '-Fc'), 'custom dump');
createdb('custom');
restore_archive('custom', 'whole.dump', 'custom');
check_restored($target, 'custom', 'custom', $snap);

dump_is_clean(take_dump('whole.dir', '-Fd'), 'directory dump');
createdb('directory');
restore_archive('directory', 'whole.dir', 'directory', '-j', '2');
check_restored($target, 'directory', 'directory', $snap);

# pg_restore --clean, then --clean --if-exists, into a database that has
# the dynamic tables already (the custom restore above): pg_restore drops
# the dt_guard triggers first, which makes the dynamic tables plain tables
# (their key indexes and inputs may then be dropped), then everything,
# the extension included, and restores it all again.
restore_archive('custom', 'whole.dump', '--clean', '--clean');
check_restored($target, 'custom', '--clean', $snap);
restore_archive('custom', 'whole.dump', '--clean --if-exists', '--clean', '--if-exists');
check_restored($target, 'custom', '--clean --if-exists', $snap);

# --schema-only, then --data-only into the same database.  The rows dumped
# for a dynamic table are ignored (with a NOTICE); it is computed from its
# query, so its contents are checked after its next refresh.
dump_is_clean(take_dump('schema.sql', '--schema-only'), 'schema-only dump');
dump_is_clean(take_dump('data.sql', '--data-only'), 'data-only dump');
createdb('split');
restore_plain('split', 'schema.sql', 'schema-only');
restore_plain('split', 'data.sql', 'then data-only');
check_restored($target, 'split', 'schema-only then data-only', $snap, immediate => 0);

# Data-only with --disable-triggers (ALTER TABLE ... DISABLE TRIGGER ALL
# around each table's data, capture included: the dynamic tables over a
# table are refreshed in full after), with COPY and with --inserts (the
# INSERTs into a dynamic table go in while its guard is off; its next
# refresh is full).  pg_dump --inserts reads a table with SELECT, which a
# dynamic table never populated refuses (README): its data, none, is left
# out.
for my $case ([ 'copy', ], [ 'inserts', '--inserts', '--exclude-table-data=shop.big_orders' ])
{
	my ($how, @args) = @$case;
	dump_is_clean(take_dump("data_dt_$how.sql", '--data-only', '--disable-triggers', @args),
		"data-only --disable-triggers dump ($how)");
	createdb("split_dt_$how");
	restore_plain("split_dt_$how", 'schema.sql', "schema-only ($how)");
	restore_plain("split_dt_$how", "data_dt_$how.sql", "then data-only --disable-triggers ($how)");
	check_restored($target, "split_dt_$how", "data-only --disable-triggers ($how)", $snap, immediate => 0);
}

# One schema.  pg_dump -n leaves extensions out: the extension is created
# first, as an operator would.  (-e pg_dynamic_tables would write CREATE
# EXTENSION ... WITH SCHEMA dt, which PostgreSQL requires to exist.)
dump_is_clean(take_dump('shop.dump', '-Fc', '-n', 'shop'), '-n dump');
createdb('shop_only', 'CREATE EXTENSION pg_dynamic_tables');
restore_archive('shop_only', 'shop.dump', '-n shop');
check_restored($target, 'shop_only', '-n shop', $snap, schemas => ['shop']);

# One base table, into a database without the extension and into one with
# it: a plain table, its rows all there, writable, no trigger left on it.
my $orders = take_dump('orders.sql', '-t', 'shop.orders');
dump_is_clean($orders, '-t dump');
unlike($orders, qr/dt_internal/, '-t dump: a base table alone names nothing of the extension');
for my $case ([ 'orders_plain', 'without the extension' ],
	[ 'orders_ext', 'with the extension', 'CREATE EXTENSION pg_dynamic_tables' ])
{
	my ($db, $what, @sql) = @$case;
	my $label = "-t shop.orders $what";
	createdb($db, @sql, 'CREATE SCHEMA shop');
	restore_plain($db, 'orders.sql', $label);
	is(base_data($target, $db, 'shop.orders')->{'shop.orders'}, $snap->{data}{'shop.orders'},
		"$label: the rows are all there");
	is(sql($target, $db, "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'shop.orders'::regclass"),
		'0', "$label: no trigger is left on the table");
	ok( defined sql($target, $db, q{
INSERT INTO shop.orders VALUES (50000, 1, 'new', 'sku1', 1, 1, 1, now());
UPDATE shop.orders SET qty = qty + 1 WHERE id = 1;
DELETE FROM shop.orders WHERE id = 2;
}), "$label: the table takes INSERT, UPDATE and DELETE");
	alive_ok($target, $label);
}

$source->stop;
$target->stop;
done_testing();
