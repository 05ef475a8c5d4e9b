# Least privilege: started as root, every program of the stack runs as
# PING_PONG_USER (default: nginx's user) once it has read what needs root;
# descriptors 0-2 are open before anything else is; the programs' files are
# never opened through a symlink, and a world-writable directory is refused.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use POSIX qw(:sys_wait_h);
use PP qw(wait_until slurp);

plan skip_all => 'needs root (the suite runs as root: tools/deps)' unless $> == 0;
my $uid = (getpwnam('www-data'))[2] // die 'no www-data user';

# The processes of a stack: those whose command line or environment names its runtime directory.
sub procs {
	my ($dir) = @_;
	my %p;
	for my $d (glob '/proc/[0-9]*') {
		my ($pid) = $d =~ /(\d+)$/;
		my $cmd = slurp("$d/cmdline") =~ tr/\0/ /r;
		next unless index($cmd . slurp("$d/environ"), $dir) >= 0;
		my ($u) = slurp("$d/status") =~ /^Uid:\s+\d+\s+(\d+)/m;
		$p{$pid} = [$cmd, $u];
	}
	return \%p;
}

my $pp = PP->new(role => 'all', env => { PING_PONG_WORKERS => 2 });
is($pp->get('/pingpong')->{status}, 200, 'the stack serves as root');
my $p = procs($pp->dir . '/run');
my @programs = grep { $p->{$_}[0] =~ m{^\S*/pingpong-(worker|authproxy|logoutput)\s*$} } keys %$p;
is(scalar @programs, 4, 'two workers, the token helper and log-output') or diag explain $p;
is(scalar(grep { $p->{$_}[1] != $uid } @programs), 0, 'every program runs as www-data (effective uid)');
# The launcher hands the programs the ids ("uid:gid"), not the name: no
# worker maps the name service's modules (0.7 MiB each), and none keeps a
# group other than the user's own.
my $gid = (getpwnam('www-data'))[3];
is(join(' ', grep { slurp("/proc/$_/maps") =~ /libnss_/ } @programs), '', 'no program has a name service module mapped');
is(join(' ', map { (slurp("/proc/$_/status") =~ /^Groups:\s*(.*?)\s*$/m)[0] } sort @programs), join(' ', ($gid) x 4),
    'each has the user\'s group alone (none of root\'s)');
