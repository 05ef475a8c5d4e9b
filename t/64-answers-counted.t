# What the client got is what is counted, exactly once: the workers' own
# answers (200, 404, 405, the database's 503), nginx's own (502 with no
# worker listening and with a worker killed holding the request, 504 with
# the workers frozen past nginx's deadline, 499 for clients that gave up
# first, 413, 414) all reach pingpong_requests_total{route,code} on 3000,
# and on 8080 the auth proxy's counter gets the queries nginx refused for
# want of a token or with the token helper hung (503), and its own error
# pages (404, 405), as well as the proxied ones.  Per route and code, /metrics moves by what the
# clients received: no more, no less.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(sleep time);
use PP qw(wait_until);
use PromText;
use Faults;
use JSON::PP;

sub canon { JSON::PP->new->canonical->encode($_[0]) }

# nginx waits connect (2 s) + statement (2 s) + 3 s for a worker.
# log-output, which reads /pings on 3000 every second, is sent elsewhere:
# the test's requests are the only ones.
my $pp = PP->new(role => 'all', env => { PING_PONG_WORKERS => 2, PING_PONG_DB_STATEMENT_TIMEOUT => 2000,
    LOG_APP_PING_PONG_SERVICE_PORT => PP::free_port(),
    # No credential: every query is refused for want of a token (503).
    AUTH_PROXY_PROMETHEUS_URL => 'http://127.0.0.1:' . PP::free_port() });
my $port = $pp->app_port;
my $end = "Host: x\r\nConnection: close\r\n\r\n";
my (%got, %auth_got);	# route => code => clients that received it; code => count on 8080

