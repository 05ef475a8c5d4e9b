# The shared-volume file's lock held by another user (nobody, through a
# descriptor it opened while the lock file was still 0644, as versions
# before this one made it) never stops a pong: every pong is answered while
# the lock is still held, the outage is logged once and counted, and the
# file catches up with the count once the lock is released.  Afterwards the
# lock file is 0600: no other user can open it, so none can hold it.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use POSIX ();
use PP qw(slurp wait_until);

my $pp = PP->new(start => 0, env => { PING_PONG_WORKERS => 1 });
my $shared = PP::user_dir($pp->dir . '/volume');
my $file = "$shared/ping_pong_counter.txt";
my $lock = "$shared/.ping_pong_counter.lock";
$pp->{env}{PING_PONG_SHARED_VOLUME_PATH} = $shared;

# The lock file as an older version left it: the service's user's, 0644.
open my $fh, '>', $lock or die "$lock: $!";
close $fh;
chown((getpwnam('www-data'))[2, 3], $lock);
chmod 0644, $lock;

# nobody takes it and keeps it.
sub held { system('flock', '-n', $lock, 'true') != 0 }	# root: any descriptor will do
my $holder = fork // die "fork: $!";
if ($holder == 0) {
	setpgrp(0, 0);
	{ exec 'runuser', '-u', 'nobody', '--', 'flock', $lock, 'sleep', '600' };
	POSIX::_exit(127);
}
setpgrp($holder, $holder);
END { kill 'KILL', -$holder, $holder if $holder; }
ok(wait_until(10, \&held), 'nobody holds the lock');

$pp->start;
my @res = $pp->load(clients => 4, requests => 5);
my ($n, $other) = PP->pongs(@res);
is($other, 0, 'every pong answered 200 while the lock is held') or diag explain [map { $_->[0] } @res];
is(scalar @$n, 20, '20 pongs');
ok(held(), 'and the lock is still held by nobody');
sub failures { ($pp->get('/metrics')->{content} // '') =~ /^pingpong_shared_file_writes_total\{outcome="failure"\} (\d+)$/m ? $1 : 0 }
ok(wait_until(15, sub { failures() >= 3 }), 'pingpong_shared_file_writes_total{outcome="failure"} counts the attempts');
my @lines = grep { /shared volume .*held by another process/ } split /\n/, $pp->log;
is(scalar @lines, 1, 'the outage logged once, not once per attempt') or diag explain \@lines;
like($lines[0] // '', qr/ERROR .*\.ping_pong_counter\.lock.*1000 ms/, 'naming the lock and the wait');
isnt(slurp($file), $pp->counter . "\n", 'the file lags meanwhile');

# Released: the file catches up by itself (no more pongs needed).
kill 'KILL', -$holder, $holder;
waitpid($holder, 0);
$holder = 0;
ok(wait_until(10, sub { !held() }), 'the lock released');
my $count = $pp->counter;
is($count, 20, 'the count is 20');
ok(wait_until(10, sub { slurp($file) eq "$count\n" }), 'the file caught up with the count') or diag slurp($file);
ok(wait_until(5, sub { $pp->log =~ /shared volume .*writing ping_pong_counter\.txt again/ }), 'the recovery logged');

# From now on no other user can hold it.
is((stat $lock)[2] & 07777, 0600, 'the lock file is 0600');
isnt(system("runuser -u nobody -- flock -n '$lock' true 2>/dev/null"), 0,
    'nobody can no longer open (nor hold) the lock');

done_testing;
