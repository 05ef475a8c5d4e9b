# Faults.pm: fault scenarios under load and the invariants every one must
# keep; used by t/40-*.t and by `make soak` (tools/soak).
#
# Invariants after a scenario (results of the load, the final counter):
#   - no N appears twice among the 200s;
#   - every 200's N is below the final counter;
#   - final counter - number of 200s <= number of uncertain outcomes
#     (5xx or cut off during the fault), and >= 0;
#   - the service answers a pong within 2 s of the fault ending, with no restart.
package Faults;

use strict;
use warnings;
use POSIX ();
use Time::HiRes qw(time sleep);
use PP qw(wait_until slurp);

# Runs load on $pp while $fault->() runs; $fault returns when the fault has
# ended. The load lasts $o{seconds}, or with $o{tail}, until that many
# seconds after the fault ended (for faults of unknown length; $o{seconds}
# then only caps it). Returns a report hash.
sub under_load {
	my ($pp, %o) = @_;
	my $file = $pp->dir . '/faultload.' . int(rand 1e9);
	my $launcher = $pp->{pid};
	wait_until(5, sub { $pp->get('/health/ready')->{status} == 200 });	# schema in place
	my $counter0 = eval { $pp->counter } // die "Faults: the database must be up before a scenario";
	my $pid = fork // die;
	if ($pid == 0) {
		my @r = $pp->load(clients => $o{clients} || 6, requests => 1_000_000, seconds => $o{seconds} || 8,
		    keep_alive => $o{keep_alive} // 1, timed => 1, stop_file => $o{tail} ? "$file.stop" : undef);
		open my $fh, '>', $file or POSIX::_exit(1);
		print $fh join("\t", @$_) . "\n" for @r;
		close $fh;
		POSIX::_exit(0);
	}
	sleep($o{warmup} // 1);
	my $t_fault = time;
	$o{fault}->();
	my $t_end = time;
	my $back = wait_until(5, sub { my $r = $pp->get('/pingpong'); $r->{status} == 200 && $r->{content} =~ /^pong \d+/ });
	my $recovery = time - $t_end;
	if ($o{tail}) {
		sleep($t_end + $o{tail} - time) if $t_end + $o{tail} > time;
		open my $stop, '>', "$file.stop" or die "Faults: $file.stop: $!";
		close $stop;
	}
	waitpid($pid, 0);
	unlink "$file.stop";
	my @res = map { chomp; [split /\t/, $_, 4] } do { open my $fh, '<', $file or die; <$fh> };
	unlink $file;
	my (@n, $uncertain, %status, $max_fail, @t_ok);
	$max_fail = 0;
	for (@res) {
		my ($st, $body, $secs, $t_done) = @$_;
		$status{$st}++;
		if ($st == 200 && $body =~ /^pong (\d+)\\n$/) { push @n, $1; push @t_ok, $t_done; next }
		$uncertain++;
		$max_fail = $secs if defined $secs && $secs > $max_fail;
	}
	my %seen;
	my @dups = grep { $seen{$_}++ } @n;
	my $counter = $pp->counter;
	my $max_n = @n ? (sort { $b <=> $a } @n)[0] : -1;
	# The outage: the longest time in which no pong was answered.
	my $outage = 0;
	@t_ok = sort { $a <=> $b } @t_ok;
	for (1 .. $#t_ok) {
		$outage = $t_ok[$_] - $t_ok[$_ - 1] if $t_ok[$_] - $t_ok[$_ - 1] > $outage;
	}
	return {
		requests => scalar @res, ok => scalar @n, uncertain => $uncertain || 0, status => \%status,
		duplicates => scalar @dups, max_n => $max_n, counter => $counter,
		gap => $counter - $counter0 - @n - 1,	# the recovery probe's own pong is the 1
		recovery => $back ? $recovery : undef, fault_seconds => $t_end - $t_fault,
		longest_failure => $max_fail, outage => $outage, same_launcher => ($pp->{pid} // 0) == $launcher && kill(0, $launcher),
	};
}

# Test::More checks of the invariants; $what names the scenario.
sub check {
	my ($r, $what, %o) = @_;
	Test::More::diag(sprintf '%s: %d requests, %d ok, %d uncertain (%s), gap %d, recovery %s s, no pong for %.2f s',
	    $what, $r->{requests}, $r->{ok}, $r->{uncertain},
	    join(' ', map { "$_:$r->{status}{$_}" } sort keys %{ $r->{status} }), $r->{gap},
	    defined $r->{recovery} ? sprintf('%.2f', $r->{recovery}) : 'never', $r->{outage});
	Test::More::ok($r->{ok} > 0, "$what: pongs were served");
	Test::More::is($r->{duplicates}, 0, "$what: no N given twice");
	Test::More::ok($r->{max_n} < $r->{counter}, "$what: every N is below the final counter");
	Test::More::ok($r->{gap} >= 0 && $r->{gap} <= $r->{uncertain},
	    "$what: counter - 200s ($r->{gap}) within the uncertain outcomes ($r->{uncertain})");
	Test::More::ok(defined $r->{recovery} && $r->{recovery} <= 2 * $PP::MULT, "$what: answering pong again within 2 s of the end");
	Test::More::ok($r->{same_launcher}, "$what: with no restart");
	Test::More::is(scalar(grep { !/^(200|503|599)$/ } keys %{ $r->{status} }), 0, "$what: only 200 or 503 (never a 500)")
	    unless $o{allow_other};
}

# Load on $pp from a child, one connection per request, while the caller
# stops the stack. Returns a sub that waits for the load and returns its
# results, [status, body] each.
sub background_load {
	my ($pp, %o) = @_;
	my $file = $pp->dir . '/background.' . int(rand 1e9);
	my $kid = fork // die "fork: $!";
	if ($kid == 0) {
		my @res = $pp->load(clients => $o{clients} || 6, requests => 100000, seconds => $o{seconds} || 4,
		    keep_alive => 0);
		open my $fh, '>', $file or POSIX::_exit(1);
		print $fh "$_->[0]\t" . ($_->[1] =~ s/\n/\\n/gr) . "\n" for @res;
		close $fh;
		POSIX::_exit(0);
	}
	return sub {
		waitpid($kid, 0);
		my @res = map { chomp; [split /\t/, $_, 2] } do { open my $fh, '<', $file or die "$file: $!"; <$fh> };
		unlink $file;
		return @res;
	};
}

# The pids of the PostgreSQL cluster (postmaster and its children).
sub pg_pids {
	my ($pp) = @_;
	my $pm = $pp->pg_pid or return ();
	my @all = ($pm);
	for (split /\n/, qx{ps -e -o pid=,ppid=}) {
		my ($p, $pp_) = /(\d+)\s+(\d+)/ or next;
		push @all, $p if $pp_ == $pm;
	}
	return @all;
}

# Freezes the PostgreSQL cluster: SIGSTOP to the postmaster and each child,
# listed again until none is new.  A list taken once misses a backend
# forked since (a worker that reconnected after its statement timed out),
# which would go on answering while the test counts on a frozen database.
# Returns the pids stopped, for kill 'CONT'.
sub freeze_pg {
	my ($pp) = @_;
	my %stopped;
	for (1 .. 10) {
		my @new = grep { !$stopped{$_} } pg_pids($pp) or last;
		kill 'STOP', @new;
		$stopped{$_} = 1 for @new;
	}
	return keys %stopped;
}

# The scenarios, by name: each a sub taking $pp and causing then ending a fault.
our %SCENARIO = (
	'postgres SIGKILL' => sub {
		my ($pp) = @_;
		my @pids = pg_pids($pp);
		kill 'KILL', @pids;
		# PostgreSQL refuses to start while the old postmaster's pid exists
		# (even as a zombie not yet reaped by pid 1).
		wait_until(10, sub { !grep { kill 0, $_ } @pids });
		sleep 0.5;
		$pp->pg_start;	# crash recovery
	},
	# Three times: a fast shutdown that lands between CommandComplete and
	# the commit at Sync is rare, and it is the case that once gave a
	# number twice.
	'postgres fast shutdown' => sub {
		my ($pp) = @_;
		for (1 .. 3) {
			$pp->pg_stop('fast');
			sleep 0.5;
			$pp->pg_start;
			sleep 0.7;
		}
	},
	'postgres immediate shutdown' => sub {
		my ($pp) = @_;
		$pp->pg_stop('immediate');
		sleep 1;
		$pp->pg_start;
	},
	'terminate every backend' => sub {
		my ($pp) = @_;
		$pp->psql(q{SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'pingpong'});
	},
	'worker SIGKILL, repeatedly' => sub {
		my ($pp) = @_;
		for (1 .. 4) {
			my $w = $pp->worker_pids;
			kill 'KILL', $w->[0] if @$w;
			sleep 0.7;
		}
	},
	'all workers SIGKILL' => sub {
		my ($pp) = @_;
		kill 'KILL', @{ $pp->worker_pids };
		wait_until(5, sub { @{ $pp->worker_pids } >= 2 });
	},
	# Another session holds the counter's row for 6 s, longer than the
	# request budget (issue 26): pongs wait for it, then go on.
	'row lock held 6 s' => sub {
		my ($pp) = @_;
		$pp->psql('SELECT 1 FROM ping_counter WHERE id = (SELECT min(id) FROM ping_counter) FOR UPDATE; SELECT pg_sleep(6)');
	},
	# The shared file's lock held for 5 s by another process of the
	# service's user (no other user can open it): pongs never wait for it.
	# A stack without a shared volume has nothing to hold.
	'shared-file lock held 5 s' => sub {
		my ($pp) = @_;
		my $dir = $pp->{env}{PING_PONG_SHARED_VOLUME_PATH} or return;
		my @as = $> == 0 ? ('runuser', '-u', 'www-data', '--') : ();
		system(@as, 'flock', "$dir/.ping_pong_counter.lock", 'sleep', '5');
	},
);

1;
