# The configuration table (docs/configuration.md) and the settings table in common/config.c
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
for (split /\n/, slurp("$PP::ROOT/docs/configuration.md")) {
	next unless /^\| `([A-Z_]+)` \| (?:`([^`]*)`|(unset)) \|/;
	$doc{$1} = defined $2 ? $2 : $3;
}
is_deeply([sort keys %doc], [sort keys %code], 'docs/configuration.md documents exactly the settings the code reads');
for my $name (sort keys %code) {
	is($doc{$name}, $code{$name}, "$name: docs/configuration.md's default matches the code");
}
like(slurp("$PP::ROOT/README.md"), qr/make run.*make test/s, 'the README shows the two commands');

# The architecture table names every C file, and the usage line every role.
my $readme = slurp("$PP::ROOT/docs/architecture.md");
my %listed = map { $_ => 1 } $readme =~ /^\| `([\w\/]+\.c)` \|/mg;
my @files = map { s{^\Q$PP::ROOT\E/}{}r } glob("$PP::ROOT/{common,fcgi,authproxy,logoutput,launcher}/*.c");
ok(@files > 20, scalar(@files) . ' C files');
is_deeply([grep { !$listed{$_} } @files], [], 'docs/architecture.md\'s table lists every C file');
my ($roles) = $src =~ /"PING_PONG_ROLE", T_CHOICE,.*"([\w|-]+)" \}/;
ok($roles, "the launcher's roles (config.c): $roles");
like($readme, qr/`bin\/pingpong \[\Q$roles\E\]`/, 'docs/architecture.md\'s usage line names every role');

done_testing;
