# The guard against a counter that goes back: the counter row is lowered
# behind the service's back (as a promoted stale standby or a restored
# backup would).  The pool answers 503 instead of a number it handed out
# already, logs one CRITICAL line, shows it in /health/ready and /metrics,
# and stays so (also for a respawned worker, and after the row is fixed)
# until the operator's action: a restart of the service.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PP qw(wait_until);

my $pp = PP->new(role => 'app', env => { PING_PONG_WORKERS => 2 });
my $lower = sub { $pp->psql("UPDATE ping_counter SET counter_value = $_[0] WHERE id = (SELECT min(id) FROM ping_counter)") };
my $metric = sub { ($pp->get('/metrics')->{content} =~ /^pingpong_guard_tripped (\d+)$/m)[0] };
my $critical = sub { scalar(() = $pp->log =~ /CRITICAL worker\[\d+\] .*counter guard: /g) };

my @n = map { ($pp->get('/pingpong')->{content} =~ /^pong (\d+)/)[0] } 1 .. 20;
is_deeply(\@n, [0 .. 19], 'pongs 0..19');
is($metric->(), 0, '/metrics: pingpong_guard_tripped 0');
is($pp->get('/health/ready')->{status}, 200, 'ready');

# Behind the service's back: the count goes back to 5.
$lower->(5);
my @r = map { $pp->get('/pingpong') } 1 .. 10;
is(scalar(grep { $_->{status} == 503 } @r), 10, 'every pong after the count went back: 503, no number handed out twice')
    or diag explain [map { "$_->{status} $_->{content}" } @r];
like($r[0]{content}, qr/counter went back/, 'the 503 says why');
ok(wait_until(2, sub { $critical->() >= 1 }), 'a CRITICAL line was logged');
is($critical->(), 1, 'exactly one, for the whole pool');
like($pp->log, qr/counter guard: the database answered 5, but numbers up to 19 were handed out already.*at least 20/,
    'naming the number answered, the largest handed out, and the way back');
my $ready = $pp->get('/health/ready');
is($ready->{status}, 503, '/health/ready: 503');
like($ready->{content}, qr/"counter": "went back"/, '/health/ready says the counter went back');
is($metric->(), 1, '/metrics: pingpong_guard_tripped 1');
cmp_ok($pp->counter, '<=', 6, 'no pong was counted once refused (the counter stays at most at the one that tripped it)');

# It stays: with the row fixed, and for a worker respawned meanwhile.
$lower->(20);
kill 'KILL', @{ $pp->worker_pids };
ok(wait_until(10, sub { @{ $pp->worker_pids } == 2 && $pp->get('/health')->{status} == 200 }), 'the workers were respawned');
is($pp->get('/pingpong')->{status}, 503, 'still 503 with the row fixed and new workers: the pool remembers');
is($pp->get('/health/ready')->{status}, 503, 'still not ready');
is($critical->(), 1, 'and still one CRITICAL line');

# The operator's action: a restart (with the row fixed first).
$pp->stop;
$pp->start;
is($pp->get('/pingpong')->{content}, "pong 20\n", 'after a restart: pong 20, where the fixed row says');
is($pp->get('/health/ready')->{status}, 200, 'ready again');
is($metric->(), 0, '/metrics: pingpong_guard_tripped 0 again');

# A read finds it too: readiness alone, with no pong asked.
$lower->(3);
is($pp->get('/health/ready')->{status}, 503, 'a count read below the numbers handed out: not ready');
is($pp->get('/pingpong')->{status}, 503, 'and pongs refused');

done_testing;
