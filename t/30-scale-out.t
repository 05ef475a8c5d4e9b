# Scale-out: three complete stacks against one PostgreSQL, directly and
# through one stock PgBouncer in transaction mode: every N distinct, exactly
# 0..K-1, the connection budget kept, and a stack stopped mid-load cuts no
# request off while the others keep serving.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use POSIX ();
use Time::HiRes qw(time sleep);
use PP qw(wait_until);
use Bouncer;

my $budget = 2;

# Loads every stack at once; returns all results and the highest number of
# pingpong backends seen in pg_stat_activity meanwhile.
sub load_all {
	my ($db, $stacks, %o) = @_;
	my @kids;
	for my $i (0 .. $#$stacks) {
		my $pid = fork // die;
		if ($pid == 0) {
			my @r = $stacks->[$i]->load(clients => 4, requests => $o{requests} || 150, seconds => 60,
			    keep_alive => $o{keep_alive} // 1);
			open my $fh, '>', $db->dir . "/res.$i" or die;
			print $fh "$_->[0]\t$_->[1]\n" for @r;
			close $fh;
			POSIX::_exit(0);
		}
		push @kids, $pid;
	}
	$o{during}->() if $o{during};
	my $max = 0;
	while (grep { waitpid($_, POSIX::WNOHANG()) == 0 } @kids) {
		my $n = $db->psql(q{SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pingpong'});
		$max = $n if $n > $max;
		sleep 0.1;
	}
	my @res;
	for my $i (0 .. $#$stacks) {
		open my $fh, '<', $db->dir . "/res.$i" or next;
		push @res, map { chomp; [split /\t/, $_, 2] } <$fh>;
		unlink $db->dir . "/res.$i";
	}
	return (\@res, $max);
}

sub exact {
	my ($db, $res, $what) = @_;
	my ($n, $other) = PP->pongs(@$res);
	is($other, 0, "$what: every request a 200 pong");
	my %seen;
	is(scalar(grep { $seen{$_}++ } @$n), 0, "$what: every N distinct across the stacks");
	is_deeply([sort { $a <=> $b } @$n], [0 .. $#$n], "$what: exactly 0.." . $#$n);
	is($db->counter, scalar @$n, "$what: the counter is " . scalar @$n);
}

# 1. Directly.
my $db = PP->new(start => 0);
my %env = (PING_PONG_DB_HOST => $db->pgdir, PING_PONG_WORKERS => 4, PING_PONG_DB_MAX_CONNECTIONS => $budget);
my @stacks = map { PP->new(db => 0, env => {%env}) } 1 .. 3;
like($stacks[0]->log, qr/PING_PONG_WORKERS=4 exceeds PING_PONG_DB_MAX_CONNECTIONS=2: starting 2 workers/, 'the budget caps the workers, and says so');
my ($res, $max) = load_all($db, \@stacks);
exact($db, $res, 'three stacks, one database');
ok($max <= 3 * $budget, "at most replicas x budget backends ($max <= " . 3 * $budget . ')');

# A reconnect storm: every backend terminated, workers killed, under load.
($res, $max) = load_all($db, \@stacks, requests => 200, during => sub {
	for (1 .. 3) {
		sleep 0.3;
		$db->psql(q{SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'pingpong'});
		kill 'KILL', $stacks[$_ % 3]->worker_pids->[0] // 0;
	}
});
ok($max <= 3 * $budget, "during a reconnect storm still at most $max <= " . 3 * $budget);
my ($n) = PP->pongs(@$res);
my %seen;
is(scalar(grep { $seen{$_}++ } @$n), 0, 'no N repeated through the storm');
$_->teardown for @stacks;

# 2. Through a stock PgBouncer in transaction mode (no startup parameter
# ignored), with the service's defaults: named prepared statements.
my $db2 = PP->new(start => 0);
# A role tuned for speed: each increment must still commit durably.
$db2->psql(q{ALTER ROLE postgres SET synchronous_commit = off});
my $bouncer = Bouncer->new($db2);
%env = (PING_PONG_DB_HOST => $bouncer->dir, PING_PONG_DB_PORT => 6432, PING_PONG_DB_MAX_CONNECTIONS => $budget);
my @bstacks = map { PP->new(db => 0, env => {%env}) } 1 .. 3;
($res, $max) = load_all($db2, \@bstacks);
exact($db2, $res, 'three stacks through PgBouncer');
ok($max <= 4, "PgBouncer's pool bounds the backends ($max <= 4)");
unlike(join('', map { $_->log } @bstacks), qr/unsupported startup parameter/, 'PgBouncer took every connection as it came');
like($bstacks[0]->log, qr/durability: increments commit with synchronous_commit=on \(the session's default is off, raised/,
    "through PgBouncer the role's synchronous_commit = off is raised for each increment");

# PgBouncer's server connections replaced (1.18 keeps no prepared
# statement across them): the workers' named statements are unknown to
# the new ones, and each worker goes on with unnamed statements, without
# a failed request.
my $before = $db2->counter;
$db2->psql(q{SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()});
wait_until(5, sub { $db2->psql(q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'}) == 1 });
($res) = load_all($db2, \@bstacks, requests => 50);
my ($n2) = PP->pongs(@$res);
is(scalar @$n2, scalar @$res, 'after the server connections were replaced: every request a 200 pong');
is_deeply([sort { $a <=> $b } @$n2], [$before .. $before + $#$n2], 'and exactly the next numbers');
like(join('', map { $_->log } @bstacks), qr/INFO worker\[\d+\] .*database: a prepared statement is unknown to the server that ran the next transaction .*sending statements unnamed from now on/,
    'a worker that met a statement unknown to the server said it goes on unnamed');

# 3. One stack stopped with SIGTERM mid-load: no request cut off. Each
# request on its own connection: with keep-alive, a request sent on an idle
# connection just as nginx closes it is reset before nginx reads it, which
# no server can prevent; Kubernetes avoids it by removing the pod from the
# Service before the stop (preStop), and clients retry (docs/reliability.md).
$before = $db2->counter;
($res) = load_all($db2, \@bstacks, requests => 400, keep_alive => 0, during => sub { sleep 1; $bstacks[1]->stop });
$n = (PP->pongs(@$res))[0];
is($db2->counter - $before, scalar @$n, 'every pong counted was answered');
my @cut = PP->cut_off(@$res);
is(scalar @cut, 0, 'no request was cut off without an answer') or diag explain [@cut[0 .. ($#cut < 5 ? $#cut : 5)]];
is(scalar(grep { $_->[0] != 200 && $_->[0] != 599 } @$res), 0, 'every answer was a 200');
is($bstacks[0]->get('/pingpong')->{status}, 200, 'the other stacks keep serving');
is_deeply($bstacks[1]->{leftover}, [], 'the stopped stack left nothing behind');
%seen = ();
is(scalar(grep { $seen{$_}++ } @$n), 0, 'every N distinct');

done_testing;
