# The runtime directory holds the stack's own files only.  A directory the
# launcher did not make, that no launcher marked and that is not empty (a
# shared system directory: mode 1777, another user's nginx/, state/ and
# healthcheck) is refused with one line naming the setting and left exactly
# as it was; as root, so is one others can write.  A new one is made and
# removed at stop; an empty one is used and left as found; a crashed
# stack's leftovers are removed only when they are the stack's own; the
# default ./var/run works in a checkout whose ./var holds make run's database;
# a path nginx's config cannot hold, or too long for a socket under it,
# spelled relative or through a link, or under a parent nginx's user cannot
# enter (a checkout under /root), is refused before anything is made.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use File::Find;
use POSIX qw(:sys_wait_h);
use PP qw(wait_until slurp);

plan skip_all => 'the shared-directory cases need root (chown to another user)' if $> != 0;
my ($other, $ogid) = (getpwnam('nobody'))[2, 3];

# Everything about a tree that a change would touch: modes, owners, sizes, times, contents.
sub snapshot {
	my ($root) = @_;
	my @s;
	find({ no_chdir => 1, wanted => sub {
		my @st = lstat $_;
		push @s, join ' ', substr($_, length $root) || '.', sprintf('%o', $st[2]), @st[4, 5, 7, 9, 10],
		    -f _ ? slurp($_) : '';
	} }, $root);
	return join "\n", sort @s;
}

# Starts the launcher on $rundir and waits for it to end; returns (status, log).
sub refused_on {
	my ($pp, $rundir) = @_;
	$pp->{env}{PING_PONG_RUNTIME_DIR} = $rundir;
	$pp->start(nowait => 1);
	my $pid = $pp->{pid};
	my $done = wait_until(20, sub { waitpid($pid, WNOHANG) == $pid });
	my $rc = $? >> 8;
	delete $pp->{pid} if $done;
	return ($done ? $rc : undef, $pp->log);
}

# A start on $dir refused (exit 2) and $dir left exactly as it was; returns
# the log for the caller's check of the line.
sub refused_unchanged {
	my ($pp, $dir, $what, $unchanged) = @_;
	my $before = snapshot($dir);
	my ($rc, $log) = refused_on($pp, $dir);
	is($rc, 2, "$what: exit 2");
	is(snapshot($dir), $before, $unchanged);
	return $log;
}

my $pp = PP->new(role => 'app', start => 0);

# A shared system directory: sticky, world-writable, another user's files.
my $shared = $pp->dir . '/shared-tmp';
mkdir $shared;
for my $d ("$shared/nginx", "$shared/state") { mkdir $d; open my $f, '>', "$d/theirs" or die; print $f "keep\n"; close $f }
open my $f, '>', "$shared/healthcheck" or die;
print $f "1 /theirs\n";
close $f;
chown $other, $ogid, $shared, "$shared/nginx", "$shared/state", "$shared/nginx/theirs", "$shared/state/theirs", "$shared/healthcheck";
chmod 01777, $shared;
my $before = snapshot($shared);
sleep 1;	# a change now would show in the times
my ($rc, $log) = refused_on($pp, $shared);
is($rc, 2, 'a shared directory (1777, another user\'s files): exit 2');
my @lines = grep { /\S/ } split /\n/, $log;
is(scalar @lines, 1, 'one line') or diag $log;
like($log, qr/ERROR launcher\[\d+\] request_id=- PING_PONG_RUNTIME_DIR=\Q$shared\E is not root's alone \(owner uid $other, mode 1777\): nothing was changed in it/,
    'naming the setting');
is(snapshot($shared), $before, 'left exactly as it was: modes, owners, times, contents');

# The same, root's and not writable by others, but not empty and unmarked.
my $full = $pp->dir . '/full';
mkdir $full;
mkdir "$full/state";
open $f, '>', "$full/nginx.conf" or die;
print $f "# someone else's\n";
close $f;
$log = refused_unchanged($pp, $full, 'a directory that is not empty and not marked', 'left exactly as it was');
like((split /\n/, $log)[-1], qr/PING_PONG_RUNTIME_DIR=\Q$full\E is not empty and not a pingpong runtime directory .*nothing was changed in it/,
    'naming the setting');

# An empty world-writable one (as /tmp could be): refused too, unchanged.
my $open = $pp->dir . '/open';
mkdir $open;
chmod 01777, $open;
refused_unchanged($pp, $open, 'an empty directory others can write (as root)', 'unchanged: no chmod');

