# make run's script (tools/run) in a copy of the project: with no database
# configured it starts a private PostgreSQL under ./var/, serves, stops it
# all on SIGINT, and the count survives a second run.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
use POSIX qw(setsid :sys_wait_h);
use HTTP::Tiny;
use PP qw(free_port wait_until);

my $copy = tempdir('pingpong-run-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{KEEP_TMP});
chmod 0755, $copy;
system("cd $PP::ROOT && git ls-files -z | xargs -0 cp --parents -t $copy") == 0 or die 'copy failed';
system("mkdir -p $copy/$PP::BUILD && cp -r $PP::ROOT/$PP::BUILD/. $copy/$PP::BUILD/") == 0 or die 'copy of the build failed';
my $port = free_port();
my $ua = HTTP::Tiny->new(timeout => 10);

sub run_once {
	my $pid = fork // die;
	if ($pid == 0) {
		setsid();
		chdir $copy;
		delete @ENV{grep { /^(PING_PONG_|AUTH_PROXY_|LOG_APP_|AZURE_)/ } keys %ENV};
		@ENV{qw(PING_PONG_APP_PORT PING_PONG_LISTEN_ADDRESS AUTH_PROXY_PORT LOG_APP_PORT LOG_APP_PING_PONG_SERVICE_PORT)} =
		    ($port, '127.0.0.1', free_port(), free_port(), $port);
		open STDOUT, '>>', "$copy/run.log";
		open STDERR, '>&', \*STDOUT;
		exec "$copy/tools/run" or POSIX::_exit(1);
	}
	ok(wait_until(40, sub { $ua->get("http://127.0.0.1:$port/health/ready")->{status} == 200 }), 'make run serves, ready')
	    or diag PP::slurp("$copy/run.log");
	my $pong = $ua->get("http://127.0.0.1:$port/pingpong")->{content};
	kill 'INT', -$pid;
	ok(wait_until(30, sub { waitpid($pid, WNOHANG) == $pid }), 'and stops on SIGINT (Ctrl-C)');
	ok(!-e "$copy/var/pg/data/postmaster.pid", 'its PostgreSQL is stopped too');
	return $pong;
}

is(run_once(), "pong 0\n", 'first run: pong 0');
ok(-f "$copy/var/pg/data/PG_VERSION", 'the private cluster lives under ./var/pg');
is(run_once(), "pong 1\n", 'second run: the count survived');

done_testing;
