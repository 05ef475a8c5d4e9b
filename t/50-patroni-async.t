# What docs/ha.md warns about: Patroni with
# asynchronous replication (synchronous_mode: false). The leader's WAL stops
# reaching the standby (its walsender is stopped, as a slow network or a
# busy standby would), pongs go on being acknowledged by the leader alone,
# then the leader dies (SIGKILL) and Patroni promotes the standby that lacks
# them: the counter goes back. The workers' guard must then answer 503, log
# one CRITICAL line and show it in /health/ready and /metrics, and never
# hand out a number twice.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep);
use PP;
use Faults;
use Patroni;

# A lag limit above what the stalled seconds write, so that Patroni does
# promote the stale standby (with the default 1 MiB it may too, for a
# shorter stall: the limit bounds the loss, it does not prevent it).
my $ha = Patroni->new(members => 2, sync => 0, max_lag => 64 << 20);
my $pp = $ha->stack(PING_PONG_DB_STATEMENT_TIMEOUT => 2000);
ok(PP::wait_until(10, sub { $pp->get('/health/ready')->{status} == 200 }), 'the service is ready on the Patroni leader');
# Patroni calls a replica running before it streams; the stall below needs
# the stream there first (under load, it came later than the service was ready).
ok(PP::wait_until(30, sub { $ha->pg_pids_of($ha->member($ha->leader), 'walsender') }), 'the standby streams from the leader');

my $old = $ha->leader;
my $r = Faults::under_load($pp, seconds => 90, tail => 3, fault => sub {
	my $m = $ha->member($old);
	my @ws = $ha->pg_pids_of($m, 'walsender');
	ok(@ws, "the leader $old streams to its standby (walsender @ws)");
	kill 'STOP', @ws;
	sleep 2;	# pongs acknowledged by the leader alone
	$Patroni::SCENARIO{'patroni failover'}->($ha);
});
my $new = $ha->leader;
isnt($new, $old, "the asynchronous standby $new took over");
diag sprintf 'patroni async failover: %d requests, %d ok (largest N %d), counter on the new leader %d, status %s',
    $r->{requests}, $r->{ok}, $r->{max_n}, $r->{counter}, join(' ', map { "$_:$r->{status}{$_}" } sort keys %{ $r->{status} });
cmp_ok($r->{counter}, '<=', $r->{max_n},
    "acknowledged commits were lost: the new leader's counter ($r->{counter}) is not past the largest N answered ($r->{max_n})");
is($r->{duplicates}, 0, 'yet no N was answered twice');

# The guard: one CRITICAL line, 503 for pongs, not ready, the metric.
my @crit = grep { /CRITICAL/ && /counter guard/ } split /\n/, $pp->log;
is(scalar @crit, 1, 'one CRITICAL line says the counter went back') or diag join "\n", @crit;
my $p = $pp->get('/pingpong');
is($p->{status}, 503, 'a pong now gets 503');
like($p->{content}, qr/went back/, 'saying why');
my $ready = $pp->get('/health/ready');
is($ready->{status}, 503, '/health/ready: 503');
like($ready->{content}, qr/"counter": "went back"/, 'and says the counter went back');
like($pp->get('/metrics')->{content}, qr/^pingpong_guard_tripped 1$/m, '/metrics: pingpong_guard_tripped 1');
my $c = $ha->psql('SELECT counter_value FROM ping_counter ORDER BY id LIMIT 1');
cmp_ok($c, '<=', $r->{max_n} + 1, "and no pong moved the counter past the lost ones meanwhile ($c)");

$pp->teardown;
done_testing;