# A new path: made, marked, used, and removed at stop.
my $new = $pp->dir . '/new/run';
$pp->{env}{PING_PONG_RUNTIME_DIR} = $new;
$pp->start;
is($pp->get('/pingpong')->{status}, 200, 'a new path: the stack serves');
like(slurp("$new/.pingpong-runtime"), qr/made by the launcher/, 'marked as made by the launcher');
is(sprintf('%o', (stat $new)[2] & 07777), '711', 'mode 0711 (it made it)');
$pp->stop;
ok(!-e $new, 'removed at stop');
ok(-d $pp->dir . '/new', 'its parent stays');

# An empty directory of root's: used, and left as found (mode, and empty);
# unless the stack's user (nginx's workers) cannot enter it.
my $empty = $pp->dir . '/empty';
mkdir $empty;
chmod 0750, $empty;
$log = refused_unchanged($pp, $empty, 'an empty directory the stack\'s user cannot enter', 'unchanged');
like((split /\n/, $log)[-1], qr/PING_PONG_RUNTIME_DIR=\Q$empty\E cannot be entered by the stack's user \(uid \d+; mode 0750\): nothing was changed in it/,
    'naming the setting');
chmod 0755, $empty;
$pp->{env}{PING_PONG_RUNTIME_DIR} = $empty;
$pp->start;
is($pp->get('/pingpong')->{status}, 200, 'an empty directory: the stack serves');
like(slurp("$empty/.pingpong-runtime"), qr/found empty/, 'marked as found empty');
$pp->stop;
is(sprintf('%o', (stat $empty)[2] & 07777), '755', 'its mode untouched');
is_deeply([glob("$empty/* $empty/.[!.]*")], [], 'left empty');

# A new path under a parent the stack's user cannot enter (a checkout under
# /root, mode 0700): nginx would start and answer 502 to every request, so
# it is refused before anything is made in it.
my $closed = $pp->dir . '/closed';
mkdir $closed;
chmod 0700, $closed;
my $closed_before = snapshot($closed);
($rc, $log) = refused_on($pp, "$closed/a/run");
is($rc, 2, 'a parent the stack\'s user cannot enter: exit 2');
is(snapshot($closed), $closed_before, 'nothing made under it');
like((split /\n/, $log)[-1], qr/PING_PONG_RUNTIME_DIR=\Q$closed\E\/a\/run: \Q$closed\E cannot be entered by the stack's user \(uid \d+; mode 0700\)/,
    'naming the setting and the parent');
# Through a link to an open directory inside the closed one: the link's
# own target passes a look at its mode; the directories nginx will use
# are what is checked.
mkdir "$closed/open";
chmod 0755, "$closed/open";
$closed_before = snapshot($closed);
symlink("$closed/open", $pp->dir . '/via') or die "symlink: $!";
($rc, $log) = refused_on($pp, $pp->dir . '/via/run');
is($rc, 2, 'reached through a link: exit 2');
like((split /\n/, $log)[-1], qr/PING_PONG_RUNTIME_DIR=\S+\/via\/run: \Q$closed\E cannot be entered by the stack's user/,
    'naming the parent the link leads to');
