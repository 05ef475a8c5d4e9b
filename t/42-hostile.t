# Hostile input against the running stack: each gets its expected status,
# and the service still answers afterwards.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);
use PP qw(wait_until);

my $pp = PP->new;
my $port = $pp->app_port;

# Sends raw bytes; returns everything read until close or $secs.
sub raw {
	my ($bytes, $secs) = @_;
	return PP::raw_http($port, $bytes, $secs // 5)->{raw};
}
sub alive { my $r = $pp->get('/pingpong'); $r->{status} == 200 && $r->{content} =~ /^pong \d+\n$/ }

my %cases = (
	'request line over 8 KiB' => ["GET /pingpong?" . ('a' x 9000) . " HTTP/1.1\r\nHost: x\r\n\r\n", qr/^414$/],
	'a header over 8 KiB' => ["GET /pingpong HTTP/1.1\r\nHost: x\r\nX-Big: " . ('b' x 9000) . "\r\n\r\n", qr/^(400|431)$/],
	'too many large headers' => ["GET /pingpong HTTP/1.1\r\nHost: x\r\n" . join('', map { "X-H$_: " . ('c' x 7000) . "\r\n" } 1 .. 6) . "\r\n", qr/^(400|431)$/],
	'a body on GET' => ["GET /pings HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello", qr/^200$/],
	'a 2 MiB body on 3000' => ["POST /pingpong HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\nConnection: close\r\n\r\n", qr/^413$/],
	'an invalid method' => ["FOO /pingpong HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", qr/^405$/],
	'a garbage method' => ["G\x01T /pingpong HTTP/1.1\r\nHost: x\r\n\r\n", qr/^400$/],
	'.. in the path' => ["GET /health/../pingpong/../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", qr/^(400|404)$/],
	'percent-encoded ..' => ["GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", qr/^(400|404)$/],
	'percent-encoded path to a route' => ["GET /%70ings HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", qr/^200$/],
	'a NUL byte in the path' => ["GET /ping\x00pong HTTP/1.1\r\nHost: x\r\n\r\n", qr/^400$/],
	'an encoded NUL' => ["GET /ping%00pong HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", qr/^(400|404)$/],
	'a long query string' => ["GET /pings?" . ('q=1&' x 1500) . " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", qr/^200$/],
	'HTTP/1.0 without Host' => ["GET /pings HTTP/1.0\r\n\r\n", qr/^200$/],
	'HTTP/1.1 without Host' => ["GET /pings HTTP/1.1\r\n\r\n", qr/^400$/],
	'an absolute URI' => ["GET http://evil.example/pings HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", qr/^200$/],
	'a bad Content-Length' => ["POST /pingpong HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", qr/^400$/],
	'HTTP/2 preface on the HTTP/1 port' => ["PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", qr/^(400|405)$/],
);
for my $name (sort keys %cases) {
	my ($req, $want) = @{ $cases{$name} };
	my $st = PP::raw_http($port, $req, 5)->{status};
	like($st, $want, "$name: $st");
	ok(alive(), "$name: the service still answers");
}

my $before = $pp->counter;
raw("GET /pingpong HTTP/1.1\r\nHost: x\r\nAccept: " . ("application/json;q=0.5," x 500) . "\r\nConnection: close\r\n\r\n");
ok(alive(), 'a huge Accept header is handled');

# Pipelined requests: answered in order on one connection.
my $out = raw("GET /pings HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
my @st = $out =~ m{HTTP/1\.1 (\d{3})}g;
is_deeply(\@st, [200, 200, 404], 'pipelined requests answered in order');

# Slow clients: a header sent a byte at a time does not hold a worker, and
# nginx drops it at client_header_timeout.
my @slow = map { IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port) or die } 1 .. 20;
print $_ "GET /pingpong HTTP/1.1\r\nHo" for @slow;
my $t0 = time;
my $ok = 0;
$ok += alive() for 1 .. 20;
is($ok, 20, 'with 20 slow clients stalled mid-header, pongs go on');
ok(time - $t0 < 5 * $PP::MULT, 'and fast (a FastCGI worker held by them would wait out nginx\'s client_header_timeout, 10 s)');
close $_ for @slow;

# 1,000 concurrent idle connections.
my @idle;
for (1 .. 1000) {
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port) or last;
	push @idle, $s;
}
is(scalar @idle, 1000, '1,000 idle connections open');
ok(alive(), 'and the service answers meanwhile');
close $_ for @idle;

# The FastCGI socket: only nginx's user may connect.
my $sock = $pp->dir . '/run/app.sock';
my @st_ = stat $sock;
is(sprintf('%o', $st_[2] & 0777), '600', 'app.sock is mode 0600, not world-writable');
if ($> == 0) {
	is(getpwuid($st_[4]), 'www-data', 'owned by nginx\'s user');
}
ok(alive(), 'still serving at the end');
unlike($pp->log, qr/AddressSanitizer|runtime error|segfault|died, respawn/i, 'no crash in the logs');

done_testing;
