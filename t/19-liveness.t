# The request threads never wait for PostgreSQL: with pongs stuck on a
# frozen database, /health and /metrics still answer at once (a liveness
# probe must not restart pods for a database problem), and the pongs get
# their answers within the timeouts once it thaws.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(time sleep);
use PP;
use Faults;

my $pp = PP->new(role => 'app', env => { PING_PONG_WORKERS => 1, PING_PONG_THREADS => 1,
    PING_PONG_DB_STATEMENT_TIMEOUT => 6000 });
my $r = Faults::under_load($pp, clients => 8, seconds => 5, fault => sub {
	my @pg = Faults::freeze_pg($pp);
	sleep 1;	# the 8 clients' pongs now wait on the frozen database
	for my $path ('/health', '/metrics', '/health') {
		my $t0 = time;
		my $res = $pp->get($path);
		my $took = time - $t0;
		is($res->{status}, 200, "frozen database, pongs waiting: $path 200");
		# Behind the pongs it would wait out the rest of their statement
		# timeout (6 s, less the second slept): far above this bound.
		cmp_ok($took, '<', 1.5 * $PP::MULT, sprintf('  in %.3f s, not behind the pongs', $took));
	}
	kill 'CONT', @pg;
});
Faults::check($r, 'frozen database, one request thread');
$pp->teardown;

done_testing;
