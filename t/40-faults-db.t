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
# within connect (2 s) + statement (2 s here) timeouts, not pile up.
my $r = Faults::under_load($pp, seconds => 14, fault => sub {
	my @pids = Faults::freeze_pg($pp);
	sleep 10;
	kill 'CONT', @pids;
});
Faults::check($r, 'postgres frozen 10 s');
ok($r->{status}{503} > 0, 'frozen: requests got 503');
ok($r->{longest_failure} <= (2 + 2 + 0.5) * $PP::MULT, sprintf('frozen: the slowest failure took %.2f s, within connect + statement timeouts (4 s)', $r->{longest_failure}));

done_testing;
