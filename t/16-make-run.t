# make run's script (tools/run) in a copy of the project: with no database
# configured it starts a private PostgreSQL under ./var/, serves, stops it
# all on SIGINT (a terminal's Ctrl-C: the whole process group) with status
# 0, leaving only the database in ./var, and the count survives a second
# run, also when the first one's database was left running; `make reset` forgets it.  A database host given in .env, however
# written, is used and no private database is started; log-output follows
# the app's port.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use POSIX qw(:sys_wait_h);
use HTTP::Tiny;
use File::Temp ();
use PP qw(checkout_copy free_port wait_until start_make_run);

my $copy = checkout_copy('run');
my $port;	# the app's port of the current run
my $ua = HTTP::Tiny->new(timeout => 10);

my $from;	# where the current run's lines start in run.log
sub this_run { substr(PP::slurp("$copy/run.log"), $from) }

# One make run; $during (optional) runs while it serves, given its pid (its session's).
sub run_once {
	my ($during) = @_;
	$port = free_port();	# a fresh one each run: the last may be a client's source port now
	$from = -s "$copy/run.log" // 0;	# run.log grows across runs: this run's lines start here
	my $pid = start_make_run($copy, { PING_PONG_APP_PORT => $port, AUTH_PROXY_PORT => free_port(),
	    LOG_APP_PORT => free_port(), LOG_APP_PING_PONG_SERVICE_HOST => '127.0.0.1' }, "$copy/run.log");
	ok(wait_until(40, sub { $ua->get("http://127.0.0.1:$port/health/ready")->{status} == 200 }), 'make run serves, ready')
	    or diag PP::slurp("$copy/run.log");
	my $pong = $ua->get("http://127.0.0.1:$port/pingpong")->{content};
	ok(wait_until(10, sub { this_run() =~ m{Ping / Pongs: \d+} }), 'log-output counts this stack\'s pongs (it follows the app port)');
	$during->($pid) if $during;
	kill 'INT', -$pid;
	ok(wait_until(30, sub { waitpid($pid, WNOHANG) == $pid }), 'and stops on SIGINT (Ctrl-C)');
	is($?, 0, 'with exit status 0, not ended by the signal (make then reports no Error 130)');
	ok(!-e "$copy/var/pg/data/postmaster.pid", 'its PostgreSQL is stopped too');
	my @kept = map { s{.*/}{}r } glob("$copy/var/* $copy/var/.[!.]*");
	is_deeply(\@kept, -e "$copy/var/pg" ? ['pg'] : [], './var keeps only the database') or diag explain \@kept;
	return $pong;
}

# A database host in .env, with spaces around "=": the programs use it, and
# so does make run, which starts no private database.
my $ext = PP->new(start => 0, pg_tcp => 1);
open my $fh, '>', "$copy/.env" or die;
print $fh "PING_PONG_DB_HOST = 127.0.0.1\nPING_PONG_DB_PORT = " . $ext->pg_port . "\n";
close $fh;
is(run_once(), "pong 0\n", '.env names a database: pong 0 from it');
is($ext->counter, 1, 'counted in that database');
ok(!-e "$copy/var/pg", 'and no private database was made');
unlink "$copy/.env";
$ext->teardown;

