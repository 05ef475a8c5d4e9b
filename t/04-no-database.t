# Starting with no database is normal: live, not ready, 503 fast; ready
# within 2 s of the database appearing, with no restart.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(time);
use PP qw(wait_until);

my $pp = PP->new(db => 0);
my $launcher = $pp->{pid};
is($pp->get('/health')->{status}, 200, 'no database: /health 200 (live)');
my $r = $pp->get('/health/ready');
is($r->{status}, 503, 'no database: /health/ready 503');
is($r->{content}, qq({"status": "not ready", "database": "unavailable"}\n), 'not ready body');
for my $p ('/pingpong', '/', '/pings') {
	my $t0 = time;
	$r = $pp->get($p);
	my $took = time - $t0;
	is($r->{status}, 503, "no database: $p 503");
	ok($took < 3 * $PP::MULT, "$p answered within 3 s (" . sprintf('%.2f', $took) . ' s)');
	is($r->{headers}{'retry-after'}, '1', "$p has Retry-After");
	like($r->{content}, qr/^\{"error": "database unavailable"\}/, "$p: a short JSON error");
}

$pp->pg_start;
my $t0 = time;
ok(wait_until(5, sub { $pp->get('/health/ready')->{status} == 200 }), 'the database appears: ready');
my $took = time - $t0;
ok($took < 2 * $PP::MULT, sprintf('within 2 s (%.2f s)', $took));
# Ready means the answering worker reached the database; each other worker
# retries on its next request, at most every 500 ms.
my $first;
ok(wait_until(2, sub { my $r = $pp->get('/pingpong'); $first = $r->{content}; $r->{status} == 200 }), 'pongs served within 2 s');
is($first, "pong 0\n", 'the first is pong 0');
is($pp->{pid}, $launcher, 'with no restart');
ok(kill(0, $launcher), 'the launcher still runs');

done_testing;
