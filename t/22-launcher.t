# The launcher owns what it starts: a part that fails to start or ends
# stops the stack with status 1 and one line naming it; a second stack on a
# runtime directory in use is refused (one whose lock another process holds
# too, not called a running stack); SIGKILL of the launcher leaves
# nothing behind; a terminal's Ctrl-C (SIGINT to its process group) stops
# it gracefully under load with status 0 and an empty runtime directory.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Socket::INET;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(time sleep);
use PP qw(wait_until slurp);
use Faults;

# Processes whose command line or environment names $dir (the test's own
# directory, which holds the runtime directory): what a stack left behind.
sub left_in {
	my ($dir) = @_;
	my @left;
	for my $p (glob '/proc/[0-9]*') {
		my ($pid) = $p =~ /(\d+)$/;
		next if $pid == $$;
		my $text = slurp("$p/cmdline") . "\0" . slurp("$p/environ");
		push @left, $pid . ' ' . (slurp("$p/cmdline") =~ tr/\0/ /r) if index($text, $dir) >= 0;
	}
	return @left;
}

# Waits for the launcher to end by itself; returns its exit status (or undef).
sub ended {
	my ($pp, $secs) = @_;
	my $pid = $pp->{pid};
	return undef unless wait_until($secs, sub { waitpid($pid, WNOHANG) == $pid });
	delete $pp->{pid};
	return $? >> 8;
}

sub errors { grep { /ERROR launcher\[/ } split /\n/, $_[0]->log }

# A port in use: nginx cannot bind; nothing is left, the line says why.
{
	my $pp = PP->new(role => 'app', start => 0);
	my $busy = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => $pp->app_port,
	    ReuseAddr => 1) or die "listen: $!";
	$pp->start(nowait => 1);
	my $rc = ended($pp, 30);
	is($rc, 1, 'port in use: the launcher exits 1');
	my @err = errors($pp);
	is(scalar @err, 1, 'with one error line') or diag $pp->log;
	like($err[0] // '', qr/nginx failed to start: exited with status 1 \(it said: "bind\(\) to 127.0.0.1:\d+ failed \(98: Address already in use\)"\)/, 'naming nginx and why');
	my $port = $pp->app_port;
	like($err[0] // '', qr/; port $port is taken by another program: set PING_PONG_APP_PORT to a free one; stopping the stack$/,
	    'and the setting that moves the port');
	like($pp->log, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z CRITICAL nginx\[\d+\] request_id=- bind\(\) to /m,
	    "nginx's error log, rewritten into the stack's format");
	unlike($pp->log, qr{^\d{4}/\d\d/\d\d }m, 'no line in nginx\'s own format');
	ok(wait_until(5, sub { !left_in($pp->dir . '/run') }), 'nothing is left running') or diag join "\n", left_in($pp->dir . '/run');
	is_deeply([glob($pp->dir . '/run/*')], [], 'the runtime directory is left empty');
	close $busy;
	$pp->start;
	is($pp->get('/health')->{status}, 200, 'and the next start, once the port is free, serves');
	$pp->teardown;
}

# The role's own setting, when another role's holds the same number.
{
	my $pp = PP->new(role => 'authproxy', db => 0, start => 0);
	$pp->{app_port} = $pp->auth_port;
	my $busy = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => $pp->auth_port,
	    ReuseAddr => 1) or die "listen: $!";
	$pp->start(nowait => 1);
	is(ended($pp, 30), 1, 'authproxy, its port in use: exit 1');
	my $port = $pp->auth_port;
	like((errors($pp))[0] // '', qr/; port $port is taken by another program: set AUTH_PROXY_PORT to a free one;/,
	    'naming AUTH_PROXY_PORT, not PING_PONG_APP_PORT of the same number') or diag $pp->log;
	close $busy;
	$pp->teardown;
}

