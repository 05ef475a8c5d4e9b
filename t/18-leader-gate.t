# The leader gate (fcgi/leadergate.c), through t/c/gate-check: a worker
# killed while leading does not block the others, a wait ends at its
# deadline, and a leader that wants the gate back at once waits for the
# one already waiting (the kernel hands it over, oldest waiter first).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
use PP;

my $bin = "$PP::ROOT/$PP::BUILD/t/gate-check";
ok(-x $bin, "$bin is built (make test builds it)") or BAIL_OUT('no gate-check');

sub check {
	my ($case) = @_;
	my $dir = tempdir('pingpong-gate-XXXXXX', TMPDIR => 1, CLEANUP => 1);
	my $out = qx{PING_PONG_RUNTIME_DIR=$dir timeout 20 $bin $case 2>&1};
	is($?, 0, "$case: exit status 0") or diag $out;
	return $out;
}

my $m = $PP::MULT;
my $out = check('dead');
my ($rc, $ms) = $out =~ /enter after a dead holder: (-?\d+) in (\d+) ms/;
is($rc, 1, 'a holder killed while leading: the next one takes the gate');
cmp_ok($ms // 1e9, '<', 1000 * $m, "at once ($ms ms), not at its deadline");

$out = check('deadline');
($rc, $ms) = $out =~ /enter while held: (-?\d+) in (\d+) ms/;
is($rc, -1, 'held by another past the deadline: -1');
cmp_ok($ms // 0, '>=', 250, "not before the 300 ms deadline ($ms ms)");
cmp_ok($ms // 1e9, '<=', 1000 * $m, 'nor long after it');

$out = check('turns');
like($out, qr/waiter entered: 1/, 'the waiter gets the gate when the holder leaves');
my ($waited) = $out =~ /holder waited (\d+) ms to lead again/;
cmp_ok($waited // 0, '>=', 250, "the holder, wanting it back at once, waited for the waiter's turn ($waited ms of its 300)");

done_testing;