# nginx's workers: children of the master, named by nginx.
my ($master) = slurp($pp->dir . '/run/nginx.pid') =~ /(\d+)/;
my @nw = grep { ((slurp("/proc/$_/stat") =~ /^\d+ \(.*?\) \S (\d+)/)[0] // -1) == $master } map { m{(\d+)$} } glob '/proc/[0-9]*';
ok(@nw >= 1, scalar(@nw) . ' nginx worker(s)');
is(scalar(grep { (slurp("/proc/$_/status") =~ /^Uid:\s+\d+\s+(\d+)/m)[0] != $uid } @nw), 0, 'nginx\'s workers run as www-data');
my $state = $pp->dir . '/run/state';
is((stat $state)[4], $uid, 'the programs\' own directory belongs to that user');
is(sprintf('%o', (stat $state)[2] & 0777), '700', 'and to it alone');
ok(-e "$state/metrics.shm" && (stat "$state/metrics.shm")[4] == $uid, 'the shared segment was made by the programs, as that user');
$pp->stop;
is($pp->{last_exit} >> 8, 0, 'stops with status 0');

# A worker of its own under spawn-fcgi, as the launcher would start it:
# runtime directory $dir (made if missing, the user's), the stack's
# database, %env added; the command (default: the worker) and a file for
# its stderr may be given.  Returns its pid.
sub lone_worker {
	my ($dir, %o) = @_;
	mkdir $dir;
	chown $uid, -1, $dir;
	chmod 0700, $dir;
	my $pid = fork // die;
	if ($pid == 0) {
		%ENV = (%ENV, PING_PONG_RUNTIME_DIR => $dir, PING_PONG_DB_HOST => $pp->pgdir, %{ $o{env} || {} });
		open STDERR, '>', $o{stderr} or POSIX::_exit(1) if $o{stderr};
		exec 'spawn-fcgi', '-n', '-s', "$dir/w.sock", '--', @{ $o{cmd} || ["$PP::ROOT/$PP::BUILD/pingpong-worker"] }
		    or POSIX::_exit(1);
	}
	return $pid;
}
sub stop_worker { kill 'TERM', $_[0]; waitpid($_[0], 0) }

# "uid:gid" by hand: those ids, without a name service.
{
	my $dir = $pp->dir . '/ids';
	my $pid = lone_worker($dir, env => { PING_PONG_USER => "$uid:$gid" });
	ok(wait_until(5, sub { -e "$dir/metrics.shm" }), "PING_PONG_USER=$uid:$gid: the worker runs");
	my $st = slurp("/proc/$pid/status");
	is(join('/', ($st =~ /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)/m), ($st =~ /^Gid:\s+(\d+)\s+(\d+)\s+(\d+)/m), ($st =~ /^Groups:\s*(.*?)\s*$/m)),
	    join('/', ($uid) x 3, ($gid) x 3, $gid), 'as those ids, real, effective and saved, with that group alone');
	stop_worker($pid);
}

# Refused at start, saying why: a user that does not exist, root, root's
# group, and anything that is neither a name nor two numbers.
for my $bad (['no-such-user-xyz', qr/PING_PONG_USER=no-such-user-xyz is not a user of this system/],
    ['root', qr/PING_PONG_USER=root is root: expected an unprivileged user/],
    ['0:0', qr/PING_PONG_USER=0:0 is root/], ["$uid:0", qr/PING_PONG_USER=$uid:0 has root's group/],
    ["$uid:", qr/PING_PONG_USER=$uid: is not a user/], ['4294967295:1', qr/is not a user/],
    ["$uid:$gid:1", qr/is not a user/], ['99999999999999999999:1', qr/is not a user/]) {
	local $ENV{PING_PONG_USER} = $bad->[0];
	my $out = qx{$PP::ROOT/$PP::BUILD/pingpong-worker 2>&1 </dev/null};
	isnt($? >> 8, 0, "PING_PONG_USER=$bad->[0]: the worker does not serve");
	like($out, $bad->[1], 'and says why');
}

# Descriptors 0-2: a worker started with stderr closed gets /dev/null
# there, so no file it opens later (the shared segment, a socket) becomes
# its stderr and receives log lines.
{
	my $dir = $pp->dir . '/fd';
	my $pid = lone_worker($dir, cmd => ['/bin/sh', '-c', "exec $PP::ROOT/$PP::BUILD/pingpong-worker 2>&-"]);
	ok(wait_until(5, sub { -e "$dir/metrics.shm" }), 'a worker started with fd 2 closed runs');
	is(readlink("/proc/$pid/fd/2") // 'closed', '/dev/null', 'its fd 2 is /dev/null');
	stop_worker($pid);
}

# Symlinks: a metrics.shm planted as a symlink is not followed.
{
	my $dir = $pp->dir . '/planted';
	mkdir $dir;
	my $target = $pp->dir . '/target';
	open my $fh, '>', $target or die;
	print $fh "precious\n";
	close $fh;
	chmod 0666, $target;
	symlink $target, "$dir/metrics.shm" or die;
	symlink $target, "$dir/leader.shm" or die;
	my $log = $pp->dir . '/planted.log';
	my $pid = lone_worker($dir, stderr => $log);
	ok(wait_until(5, sub { slurp($log) =~ /leader gate/ }), 'the worker started');
	is(slurp($target), "precious\n", 'a file behind a planted symlink is untouched');
	like(slurp($log), qr/metrics: cannot map .*Too many levels of symbolic links/, 'and the worker says why it keeps its own metrics');
	stop_worker($pid);
}

# A world-writable, non-sticky shared volume is refused (anyone could plant files there).
{
	my $shared = $pp->dir . '/open-shared';
	mkdir $shared;
	chmod 0777, $shared;
	my $q = PP->new(role => 'app', start => 0, env => { PING_PONG_SHARED_VOLUME_PATH => $shared });
	$q->start;
	is($q->get('/pingpong')->{status}, 200, 'a stack with a world-writable shared volume still serves');
	ok(wait_until(3, sub { $q->log =~ /shared volume refused, the count is not written there: \S+open-shared: writable by everyone \(mode 0777\) and not sticky/ }),
	    'and says the volume is refused') or diag $q->log;
	ok(!-e "$shared/ping_pong_counter.txt", 'writing nothing there');
	$q->teardown;
}

$pp->teardown;
done_testing;
