# Host lists (PING_PONG_DB_HOST=h1,h2 with one port each): a host that
# refuses is passed over by libpq at once; a host that accepts the TCP
# connection and then says nothing (a frozen or half-dead server) costs one
# connect timeout, after which the worker starts with the next host and
# stays there. Standbys are passed over too (t/48-patroni.t).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);
use PP;

my $db = PP->new(start => 0);

my $refused = PP->new(db => 0, role => 'app', env => { PING_PONG_WORKERS => 1,
    PING_PONG_DB_HOST => '127.0.0.1,' . $db->pgdir, PING_PONG_DB_PORT => PP::free_port() . ',' . $db->pg_port });
my $r = $refused->get('/pingpong');
is($r->{status}, 200, 'the first host refuses: the second serves the first pong') or diag $refused->log;
$refused->teardown;

# A listener that never accepts: the kernel completes the handshake, libpq
# sends its startup packet and waits for an answer that never comes.
my $silent = IO::Socket::INET->new(Listen => 16, LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp')
    or die "listen: $!";
my $pp = PP->new(db => 0, role => 'app', env => { PING_PONG_WORKERS => 1, PING_PONG_DB_CONNECT_TIMEOUT => 2,
    PING_PONG_DB_HOST => '127.0.0.1,' . $db->pgdir, PING_PONG_DB_PORT => $silent->sockport . ',' . $db->pg_port });
my $t0 = time;
$r = $pp->get('/pingpong');
is($r->{status}, 503, 'the first host hangs: the first attempt fails, within its deadline');
ok(PP::wait_until(3, sub { $pp->get('/pingpong')->{status} == 200 }), 'then the next attempt starts with the second host');
cmp_ok(time - $t0, '<', 2 + 2 + 3 * $PP::MULT, 'after about one connect timeout, not one per request');
like($pp->log, qr/no answer from 127\.0\.0\.1 port ${\ $silent->sockport } within the connect timeout \(2 s\); the next attempt starts with the host after it/,
    'the log names the host that hung and says what happens next');

# It stays with the host that works: a dropped connection reconnects there
# at once, without going back through the silent one.
$db->psql(q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pingpong'});
$t0 = time;
ok(PP::wait_until(5, sub { $pp->get('/pingpong')->{status} == 200 }), 'after the connection was dropped: served again');
# The silent host would cost its connect timeout (2 s); the retry gate (0.5 s) and the reconnect take less.
cmp_ok(time - $t0, '<', 1.9 * $PP::MULT, 'without waiting on the silent host again');
my @hung = $pp->log =~ /no answer from/g;
is(scalar @hung, 1, 'the silent host cost one attempt in all');

$pp->teardown;
done_testing;