# A worker that exits at once: the pool gives up, the stack stops.
{
	my $pp = PP->new(role => 'app', db => 0, start => 0);
	my $fake = $pp->dir . '/libexec';
	mkdir $fake;
	symlink("$PP::ROOT/$PP::BUILD/$_", "$fake/$_") or die for qw(pingpong-supervise pingpong-authproxy pingpong-logoutput pp_limits.env);
	open my $fh, '>', "$fake/pingpong-worker" or die;
	print $fh "#!/bin/sh\necho 'worker: cannot start' >&2\nexit 3\n";
	close $fh;
	chmod 0755, "$fake/pingpong-worker";
	$pp->{env}{PP_LIBEXEC} = $fake;
	$pp->start(nowait => 1);
	my $rc = ended($pp, 30);
	is($rc, 1, 'a worker that exits at once: the launcher exits 1');
	my @err = errors($pp);
	is(scalar @err, 1, 'with one error line') or diag $pp->log;
	like($err[0] // '', qr/^\S+ ERROR launcher\[\d+\] request_id=- workers (?:ended|failed to start): /, 'naming the part');
	ok(wait_until(5, sub { !left_in($pp->dir . '/run') && !left_in($fake) }), 'nothing is left running')
	    or diag join "\n", left_in($pp->dir . '/run'), left_in($fake);
	$pp->teardown;
}

# Two stacks, one runtime directory: the second is refused, the first keeps serving.
{
	my $a = PP->new(role => 'app');
	my $b = PP->new(role => 'app', db => 0, start => 0,
	    env => { PING_PONG_RUNTIME_DIR => $a->dir . '/run' });
	$b->start(nowait => 1);
	my $rc = ended($b, 20);
	is($rc, 1, 'a second stack on a runtime directory in use exits 1');
	like($b->log, qr/ERROR launcher\[\d+\] request_id=- runtime directory \S+ is in use by a running stack \(launcher pid $a->{pid}\)/,
	    'saying so, with the running launcher\'s pid');
	is($a->get('/pingpong')->{status}, 200, 'the first stack still serves');
	ok(-S $a->dir . '/run/app.sock', 'through its own socket, untouched');
	$b->teardown;

	# SIGKILL of the launcher: its guardian kills every part.
	my @before = left_in($a->dir . '/run');
	ok(@before >= 5, scalar(@before) . ' processes in the running stack');
	kill 'KILL', $a->{pid};
	waitpid(delete $a->{pid}, 0);
	ok(wait_until(5, sub { !left_in($a->dir . '/run') }), 'launcher SIGKILLed: nothing it started survives')
	    or diag join "\n", left_in($a->dir . '/run');

	# Its lock held by some other process: refused, without calling the
	# dead launcher whose pid the file still names a running stack.
	my $holder = fork // die;
	if ($holder == 0) {
		open my $lk, '<', $a->dir . '/run/lock' or POSIX::_exit(1);
		flock($lk, 2) or POSIX::_exit(1);
		sleep 60;
		POSIX::_exit(0);
	}
	my ($named) = slurp($a->dir . '/run/lock') =~ /^(\d+)/;
	ok($named && !kill(0, $named), "the lock still names the dead launcher ($named)");
	my $c = PP->new(role => 'app', db => 0, start => 0, env => { PING_PONG_RUNTIME_DIR => $a->dir . '/run' });
	ok(wait_until(5, sub { system('flock', '-n', $a->dir . '/run/lock', 'true') != 0 }), 'held by another process');
	$c->start(nowait => 1);
	is(ended($c, 20), 1, 'its lock held by another process: exit 1');
	my @err = errors($c);
	is(scalar @err, 1, 'one line') or diag $c->log;
	unlike($err[0] // '', qr/running stack/, 'not calling the dead launcher a running stack');
	like($err[0] // '', qr{/run/lock is held by a process that is not a running launcher \(the pid in it, $named, has ended\)},
	    'saying the lock is held by another process');
	kill 'KILL', $holder;
	waitpid($holder, 0);
	$c->teardown;
	$a->start;
	is($a->get('/pingpong')->{status}, 200, 'the next start on that directory serves');
	like($a->log, qr/WARNING launcher\[\d+\] request_id=- removing what a stack that did not stop left in /, 'after removing the leftovers');
	$a->teardown;
}

# The guardian killed: the stack stops rather than run without it.
{
	my $pp = PP->new(role => 'app', db => 0);
	my ($g) = grep { (slurp("/proc/$_/stat") =~ /^\d+ \(pingpong-superv\) \S (\d+) (\d+) /) && $1 == $pp->{pid} && $2 == $_ }
	    map { m{(\d+)$} } glob '/proc/[0-9]*';
	ok($g, 'the guardian leads the parts\' process group');
	kill 'KILL', $g if $g;
	is(ended($pp, 20), 1, 'killed, it stops the stack: exit 1');
	like($pp->log, qr/ERROR launcher\[\d+\] request_id=- the guardian \(pid \d+\) was killed by signal 9/, 'saying so');
	ok(wait_until(5, sub { !left_in($pp->dir . '/run') }), 'nothing is left running');
	$pp->teardown;
}

# Ctrl-C under load: SIGINT to the launcher's process group, as a terminal
# sends it.  No request nginx has read is cut off: every pong that moved
# the counter was answered.  Exit status 0; the runtime directory is empty.
{
	my $pp = PP->new(role => 'all', env => { PING_PONG_WORKERS => 2 });
	is($pp->get('/pingpong')->{status}, 200, 'serving');
	my $before = $pp->counter;
	my $results = Faults::background_load($pp);
	sleep 1.5;
	my $pid = $pp->{pid};
	kill 'INT', -$pid;
	my $rc = ended($pp, 20);
	is($rc, 0, 'Ctrl-C: exit status 0');
	my @res = $results->();
	my @ok = grep { $_->[0] == 200 } @res;
	my @cut = PP->cut_off(@res);
	ok(@ok > 10, scalar(@ok) . ' pongs answered under load');
	is(scalar @cut, 0, 'no request cut off without an answer') or diag explain [@cut[0 .. 3]];
	is(scalar(grep { $_->[0] != 200 && $_->[0] != 599 } @res), 0, 'every answer a 200');
	is($pp->counter - $before, scalar @ok, 'every pong that moved the counter was answered');
	like($pp->log, qr/INFO launcher\[\d+\] request_id=- signal Interrupt: stopping the stack gracefully/, 'the launcher alone got the signal and stopped the parts');
	unlike($pp->log, qr/nginx\[\d+\] .*(?:exiting|fast shutdown)/i, 'nginx stopped gracefully, not fast');
	ok(wait_until(5, sub { !left_in($pp->dir . '/run') }), 'nothing left running');
	is_deeply([glob($pp->dir . '/run/* ' . $pp->dir . '/run/.*[!.]*')], [], 'the runtime directory is left empty');
	$pp->teardown;
}

# The command line: --help on stdout with status 0; a bad argument, the
# usage on stderr with status 2; the launcher's settings check never shows
# the workers' usage (they run under spawn-fcgi, the launcher does not).
{
	my $sup = "$PP::ROOT/$PP::BUILD/pingpong-supervise";
	my $out = qx{PP_LIBEXEC=$PP::ROOT/$PP::BUILD $PP::ROOT/bin/pingpong --help 2>/dev/null};
	is($?, 0, 'bin/pingpong --help: status 0');
	like($out, qr/^usage: pingpong \[app\|authproxy\|log-output\|all\]/, 'and the usage on stdout');
	$out = qx{PP_LIBEXEC=$PP::ROOT/$PP::BUILD $PP::ROOT/bin/pingpong --bogus 2>&1 >/dev/null};
	is($? >> 8, 2, 'an unknown option: status 2');
	like($out, qr/^usage: pingpong /, 'and the usage on stderr');
	$out = qx{$sup --check-config app 2>&1};
	is($? >> 8, 2, 'pingpong-supervise --check-config with a role: status 2');
	like($out, qr/The launcher: bin\/pingpong \[ROLE\] starts the stack/, 'the launcher\'s usage');
	unlike($out, qr/spawn-fcgi/, 'not the workers\'');
	# tools/run's own lines (--log) with a bad setting: the launcher says so, under its own name.
	$out = qx{PING_PONG_DB_PORT=abc $sup --log INFO hello 2>&1};
	is($? >> 8, 2, '--log with a bad setting: status 2');
	like($out, qr/^\S+Z CRITICAL launcher\[\d+\] request_id=- configuration error: PING_PONG_DB_PORT=abc is invalid/,
	    'one line, as the launcher');
}

done_testing;
