# README.md's SQL examples run as shown: every ```sql block of the README,
# in order, in one psql session on a fresh database with the extension.
# Every statement must succeed, and where the README shows psql's output
# (comment lines after the statement, the output's "---+---" line among
# them) the statement must print it, but for timestamps and durations,
# which are masked, and column widths, which follow the values.

use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $readme = slurp_file('README.md');
my @blocks = $readme =~ /^```sql\n(.*?)^```/msg;
ok(@blocks > 0, 'README.md has SQL examples');

# statements(BLOCK): [statement text, expected output lines or undef]...
# A statement ends at a line ending with ";" (before any "--" comment)
# outside dollar quotes; the comment lines that follow it are its output
# when they hold psql's header rule, and prose otherwise.
sub statements
{
	my ($block) = @_;
	my @lines = split /\n/, $block;
	my (@result, @statement);
	my $in_dollar = 0;
	my $i = 0;
	while ($i < @lines)
	{
		my $line = $lines[$i++];
		next if !@statement && ($line =~ /^\s*$/ || $line =~ /^\s*--/);
		push @statement, $line;
		my $dollars = () = $line =~ /\$\$/g;
		$in_dollar = !$in_dollar if $dollars % 2;
		my $code = $in_dollar ? '' : ($line =~ s/\s*--.*$//r);
		next if $in_dollar || $code !~ /;\s*$/;
		my @comments;
		push @comments, $lines[$i++] while $i < @lines && $lines[$i] =~ /^--/;
		my $output = (grep { /^-- -+(\+-+)*$/ } @comments) ? [ map { s/^-- ?//r } @comments ] : undef;
		push @result, [ join("\n", @statement), $output ];
		@statement = ();
	}
	return @result;
}

# normalize(LINES): psql's aligned output, without what may differ between
# runs: timestamps and durations, and the padding of columns.
sub normalize
{
	my @out;
	for my $line (@_)
	{
		$line =~ s/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?([+-]\d\d(:\d\d)?)?/<timestamp>/g;
		$line =~ s/\b\d\d:\d\d:\d\d\.\d+/<duration>/g;
		next if $line =~ /^\s*$/;
		if ($line =~ /^-+(\+-+)*\s*$/)
		{
			push @out, '---';
			next;
		}
		push @out, join('|', map { s/^\s+|\s+$//gr } split /\|/, $line, -1);
	}
	return join("\n", @out);
}

my $node = PostgreSQL::Test::Cluster->new('readme');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_dynamic_tables'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_dynamic_tables');

# One session runs every statement, each followed by a marker.
my @all = map { statements($_) } @blocks;
my $script = '';
for my $n (0 .. $#all)
{
	$script .= "$all[$n][0]\n\\echo '<<<statement $n>>>'\n";
}
my ($out, $err) = ('', '');
my $ok = IPC::Run::run(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres') ],
	'<', \$script, '>', \$out, '2>', \$err);
ok($ok, 'every SQL example of README.md runs') or diag($err);
is($err, '', 'no warning or notice');

my @outputs = split /<<<statement \d+>>>\n/, $out;
for my $n (0 .. $#all)
{
	my ($sql, $expected) = @{ $all[$n] };
	next unless defined $expected;
	my $first = (split /\n/, $sql)[0];
	is(normalize(split /\n/, $outputs[$n] // ''), normalize(@$expected), "README output of: $first");
}

$node->stop;
done_testing();
