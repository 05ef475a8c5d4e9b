# Process faults under load: workers killed, nginx reloaded, the launcher
# stopped, the shared volume broken, the token endpoint down and back.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use File::Path qw(remove_tree);
use Time::HiRes qw(time sleep);
use PP qw(wait_until slurp);
use Faults;
use AuthStack;

my $pp = PP->new(start => 0, env => { PING_PONG_WORKERS => 2 });
my $shared = PP::user_dir($pp->dir . '/volume') . '/shared';
$pp->{env}{PING_PONG_SHARED_VOLUME_PATH} = $shared;
$pp->start;
for my $name ('worker SIGKILL, repeatedly', 'all workers SIGKILL') {
	my $r = Faults::under_load($pp, seconds => 5, fault => sub { $Faults::SCENARIO{$name}->($pp) });
	Faults::check($r, $name, allow_other => 1);
	is(scalar(grep { $_ != 200 && $_ != 502 && $_ != 503 && $_ != 599 } keys %{ $r->{status} }), 0,
	    "$name: a killed worker's requests get 502 at worst");
}

# nginx reload under load: no failed request. (Each request on a fresh
# connection: see t/30-scale-out.t on keep-alive and closing servers.)
my $r = Faults::under_load($pp, seconds => 4, keep_alive => 0, fault => sub {
	my ($npid) = slurp($pp->dir . '/run/nginx.pid') =~ /(\d+)/;
	kill 'HUP', $npid;
	sleep 1;
	kill 'HUP', $npid;
});
Faults::check($r, 'nginx reload');
is($r->{uncertain}, 0, 'nginx reload: not one failed request');

# The shared volume becomes unusable under load, then comes back.
my $outages = 0;	# each try that moved the directory away is one outage
$r = Faults::under_load($pp, seconds => 5, fault => sub {
	# A file where the directory was. The workers re-create a missing
	# directory at once, so swap the file in with rename(2), retrying.
	open my $fh, '>', "$shared.file" or die;
	close $fh;
	for my $try (1 .. 20) {
		$outages++ if -d $shared && rename $shared, "$shared.away$try";
		last if rename "$shared.file", $shared;
	}
	ok(-f $shared, 'the shared directory is now a file');
	sleep 2;
	unlink $shared;
});
Faults::check($r, 'shared volume unusable');
is($r->{uncertain}, 0, 'shared volume: every pong still succeeded');
my @lines = grep { /shared volume .*cannot/ } split /\n/, $pp->log;
# A worker that re-created the directory between two tries had its outage
# end, and logs the next one: at most one line per worker per outage.
ok(@lines >= 1 && @lines <= 2 * $outages, scalar(@lines) . " clear log line(s) for $outages outage(s), one per worker and outage at most");
ok(wait_until(3, sub { slurp("$shared/ping_pong_counter.txt") =~ /^\d+\n$/ }), 'the file is written again once the directory is back');

# SIGTERM to the launcher under load: in-flight requests finish (or get a
# clean 503), and nothing is left running.  Requests failed at the door
# (PP::cut_off) reached no worker; one cut off after it did shows as a pong
# counted but never answered: the counter moves by exactly the 200s.
my $before = $pp->counter;
my $results = Faults::background_load($pp);
sleep 1;
my $t0 = time;
ok($pp->stop, 'the launcher stops on SIGTERM under load');
ok(time - $t0 < 10, sprintf('within %.1f s', time - $t0));
my @res = $results->();
my @cut = PP->cut_off(@res);
is(scalar @cut, 0, 'no request hung or cut off but at the door') or diag explain [@cut[0 .. 3]];
is(scalar(grep { $_->[0] != 200 && $_->[0] != 503 && $_->[0] != 599 } @res), 0, 'answers were 200 or a clean 503');
my ($pongs) = PP->pongs(@res);
ok(@$pongs > 0, scalar(@$pongs) . ' pongs answered during the stop');
is($pp->counter - $before, scalar @$pongs, 'every pong counted was answered: none was cut off after it reached a worker');
is_deeply($pp->{leftover}, [], 'nothing left running');
is($pp->{last_exit} >> 8, 0, 'exit status 0');
$pp->teardown;

# The token endpoint goes down and comes back while queries flow through 8080.
my ($ap, $aad, $prom) = AuthStack::start(token_mode => 'ok 3');
ok(wait_until(5, sub { $ap->auth_get('/health')->{status} == 200 }), 'the proxy has a token');
my (%st, $t_back);
my $end = time + 12;
my $down_at = time + 2;
my $up_at = time + 7;
my $mode = 'up';
while (time < $end) {
	if ($mode eq 'up' && time > $down_at) { $aad->set_token('status 503'); $mode = 'down' }
	if ($mode eq 'down' && time > $up_at) { $aad->set_token('ok 3'); $mode = 'back'; $t_back = time }
	my $s = $ap->auth_get('/api/v1/query?query=up')->{status};
	$st{$mode}{$s}++;
	sleep 0.05;
}
is(join(',', keys %{ $st{up} }), '200', 'before the outage every query succeeds');
ok($st{down}{503}, 'once the token expires during the outage: 503s');
is(join(',', grep { $_ != 200 && $_ != 503 } keys %{ $st{down} }), '', 'never anything but 200 or 503');
ok(wait_until(1, sub { $ap->auth_get('/api/v1/query?query=up')->{status} == 200 }), 'queries flow again after the endpoint returns');
ok($st{back}{200}, 'and did within the run');

done_testing;
