# The request threads never wait for PostgreSQL: with pongs stuck on a
# frozen database, /health and /metrics still answer at once (a liveness
# probe must not restart pods for a database problem), and the pongs get
# their answers within the timeouts once it thaws.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use POSIX qw(_exit);
use Time::HiRes qw(time);
use PP qw(wait_until);
use Faults;

my $pp = PP->new(role => 'app', env => { PING_PONG_WORKERS => 1, PING_PONG_THREADS => 1,
    PING_PONG_DB_STATEMENT_TIMEOUT => 3000 });
is($pp->get('/pingpong')->{status}, 200, 'a pong before the freeze');

my @pg = Faults::pg_pids($pp);
kill 'STOP', @pg;
my @kids;
for (1 .. 8) {	# pongs that wait on the frozen database
	my $pid = fork // die;
	if ($pid == 0) { my $s = $pp->get('/pingpong')->{status}; _exit($s == 503 || $s == 200 ? 0 : 1) }
	push @kids, $pid;
}
sleep 1;
for my $path ('/health', '/metrics', '/health') {
	my $t0 = time;
	my $r = $pp->get($path);
	my $took = time - $t0;
	is($r->{status}, 200, "frozen database, pongs waiting: $path 200");
	cmp_ok($took, '<', 0.5 * $PP::MULT, sprintf('  in %.3f s, not behind the pongs', $took));
}
kill 'CONT', @pg;
my $bad = 0;
for (@kids) { waitpid($_, 0); $bad++ if $? }
is($bad, 0, 'every waiting pong got 200 or 503');
ok(wait_until(5, sub { $pp->get('/pingpong')->{status} == 200 }), 'pongs again after the thaw');
$pp->teardown;

done_testing;
