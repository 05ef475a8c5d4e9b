# Settings are read once, by the launcher: a worker multiwatch starts again
# runs on exactly the first one's settings, even after .env changed or was
# moved away (the database, the log format, the pool alike).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PP qw(wait_until slurp);

my $pp = PP->new(role => 'app', start => 0, env => { PING_PONG_WORKERS => 1 });
# The database and the log format come from .env alone.
my %from_env = (PING_PONG_DB_HOST => $pp->pgdir, PING_PONG_DB_PORT => $pp->pg_port, PING_PONG_LOG_FORMAT => 'json');
$pp->{env}{$_} = undef for keys %from_env;
open my $fh, '>', $pp->dir . '/.env' or die;
print $fh map { "$_=$from_env{$_}\n" } sort keys %from_env;
close $fh;
$pp->start;
is($pp->get('/pingpong')->{status}, 200, 'serving on the database .env names');
my ($first) = @{ $pp->worker_pids };
ok($first, "the worker: pid $first");

# .env now names another database (nothing listens there) and text logs.
open $fh, '>', $pp->dir . '/.env' or die;
print $fh "PING_PONG_DB_HOST=127.0.0.1\nPING_PONG_DB_PORT=1\nPING_PONG_LOG_FORMAT=text\n";
close $fh;
for my $round (1, 2) {
	my ($old) = @{ $pp->worker_pids };
	kill 'KILL', $old;
	my $new;
	ok(wait_until(15, sub { ($new) = grep { $_ != $old } @{ $pp->worker_pids }; $new }), "round $round: the worker is started again (pid " . ($new // '?') . ')');
	my $before = $pp->counter;
	ok(wait_until(10, sub { $pp->get('/pingpong')->{status} == 200 }), "round $round: it serves on the first database");
	is($pp->counter, $before + 1, "round $round: and counts there");
	my $env = slurp("/proc/$new/environ");
	like($env, qr/(?:^|\0)PING_PONG_LOG_FORMAT=json\0/, "round $round: with the first log format");
	my @text = grep { /^\S+Z [A-Z]+ worker\[$new\]/ } split /\n/, $pp->log;
	is_deeply(\@text, [], "round $round: it writes no text line") or diag explain \@text;
	ok(wait_until(5, sub { $pp->log =~ /"component":"worker","pid":$new\b/ }), "round $round: its lines are JSON")
	    or diag $pp->log;
	rename $pp->dir . '/.env', $pp->dir . '/moved.env' if $round == 1;	# round 2: no .env at all
}
$pp->teardown;
done_testing;
