#!/usr/bin/env perl
# tools/check-layers.pl: check that the C files of src/ depend on each
# other as the layer diagram of src/README.md says.
#
# The diagram is the block between the lines "<!-- layers -->" and
# "<!-- /layers -->" of src/README.md: a line per layer, its number first,
# then the files of the layer (*.c) and its header (*.h), then words; a
# line that does not start with a number continues the layer above it.
# From the sources it derives which file uses which: file A depends on
# file B when A names a function or variable that B exports (defines
# without "static").  It fails when
#
#	- a file of src/ is not in the diagram, or the diagram names a file
#	  that does not exist, or the file table of src/README.md lacks it;
#	- a file depends on a file of a higher layer, or files depend on each
#	  other in a cycle (within a layer too): every dependency points one
#	  way, down;
#	- a file or header includes the header of a higher layer (a header:
#	  of its own layer or higher), or a file exports a function that the
#	  header of its layer does not declare.
#
# Usage: tools/check-layers.pl [--graph]
#	--graph  also print each file's dependencies, layer by layer
# Exit status 0 when everything holds; otherwise the problems, and 1.
# `make check-layers` and test/run run it.

use strict;
use warnings;
use File::Basename qw(dirname basename);

my $graph = grep { $_ eq '--graph' } @ARGV;
my $root = dirname(dirname(__FILE__));
my $src = "$root/src";
my @problems;

# ---------------------------------------------------------------------
# The diagram
# ---------------------------------------------------------------------
my (%layer, %header_of_layer);
open(my $readme, '<', "$src/README.md") or die "cannot read src/README.md: $!\n";
my @readme = <$readme>;
close($readme);
my $in = 0;
my $n;
for (@readme)
{
	if (/^<!-- layers -->/) { $in = 1; next; }
	if (/^<!-- \/layers -->/) { $in = 0; next; }
	next unless $in;
	$n = $1 if /^\s*(\d+)\s/;	# a line of a layer; others continue it
	next unless defined $n;
	for my $f (/([A-Za-z0-9_]+\.[ch])\b/g)
	{
		push @problems, "src/README.md: $f is in layers $layer{$f} and $n" if exists $layer{$f};
		$layer{$f} = $n;
		$header_of_layer{$n} = $f if $f =~ /\.h$/;
	}
}
push @problems, "src/README.md: no layer diagram between <!-- layers --> and <!-- /layers -->"
  unless %layer;

opendir(my $dir, $src) or die "cannot read src/: $!\n";
my @files = sort grep { /\.[ch]$/ } readdir($dir);
closedir($dir);
my $readme_text = join('', @readme);
for my $f (@files)
{
	push @problems, "src/$f is not in the layer diagram of src/README.md" unless exists $layer{$f};
	push @problems, "src/$f has no row in the file table of src/README.md"
	  unless $readme_text =~ /^\|\s*`\Q$f\E`/m;
}
for my $f (sort keys %layer)
{
	push @problems, "src/README.md names $f, which is not in src/" unless -f "$src/$f";
}

# ---------------------------------------------------------------------
# The sources
# ---------------------------------------------------------------------

