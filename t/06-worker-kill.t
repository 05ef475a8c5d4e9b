# A worker killed with SIGKILL is respawned; requests keep succeeding.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PP;

my $pp = PP->new(env => { PING_PONG_WORKERS => 2 });
my $before = $pp->worker_pids;
is(scalar @$before, 2, 'two workers run');
is($pp->get('/pingpong')->{status}, 200, 'serving');
kill 'KILL', $before->[0];
ok(PP::wait_until(5, sub { my $w = $pp->worker_pids; @$w == 2 && !grep { $_ == $before->[0] } @$w }),
    'the pool is refilled with a new worker');
my @res = $pp->load(clients => 4, requests => 50);
my ($n, $other) = PP->pongs(@res);
is($other, 0, 'all 200 requests succeed after the kill');
kill 'KILL', @{ $pp->worker_pids };
ok(PP::wait_until(5, sub { @{ $pp->worker_pids } == 2 }), 'all workers killed at once: the pool comes back');
ok(PP::wait_until(5, sub { $pp->get('/pingpong')->{status} == 200 }), 'and serves');
my %seen;
is(scalar(grep { $seen{$_}++ } @$n), 0, 'no N repeated');

done_testing;
