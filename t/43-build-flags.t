# The project's compiler flags survive a CFLAGS or LDFLAGS given on make's
# command line (`make CFLAGS=-O0` for a debugger): the standard, the feature
# macro, the include paths and every warning stay on every compile line.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
use PP;

my $tmp = tempdir('pingpong-flags-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my @lines = split /\n/, qx{make -C $PP::ROOT -n -B --no-print-directory BUILD=$tmp CFLAGS=-O0 LDFLAGS=-Wl,-O1 all 2>&1};
is($?, 0, 'make -n CFLAGS=-O0 LDFLAGS=-Wl,-O1 all runs');
my @cc = grep { /^cc .* -c -o / } @lines;
my @ld = grep { /^cc .* -o \S*pingpong-/ && !/ -c / } @lines;
ok(@cc >= 20, scalar(@cc) . ' compile lines');
is(scalar @ld, 6, 'six link lines (the three programs, the launcher and make bench\'s two floors)');
for my $flag (qw(-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Icommon -O0)) {
	is(scalar(grep { !/ \Q$flag\E(?: |$)/ } @cc), 0, "every compile line has $flag");
}
is(scalar(grep { !/ -I\S*postgresql / } @cc), 0, "every compile line has libpq's include path");
is(scalar(grep { !/ -pthread / || !/ -Wl,-O1 / } @ld), 0, 'every link line has -pthread and the user\'s LDFLAGS');

# And such a build compiles (at -O0, where _FORTIFY_SOURCE must stay off).
my $out = qx{make -C $PP::ROOT --no-print-directory BUILD=$tmp CFLAGS=-O0 $tmp/common/log.o $tmp/fcgi/negotiate.o 2>&1};
is($?, 0, 'make CFLAGS=-O0 compiles') or diag $out;

done_testing;
