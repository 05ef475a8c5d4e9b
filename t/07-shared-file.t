# The shared-volume counter file: equals the count, replaced atomically,
# never backwards under concurrency; an unwritable volume never fails a pong.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use PP qw(slurp wait_until);

my $pp = PP->new(start => 0, env => { PING_PONG_WORKERS => 3 });
my $shared = PP::user_dir($pp->dir . '/volume') . '/sub';
$pp->{env}{PING_PONG_SHARED_VOLUME_PATH} = $shared;
$pp->start;
my $file = "$shared/ping_pong_counter.txt";
ok(-d $shared, 'the missing directory was created');
$pp->get('/pingpong') for 1 .. 3;
# The file is written by its own thread, after the answers (issue 26).
ok(wait_until(5, sub { -e $file && slurp($file) eq "3\n" }), 'after 3 pongs the file holds 3');

# A reader watches the file while 6 clients pong: every read is a whole
# number and never smaller than the one before.
pipe my $rd, my $wr or die;
my $reader = fork // die;
if ($reader == 0) {
	close $rd;
	my ($last, $bad, $back, $reads) = (-1, 0, 0, 0);
	my $end = time + 30;
	while (time < $end && !-e "$shared/.stop") {
		open my $fh, '<', $file or next;
		my $s = do { local $/; <$fh> };
		close $fh;
		$reads++;
		if (!defined $s || $s !~ /^(\d+)\n\z/) { $bad++; next }
		$back++ if $1 < $last;
		$last = $1;
	}
	print $wr "$reads $bad $back\n";
	close $wr;
	POSIX::_exit(0);
}
close $wr;
my @res = $pp->load(clients => 6, requests => 150);
open my $stop, '>', "$shared/.stop";
close $stop;
my $line = <$rd> // "";
my ($reads, $bad, $back) = split / /, $line;
chomp $back if defined $back;
waitpid($reader, 0);
my ($n, $other) = PP->pongs(@res);
is($other, 0, 'all pongs succeeded');
ok($reads > 50, "the reader read the file $reads times");
is($bad, 0, 'never a partial or empty file');
is($back, 0, 'never a smaller count than before');
my $stored = $pp->counter;
ok(wait_until(5, sub { slurp($file) eq "$stored\n" }), 'at the end the file equals the stored count');
is(scalar(grep { /ping_pong_counter\.txt\./ } glob("$shared/.*")), 0, 'no temporary file left');
$pp->teardown;

# An unusable volume (a file where the directory should be): pongs go on,
# and the failure is one clear log line.
my $bad_pp = PP->new(start => 0, env => { PING_PONG_WORKERS => 1 });
open my $blk, '>', $bad_pp->dir . '/blocker' or die;
close $blk;
$bad_pp->{env}{PING_PONG_SHARED_VOLUME_PATH} = $bad_pp->dir . '/blocker/sub';
$bad_pp->start;
my @codes = map { $bad_pp->get('/pingpong')->{status} } 1 .. 5;
is_deeply(\@codes, [(200) x 5], 'pongs succeed with an unwritable volume');
my $user = $> == 0 ? 'www-data' : scalar getpwuid($>);
my $uid = $> == 0 ? getpwnam('www-data') : $>;
ok(wait_until(5, sub { $bad_pp->log =~ /shared volume \S+blocker\/sub: cannot create: Not a directory \(the stack runs as user \Q$user\E \(uid $uid\), which needs write access there\)/ }),
    "the line names the user who needs write access ($user)") or diag $bad_pp->log;
my @lines = grep { /shared volume/ } split /\n/, $bad_pp->log;
is(scalar @lines, 1, 'one log line about it') or diag explain \@lines;
like($lines[0] // '', qr/ERROR .*blocker\/sub.*Not a directory/, 'naming the path and the cause');

done_testing;
