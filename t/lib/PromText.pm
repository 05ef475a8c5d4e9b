# PromText.pm: a strict parser of the Prometheus text exposition format
# (version 0.0.4), for tests: every line must be valid, every sample's family
# must have # HELP and # TYPE first, and histograms must be well formed.
package PromText;

use strict;
use warnings;

# Returns ({ "name{labels}" => value }, [errors]).
sub parse {
	my ($text) = @_;
	my (%help, %type, %v, @err, %hist);
	my $n = 0;
	for my $line (split /\n/, $text) {
		$n++;
		if ($line =~ /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) \S.*$/) { $help{$1} = 1; next }
		if ($line =~ /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/) { $type{$1} = $2; next }
		if ($line =~ /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*)?\})? (-?(?:\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\+Inf|-Inf|NaN))$/) {
			my ($name, $labels, $val) = ($1, $2 // '', $3);
			my $fam = $name;
			$fam =~ s/_(bucket|sum|count)$// unless $type{$name};
			push @err, "line $n: $name has no # HELP" unless $help{$fam};
			push @err, "line $n: $name has no # TYPE" unless $type{$fam};
			push @err, "line $n: counter $name does not end in _total" if ($type{$fam} // '') eq 'counter' && $name !~ /_total$/;
			push @err, "line $n: duplicate $name$labels" if exists $v{"$name$labels"};
			$v{"$name$labels"} = $val;
			if (($type{$fam} // '') eq 'histogram' && $name =~ /_bucket$/) {
				my ($le) = $labels =~ /le="([^"]*)"/;
				(my $series = $labels) =~ s/,?le="[^"]*"//;
				push @{ $hist{"$fam$series"} }, [$le, $val];
			}
			next;
		}
		push @err, "line $n: not valid: $line";
	}
	for my $s (sort keys %hist) {
		my @b = @{ $hist{$s} };
		push @err, "$s: last bucket is not +Inf" unless $b[-1][0] eq '+Inf';
		for my $i (1 .. $#b) {
			push @err, "$s: buckets not cumulative at le=$b[$i][0]" if $b[$i][1] < $b[$i - 1][1];
			push @err, "$s: le not increasing at $b[$i][0]" if $b[$i][0] ne '+Inf' && $b[$i][0] <= $b[$i - 1][0];
		}
		my ($fam, $series) = $s =~ /^([a-z_]+)(.*)$/;
		$series = '' if $series eq '{}';
		my $count = $v{"${fam}_count$series"};
		push @err, "$s: _count ($count) differs from the +Inf bucket ($b[-1][1])" if !defined $count || $count != $b[-1][1];
	}
	return (\%v, \@err);
}

1;
