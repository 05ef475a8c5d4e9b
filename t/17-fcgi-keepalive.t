# nginx keeps its FastCGI connections to the workers open, and sizes the
# idle cache so that idle connections (each holding a worker thread) can
# never hold every thread: with few threads and more clients than threads,
# every request is still answered, exactly, and promptly.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(time);
use PP qw(slurp);

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
	like(rendered($pp), qr/^\s*keepalive 31;/m, 'idle cache per nginx worker: (2 x 32 - 1) / 2 = 31');
	$pp->get('/pingpong') for 1 .. 20;
	cmp_ok(fcgi_connections($pp), '>=', 1, 'an idle FastCGI connection stays open after the requests');
	cmp_ok(fcgi_connections($pp), '<=', 2, 'sequential requests reuse it (at most one per nginx worker)');
	$pp->teardown;
}

# 4 threads, 2 nginx workers: at most (4 - 1) / 2 = 1 idle each, 2 threads
# always left.  A cache of 2 each could hold all 4 and leave a new
# connection waiting until nginx's read timeout (a 504).
{
	my $pp = PP->new(role => 'app', env => { PING_PONG_WORKERS => 1, PING_PONG_THREADS => 4 });
	like(rendered($pp), qr/^\s*keepalive 1;/m, 'few threads: an idle cache of 1 per nginx worker');
	my $t0 = time;
	my @res = $pp->load(clients => 12, requests => 60, seconds => 30);
	my $took = time - $t0;
	my ($n, $other) = PP->pongs(@res);
	is(scalar @res, 720, '12 clients x 60 requests answered');
	is($other, 0, 'every one a 200 pong (none waited into a 504)');
	is_deeply([sort { $a <=> $b } @$n], [0 .. 719], 'exactly 0..719');
	cmp_ok($took, '<', 8 * $PP::MULT, "done in $took s: no request waited for a thread");
	$pp->teardown;
}

# One thread: nothing can be kept idle, and the one thread serves all.
{
	my $pp = PP->new(role => 'app', env => { PING_PONG_WORKERS => 1, PING_PONG_THREADS => 1 });
	unlike(rendered($pp), qr/^\s*keepalive \d+;/m, 'one thread: no idle connections kept');
	my ($n, $other) = PP->pongs($pp->load(clients => 4, requests => 25, seconds => 30));
	is($other, 0, 'four clients, one thread: every request a 200 pong');
	is_deeply([sort { $a <=> $b } @$n], [0 .. 99], 'exactly 0..99');
	$pp->teardown;
}

done_testing;
