# Durable whatever the server defaults: with synchronous_commit = off on
# the server (set for the whole system, then only for the worker's role)
# and the WAL writer waking every 10 s, every answered pong survives an
# immediate shutdown: after the restart no number is handed out twice and
# the counter is past every number answered. The worker says at start-up
# which level its increments commit with.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PP qw(wait_until);

my $pp = PP->new(role => 'app', env => { PING_PONG_WORKERS => 1 });

# Sequential pongs; the numbers of the 200s.
sub pongs {
	my ($n) = @_;
	my @n;
	for (1 .. $n) {
		my $r = $pp->get('/pingpong');
		push @n, $1 if $r->{status} == 200 && $r->{content} =~ /^pong (\d+)$/;
	}
	return @n;
}

my %how = (
	system => [q{ALTER SYSTEM SET synchronous_commit = off}],
	role => [q{ALTER SYSTEM RESET synchronous_commit}, q{ALTER ROLE postgres SET synchronous_commit = off}],
	database => [q{ALTER ROLE postgres RESET synchronous_commit}, q{ALTER DATABASE pingpong SET synchronous_commit = off}],
);
$pp->psql(q{ALTER SYSTEM SET wal_writer_delay = '10s'});
for my $level ('system', 'role', 'database') {
	$pp->psql($_) for @{ $how{$level} };
	# A restart, so that the worker's new session takes the setting.
	$pp->pg_stop('fast');
	$pp->pg_start;
	is($pp->psql(q{SELECT setting FROM pg_settings WHERE name = 'synchronous_commit'}), 'off',
	    "$level level: a new session of the worker's role gets synchronous_commit = off");
	ok(wait_until(5, sub { $pp->get('/pingpong')->{status} == 200 }), "$level level: serving");
	my @before = pongs(40);
	is(scalar @before, 40, "$level level: 40 pongs answered");
	$pp->pg_stop('immediate');
	$pp->pg_start;
	ok(wait_until(5, sub { $pp->get('/health/ready')->{status} == 200 }), "$level level: serving after the crash");
	my $counter = $pp->counter;
	cmp_ok($counter, '>', $before[-1], "$level level: the counter after the crash ($counter) is past the last number answered ($before[-1])");
	my @after = pongs(40);
	my %seen;
	my @twice = grep { $seen{$_}++ } @before, @after;
	is(scalar @twice, 0, "$level level: no number handed out twice across the crash")
	    or diag "handed out twice: @twice[0 .. ($#twice < 9 ? $#twice : 9)]";
}
# The increment's own transaction, whatever the session's default: raised
# to on, never lowered (remote_apply is kept).
(my $increment = PP::slurp("$PP::ROOT/sql/increment.sql")) =~ s/^--.*\n//mg;
$increment =~ s/\$1/0/g;
for (['off', 'on'], ['local', 'on'], ['remote_write', 'on'], ['on', 'on'], ['remote_apply', 'remote_apply']) {
	my ($default, $want) = @$_;
	my @out = split /\n/, $pp->psql("SET synchronous_commit = $default; BEGIN; $increment; SELECT current_setting('synchronous_commit')");
	is($out[-1], $want, "sql/increment.sql with a session default of $default commits with $want");
}

like($pp->log, qr/INFO worker\[\d+\] .*durability: increments commit with synchronous_commit=on \(the session's default is off/,
    'the worker says at start-up which level its increments commit with, and the default it raised');

done_testing;
