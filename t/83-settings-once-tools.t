# Settings are read once also by make run and make migrate-widen, and
# --check-config refuses what a start would refuse: make run's script and
# the migration run under the settings the launcher's parser read once
# (pingpong-supervise --with-settings), as the stack's parts do (t/73), so
# an edit of .env after that reading changes nothing and a warning is said
# once; a runtime directory too long for its sockets fails the check.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use POSIX qw(:sys_wait_h);
use HTTP::Tiny;
use PP qw(checkout_copy free_port wait_until slurp start_make_run);

my $clean = $PP::SETTINGS_ENV;
my $copy = checkout_copy('settings-once');
my $db = PP->new(start => 0, pg_tcp => 1);	# a database of its own: make run starts no private one
my $ua = HTTP::Tiny->new(timeout => 10);

# make run's programs behind a pingpong-supervise that rewrites .env once it
# has been called: the first reading names this database and JSON lines,
# any later one a port where nothing listens and text lines.
my $fake = "$copy/fake";
mkdir $fake;
symlink("$copy/$PP::BUILD/$_", "$fake/$_") or die for qw(pingpong-worker pingpong-authproxy pingpong-logoutput pp_limits.env);
open my $fh, '>', "$fake/pingpong-supervise" or die;
print $fh "#!/bin/sh\n",
    "[ -e $fake/called ] && printf 'PING_PONG_DB_HOST=127.0.0.1\\nPING_PONG_DB_PORT=1\\nPING_PONG_LOG_FORMAT=text\\n' > $copy/.env\n",
    "touch $fake/called\n",
    "exec $copy/$PP::BUILD/pingpong-supervise \"\$@\"\n";
close $fh;
chmod 0755, "$fake/pingpong-supervise";
open $fh, '>', "$copy/.env" or die;
print $fh "PING_PONG_DB_HOST=127.0.0.1\nPING_PONG_DB_PORT=" . $db->pg_port . "\nPING_PONG_LOG_FORMAT=json\n";
close $fh;

my $port = free_port();
my $pid = start_make_run($copy, { PING_PONG_APP_PORT => $port, PING_PONG_LISTEN_ADDRESS => '127.0.0.1',
    PING_PONG_DB_PROT => 5432, PP_LIBEXEC => $fake }, "$copy/run.log", 'app');
my $owner = $$;
END { kill 'INT', -$pid if $$ == $owner && $pid && kill 0, $pid }	# should the test die
ok(wait_until(40, sub { $ua->get("http://127.0.0.1:$port/health")->{status} == 200 }), 'make run serves')
    or diag slurp("$copy/run.log");
like(slurp("$copy/.env"), qr/^PING_PONG_DB_PORT=1$/m, '.env was changed after the settings were first read');
ok(wait_until(10, sub { $ua->get("http://127.0.0.1:$port/pingpong")->{status} == 200 }), 'the stack serves on the database .env first named')
    or diag slurp("$copy/run.log");
is(eval { $db->counter } // 'no table', 1, 'and counts there');
my @lines = split /\n/, slurp("$copy/run.log");
my @text = grep { /^\S+Z [A-Z]+ (?:launcher|worker)\[\d+\]/ } @lines;
is_deeply(\@text, [], 'the launcher and the workers write no text line: the format .env first named') or diag explain \@text;
is(scalar(grep { /unknown setting PING_PONG_DB_PROT/ } @lines), 1, 'a warning said once') or diag slurp("$copy/run.log");
ok((grep { /unknown setting PING_PONG_DB_PROT/ && /"component":"launcher"/ } @lines), 'by the launcher, the name of its other lines')
    or diag slurp("$copy/run.log");
kill 'INT', -$pid;
ok(wait_until(30, sub { waitpid($pid, WNOHANG) == $pid }), 'make run stops');
undef $pid;
unlink "$copy/.env";

# make migrate-widen: its own reading and the worker's said every warning twice.
{
	local %ENV = %ENV;
	delete @ENV{grep { $_ =~ $clean } keys %ENV};
	@ENV{qw(PING_PONG_DB_HOST PING_PONG_DB_PORT PING_PONG_DB_PROT)} = ('127.0.0.1', $db->pg_port, 5432);
	my $out = qx{make -C $copy --no-print-directory -s BUILD=$PP::BUILD migrate-widen 2>&1};
	is($? >> 8, 0, 'make migrate-widen on the widened table: nothing to do') or diag $out;
	is(scalar(grep { /unknown setting PING_PONG_DB_PROT/ } split /\n/, $out), 1, 'a warning said once') or diag $out;
}

# --check-config: a runtime directory too long for its sockets, as a start refuses it (t/74).
{
	local %ENV = %ENV;
	delete @ENV{grep { $_ =~ $clean } keys %ENV};
	my $long = $db->dir . '/' . ('d' x (108 - length($db->dir . '/') - length('/state/auth-log.sock')));
	$ENV{PING_PONG_RUNTIME_DIR} = $long;
	my $out = qx{cd $copy && $PP::ROOT/$PP::BUILD/pingpong-supervise --check-config 2>&1};
	is($? >> 8, 2, 'pingpong-supervise --check-config with a runtime directory too long for its sockets: exit 2');
	like($out, qr{PING_PONG_RUNTIME_DIR=\Q$long\E is too long: .*must fit a Unix socket address \(108 bytes with the NUL\)}, 'saying why')
	    or diag $out;
	ok(!-e $long, 'nothing was made');
	$ENV{PING_PONG_RUNTIME_DIR} = substr($long, 0, -1);
	$out = qx{cd $copy && $PP::ROOT/$PP::BUILD/pingpong-supervise --check-config 2>&1};
	is($? >> 8, 0, 'one byte shorter: passes') or diag $out;
}

$db->teardown;
done_testing;
