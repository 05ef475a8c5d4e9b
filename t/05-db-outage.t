# The database stops (immediate shutdown) in the middle of load and comes
# back: 503s while down, recovery by itself, no N ever repeated.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(time sleep);
use PP;

my $pp = PP->new(env => { PING_PONG_WORKERS => 3 });
my $pid = fork // die;
if ($pid == 0) {
	sleep 1;
	$pp->pg_stop('immediate');
	sleep 2;
	$pp->pg_start;
	POSIX::_exit(0);
}
my $t0 = time;
my @res = $pp->load(clients => 6, requests => 100000, seconds => 6);
waitpid($pid, 0);
my ($n, $other) = PP->pongs(@res);
my %status;
$status{$_->[0]}++ for @res;
diag join ', ', map { "$_: $status{$_}" } sort keys %status;
ok($status{503}, 'some requests got 503 while the database was down');
is(join(',', grep { $_ != 200 && $_ != 503 } keys %status), '', 'only 200 and 503, never 500');
my %seen;
is(scalar(grep { $seen{$_}++ } @$n), 0, 'no N repeated across the outage');
ok(PP::wait_until(2, sub { $pp->get('/pingpong')->{status} == 200 }), 'serving again within 2 s');
my $counter = $pp->counter;
my $max = (sort { $b <=> $a } @$n)[0];
ok($max < $counter, "every N ($max) is below the counter ($counter)");
ok($counter - (@$n + 1) <= $status{503}, 'the counter exceeds the 200s by no more than the uncertain requests');
like($pp->log, qr/WARNING worker\[\d+\] .*database: /, 'the outage was logged');
# Each worker retries every 500 ms while the database is down: the same
# failure is logged once per worker, not once per attempt.
my @warn = map { /database: (.*)/ } grep { /WARNING worker\[\d+\] .*database: / } split /\n/, $pp->log;
my %reasons = map { s/\d+//gr => 1 } @warn;
ok(@warn <= 3 * keys %reasons, scalar(@warn) . ' warning lines for ' . scalar(keys %reasons) . ' distinct failures, at most one per worker each');
like($pp->log, qr/INFO worker\[\d+\] request_id=- database: reachable again \(\d+ repeated failures not logged\)/, 'and the recovery once');

done_testing;