sub metrics {
	my ($url) = @_;
	my ($m) = PromText::parse(HTTP::Tiny->new(timeout => 10)->get($url)->{content} // '');
	return $m;
}
sub answers {
	my $m = metrics($pp->url('/metrics'));
	my %a;
	for (keys %$m) {
		$a{$1}{$2} = $m->{$_} if /^pingpong_requests_total\{route="([^"]+)",code="([^"]+)"\}$/;
	}
	return \%a;
}
sub auth_answers {
	my $m = metrics($pp->auth_url('/metrics'));
	return { map { /^pingpong_authproxy_upstream_requests_total\{code="([^"]+)"\}$/ ? ($1 => $m->{$_}) : () } keys %$m };
}

# The route label of a path, as the workers name it.
sub route {
	my ($path) = @_;
	$path =~ s/\?.*//;
	return (grep { $_ eq $path } qw(/pingpong / /pings /health /health/ready)) ? $path : 'other';
}
# One request on 3000, tallied by what came back.  What nginx refuses
# before a location is chosen (the request line, the body's size) has no
# route: "other".
sub req {
	my ($path, $raw, $secs, $sent) = @_;
	my $r = PP::raw_http($port, $raw // "GET $path HTTP/1.1\r\n$end", $secs, $sent);
	$got{$r->{status} =~ /^41[34]$/ ? 'other' : route($path)}{$r->{status}}++;
	return $r;
}
sub serving {
	return wait_until(15, sub { @{ $pp->worker_pids } == 2 && req('/health')->{status} == 200 });
}

# The baseline: once the start's probe is counted and nothing more comes
# for a flush interval.  Each nginx worker buffers its own records (flushed
# a second after the first), so the probe's 200 may be written before an
# earlier 502 another worker holds.
my $before;
ok(wait_until(15, sub {
	my $first = answers();
	my $seen = canon($first);	# before the test below makes its numbers numbers
	return 0 unless ($first->{'/health'}{200} // 0) >= 1;
	sleep 1.5;
	$before = answers();
	return canon($before) eq $seen;
}), "the start's probes are counted, and no more come");
my $auth_before = auth_answers();

# The workers' own answers.
is(req('/pingpong')->{status}, 200, 'a pong') for 1 .. 10;
is(req('/pings')->{status}, 200, 'a read');
is(req('/nothing')->{status}, 404, 'the workers\' 404');
is(req('/pingpong', "PUT /pingpong HTTP/1.1\r\nContent-Length: 0\r\n$end")->{status}, 405, 'the workers\' 405');
# nginx's own, before any worker sees the request.
is(req('/pingpong', "POST /pingpong HTTP/1.1\r\nContent-Length: 2000000\r\n$end")->{status}, 413, 'nginx\'s 413');
is(req('/pingpong?' . ('u' x 9000))->{status}, 414, 'nginx\'s 414');

# The database down: the workers' 503.
$pp->pg_stop('immediate');
is(req('/pingpong')->{status}, 503, 'database down: the workers\' 503') for 1 .. 5;
$pp->pg_start;
ok(wait_until(10, sub { req('/pingpong')->{status} == 200 }), 'the database back');

# Nothing listening: nginx's 502.
my $sock = $pp->dir . '/run/app.sock';
rename $sock, "$sock.away" or die "rename: $!";
kill 'KILL', @{ $pp->worker_pids };
is(req('/pingpong')->{status}, 502, 'nothing listening: nginx\'s 502') for 1 .. 4;
rename "$sock.away", $sock or die "rename: $!";
ok(serving(), 'serving again');

# A worker killed holding the request: nginx's 502.
my @pg = Faults::freeze_pg($pp);
is(req('/pings', undef, 30, sub { sleep 1; kill 'KILL', @{ $pp->worker_pids } })->{status}, 502,
    'a worker killed holding the request: nginx\'s 502');
kill 'CONT', @pg;
ok(serving(), 'serving again');

# The workers frozen: clients that wait get nginx's 504 (7 s), clients
# that give up after a second get nothing (nginx: 499).  Then the workers
# resume and answer requests nobody waits for any more: not counted.
my @w = @{ $pp->worker_pids };
kill 'STOP', @w;
my @kids;
for my $i (1 .. 8) {
	my $abort = $i % 2;
	my $pid = fork // die;
	if ($pid == 0) {
		my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 5) or POSIX::_exit(9);
		print $s "GET /pingpong HTTP/1.1\r\n$end";
		if ($abort) { sleep 1; close $s; POSIX::_exit(0) }
		my $raw = '';
		my $sel = IO::Select->new($s);
		while ($sel->can_read(30)) { sysread($s, my $b, 65536) or last; $raw .= $b }
		POSIX::_exit($raw =~ m{^HTTP/1\.1 (\d{3})} ? $1 - 400 : 1);
	}
	push @kids, [$pid, $abort];
}
for (@kids) {
	my ($pid, $abort) = @$_;
	waitpid($pid, 0);
	my $code = $abort ? 499 : ($? >> 8) + 400;
	$got{'/pingpong'}{$code}++;
	is($code, $abort ? 499 : 504, $abort ? 'a client that gave up: nothing (499)' : 'a client that waited: 504');
}
kill 'CONT', @w;
ok(serving(), 'serving again');

# 8080: nginx's own answers to queries (no token: this stack has no
# credential), and its error pages, reach the helper's counter.
my %auth = ('/api/v1/query?query=up' => 503, '/api/v1/nothing' => 404);
for my $path (sort keys %auth) {
	for (1 .. 3) {
		my $r = PP::raw_http($pp->auth_port, "GET $path HTTP/1.1\r\n$end");
		is($r->{status}, $auth{$path}, "8080 $path: $auth{$path}");
		like($r->{content}, qr/no valid Azure AD token/, '8080: for want of a token') if $auth{$path} == 503;
		$auth_got{$r->{status}}++;
	}
}
# The token helper hung: nginx's auth subrequest times out (5 s), and
# the client gets 503 "token helper unavailable".  The helper counts
# nginx's datagrams once it runs again.
my @helper = @{ $pp->pids_of('pingpong-authproxy') };
kill 'STOP', @helper;
my @waiting;
for (1 .. 2) {
	my $pid = fork // die;
	if ($pid == 0) {
		my $h = PP::raw_http($pp->auth_port, "GET /api/v1/query?query=up HTTP/1.1\r\n$end", 30);
		POSIX::_exit($h->{status} == 503 && $h->{content} =~ /token helper unavailable/ ? 0 : 1);
	}
	push @waiting, $pid;
}
for (@waiting) {
	waitpid($_, 0);
	is($?, 0, '8080, the helper hung: 503 token helper unavailable');
	$auth_got{503}++;
}
kill 'CONT', @helper;
my $r = PP::raw_http($pp->auth_port, "PUT /api/v1/query HTTP/1.1\r\nContent-Length: 0\r\n$end");
$auth_got{$r->{status}}++;
is($r->{status}, 405, '8080: a method nginx refuses');

# The sums: what the clients got, against what /metrics says.
sub delta {
	my ($now) = @_;
	my %d;
	for my $route (keys %$now) {
		for my $code (keys %{ $now->{$route} }) {
			my $n = $now->{$route}{$code} - ($before->{$route}{$code} // 0);
			$d{$route}{$code} = $n if $n;
		}
	}
	return \%d;
}
sub auth_delta {
	my ($now) = @_;
	return { map { my $n = $now->{$_} - ($auth_before->{$_} // 0); $n ? ($_ => $n) : () } keys %$now };
}
my ($d, $ad);
ok(wait_until(10, sub { $d = delta(answers()); $ad = auth_delta(auth_answers());
    canon($d) eq canon(\%got) && canon($ad) eq canon(\%auth_got) }),
    '3000 and 8080: /metrics counts what the clients got') or diag explain { metrics => $d, clients => \%got, auth_metrics => $ad, auth_clients => \%auth_got };
# nginx writes its records within a second: later, still no more.
sleep 2.5;
is_deeply(delta(answers()), \%got, '3000: per route and code, exactly what the clients got (no more after nginx\'s flush)');
is_deeply(auth_delta(auth_answers()), \%auth_got, '8080: per code, exactly what the clients got');
diag 'clients on 3000: ' . join(', ', map { my $r = $_; map { "$r $_: $got{$r}{$_}" } sort keys %{ $got{$r} } } sort keys %got);
diag 'clients on 8080: ' . join(', ', map { "$_: $auth_got{$_}" } sort keys %auth_got);

$pp->teardown;
done_testing;
