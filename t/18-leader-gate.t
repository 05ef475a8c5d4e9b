# The leader gate (fcgi/leadergate.c), through t/c/gate-check: a worker
# killed while leading does not block the others, a wait ends at its
# deadline, and a leader that wants the gate back at once waits for the
# one already waiting (the kernel hands it over, oldest waiter first).
# Then in a real pool: with two workers under load, no statement ever
# waits for the row lock (the gate let it in after the other's commit),
# while with group increments off (no gate) they do.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
use PP;
use Faults;

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
unlike($out, qr/^note:/m, 'the holder left once it saw the waiter queued (not on a timer)');
my ($waited) = $out =~ /holder waited (\d+) ms to lead again/;
cmp_ok($waited // 0, '>=', 250, "the holder, wanting it back at once, waited for the waiter's turn ($waited ms of its 300)");

# Samples pg_stat_activity 60 times, 50 ms apart, while 16 clients load a
# 2-worker pool: how many samples saw a pingpong backend waiting for a
# lock.  One psql, one session, the statistics snapshot cleared before
# each sample, so that a loaded machine slows the sampling no more than
# the service: one psql per sample took up to a second each at a load of
# 17.
sub lock_waits {
	my ($group) = @_;
	my $pp = PP->new(role => 'app', env => { PING_PONG_WORKERS => 2, PING_PONG_GROUP_INCREMENTS => $group });
	Test::More::ok($pp->workers_connected(2), "group increments $group: both workers connected");
	my $sample = q{SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pingpong' AND wait_event_type = 'Lock';
	    SELECT pg_stat_clear_snapshot(), pg_sleep(0.05);};
	my @counts;
	my $r = Faults::under_load($pp, clients => 16, seconds => 4, fault => sub {
		@counts = grep { /^\d+$/ } split /\n/, $pp->psql($sample x 60);
	});
	my ($samples, $waits) = (scalar @counts, scalar grep { $_ > 0 } @counts);
	Faults::check($r, "group increments $group, 2 workers");
	$pp->teardown;
	return ($samples, $waits);
}

my ($samples, $waits) = lock_waits('off');
cmp_ok($waits, '>', 0, "no gate (group increments off), 2 workers: $waits of $samples samples saw a row-lock wait");
($samples, $waits) = lock_waits('on');
cmp_ok($samples, '>=', 10, "gate, 2 workers: $samples samples under load");
is($waits, 0, 'gate, 2 workers: no statement ever waited for the row lock');

done_testing;
