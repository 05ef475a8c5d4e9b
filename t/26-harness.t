# The harness cannot hang the suite: a fake server stopped as soon as it
# is made is stopped (its process group is made before new() returns), and
# a test file that hangs, in its body or in a DESTROY at its end, is ended
# by PP's watchdog with a list of its processes, fails, and leaves nothing.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
use POSIX qw(:sys_wait_h);
use PP qw(wait_until slurp);

my $dir = tempdir('pingpong-t-XXXXXX', TMPDIR => 1, CLEANUP => 1);

# Runs perl with @args (stdout and stderr to a file) for at most $secs;
# returns (exit status or undef if it had to be killed, its output).
sub run_perl {
	my ($secs, $env, @args) = @_;
	my $out = "$dir/out." . int(rand 1e9);
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		@ENV{keys %$env} = values %$env;
		open STDOUT, '>', $out or POSIX::_exit(127);
		open STDERR, '>&', \*STDOUT;
		exec @args or POSIX::_exit(127);
	}
	my $status;
	wait_until($secs, sub { waitpid($pid, WNOHANG) == $pid and $status = $?, 1 });
	unless (defined $status) {
		kill 'KILL', $pid;
		waitpid($pid, 0);
	}
	return ($status, slurp($out));
}

# On one CPU the child of a fork runs only once the parent lets it: a stop
# right after new() came before the child's own setpgrp, signalled no group,
# and waited for ever (t/11 hung at its end so, under load).
my ($st, $out) = run_perl(60, { FAKE_DIR => $dir }, 'taskset', '-c', '0', $^X, '-It/lib', '-MFakeAzure', '-e', q{
	for my $i (1 .. 20) {
		my $f = FakeAzure->new("$ENV{FAKE_DIR}/fake$i");
		my $pid = $f->{pid} or die "no server pid\n";
		local $SIG{ALRM} = sub { print "fake $i survived its stop\n"; kill 'KILL', $pid; exit 1 };
		alarm 10;
		$f->stop;
		alarm 0;
	}
	print "all stopped\n";
});
is($st, 0, 'twenty fake servers, each stopped as soon as made (one CPU)') or diag($out);
like($out, qr/^all stopped$/m, 'every stop returned');

# A test file that hangs in its body, with a fork child of its own.
my $t = "$dir/hang.t";
open my $fh, '>', $t or die;
print $fh <<"T";
use strict; use warnings; use lib '$PP::ROOT/t/lib'; use Test::More; use PP;
ok(1, 'before the hang');
my \$kid = fork // die;
if (!\$kid) { sleep 1; print "kid alive after its parent's alarm was set\\n"; sleep 300; POSIX::_exit(0) }
open my \$k, '>', '$dir/kid' or die; print \$k \$kid; close \$k;
sleep 300;
done_testing;
T
close $fh;
my $t0 = time;
($st, $out) = run_perl(60, { PP_WATCHDOG => 3, PP_TIMEOUT_MULT => 1 }, $^X, $t);
ok(defined $st && $st != 0, 'a test file hanging in its body fails') or diag($out);
ok(time - $t0 < 30, 'and ends soon after its watchdog');
like($out, qr/watchdog: \S+hang\.t did not finish within 3 s/, 'saying why');
my $kid = slurp("$dir/kid");
like($out, qr/# watchdog: .* its processes:\n#\s+PID .*\n(#.*\n)*#\s+$kid\s/, 'listing its processes');
like($out, qr/kid alive after/, 'a fork child has no alarm of its parent');
ok($kid && wait_until(5, sub { !kill 0, $kid }), 'and its child is gone');

# A test file whose tests pass but which hangs in a DESTROY at its end
# (where a die is only a warning).
open $fh, '>', $t or die;
print $fh <<"T";
use strict; use warnings; use lib '$PP::ROOT/t/lib'; use Test::More; use PP;
package Hang; sub DESTROY { sleep 300 } package main;
my \$h = bless {}, 'Hang';
ok(1, 'passes');
done_testing;
T
close $fh;
($st, $out) = run_perl(60, { PP_WATCHDOG => 3, PP_TIMEOUT_MULT => 1 }, $^X, $t);
ok(defined $st && $st != 0, 'a test file hanging at its end fails, though its tests passed') or diag($out);
like($out, qr/did not finish within 3 s/, 'its watchdog said why');

done_testing;
