# nginx keeps its FastCGI connections to the workers open, and an idle one
# holds no worker thread (common/fcgiserve.c): with more clients than
# threads, every request is answered, exactly and promptly.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(time);
use PP qw(slurp wait_until);

# Connected sockets on the workers' FastCGI socket (accepted ones carry its path).
sub fcgi_connections {
	my ($pp) = @_;
	my $sock = $pp->dir . '/run/app.sock';
	return scalar grep { my @f = split; @f >= 8 && $f[5] eq '03' && $f[7] eq $sock } split /\n/, slurp('/proc/net/unix');
}

sub rendered { slurp($_[0]->dir . '/run/nginx.conf') }

{
	my $pp = PP->new(role => 'app');	# 2 workers x 32 threads, 2 nginx workers
	like(rendered($pp), qr/^\s*worker_processes 2;/m, 'nginx runs PING_PONG_NGINX_WORKERS (2) workers');
	$pp->get('/pingpong') for 1 .. 20;
	cmp_ok(fcgi_connections($pp), '>=', 1, 'an idle FastCGI connection stays open after the requests');
	cmp_ok(fcgi_connections($pp), '<=', 2, 'sequential requests reuse it (at most one per nginx worker)');
	$pp->teardown;
}

# The worker must read each request's FCGI_STDIN to its end: when the params
# end exactly on libfcgi's 8192-byte read boundary, the empty stdin record
# is still in the socket, and were it left there the next request on that
# kept connection would be read as a protocol error (nginx: 502). Every pad
# size around the boundary, each with a second request pipelined behind it.
sub pipelined {
	my ($port, @reqs) = @_;
	return PP::raw_http($port, join('', @reqs), 10)->{raw} =~ m{^HTTP/1\.1 (\d{3})}mg;
}
{
	my $pp = PP->new(role => 'app', env => { PING_PONG_WORKERS => 1, PING_PONG_NGINX_WORKERS => 1 });
	my @bad;
	for my $pad (7900 .. 8050) {
		my @st = pipelined($pp->app_port,
		    "GET /health HTTP/1.1\r\nHost: t\r\nX-Pad: " . ('p' x $pad) . "\r\n\r\n",
		    "GET /pingpong HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
		push @bad, "$pad: @st" unless "@st" eq '200 200';
	}
	is_deeply(\@bad, [], 'X-Pad of 7900..8050 bytes, then a pipelined /pingpong: always 200 200');
	unlike($pp->log, qr/prematurely closed/, 'nginx never saw a worker close a kept connection');
	$pp->teardown;
}

# 2 threads, 16 clients: were an idle connection to hold its thread, the
# idle ones nginx keeps (up to 2 per nginx worker here) would hold both,
# and the next connection would wait until nginx's read timeout (a 504).
for my $threads (2, 1) {
	my $pp = PP->new(role => 'app', env => { PING_PONG_WORKERS => 1, PING_PONG_THREADS => $threads });
	my $t0 = time;
	my @res = $pp->load(clients => 16, requests => 40, seconds => 30);
	my $took = time - $t0;
	my ($n, $other) = PP->pongs(@res);
	is(scalar @res, 640, "$threads thread(s): 16 clients x 40 requests answered");
	is($other, 0, "$threads thread(s): every one a 200 pong (none waited into a 504)");
	is_deeply([sort { $a <=> $b } @$n], [0 .. 639], "$threads thread(s): exactly 0..639");
	cmp_ok($took, '<', 8 * $PP::MULT, "$threads thread(s): done in $took s, no request waited on an idle connection");
	$pp->teardown;
}

done_testing;
