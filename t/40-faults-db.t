# Database faults under load: killed, shut down fast and immediately,
# every backend terminated, frozen. After each, the invariants of Faults.pm.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep);
use PP;
use Faults;

my $pp = PP->new(env => { PING_PONG_DB_STATEMENT_TIMEOUT => 2000 });
for my $name ('postgres SIGKILL', 'postgres fast shutdown', 'postgres immediate shutdown', 'terminate every backend') {
	my $r = Faults::under_load($pp, seconds => 6, fault => sub { $Faults::SCENARIO{$name}->($pp) });
	Faults::check($r, $name);
}

# Frozen: every PostgreSQL process stopped for 10 s. Requests must fail
# within the slowest a failure may take, not pile up behind the freeze (10 s):
# the leader gate's patience (1 s, fcgi/leadergate.c), the statement timeout
# (2 s here), the wait for the cancel's answer (PP_DB_CANCEL_WAIT_MS, which a
# stopped server never gives), and 1 s for nginx and the client.
my $slowest = 1 + 2 + PP::limit('PP_DB_CANCEL_WAIT_MS') / 1000 + 1;
my $r = Faults::under_load($pp, seconds => 14, fault => sub {
	my @pids = Faults::freeze_pg($pp);
	sleep 10;
	kill 'CONT', @pids;
});
Faults::check($r, 'postgres frozen 10 s');
ok($r->{status}{503} > 0, 'frozen: requests got 503');
ok($r->{longest_failure} <= $slowest * $PP::MULT, sprintf('frozen: the slowest failure took %.2f s, within gate, statement timeout and cancel wait (%.1f s)',
    $r->{longest_failure}, $slowest));

done_testing;