is(snapshot($closed), $closed_before, 'nothing made under it');
# --check-config refuses what a start refuses.
my $check = qx{PING_PONG_RUNTIME_DIR=$closed/a/run $PP::ROOT/$PP::BUILD/pingpong-supervise --check-config 2>&1};
is($? >> 8, 2, '--check-config: the same refusal, exit 2') or diag $check;
like($check, qr/\Q$closed\E cannot be entered by the stack's user/, 'and the same line');
$pp->{env}{PING_PONG_RUNTIME_DIR} = $empty;

# A crashed stack: its leftovers are removed when they are its own ...
$pp->start;
kill 'KILL', $pp->{pid};
waitpid(delete $pp->{pid}, 0);
ok(wait_until(5, sub { !grep { /\Q$empty\E/ } map { slurp("$_/cmdline") } glob '/proc/[0-9]*' }), 'launcher SIGKILLed: the parts are gone');
ok(-e "$empty/.pingpong-runtime" && -e "$empty/nginx.conf", 'its files and its mark stay behind');
$pp->start;
like($pp->log, qr/WARNING launcher\[\d+\] request_id=- removing what a stack that did not stop left in \Q$empty\E: nginx nginx\.conf nginx\.pid healthcheck app\.sock state/,
    'the next start removes them, naming them');
is($pp->get('/pingpong')->{status}, 200, 'and serves');
# ... and refused when one is not.
kill 'KILL', $pp->{pid};
waitpid(delete $pp->{pid}, 0);
wait_until(5, sub { !grep { /\Q$empty\E/ } map { slurp("$_/cmdline") } glob '/proc/[0-9]*' });
chown $other, $ogid, "$empty/healthcheck";
$log = refused_unchanged($pp, $empty, 'a leftover owned by another user', 'nothing removed');
like((split /\n/, $log)[-1], qr/runtime directory \Q$empty\E holds healthcheck, owned by uid $other: not this stack's, so nothing was removed/, 'naming it');

# The default, ./var/run, in a checkout whose ./var holds make run's database.
mkdir $pp->dir . '/var';
mkdir $pp->dir . '/var/pg';
open $f, '>', $pp->dir . '/var/pg/PG_VERSION' or die;
print $f "15\n";
close $f;
my $var = snapshot($pp->dir . '/var/pg');
$pp->{env}{PING_PONG_RUNTIME_DIR} = undef;
$pp->start;
is($pp->get('/pingpong')->{status}, 200, 'the default runtime directory: the stack serves');
ok(-S $pp->dir . '/var/run/app.sock', 'from ./var/run');
$pp->stop;
is(snapshot($pp->dir . '/var/pg'), $var, './var/pg untouched');
is_deeply([map { s{.*/}{}r } glob($pp->dir . '/var/*')], ['pg'], 'and ./var/run gone after the stop');

# A relative value (the default ./var/run) in a working directory whose
# path nginx's config cannot hold, and a path through a link to one: the
# value passes the settings' check, the absolute path is refused at once,
# one line, nothing made (it used to make the directory, then every worker
# and nginx failed on the rendered path, over and over).
for my $name ('with space', 'semi;colon') {
	my $cwd = $pp->dir . "/$name";
	mkdir $cwd;
	my %env = ($pp->launch_env, PING_PONG_RUNTIME_DIR => undef);
	local %ENV = %ENV;
	@ENV{keys %env} = values %env;
	delete $ENV{$_} for grep { !defined $ENV{$_} } keys %ENV;
	my $out = qx{cd '$cwd' && timeout 20 $PP::ROOT/bin/pingpong app 2>&1 </dev/null};
	is($? >> 8, 2, "the default runtime directory under '$name': exit 2");
	my @l = grep { /\S/ } split /\n/, $out;
	is(scalar @l, 1, 'one line') or diag $out;
	like($l[0] // '', qr{ERROR launcher\[\d+\] request_id=- PING_PONG_RUNTIME_DIR=\./var/run is \Q$cwd\E/\./var/run, which nginx's config cannot hold .*nothing was made},
	    'naming the setting and the path');
	ok(!-e "$cwd/var", 'nothing made');
	symlink $cwd, $pp->dir . '/link' or die;
	my $through = $pp->dir . '/link/run';
	($rc, $log) = refused_on($pp, $through);
	is($rc, 2, "a path through a link to '$name': exit 2");
	like((split /\n/, $log)[-1], qr{PING_PONG_RUNTIME_DIR=\Q$through\E is \Q$cwd\E/run, which nginx's config cannot hold}, 'naming both');
	ok(!-e "$cwd/run", 'nothing left');
	unlink $pp->dir . '/link';
}

# A path too long for its sockets (sun_path: 108 bytes with the NUL; the
# longest is state/auth-log.sock): refused before anything is made, one
# line naming the setting and the limit (spawn-fcgi said "path ... too
# long" after the directory was made); through a short link too.
{
	my $base = $pp->dir . '/deep';
	my $long = $base . '/' . ('d' x (108 - length("$base/") - length('/state/auth-log.sock')));
	is(length("$long/state/auth-log.sock"), 108, 'a socket path one byte too long for sun_path');
	my $from = length $pp->log;
	my ($rc, $log) = refused_on($pp, $long);
	is($rc, 2, 'a runtime directory too long for its sockets: exit 2');
	my @l = grep { /ERROR/ } split /\n/, substr($log, $from);
	is(scalar @l, 1, 'one line') or diag $log;
	like($l[0] // '', qr{PING_PONG_RUNTIME_DIR=\Q$long\E is too long: .*must fit a Unix socket address \(108 bytes with the NUL\): nothing was made; give a path of at most 87 bytes},
	    'naming the setting and the limit');
	ok(!-e $base, 'nothing made');
	mkdir $base;
	mkdir $long or die "$long: $!";
	symlink $long, $pp->dir . '/short' or die;
	($rc, $log) = refused_on($pp, $pp->dir . '/short/run');
	is($rc, 2, 'a short path through a link to a long one: exit 2');
	like((split /\n/, $log)[-1], qr{PING_PONG_RUNTIME_DIR=\Q${\ $pp->dir}\E/short/run is too long: its sockets' paths \(\Q$long\E/run/state/auth-log.sock, 112 bytes\)}, 'naming both');
	ok(!-e "$long/run", 'nothing left');
	unlink $pp->dir . '/short';
}

$pp->teardown;
done_testing;
