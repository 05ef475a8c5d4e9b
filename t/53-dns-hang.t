# A DNS server that never answers: the worker's lookup of the database's
# host name is given up at the request's deadline (fcgi/resolve.c), so a
# pong gets 503 in time, /health answers meanwhile, the failure is logged,
# and a stop does not wait for the lookup.  A real resolver (glibc) asks a
# real UDP server on loopback that reads the queries and answers none: the
# worker runs in a mount namespace of its own (PP_WRAP, as `make
# valgrind` uses it: this test is not in its list) whose /etc/resolv.conf
# names that server.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(time sleep);
use PP qw(wait_until slurp);

plan skip_all => 'needs root (a mount namespace per worker)' unless $> == 0;
plan skip_all => 'no /etc/resolv.conf to stand in for' unless -e '/etc/resolv.conf';
# Needed by all that follows: without it the file fails here, not skipped.
is(system('unshare --mount --propagation private true'), 0, 'a mount namespace can be made (unshare, util-linux)')
    or do { done_testing; exit };

my ($connect_s, $statement_ms) = (2, 2000);
my $deadline = $connect_s + $statement_ms / 1000;
my $slack = 0.5 * $PP::MULT;
my $name = 'db.pingpong.test';

my $pp = PP->new(role => 'app', db => 0, start => 0);
my $dir = $pp->dir;

# The silent server: port 53 (resolv.conf cannot name another) on an
# address of 127/8 no other test uses; it records each query's name.
my ($dns, $ns);
for (1 .. 20) {
	$ns = join '.', 127, map { 1 + int rand 250 } 1 .. 3;
	last if $dns = IO::Socket::INET->new(Proto => 'udp', LocalAddr => $ns, LocalPort => 53);
}
ok($dns, "a silent DNS server on $ns:53") or do { diag "cannot bind $ns:53: $@"; $pp->teardown; done_testing; exit };
my $queries = "$dir/dns-queries";
my $server = fork // die;
if ($server == 0) {
	alarm 120;
	open my $log, '>>', $queries or POSIX::_exit(1);
	$log->autoflush(1);
	while (defined $dns->recv(my $q, 512)) {
		# The question's name: length-prefixed labels after the 12-byte header.
		my ($pos, @labels) = (12);
		while ($pos < length $q and my $n = ord substr($q, $pos, 1)) {
			push @labels, substr($q, $pos + 1, $n);
			$pos += $n + 1;
		}
		print $log join('.', @labels), "\n";
	}
	POSIX::_exit(0);
}
close $dns;

open my $fh, '>', "$dir/resolv.conf" or die;
print $fh "nameserver $ns\noptions timeout:30 attempts:1\n";
close $fh;
open $fh, '>', "$dir/dns-wrap" or die;
print $fh qq{#!/bin/sh\nexec unshare --mount --propagation private sh -c 'mount --bind "\$0" /etc/resolv.conf && exec "\$@"' "$dir/resolv.conf" "\$@"\n};
close $fh;
chmod 0755, "$dir/dns-wrap";

%{ $pp->{env} } = (PP_WRAP => "$dir/dns-wrap", PING_PONG_DB_HOST => $name, PING_PONG_WORKERS => 1,
    PING_PONG_DB_CONNECT_TIMEOUT => $connect_s, PING_PONG_DB_STATEMENT_TIMEOUT => $statement_ms);
$pp->start;
ok(wait_until(10, sub { $pp->get('/health')->{status} == 200 }), 'the worker runs, its database name unresolvable');

# A pong waits for the lookup until its deadline, on a child, while this
# process asks /health.
my $t0 = time;
my $kid = fork // die;
if ($kid == 0) {
	my $r = $pp->get('/pingpong');
	open my $o, '>', "$dir/pong" or POSIX::_exit(1);
	printf $o "%d %.3f\n", $r->{status}, time - $t0;
	close $o;
	POSIX::_exit(0);
}
sleep 0.5;
my $health = $pp->get('/health');
my $health_end = time - $t0;
is($health->{status}, 200, '/health answers while the lookup hangs');
waitpid($kid, 0);
my ($status, $secs) = split ' ', slurp("$dir/pong");
cmp_ok($health_end, '<', $secs, sprintf('before the pong is answered, not behind it (at %.2f s of its %.2f s)', $health_end, $secs));
is($status, 503, 'the pong gets 503');
cmp_ok($secs, '<=', $deadline + $slack, sprintf('within its deadline, %d s (%.2f s)', $deadline, $secs));
cmp_ok($secs, '>=', $connect_s - 0.5, 'after waiting for the lookup, not at once');
ok((grep { $_ eq $name } split /\n/, slurp($queries)), "the resolver did ask the silent server for $name");
ok(wait_until(2, sub { $pp->log =~ /database: name resolution: \Q$name\E: no answer within the connect timeout \(\d+ s\)/ }),
    'the lookup given up is logged') or diag $pp->log;
is($pp->get('/health/ready')->{status}, 503, 'and the worker is not ready');

# Again, with the first lookup still hanging: the same answer in time.
$t0 = time;
is($pp->get('/pingpong')->{status}, 503, 'a second pong: 503 too');
cmp_ok(time - $t0, '<=', $deadline + $slack, 'within its deadline');

# A stop does not wait for the lookups left running (30 s each).
$t0 = time;
ok($pp->stop, 'the launcher stopped');
my $took = time - $t0;
cmp_ok($took, '<=', ($deadline + PP::limit('PP_DB_CANCEL_WAIT_MS') / 1000 + 2) * $PP::MULT,
    sprintf('within connect + statement timeouts + cancel wait + 2 s (%.2f s)', $took));
is_deeply($pp->{leftover}, [], 'and left nothing behind');
my @lines = grep { /name resolution/ } split /\n/, $pp->log;
cmp_ok(scalar @lines, '<=', 2, 'the outage logged once or twice, not per request (' . scalar(@lines) . ')');

kill 'TERM', $server;
waitpid($server, 0);
$pp->teardown;
done_testing;
