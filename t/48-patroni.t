# High availability with Patroni (synchronous_mode: true): the service points
# at every member with a host list and target_session_attrs=read-write. Under
# load, a planned switchover and an unplanned failover (the leader's Patroni
# and PostgreSQL SIGKILLed): no N twice, every N below the counter, counter -
# 200s within the uncertain answers, and pongs again without a restart. The
# time without a pong is measured and printed (docs/ha.md).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PP;
use Faults;
use Patroni;

my $ha = Patroni->new(members => 2, sync => 1);
# The leader heads the host list, so that after the switchover the worker
# must pass over a standby (read-write) to find the new primary.
my $pp = $ha->stack(first => $ha->leader, PING_PONG_DB_STATEMENT_TIMEOUT => 2000);
ok(PP::wait_until(10, sub { $pp->get('/health/ready')->{status} == 200 }), 'the service is ready on the Patroni leader');
like($pp->get('/pingpong')->{content}, qr/^pong 0$/m, 'and counts there');

my $old = $ha->leader;
# The load goes on until 3 s after the fault (the new leader takes writes).
my $r = Faults::under_load($pp, seconds => 90, tail => 3, fault => sub { $Patroni::SCENARIO{'patroni switchover'}->($ha) });
Faults::check($r, 'patroni switchover');
isnt($ha->leader, $old, "switchover: $old no longer leads (" . $ha->leader . ' does)');
$ha->wait_healthy(60) or BAIL_OUT('no synchronous standby after the switchover');
is($ha->psql('SELECT pg_is_in_recovery()', 'pingpong', member => $old), 't',
    "switchover: $old, first in the host list, is a standby now");
# Every worker connects again while that standby is up and first in line:
# only read-write makes them pass over it to the primary.
$ha->psql(q{SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'pingpong'});
ok(PP::wait_until(5, sub { !grep { $pp->get(q{/pingpong})->{status} != 200 } 1 .. 10 }),
    'reconnected with a standby first in the host list: pongs again (target_session_attrs=read-write)');
my $ok = 0;
$ok += $pp->get('/pingpong')->{status} == 200 for 1 .. 20;
is($ok, 20, 'and every worker stays on the primary');

$old = $ha->leader;
$r = Faults::under_load($pp, seconds => 90, tail => 3, fault => sub { $Patroni::SCENARIO{'patroni failover'}->($ha) });
Faults::check($r, 'patroni failover');
isnt($ha->leader, $old, "failover: the synchronous standby took over from $old");
cmp_ok($r->{outage}, '<=', Patroni::failover_bound() * $PP::MULT,
    sprintf('failover: pongs again within ttl + loop_wait + retry_timeout + 5 s (%.1f s without a pong)', $r->{outage}));

$pp->teardown;
done_testing;
