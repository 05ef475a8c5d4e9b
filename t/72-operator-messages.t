# What an operator reads on a normal start and on a volume the stack cannot
# write: a normal start of role all logs no WARNING (log-output's first look
# waits for the stack's nginx); the shared-volume message names the user
# who needs write access.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PP qw(wait_until);

{
	my $pp = PP->new(role => 'all', env => { AUTH_PROXY_CREDENTIAL => 'none' });
	ok(wait_until(20, sub { $pp->log =~ m{INFO log-output\[\d+\] .*Ping / Pongs: \d+} }), 'log-output logs the count');
	$pp->stop;
	my @warn = grep { / WARNING / } split /\n/, $pp->log;
	is_deeply(\@warn, [], 'a normal start: no WARNING line') or diag $pp->log;
	$pp->teardown;
}

{
	my $pp = PP->new(start => 0, env => { PING_PONG_WORKERS => 1 });
	open my $blk, '>', $pp->dir . '/blocker' or die;
	close $blk;
	$pp->{env}{PING_PONG_SHARED_VOLUME_PATH} = $pp->dir . '/blocker/sub';
	$pp->start;
	is($pp->get('/pingpong')->{status}, 200, 'pongs go on with an unusable volume');
	my $user = $> == 0 ? 'www-data' : scalar getpwuid($>);
	my $uid = $> == 0 ? getpwnam('www-data') : $>;
	ok(wait_until(5, sub { $pp->log =~ /shared volume \S+blocker\/sub: cannot create: Not a directory \(the stack runs as user \Q$user\E \(uid $uid\), which needs write access there\)/ }),
	    "the line names the user who needs write access ($user)") or diag $pp->log;
	$pp->teardown;
}

done_testing;
