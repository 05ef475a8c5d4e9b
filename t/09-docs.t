# The README's configuration table and the settings table in common/config.c
# name the same variables with the same defaults.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PP qw(slurp);

my $src = slurp("$PP::ROOT/common/config.c");
my %code;
while ($src =~ /\{\s*"([A-Z_]+)",\s*T_\w+,\s*(NULL|"[^"]*")/g) {
	my ($name, $def) = ($1, $2);
	$def = $def eq 'NULL' ? 'unset' : substr($def, 1, -1);
	$code{$name} = $def;
}
ok(keys %code > 20, 'the settings table was read (' . scalar(keys %code) . ' rows)');

my %doc;
for (split /\n/, slurp("$PP::ROOT/README.md")) {
	next unless /^\| `([A-Z_]+)` \| (?:`([^`]*)`|(unset)) \|/;
	$doc{$1} = defined $2 ? $2 : $3;
}
is_deeply([sort keys %doc], [sort keys %code], 'the README documents exactly the settings the code reads');
for my $name (sort keys %code) {
	is($doc{$name}, $code{$name}, "$name: README default matches the code");
}
like(slurp("$PP::ROOT/README.md"), qr/make run.*make test/s, 'the README shows the two commands');

done_testing;
