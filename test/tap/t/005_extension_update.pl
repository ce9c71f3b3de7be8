# ALTER EXTENSION pg_dynamic_tables UPDATE from the released 1.0 to 1.1.
#
# A cluster runs version 1.0 as released (the last 1.0 commit, built with
# its own Makefile by test/run: tools/pgenv.sh, pgenv_install_release):
# CREATE EXTENSION (1.0), the dynamic tables of every kind of
# DtTest::build_source, written, refreshed, with changes pending.  It is
# stopped and the same data directory is started with the current build's
# library, as after installing the new version over the old.  Then:
#
# - writes made with the new library before ALTER EXTENSION UPDATE are
#   taken (and, with the changes pending from 1.0, reach the tables);
#   renames of what the dynamic tables read succeed, and view
#   dt.dynamic_tables can be read (its query column is NULL until then);
# - ALTER EXTENSION pg_dynamic_tables UPDATE brings it to 1.1;
# - every dynamic table keeps its settings, equals its query after a
#   refresh, and after more writes refreshes incrementally (incremental
#   tables) and exactly;
# - the internal objects belong to the extension;
# - a dynamic table that 1.0 let have a trigger of the user's, and a
#   foreign key referencing it, is not refreshed (each named, with what to
#   drop) until they are dropped; nothing is lost meanwhile;
# - a custom-format pg_dump of the updated database restores into a fresh
#   cluster as in the dump tests (003_dump_restore.pl).

use strict;
use warnings;
use File::Copy qw(move);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use DtTest;

my $release = $ENV{PGDT_RELEASE_1_0};
BAIL_OUT('PGDT_RELEASE_1_0 is not set: test/run builds the released 1.0 and sets it')
  unless $release;

my $v1 = new_node('v1_0', install_path => $release);
create_roles($v1);
build_source($v1, 'shopdb');
is($v1->safe_psql('shopdb', "SELECT extversion FROM pg_extension WHERE extname = 'pg_dynamic_tables'"),
	'1.0', 'the released build creates version 1.0');
my $snap = snapshot($v1, 'shopdb');
# 1.0 let a dynamic table have triggers and be referenced by foreign keys
$v1->safe_psql('postgres', 'CREATE DATABASE trigdb');
$v1->safe_psql('trigdb', q{
CREATE EXTENSION pg_dynamic_tables;
CREATE TABLE t (id int PRIMARY KEY, g int, v int);
INSERT INTO t SELECT i, i % 3, i FROM generate_series(1, 30) i;
SELECT dt.create_dynamic_table('tg', 'SELECT g, sum(v) AS s FROM t GROUP BY g', refresh_mode => 'incremental');
CREATE FUNCTION skip() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END';
CREATE TRIGGER skip BEFORE INSERT OR UPDATE OR DELETE ON tg FOR EACH ROW EXECUTE FUNCTION skip();
CREATE TABLE r (g int REFERENCES tg (g) ON DELETE CASCADE);
INSERT INTO r SELECT g FROM tg;
});
$v1->stop;

# The same data directory, started with the current library: it is moved
# to a node of the current installation.
my $node = PostgreSQL::Test::Cluster->new('v1_1');
move($v1->data_dir, $node->data_dir) or die "could not move the data directory: $!";
$node->append_conf('postgresql.conf', 'port = ' . $node->port);
$node->start;

ok(defined sql($node, 'shopdb', write_statements(3, qw(shop report))),
	'before ALTER EXTENSION UPDATE: the base tables take writes with the new library');
ok( defined sql($node, 'shopdb', q{
ALTER TABLE shop.customers RENAME COLUMN region TO area;
ALTER TABLE shop.orders RENAME TO orders_renamed;
ALTER SCHEMA report RENAME TO report_renamed;
ALTER SCHEMA report_renamed RENAME TO report;
ALTER TABLE shop.orders_renamed RENAME TO orders;
ALTER TABLE shop.customers RENAME COLUMN area TO region;
}), 'before ALTER EXTENSION UPDATE: what the dynamic tables read can be renamed');
is( sql($node, 'shopdb', 'SELECT count(*), count(query) FROM dt.dynamic_tables'),
	scalar(@{ $snap->{dts} }) . '|0', 'before ALTER EXTENSION UPDATE: dt.dynamic_tables lists the tables, without their queries');
