# A deadline on every database call: one worker's connection freezes in
# the middle of a reconnect (a TCP proxy stops forwarding once the schema
# was sent: a network partition or a frozen server as the worker sees
# it), under load, with two workers.  The other worker keeps answering
# pongs within its deadline; the frozen worker's requests get 503 within
# theirs, never nginx's 504; and a stop (SIGTERM to the launcher) ends
# within the bound docs/reliability.md states: connect + statement timeouts + 2 s.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use POSIX ();
use Time::HiRes qw(time sleep);
use PP qw(wait_until);
use FreezeProxy;

my ($connect_s, $statement_ms) = (2, 2000);
my $deadline = $connect_s + $statement_ms / 1000;
my $slack = 0.5 * $PP::MULT;

my $pp = PP->new(role => 'app', pg_tcp => 1, start => 0);
my $proxy = FreezeProxy->new(dir => $pp->dir, to => $pp->pg_port);
%{ $pp->{env} } = (PING_PONG_DB_HOST => '127.0.0.1', PING_PONG_DB_PORT => $proxy->port,
    PING_PONG_WORKERS => 2, PING_PONG_DB_CONNECT_TIMEOUT => $connect_s,
    PING_PONG_DB_STATEMENT_TIMEOUT => $statement_ms);
$pp->start;

# Enough at once that nginx keeps FastCGI connections to both workers (a
# worker connects at its first job: the load goes on until both have).
ok($pp->workers_connected(2), 'both workers connected through the proxy');

# Freeze: every schema sent from now on; one worker's backend goes, so
# that worker reconnects, and each of its reconnects freezes.
$proxy->arm;
$pp->psql(q{SELECT pg_terminate_backend(min(pid)) FROM pg_stat_activity WHERE application_name = 'pingpong'});
my @r = $pp->load(clients => 12, requests => 1_000_000, seconds => 8, timed => 1);
ok($proxy->frozen >= 1, 'a reconnect froze after sending the schema (' . $proxy->frozen . ' times)');

my %status;
my ($slowest_ok, $slowest_503) = (0, 0);
for (@r) {
	my ($st, $rest) = @$_;	# load(timed => 1): the body, the seconds, the time, tab-separated
	$status{$st}++;
	my ($secs) = $rest =~ /\t([\d.]+)\t[\d.]+$/ or next;
	$slowest_ok = $secs if $st == 200 && $secs > $slowest_ok;
	$slowest_503 = $secs if $st == 503 && $secs > $slowest_503;
}
diag join(', ', map { "$_: $status{$_}" } sort keys %status),
    sprintf('; slowest 200 %.2f s, slowest 503 %.2f s', $slowest_ok, $slowest_503);
cmp_ok($status{200} // 0, '>', 100, 'the other worker kept answering pongs');
cmp_ok($slowest_ok, '<=', $deadline + $slack, "every 200 within its deadline ($deadline s)");
cmp_ok($status{503} // 0, '>', 0, "the frozen worker's requests got 503");
cmp_ok($slowest_503, '<=', $deadline + $slack, "every 503 within its deadline ($deadline s)");
is(join(',', grep { $_ != 200 && $_ != 503 } keys %status), '', 'nothing but 200 and 503: never a 504');
like($pp->log, qr/WARNING worker\[\d+\] .*database: schema: no answer within the statement timeout \(\d+ ms\), nor to the cancel/,
    'the frozen reconnect was logged');

# A stop while a reconnect is frozen and requests are in flight.
my $kid = fork // die;
if ($kid == 0) {
	$pp->load(clients => 4, requests => 1_000_000, seconds => 6);
	POSIX::_exit(0);
}
sleep 1;
$pp->psql(q{SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'pingpong'});
sleep 0.5;
my $t0 = time;
ok($pp->stop, 'the launcher stopped');
my $took = time - $t0;
my $bound = $deadline + PP::limit('PP_DB_CANCEL_WAIT_MS') / 1000 + 2;	# + the wait for a cancel's answer, + 2 s
cmp_ok($took, '<=', $bound * $PP::MULT, sprintf('the stop took %.2f s, within connect + statement timeouts + cancel wait + 2 s (%d s)', $took, $bound));
is_deeply($pp->{leftover}, [], 'and left nothing behind');
waitpid($kid, 0);
$proxy->stop;

# Host names are resolved by the worker within the deadline, and libpq gets
# the addresses: a name that does not resolve is skipped, the next is used.
my %via = (PING_PONG_DB_PORT => $pp->pg_port, PING_PONG_DB_CONNECT_TIMEOUT => $connect_s,
    PING_PONG_DB_STATEMENT_TIMEOUT => $statement_ms, PING_PONG_WORKERS => 1);
my $named = PP->new(role => 'app', db => 0, env => { %via, PING_PONG_DB_HOST => 'pingpong-no-such-host.invalid,localhost' });
like($named->get('/pingpong')->{content}, qr/^pong \d+$/, 'an unknown name is skipped, localhost is resolved and used');
$named->teardown;
my $unknown = PP->new(role => 'app', db => 0, env => { %via, PING_PONG_DB_HOST => 'pingpong-no-such-host.invalid' });
$t0 = time;
my $res = $unknown->get('/pingpong');
cmp_ok(time - $t0, '<=', $deadline + $slack, 'a name that does not resolve: an answer within the deadline');
is($res->{status}, 503, 'and it is 503');
ok(wait_until(2, sub { $unknown->log =~ /database: name resolution: pingpong-no-such-host\.invalid: / }), 'the failed lookup is logged')
    or diag $unknown->log;

done_testing;
