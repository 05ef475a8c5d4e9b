# nginx's config is rendered by the launcher (launcher/render.c): every value
# goes in as it is, &, @X@-like text and all, never read again; no
# placeholder is left; $ and \, which nginx would read as a variable or an
# escape, are refused in every value rendered, with one line naming it.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use POSIX qw(:sys_wait_h);
use PP qw(wait_until slurp);

my $pp = PP->new(role => 'all', start => 0);
my $rundir = $pp->dir . '/r&un@APP_PORT@x@RUNDIR@y&&@PROMETHEUS_PASS@';
my $prom = 'http://127.0.0.1:9/p&q@PROMETHEUS_PASS@x@LISTEN@&&/';
$pp->{env}{PING_PONG_RUNTIME_DIR} = $rundir;
$pp->{env}{AUTH_PROXY_PROMETHEUS_URL} = $prom;
$pp->{env}{AUTH_PROXY_CREDENTIAL} = 'none';
$pp->start;
is($pp->get('/pingpong')->{status}, 200, 'a runtime directory with & and @X@ in its name: the stack serves');
is($pp->auth_get('/health/live')->{status}, 200, 'the auth proxy too');
my $conf = slurp("$rundir/nginx.conf");
ok(index($conf, "pid $rundir/nginx.pid;") >= 0, 'the pid file\'s path, as given');
ok(index($conf, "server unix:$rundir/app.sock;") >= 0, 'the app socket\'s');
ok(index($conf, "fastcgi_pass unix:$rundir/auth.sock;") >= 0, 'the token helper\'s');
ok(index($conf, "syslog:server=unix:$rundir/state/auth-log.sock,") >= 0, 'the state directory\'s');
ok(index($conf, "client_body_temp_path $rundir/nginx/body;") >= 0, 'nginx\'s temp paths');
ok(index($conf, 'proxy_pass http://127.0.0.1:9/p&q@PROMETHEUS_PASS@x@LISTEN@&&/api/v1/;') >= 0,
    'the Prometheus URL, as given (its last / dropped)');
(my $rest = $conf) =~ s/\Q$_\E//g for $rundir, 'p&q@PROMETHEUS_PASS@x@LISTEN@&&';
unlike($rest, qr/\@[A-Z0-9_]+\@/, 'no placeholder is left') or diag join "\n", $rest =~ /(.*\@[A-Z0-9_]+\@.*)/g;
$pp->stop;
ok(!-e $rundir, 'and the directory, made by the launcher, is gone after the stop');

# An & in the listen address goes to nginx as it is (which cannot resolve it).
$pp->{env}{PING_PONG_RUNTIME_DIR} = $pp->dir . '/run';
$pp->{env}{PING_PONG_LISTEN_ADDRESS} = '127.0.0.1&@APP_PORT@';
$pp->start(nowait => 1);
my $pid = $pp->{pid};
ok(wait_until(20, sub { waitpid($pid, WNOHANG) == $pid }), 'an & in the listen address: the stack stops');
delete $pp->{pid};
like($pp->log, qr/nginx failed to start: .*127\.0\.0\.1&\@APP_PORT\@:\d+/, 'nginx saw the address as given');
$pp->{env}{PING_PONG_LISTEN_ADDRESS} = '127.0.0.1';

# A placeholder the launcher has no value for (a template newer than the
# launcher): the start stops, naming it, and nothing is left behind.
{
	my $share = $pp->dir . '/share';
	mkdir $share;
	system('cp', '-r', "$PP::ROOT/nginx", "$share/") == 0
	    or die 'copy of the templates failed';
	open my $t, '>>', "$share/nginx/app.conf.in" or die;
	print $t "    # \@NO_SUCH_VALUE\@\n";
	close $t;
	my $q = PP->new(role => 'app', db => 0, start => 0, env => { PP_SHARE => $share });
	$q->start(nowait => 1);
	my $qpid = $q->{pid};
	ok(wait_until(20, sub { waitpid($qpid, WNOHANG) == $qpid }), 'a placeholder without a value: the launcher ends');
	isnt($? >> 8, 0, 'with a failure status');
	delete $q->{pid};
	like($q->log, qr/CRITICAL launcher\[\d+\] request_id=- \S+\/nginx\/app\.conf\.in: \@NO_SUCH_VALUE\@ has no value/, 'naming it and the template');
	ok(!-e $q->dir . '/run', 'nothing left: the runtime directory it made is gone');
	$q->teardown;
}

# $ and \ in every value rendered: refused before anything starts.
for my $bad ([PING_PONG_RUNTIME_DIR => $pp->dir . '/r$un', 'without spaces, control characters, quotes, braces, ;, #, $ or \\'],
    [PING_PONG_RUNTIME_DIR => $pp->dir . '/r\\un', 'without spaces, control characters, quotes, braces, ;, #, $ or \\'],
    [PING_PONG_LISTEN_ADDRESS => '127.0.0.1$x', 'without spaces, control characters, quotes, braces, ;, #, $ or \\'],
    [PING_PONG_LISTEN_ADDRESS => '127.0.0.1\\', 'without spaces, control characters, quotes, braces, ;, #, $ or \\'],
    [AUTH_PROXY_PROMETHEUS_URL => 'http://h/$x', 'without spaces, control characters, quotes, braces, ;, $ or \\'],
    [AUTH_PROXY_PROMETHEUS_URL => 'http://h/\\x', 'without spaces, control characters, quotes, braces, ;, $ or \\']) {
	my ($name, $value, $what) = @$bad;
	my $q = PP->new(role => 'all', db => 0, start => 0, env => { $name => $value });
	$q->start(nowait => 1);
	my $qpid = $q->{pid};
	ok(wait_until(20, sub { waitpid($qpid, WNOHANG) == $qpid }), "$name=$value: the launcher ends");
	is($? >> 8, 2, "$name=$value: exit 2");
	delete $q->{pid};
	my @lines = grep { /\S/ } split /\n/, $q->log;
	is(scalar @lines, 1, "$name=$value: one line") or diag $q->log;
	# The log shows a backslash as \x5c (log.c escapes it).
	my ($shown, $said) = map { s/\\/\\x5c/gr } "$name=$value", $what;
	like($lines[0] // '', qr/\Q$shown\E is invalid: expected .*\Q$said\E/, "$name=$value: naming it");
	ok(!-e $q->dir . '/run' && !-e $q->dir . '/r$un' && !-e $q->dir . '/r\\un', "$name=$value: nothing made");
	$q->teardown;
}
$pp->teardown;
done_testing;