ok(defined sql($node, 'shopdb', 'ALTER EXTENSION pg_dynamic_tables UPDATE'), 'ALTER EXTENSION UPDATE succeeds');
is(sql($node, 'shopdb', "SELECT extversion FROM pg_extension WHERE extname = 'pg_dynamic_tables'"),
	'1.1', 'the extension is at version 1.1');

check_settings($node, 'shopdb', 'updated', $snap, qw(shop report));

ok(defined sql($node, 'trigdb', 'ALTER EXTENSION pg_dynamic_tables UPDATE'), 'trigdb: ALTER EXTENSION UPDATE succeeds');
$node->safe_psql('trigdb', 'UPDATE t SET v = v + 1 WHERE id <= 10');
my ($trig_out, $trig_err) = ('', '');
$node->psql('trigdb', "SELECT dt.refresh('tg')", stdout => \$trig_out, stderr => \$trig_err);
like($trig_err, qr/dynamic table "tg" is in foreign key "r_g_fkey" of "r".*DROP CONSTRAINT r_g_fkey/s,
	'updated: a dynamic table a foreign key of 1.0 references is not refreshed, saying what to drop');
is($node->safe_psql('trigdb', 'SELECT count(*) FROM r'), '3', 'updated: the referencing rows are all there');
$node->safe_psql('trigdb', 'ALTER TABLE r DROP CONSTRAINT r_g_fkey');
$node->psql('trigdb', "SELECT dt.refresh('tg')", stdout => \$trig_out, stderr => \$trig_err);
like($trig_err, qr/dynamic table "tg" has trigger "skip".*DROP TRIGGER skip ON public\.tg/s,
	'updated: a dynamic table with a trigger of 1.0 is not refreshed, saying what to drop');
$node->safe_psql('trigdb', 'DROP TRIGGER skip ON tg');
ok(defined sql($node, 'trigdb', "SELECT dt.refresh('tg')"), 'updated: then it is refreshed');
is( $node->safe_psql(
		'trigdb', q{
SELECT count(*) FROM ((TABLE tg EXCEPT ALL SELECT g, sum(v) FROM t GROUP BY g)
                      UNION ALL (SELECT g, sum(v) FROM t GROUP BY g EXCEPT ALL TABLE tg)) d}),
	'0', 'updated: and equals its query');
check_maintained($node, 'shopdb', 'updated', $snap, 4, qw(shop report));
check_internals($node, 'shopdb', 'updated');
alive_ok($node, 'updated');

# A dump of the updated database, with changes pending, restores as in the
# dump tests.
$node->safe_psql('shopdb', write_statements(5, qw(shop report)));
my $updated = snapshot($node, 'shopdb');
my $target = new_node('target');
create_roles($target);
my $dump = PostgreSQL::Test::Utils::tempdir . '/updated.dump';
run_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('shopdb') ], 'pg_dump -Fc of the updated database');
my ($ok, $text) = run_ok([ 'pg_restore', '-f', '-', $dump ], 'pg_restore -f - of that dump');
dump_is_clean($text, 'updated, dumped');
$target->safe_psql('postgres', 'CREATE DATABASE restored');
my ($restored, $out, $err) =
  run_ok([ 'pg_restore', '-d', $target->connstr('restored'), $dump ], 'updated, restored: pg_restore exits with status 0');
unlike($err, qr/errors ignored/, 'updated, restored: pg_restore ignored no error');
check_restored($target, 'restored', 'updated, restored', $updated, round => 6);

$node->stop;
$target->stop;
done_testing();