# No address given: make run listens on loopback only (bin/pingpong and
# the image on every address).
is(run_once(sub {
	my @bound = map { (split ' ')[3] } split /\n/, qx{ss -Hltn sport = :$port};
	is_deeply(\@bound, ["127.0.0.1:$port"], 'no address given: make run listens on 127.0.0.1 only')
	    or diag explain \@bound;
	like(this_run(), qr/make run: listening on 127\.0\.0\.1 only \(PING_PONG_LISTEN_ADDRESS=0\.0\.0\.0 serves other machines\)/,
	    'and says so');
	# ./var/pg's lock is held by tools/run and the launcher, never by a part
	# of the stack (nginx or a worker could release it, or outlive them).
	my (%holds, $parts);
	for my $proc (map { "/proc/$_" } $_[0], @{ PP->session_pids($_[0]) }) {
		my $cmd = PP::slurp("$proc/cmdline") =~ s/\0.*//sr;
		$parts++ if $cmd =~ /nginx|pingpong-(?:worker|authproxy|logoutput)/;
		$holds{$cmd =~ s{.*/}{}r}++ if grep { (readlink($_) // '') eq "$copy/var/pg/stack.lock" } glob "$proc/fd/*";
	}
	ok($parts, 'the stack\'s parts are in the session');
	is_deeply([sort keys %holds], ['bash', 'pingpong-supervise'], 'the lock: tools/run and the launcher, no part')
	    or diag explain \%holds;
}), "pong 0\n", 'first run: pong 0');
ok(-f "$copy/var/pg/data/PG_VERSION", 'the private cluster lives under ./var/pg');
# A make run killed with its whole process group (SIGKILL) leaves its
# PostgreSQL running (pg_ctl gives it a session of its own): the next make
# run uses it, rather than fail in pg_ctl ("another server might be
# running"), and stops it at the end like its own.
system("$copy/tools/pg start $copy/var/pg >/dev/null") == 0 or die 'tools/pg start failed';
is(run_once(), "pong 1\n", 'second run, its database left running: it serves, the count survived');
my $out = qx{make -C $copy --no-print-directory reset 2>&1};
is($?, 0, 'make reset') or diag $out;
ok(!-e "$copy/var/pg", 'removes the private database');
is(run_once(), "pong 0\n", 'and the next run counts from 0');

# A checkout the postgres user cannot enter (under /root, mode 0700): make
# run refuses the private database with one line naming the parent, not
# initdb's bare "Permission denied", and makes nothing there.
SKIP: {
	skip 'as root only (the server then runs as postgres)', 4 if $> != 0;
	my $closed = File::Temp::tempdir('pingpong-closed-XXXXXX', TMPDIR => 1, CLEANUP => 1);
	chmod 0700, $closed;
	system("cp -a $copy $closed/co && rm -rf $closed/co/var $closed/co/run.log") == 0 or die 'copy failed';
	my $pid = start_make_run("$closed/co", { PING_PONG_APP_PORT => free_port(), AUTH_PROXY_PORT => free_port(),
	    LOG_APP_PORT => free_port() }, "$copy/closed.log");
	my $ended = wait_until(30, sub { waitpid($pid, WNOHANG) == $pid });
	kill 'INT', -$pid unless $ended;
	ok($ended, 'a parent postgres cannot enter: make run ends');
	is($? >> 8, 1, 'with status 1');
	like(PP::slurp("$copy/closed.log"), qr{^\S+Z ERROR launcher\[\d+\] request_id=- make run: the postgres user cannot enter \Q$closed\E \(mode 700\), a parent of \Q$closed\E/co/var/pg: }m,
	    'one line in the stack\'s format, naming the parent and its mode') or diag PP::slurp("$copy/closed.log");
	ok(!-e "$closed/co/var/pg", 'nothing made under it');
}

# A private database that cannot start: one line in the stack's format
# saying why (make run's output may go to a file), not initdb's raw text.
{
	system("make -C $copy --no-print-directory -s reset >/dev/null") == 0 or die 'make reset';
	mkdir "$copy/var";
	mkdir "$copy/var/pg";
	open my $f, '>', "$copy/var/pg/data" or die;
	close $f;
	my $pid = start_make_run($copy, { PING_PONG_APP_PORT => free_port(), AUTH_PROXY_PORT => free_port(),
	    LOG_APP_PORT => free_port() }, "$copy/broken.log");
	ok(wait_until(30, sub { waitpid($pid, WNOHANG) == $pid }), 'a database that cannot start: make run ends');
	is($? >> 8, 1, 'with status 1');
	my @lines = grep { /\S/ } split /\n/, PP::slurp("$copy/broken.log");
	is_deeply([grep { !/^\S+Z [A-Z]+ launcher\[\d+\] request_id=- / } @lines], [], 'every line in the stack\'s format')
	    or diag explain \@lines;
	like(PP::slurp("$copy/broken.log"), qr{ERROR launcher\[\d+\] request_id=- make run: the private PostgreSQL did not start: initdb: error: could not access directory "\S+/var/pg/data": Not a directory \(all it said: \./var/pg/start\.log; the server's own log: \./var/pg/postgres\.log\)},
	    'one line: initdb\'s error, and where the rest is');
	unlink "$copy/var/pg/data";
}

done_testing;
