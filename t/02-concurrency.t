# Exactness under concurrency: 8 clients x 250 pongs from a fresh database
# carry exactly 0..1999, each once, and leave the counter at 2000; with group
# increments on (the default) and off.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PP;

for my $group ('on', 'off') {
	my $pp = PP->new(env => { PING_PONG_GROUP_INCREMENTS => $group, PING_PONG_WORKERS => 3 });
	my @res = $pp->load(clients => 8, requests => 250, seconds => 120);
	my ($n, $other) = PP->pongs(@res);
	is(scalar @res, 2000, "group $group: 2000 responses");
	is($other, 0, "group $group: every one a 200 pong");
	my %seen;
	my @dups = grep { $seen{$_}++ } @$n;
	is(scalar @dups, 0, "group $group: no N given twice") or diag "dups: @dups[0..9]";
	is_deeply([sort { $a <=> $b } @$n], [0 .. 1999], "group $group: exactly 0..1999");
	is($pp->counter, 2000, "group $group: the stored counter is 2000");
	$pp->teardown;
}

done_testing;
