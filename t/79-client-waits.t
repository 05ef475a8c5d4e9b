# A row lock held past the request budget under load, then released: a
# request's deadline decides only whether a statement is sent for it, never
# the connection's fate.  While the row is held, statements are cut at the
# statement timeout and the server answers the cancel (57014): the
# connections are kept (their backend pids are unchanged), the retry gate
# stays open, and the log names the limit that cut (the statement timeout,
# 3000 ms), never a connect timeout nobody hit.  Once the row is released,
# no request sent after the release gets a 503.  Numbers stay exact.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use POSIX ();
use Time::HiRes qw(time sleep);
use PP qw(wait_until);

my $pp = PP->new(env => { PING_PONG_WORKERS => 2, PING_PONG_DB_CONNECT_TIMEOUT => 2,
    PING_PONG_DB_STATEMENT_TIMEOUT => 3000, PING_PONG_DB_RETRY_INTERVAL => 3000 });
my $backends = q{SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity WHERE application_name = 'pingpong'};
ok($pp->workers_connected(2), 'both workers are connected') or diag $pp->psql($backends);
my $before = $pp->psql($backends);
my $counter0 = $pp->counter;

# Stress: wrk keeps 600 connections busy (the load the fault was seen
# under); 8 clients of our own record each request's start and outcome.
my $file = $pp->dir . '/load79';
my $wrk = fork // die "fork: $!";
if ($wrk == 0) {
	open STDOUT, '>', "$file.wrk";
	open STDERR, '>&', \*STDOUT;
	{ exec 'wrk', '-t2', '-c600', '-d20s', '--timeout', '10s', $pp->url('/pingpong') }
	POSIX::_exit(127);
}
END { kill 'KILL', $wrk if $wrk; }
my $kid = fork // die "fork: $!";
if ($kid == 0) {
	my @r = $pp->load(clients => 8, requests => 1_000_000, seconds => 60, timed => 1,
	    stop_file => "$file.stop");
	open my $fh, '>', $file or POSIX::_exit(1);
	print $fh join("\t", @$_) . "\n" for @r;
	close $fh;
	POSIX::_exit(0);
}
sleep 2;
# The row held for 7 s (the budget is 2 s + 3000 ms) by another session; psql
# returns once it has committed: every request started after that was sent
# after the release.
my $t_lock = time;
$pp->psql('SELECT 1 FROM ping_counter WHERE id = (SELECT min(id) FROM ping_counter) FOR UPDATE; SELECT pg_sleep(7)');
my $t_release = time;
ok(wait_until(10, sub { my $r = $pp->get('/pingpong'); $r->{status} == 200 }), 'a pong after the release');
sleep 2;
open my $stop, '>', "$file.stop" or die;
close $stop;
waitpid($kid, 0);
kill 'INT', $wrk;
waitpid($wrk, 0);
$wrk = 0;
diag 'wrk: ' . join(' | ', grep { /requests in|Non-2xx|Socket errors/ } split /\n/, PP::slurp("$file.wrk"));
my @res = map { chomp; [split /\t/, $_, 4] } do { open my $fh, '<', $file or die "$file: $!"; <$fh> };

my (@n, %status, @after_bad, $uncertain);
for (@res) {
	my ($st, $body, $secs, $t_done) = @$_;
	$status{$st}++;
	if ($st == 200 && $body =~ /^pong (\d+)\\n$/) { push @n, $1; next }
	$uncertain++;
	push @after_bad, "$st at +" . sprintf('%.3f', $t_done - $secs - $t_release) if $t_done - $secs > $t_release;
}
diag sprintf 'lock %.1f s: %d requests (%s)', $t_release - $t_lock, scalar @res,
    join(' ', map { "$_:$status{$_}" } sort keys %status);
ok(($status{503} // 0) > 0, 'statements were cut while the row was held (503s)');
is_deeply(\@after_bad, [], 'no request sent after the release got anything but 200')
    or diag explain [@after_bad[0 .. ($#after_bad < 9 ? $#after_bad : 9)]];

# The connections whose cancels the server answered were kept.
is($pp->psql($backends), $before, "the workers' backend pids are unchanged ($before)");
my $log = $pp->log;
like($log, qr/database: query: cut at the statement timeout \(3000 ms\); the server answered the cancel, the connection is kept/,
    'the log names the limit that cut: the statement timeout, 3000 ms');
unlike($log, qr/connect: no answer/, 'and no connect timeout that nobody hit');

# Numbers stay exact.
my %seen;
is(scalar(grep { $seen{$_}++ } @n), 0, 'no number twice');
my $counter = $pp->counter;
ok(!@n || (sort { $b <=> $a } @n)[0] <= $counter, 'every 200 number is committed (at most the counter)');

done_testing;
