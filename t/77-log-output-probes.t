# log-output's probes never wait for its upstream: with ping-pong's /pings
# frozen (a fake that takes each request and never answers) and 30 requests
# for / waiting on it, /health and /metrics are answered before any upstream
# call's timeout expires (the fake sees no call given up yet); the upstream
# calls are few (one at a time for the requests); every waiting request is
# answered once the upstream answers again.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(time);
use PP qw(wait_until slurp);

# The fake /pings: mode file "ok" answers {"pings":7}; "freeze" records
# "open <t>" per request and "closed <t>" when the caller gives up.
my $lo = PP->new(db => 0, role => 'log-output', start => 0);
my $dir = $lo->dir;
my $events = "$dir/upstream.events";
sub mode { open my $fh, '>', "$dir/upstream.mode.tmp" or die; print $fh $_[0]; close $fh;
	rename "$dir/upstream.mode.tmp", "$dir/upstream.mode" or die }
sub event { open my $fh, '>>', $events or return; print $fh "$_[0]\n"; close $fh }
mode('ok');
my $listen = IO::Socket::INET->new(Listen => 128, LocalAddr => '127.0.0.1', LocalPort => 0,
    Proto => 'tcp', ReuseAddr => 1) or die "listen: $!";
my $port = $listen->sockport;
my $fake = fork // die "fork: $!";
if ($fake == 0) {
	setpgrp(0, 0);
	$SIG{CHLD} = 'IGNORE';
	while (1) {
		my $c = $listen->accept or next;
		my $kid = fork;
		if (defined $kid && $kid == 0) {
			local $/ = "\r\n\r\n";
			my $req = <$c>;
			if (slurp("$dir/upstream.mode") eq 'ok') {
				print $c "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{\"pings\":7}\n";
			} else {
				event("open " . time);
				sysread($c, my $buf, 1);	# blocks until the caller closes
				event("closed " . time);
			}
			POSIX::_exit(0);
		}
		close $c;
	}
}
setpgrp($fake, $fake);
close $listen;
END { kill 'KILL', -$fake, $fake if $fake; }

$lo->{env}{LOG_APP_PING_PONG_SERVICE_HOST} = '127.0.0.1';
$lo->{env}{LOG_APP_PING_PONG_SERVICE_PORT} = $port;
$lo->{env}{LOG_APP_LOG_INTERVAL_SECONDS} = 3600;	# the ticker's call is the first, answered
$lo->start;
my $ua = HTTP::Tiny->new(timeout => 30 * $PP::MULT);
like($ua->get($lo->log_url('/'))->{content}, qr/"ping_pong_count":7/, 'the count from the upstream');

# The ticker's first look (its only one for an hour) is over before the freeze.
ok(wait_until(30, sub { $lo->log =~ /Ping \/ Pongs: 7/ }), 'the periodic line has read the count');

# Freeze it, and send 30 requests for / that will wait.
mode('freeze');
my @socks;
for (1 .. 30) {
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $lo->{log_port}) or die "connect: $!";
	print $s "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	push @socks, $s;
}
ok(wait_until(10, sub { -s $events }), 'the upstream is being called, and does not answer');

ok(wait_until(10, sub { ($ua->get($lo->log_url('/metrics'))->{content} // '') =~ /^pingpong_logoutput_waiting 30$/m }),
    'all 30 wait (in log-output, not in nginx)');

# The probes, now.  One queued behind the waiting requests would be
# answered only once log-output ends the upstream call, at its timeout
# (PP_LOG_UPSTREAM_MS after the fake saw it open).  Under load the probes
# may start late: each is judged if it started well before that end.
my @answered;
for my $path ('/health', '/metrics', '/health') {
	my $t0 = time;
	my $r = $ua->get($lo->log_url($path));
	push @answered, [$path, $t0, time];
	is($r->{status}, 200, "$path answered while the upstream is frozen and 30 requests wait");
}
my ($first_open) = slurp($events) =~ /^open (\S+)/m;
my $call_end = $first_open + PP::limit('PP_LOG_UPSTREAM_MS') / 1000;
my @judged = grep { $_->[1] <= $call_end - 0.5 } @answered;
ok(@judged, scalar(@judged) . ' of the probes started while the upstream call was frozen');
ok($_->[2] < $call_end, sprintf("%s: answered before the upstream call's timeout (%.2f s before it)", $_->[0], $call_end - $_->[2]))
    for @judged;
my ($first_closed) = slurp($events) =~ /^closed (\S+)/m;
my $open = grep { !defined $first_closed || $_ < $first_closed } slurp($events) =~ /^open (\S+)/mg;
cmp_ok($open, '<=', 1, "one upstream call for the 30 waiting requests until it timed out (saw $open)");

# The upstream answers again: every waiting request gets its answer.
mode('ok');
my $sel = IO::Select->new(@socks);
my (%status, %buf);
my $end = time + 20 * $PP::MULT;
while ($sel->count && time < $end) {
	for my $s ($sel->can_read(1)) {
		if (sysread($s, my $b, 4096)) { $buf{$s} .= $b; next }
		$sel->remove($s);
		my ($st) = ($buf{$s} // '') =~ m{^HTTP/1\.1 (\d+)};
		$status{$st // 'none'}++;
	}
}
is($sel->count, 0, 'every waiting request was answered');
is_deeply(\%status, { 200 => 30 }, 'all 200 (the count, or null while unknown), no 504')
    or diag explain \%status;
like($ua->get($lo->log_url('/'))->{content}, qr/"ping_pong_count":7/, 'the count again');
cmp_ok(scalar(() = slurp($events) =~ /^open /mg), '<=', 2, 'at most two upstream calls during the freeze');

done_testing;