# code: a file's text without comments, strings and character constants
# (their lines kept, empty), and without preprocessor lines but #include.
sub code
{
	my ($path) = @_;
	open(my $fh, '<', $path) or die "cannot read $path: $!\n";
	local $/;
	my $text = <$fh>;
	close($fh);
	$text =~ s{/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'}
			  { my $m = $&; my $quoted = $m =~ /^["']/; $m =~ tr/\n//cd; $quoted ? "0$m" : $m }gse;
	return $text;
}

my (%code, %includes, %exports, %owner, %declared);
for my $f (@files)
{
	my $text = $code{$f} = code("$src/$f");
	open(my $fh, '<', "$src/$f") or die;
	$includes{$f} = [ map { /^\s*#\s*include\s+"([^"]+)"/ ? ($1) : () } <$fh> ];
	close($fh);
	if ($f =~ /\.h$/)
	{
		$declared{$1} = $f while $text =~ /^extern\b[^;(]*?\b(\w+)\s*\(/mg;
		$declared{$1} = $f while $text =~ /^extern\b[^;(]*?\b(\w+)\s*(?:\[[^\]]*\])?\s*;/mg;
		next;
	}
	# top-level definitions: a name at the start of a line, then "(" and,
	# after the parameters, "{"; its type on the line or lines before
	my $depth = 0;
	my $statement = '';
	for my $line (split /\n/, $text)
	{
		next if $line =~ /^\s*#/;
		if ($depth == 0)
		{
			$statement .= " $line";
			if ($statement =~ /[;{]\s*$/)
			{
				my $s = $statement;
				$statement = '';
				if ($s !~ /\b(?:static|extern|typedef)\b/ && $s !~ /^\s*(?:PG_MODULE_MAGIC|PG_FUNCTION_INFO_V1)\b/)
				{
					if ($s =~ /\b(\w+)\s*\([^()]*(?:\([^()]*\)[^()]*)*\)\s*\{\s*$/)
					{
						$exports{$f}{$1} = 1;
					}
					elsif ($s =~ /\b(\w+)\s*(?:\[[^\]]*\])?\s*(?:=[^;]*)?;\s*$/ && $s !~ /\(/)
					{
						$exports{$f}{$1} = 1;
					}
				}
			}
		}
		$depth += () = $line =~ /\{/g;
		$depth -= () = $line =~ /\}/g;
		$statement = '' if $depth > 0;
	}
	for my $name (keys %{ $exports{$f} })
	{
		push @problems, "$name is defined in both src/$owner{$name} and src/$f" if exists $owner{$name};
		$owner{$name} = $f;
	}
}

# Exported functions are declared in the header of their file's layer;
# SQL-callable functions (PG_FUNCTION_INFO_V1), background worker entry
# points and _PG_init are called by PostgreSQL, and need none.
for my $f (grep { /\.c$/ } @files)
{
	my %by_postgres = map { $_ => 1 } ($code{$f} =~ /PG_FUNCTION_INFO_V1\((\w+)\)/g),
	  ($code{$f} =~ /PGDLLEXPORT\s+\w+\s+(\w+)\s*\(/g), '_PG_init';
	for my $name (sort keys %{ $exports{$f} })
	{
		next if $by_postgres{$name};
		my $h = $declared{$name};
		my $want = $header_of_layer{ $layer{$f} // -1 };
		if (!defined $h)
		{
			push @problems, "src/$f exports $name, which no header declares (make it static, or declare it in "
			  . ($want // "its layer's header") . ")";
		}
		elsif (defined $want && $h ne $want)
		{
			push @problems, "src/$f exports $name, declared in $h instead of its layer's header $want";
		}
	}
}

# The dependencies: the exported names each file uses.
my %deps;
for my $f (grep { /\.c$/ } @files)
{
	my %seen;
	for my $word ($code{$f} =~ /\b([A-Za-z_]\w*)\b/g)
	{
		my $o = $owner{$word};
		next if !defined $o || $o eq $f || $seen{$o}{$word}++;
		$deps{$f}{$o}{$word} = 1;
	}
}

# Dependencies point down, or within a layer.
for my $f (sort keys %deps)
{
	for my $d (sort keys %{ $deps{$f} })
	{
		next unless defined $layer{$f} && defined $layer{$d} && $layer{$d} > $layer{$f};
		push @problems, "src/$f (layer $layer{$f}) uses src/$d (layer $layer{$d}), a higher layer: "
		  . join(', ', sort keys %{ $deps{$f}{$d} });
	}
}

# No cycles: a depth-first search, reporting each cycle it closes.
my %state;
my @stack;
sub visit
{
	my ($f) = @_;
	$state{$f} = 1;
	push @stack, $f;
	for my $d (sort keys %{ $deps{$f} || {} })
	{
		if (($state{$d} // 0) == 1)
		{
			my @cycle = (@stack[(grep { $stack[$_] eq $d } 0 .. $#stack)[0] .. $#stack], $d);
			push @problems, "cycle: " . join(' -> ', map {
				my $i = $_;
				$i < $#cycle ? "$cycle[$i] (" . join(', ', sort keys %{ $deps{ $cycle[$i] }{ $cycle[ $i + 1 ] } }) . ")"
				  : $cycle[$i]
			} 0 .. $#cycle);
		}
		visit($d) unless $state{$d};
	}
	pop @stack;
	$state{$f} = 2;
}
visit($_) for grep { !$state{$_} } sort keys %deps;

# Includes point down (a file: to its own layer's header too).
for my $f (@files)
{
	for my $h (@{ $includes{$f} })
	{
		next unless -f "$src/$h";
		next unless defined $layer{$f} && defined $layer{$h};
		my $ok = $f =~ /\.h$/ ? $layer{$h} < $layer{$f} : $layer{$h} <= $layer{$f};
		push @problems, "src/$f (layer $layer{$f}) includes $h (layer $layer{$h})" unless $ok;
	}
}

if ($graph)
{
	for my $n (sort { $b <=> $a } keys %{ { map { $_ => 1 } values %layer } })
	{
		for my $f (sort grep { $layer{$_} == $n && /\.c$/ } keys %layer)
		{
			printf "%d %-22s -> %s\n", $n, $f, join(' ', sort keys %{ $deps{$f} || {} });
		}
	}
}
if (@problems)
{
	print "$_\n" for @problems;
	exit 1;
}
exit 0;
