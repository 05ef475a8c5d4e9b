# What an operator reads on a normal start: role all logs no WARNING
# (log-output's first look waits for the stack's nginx).  The shared-volume
# line naming the user who needs write access is checked in t/07.
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

done_testing;
