# Failures a worker can only meet inside (t/c/fault-preload.c, preloaded
# into the stack): /metrics that cannot allocate its buffer answers 503
# with a reason, never an empty 200; a request thread whose epoll_wait
# fails stops its process as a signal would (drain, _exit, one line) and
# multiwatch starts a fresh one, without exit(3) under running threads.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PP qw(wait_until);

my $so = "$PP::ROOT/$PP::BUILD/t/fault-preload.so";
ok(-f $so, "$so is built (make test builds it)") or do { done_testing; exit 1 };
my $san = $PP::BUILD =~ m{san};
my $pp = PP->new(role => 'app', start => 0, env => { PING_PONG_WORKERS => 1, LD_PRELOAD => $so,
    ASAN_OPTIONS => 'verify_asan_link_order=0' });	# ASan lets the shim come first
my $faults = $pp->dir . '/faults';
mkdir $faults or die;
chmod 0777, $faults;	# the worker, dropped to PING_PONG_USER, removes the epoll file
$pp->{env}{PP_FAULT_DIR} = $faults;
$pp->start;
is($pp->get('/pingpong')->{status}, 200, 'the stack serves with the shim preloaded');

sub touch { open my $fh, '>', "$faults/$_[0]" or die; close $fh }

SKIP: {
	skip 'malloc is ASan\'s in a sanitizer build: the shim cannot fail it', 5 if $san;
	touch('malloc');
	my $r = $pp->get('/metrics');
	is($r->{status}, 503, '/metrics without memory: 503');
	is($r->{content}, qq({"error": "out of memory"}\n), 'with the reason, as JSON');
	is($r->{headers}{'retry-after'}, '1', 'and Retry-After');
	unlink "$faults/malloc";
	$r = $pp->get('/metrics');
	ok($r->{status} == 200 && $r->{content} =~ /^pingpong_requests_total/m, 'memory back: the metrics again');
	wait_until(5, sub { $pp->log =~ m{/metrics: no memory} });	# relayed by the launcher
	is(scalar(grep { m{/metrics: no memory} } split /\n/, $pp->log), 1, 'the failure logged once');
}

my ($before) = @{ $pp->worker_pids };
touch('epoll');
$pp->get('/health');	# a thread wakes, answers, and meets the failing epoll_wait
ok(wait_until(10, sub { my ($now) = @{ $pp->worker_pids }; $now && $now != $before }),
    'the worker whose epoll_wait failed was replaced');
wait_until(5, sub { $pp->log =~ /epoll_wait: Bad file descriptor; stopping this process/ });
is(scalar(grep { /epoll_wait: Bad file descriptor; stopping this process/ } split /\n/, $pp->log), 1,
    'one line says why');
ok(wait_until(10, sub { $pp->get('/pingpong')->{status} == 200 }), 'the fresh worker serves');
ok(!-e "$faults/epoll", 'the fault fired once');

$pp->teardown;
done_testing;
