# Configuration: every invalid value stops the start with status 2 and one
# clear line, before anything starts; .env is read; secrets never shown.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
use PP qw(slurp);

my $secret = 'pw-' . int(rand 1e9) . '-SECRET';
my $dir = tempdir('pingpong-cfg-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;	# as root, --check-config refuses a ./var/run here nginx's user cannot reach

# Runs the launcher in $dir with %env; returns (exit status, output).
sub launch {
	my (%env) = @_;
	local %ENV = (%ENV, PING_PONG_ROLE => 'app', PING_PONG_RUNTIME_DIR => "$dir/run", PING_PONG_DB_PASSWORD => $secret,
	    PP_BUILD => $PP::BUILD, %env);
	delete $ENV{$_} for grep { !defined $ENV{$_} } keys %ENV;
	my $out = qx{cd $dir && timeout 20 $PP::ROOT/bin/pingpong 2>&1 </dev/null};
	return ($? >> 8, $out);
}

mkdir "$dir/adir";
my @bad = (
	[PING_PONG_APP_PORT => '0', 'an integer from 1 to 65535'],
	[PING_PONG_APP_PORT => '70000', 'an integer from 1 to 65535'],
	[PING_PONG_APP_PORT => 'abc', 'an integer from 1 to 65535'],
	[PING_PONG_APP_PORT => '', 'an integer from 1 to 65535'],
	[PING_PONG_LOG_LEVEL => 'verbose', 'one of DEBUG, INFO, WARNING, ERROR, CRITICAL'],
	[PING_PONG_DB_PORT => 'abc', 'an integer from 1 to 65535'],
	[PING_PONG_DB_PORT => '5432x', 'an integer from 1 to 65535'],
	[PING_PONG_WORKERS => '0', 'an integer from 1 to 64'],
	[PING_PONG_DB_PASSWORD_FILE => "$dir/missing", 'a readable file'],
	[PING_PONG_DB_PASSWORD_FILE => "$dir/adir", 'a readable file'],
	[PING_PONG_GROUP_INCREMENTS => 'maybe', 'on or off'],
	[AUTH_PROXY_PROMETHEUS_URL => 'http://x/;return 200 x', 'an http:// or https:// URL without spaces'],
	[AUTH_PROXY_PROMETHEUS_URL => 'https://x/${host}', 'an http:// or https:// URL without spaces'],
	# Host and port lists, as libpq takes them (docs/ha.md).
	[PING_PONG_DB_PORT => '5432,abc', 'an integer from 1 to 65535, or a comma-separated list'],
	[PING_PONG_DB_PORT => '5432,', 'an integer from 1 to 65535, or a comma-separated list'],
	[PING_PONG_DB_PORT => '0', 'an integer from 1 to 65535'],
	[PING_PONG_DB_HOST => 'db1,,db3', 'a host name, address or socket directory, or a comma-separated list'],
	[PING_PONG_DB_HOST => 'db1, db2', 'a host name, address or socket directory, or a comma-separated list'],
	[PING_PONG_DB_HOST => '', 'a host name, address or socket directory'],
	[PING_PONG_DB_HOST => join(',', ('db') x 17), 'a host name, address or socket directory'],
);
for my $b (@bad) {
	my ($name, $value, $accepted) = @$b;
	my ($rc, $out) = launch($name => $value);
	is($rc, 2, "$name=$value: exit status 2");
	my @lines = grep { /\S/ } split /\n/, $out;
	is(scalar @lines, 1, "$name=$value: one line") or diag $out;
	like($out, qr/\Q$name=$value\E is invalid: expected \Q$accepted\E/,
	    "$name=$value: names the variable, the value and what is accepted");
	unlike($out, qr/\Q$secret\E/, "$name=$value: no password in the output");
	ok(!-e "$dir/run/nginx.conf" && !-e "$dir/run/app.sock", "$name=$value: nothing was started");
}

# One port for every host, or one per host; anything else names both settings.
my ($rc, $out) = launch(PING_PONG_DB_HOST => 'db1,db2,db3', PING_PONG_DB_PORT => '5432,5433');
is($rc, 2, 'two ports for three hosts: exit 2');
like($out, qr/PING_PONG_DB_PORT=5432,5433 is invalid: expected one port for every host or one per host \(2 ports for the 3 hosts of PING_PONG_DB_HOST=db1,db2,db3\)/,
    'and says which counts differ');
for my $ok (['db1,db2', '5432'], ['db1,/var/run/postgresql', '5432,6432'], ['db1', '5432']) {
	local @ENV{qw(PING_PONG_DB_HOST PING_PONG_DB_PORT)} = @$ok;
	system("cd $dir && $PP::ROOT/$PP::BUILD/pingpong-worker --check-config");
	is($? >> 8, 0, "host list $ok->[0], ports $ok->[1]: accepted");
}

($rc, $out) = launch(PING_PONG_ROLE => 'bogus');
is($rc, 2, 'an unknown role: exit 2');
like($out, qr/PING_PONG_ROLE=bogus is invalid: expected one of app\|authproxy\|log-output\|all/, 'and says so');
{
	local %ENV = (%ENV, PING_PONG_RUNTIME_DIR => "$dir/run", PP_BUILD => $PP::BUILD);
	$out = qx{cd $dir && timeout 20 $PP::ROOT/bin/pingpong bogus 2>&1 </dev/null};
	is($? >> 8, 2, 'an unknown role as the argument: exit 2');
	like($out, qr/role 'bogus' is invalid/, 'and says so');
}

# Two roles on one port (role all): refused, naming both settings; one role alone may use any.
($rc, $out) = launch(PING_PONG_ROLE => 'all', PING_PONG_APP_PORT => 3300, AUTH_PROXY_PORT => 3300);
is($rc, 2, 'role all, the app and the auth proxy on one port: exit 2');
is(scalar(grep { /\S/ } split /\n/, $out), 1, 'one line') or diag $out;
like($out, qr/AUTH_PROXY_PORT=3300 is invalid: expected a port of its own \(PING_PONG_APP_PORT=3300: role all serves both, one port each\)/,
    'naming both settings');
ok(!-e "$dir/run/nginx.conf", 'nothing was started');
($rc, $out) = launch(PING_PONG_ROLE => 'all', LOG_APP_PORT => 3301, AUTH_PROXY_PORT => 3301);
like($out, qr/LOG_APP_PORT=3301 is invalid: expected a port of its own \(AUTH_PROXY_PORT=3301/, 'log-output and the auth proxy too');
{
	local @ENV{qw(PING_PONG_APP_PORT AUTH_PROXY_PORT)} = (3300, 3300);
	system("cd $dir && $PP::ROOT/$PP::BUILD/pingpong-supervise --print-config=shell app >/dev/null");
	is($? >> 8, 0, 'role app alone: the auth proxy\'s port is not its business');
}

# Choices in any case, like levels: printed as listed.
{
	local @ENV{qw(PING_PONG_LOG_FORMAT AUTH_PROXY_CREDENTIAL)} = ('JSON', 'Managed_Identity');
	my $cfg = qx{cd $dir && $PP::ROOT/$PP::BUILD/pingpong-authproxy --print-config 2>&1};
	is($? >> 8, 0, 'PING_PONG_LOG_FORMAT=JSON, AUTH_PROXY_CREDENTIAL=Managed_Identity: accepted');
	like($cfg, qr/^PING_PONG_LOG_FORMAT=json$/m, 'JSON is json');
	like($cfg, qr/^AUTH_PROXY_CREDENTIAL=managed_identity$/m, 'Managed_Identity is managed_identity');
	($rc, $out) = launch(PING_PONG_LOG_FORMAT => 'JSON', PING_PONG_APP_PORT => 'x');
	like($out, qr/^\{"time":.*"level":"CRITICAL".*PING_PONG_APP_PORT=x is invalid/m, 'a start with JSON writes JSON lines');
	($rc, $out) = launch(PING_PONG_ROLE => 'ALL', PING_PONG_APP_PORT => 'x');
	like($out, qr/PING_PONG_APP_PORT=x is invalid/, 'PING_PONG_ROLE=ALL is a role');
}

# Choices match whole words: a value naming two choices is neither.
($rc, $out) = launch(PING_PONG_ROLE => 'authproxy', AUTH_PROXY_CREDENTIAL => 'auto|client_secret');
is($rc, 2, 'AUTH_PROXY_CREDENTIAL=auto|client_secret: exit 2');
like($out, qr/AUTH_PROXY_CREDENTIAL=auto\|client_secret is invalid/, 'and says so');
($rc, $out) = launch(PING_PONG_ROLE => 'authproxy', AUTH_PROXY_CREDENTIAL => 'auto|');
is($rc, 2, 'AUTH_PROXY_CREDENTIAL=auto| is not a choice either');

# .env: read like pydantic's, parsed and never executed; the environment wins.
open my $fh, '>', "$dir/.env" or die;
print $fh "# a comment\nexport PING_PONG_APP_PORT=abc\nPING_PONG_LOG_LEVEL='debug'\nX=\$(touch $dir/pwned)\n";
close $fh;
($rc, $out) = launch();
is($rc, 2, 'a bad value in .env: exit 2');
like($out, qr/PING_PONG_APP_PORT=abc is invalid/, '.env values are validated like the environment');
ok(!-e "$dir/pwned", '.env is parsed, never executed');
local $ENV{PING_PONG_APP_PORT} = 3000;
my $cfg = qx{cd $dir && $PP::ROOT/$PP::BUILD/pingpong-worker --print-config};
like($cfg, qr/^PING_PONG_APP_PORT=3000$/m, 'the environment wins over .env');
like($cfg, qr/^PING_PONG_LOG_LEVEL=DEBUG$/m, '.env fills what the environment lacks; levels in any case, printed normalised');
unlink "$dir/.env";

# A .env larger than PP_DOTENV_MAX is refused whole, never read cut short
# (a cut could end in the middle of a value).
open $fh, '>', "$dir/.env" or die;
print $fh "# padding\n" x 7000, "PING_PONG_LOG_LEVEL=debug\n";
close $fh;
$cfg = qx{cd $dir && $PP::ROOT/$PP::BUILD/pingpong-worker --print-config 2>&1};
is($? >> 8, 2, 'a 70 kB .env: exit 2');
like($cfg, qr/\.env: larger than 65536 bytes/, 'with one clear line');
unlink "$dir/.env";

# The password file wins over the variable, and is never printed.
open $fh, '>', "$dir/pw" or die;
print $fh "file-$secret\n";
close $fh;
{
	local $ENV{PING_PONG_DB_PASSWORD} = $secret;
	local $ENV{PING_PONG_DB_PASSWORD_FILE} = "$dir/pw";
	$cfg = qx{cd $dir && $PP::ROOT/$PP::BUILD/pingpong-worker --print-config};
}
like($cfg, qr/^PING_PONG_DB_PASSWORD=\*+$/m, '--print-config masks the password');
unlike($cfg, qr/\Q$secret\E/, 'neither password appears');

# A running stack with a password file and DEBUG logging, through an outage:
# neither password appears in any log line.
my $pp = PP->new(env => { PING_PONG_DB_PASSWORD => $secret, PING_PONG_DB_PASSWORD_FILE => "$dir/pw",
    PING_PONG_LOG_LEVEL => 'DEBUG', PING_PONG_ACCESS_LOG => 'on' });
is($pp->get('/pingpong')->{status}, 200, 'the stack serves with a password file');

$pp->pg_stop('immediate');
is($pp->get('/pingpong')->{status}, 503, 'database down: 503');
$pp->pg_start;
ok(PP::wait_until(5, sub { $pp->get('/pingpong')->{status} == 200 }), 'and back');
$pp->stop;
my $logs = $pp->log . slurp($pp->pgdir . '/postgres.log');
like($pp->log, qr/database: /, 'the outage was logged');
unlike($logs, qr/\Q$secret\E/, 'no password in any log');
like($pp->log, qr/DEBUG worker\[\d+\] request_id=- signal [A-Z][a-z][\w ]*: draining/, 'the stop\'s signal by its name, not its number');

# Role all wires itself: log-output asks this stack's port unless told otherwise.
{
	local $ENV{PING_PONG_APP_PORT} = 3123;
	$cfg = qx{cd $dir && $PP::ROOT/$PP::BUILD/pingpong-logoutput --print-config};
	like($cfg, qr/^LOG_APP_PING_PONG_SERVICE_PORT=3123$/m, 'log-output follows PING_PONG_APP_PORT');
	local $ENV{LOG_APP_PING_PONG_SERVICE_PORT} = 4000;
	$cfg = qx{cd $dir && $PP::ROOT/$PP::BUILD/pingpong-logoutput --print-config};
	like($cfg, qr/^LOG_APP_PING_PONG_SERVICE_PORT=4000$/m, 'unless LOG_APP_PING_PONG_SERVICE_PORT is set');
}

# The launcher's question: the settings as shell assignments, safe to eval
# whatever the values hold; derived values after them.
{
	local $ENV{PING_PONG_DB_NAME} = q{it's $(touch pwned) `touch pwned2`};
	local $ENV{PING_PONG_ACCESS_LOG} = 'YES';
	local $ENV{PING_PONG_WORKERS} = 9;
	local $ENV{PING_PONG_DB_MAX_CONNECTIONS} = 3;
	my $sh = qx{cd $dir && $PP::ROOT/$PP::BUILD/pingpong-supervise --print-config=shell app};
	is($? >> 8, 0, '--print-config=shell app');
	open my $out, '>', "$dir/cfg.sh" or die;
	print $out $sh;
	close $out;
	my $got = qx{cd $dir && bash -c 'eval "\$(cat cfg.sh)"; printf "%s|%s|%s|%s|%s" "\$cfg_PING_PONG_DB_NAME" "\$cfg_PING_PONG_ACCESS_LOG" "\$cfg_PING_PONG_ROLE" "\$cfg_workers_started" "\$cfg_db_host_given"'};
	unlink "$dir/cfg.sh";
	is($got, q{it's $(touch pwned) `touch pwned2`|on|app|3|0}, 'values survive eval unchanged, booleans normalised, derived values computed');
	ok(!-e "$dir/pwned" && !-e "$dir/pwned2", 'and nothing in them runs');
}

# The launcher's --check-config says what its start would: two roles of
# role all on one port are refused (it used to pass them, exit 0).
{
	local %ENV = (%ENV, PING_PONG_ROLE => 'all', PING_PONG_APP_PORT => 3300, AUTH_PROXY_PORT => 3300);
	my $said = qx{cd $dir && $PP::ROOT/$PP::BUILD/pingpong-supervise --check-config 2>&1};
	is($? >> 8, 2, 'pingpong-supervise --check-config, two roles on one port: exit 2');
	like($said, qr/AUTH_PROXY_PORT=3300 is invalid: expected a port of its own/, 'saying so') or diag $said;
	local $ENV{AUTH_PROXY_PORT} = 3301;
	$said = qx{cd $dir && $PP::ROOT/$PP::BUILD/pingpong-supervise --check-config 2>&1};
	is($? >> 8, 0, 'one port each: exit 0') or diag $said;
	is($said, '', 'and silent, as docs/configuration.md says');
}

# .env with Windows line endings (CRLF) reads like LF: every line is taken,
# no CR is left in a value.
open $fh, '>', "$dir/.env" or die;
print $fh "# written on Windows\r\nPING_PONG_WORKERS=3\r\nPING_PONG_LOG_FORMAT=\"json\"\r\nPING_PONG_DB_NAME='crlf'\r\n\r\nPING_PONG_DB_USER=u # note\r\n";
close $fh;
$cfg = qx{cd $dir && $PP::ROOT/$PP::BUILD/pingpong-worker --print-config 2>&1};
is($? >> 8, 0, 'a CRLF .env: accepted');
unlike($cfg, qr/WARNING/, 'without a warning about its lines') or diag $cfg;
like($cfg, qr/^PING_PONG_WORKERS=3$/m, 'a CRLF .env: a bare value is read');
like($cfg, qr/^PING_PONG_LOG_FORMAT=json$/m, 'a double-quoted one');
like($cfg, qr/^PING_PONG_DB_NAME=crlf$/m, 'a single-quoted one');
like($cfg, qr/^PING_PONG_DB_USER=u$/m, 'one with a comment after it');
unlike($cfg, qr/\r/, 'no CR anywhere');
unlink "$dir/.env";

# A UTF-8 byte order mark (Notepad's "UTF-8 with BOM", PowerShell 7's
# utf8BOM) before the first line: that line is read like the others.
open $fh, '>', "$dir/.env" or die;
print $fh "\xef\xbb\xbfPING_PONG_DB_NAME=bom\r\nPING_PONG_WORKERS=3\r\n";
close $fh;
$cfg = qx{cd $dir && $PP::ROOT/$PP::BUILD/pingpong-worker --print-config 2>&1};
is($? >> 8, 0, 'a .env with a BOM: accepted');
like($cfg, qr/^PING_PONG_DB_NAME=bom$/m, 'its first line is read');
unlike($cfg, qr/WARNING/, 'without a warning') or diag $cfg;
unlink "$dir/.env";

# A quoted value that does not close on its line (a secret spread over two
# lines): the start stops with status 2 and one line naming the line number,
# never a default password, never the text of either line.
open $fh, '>', "$dir/.env" or die;
print $fh "PING_PONG_LOG_LEVEL=info\nPING_PONG_DB_PASSWORD=\"first-$secret\nsecond-$secret\"\nPING_PONG_APP_PORT=3111\n";
close $fh;
{
	local $ENV{PING_PONG_DB_PASSWORD};
	delete $ENV{PING_PONG_DB_PASSWORD};
	($rc, $out) = launch(PING_PONG_DB_PASSWORD => undef);
}
is($rc, 2, 'a quoted value over two lines: exit 2');
my @lines = grep { /\S/ } split /\n/, $out;
is(scalar @lines, 1, 'one line') or diag $out;
like($out, qr/CRITICAL .*\.env line 2: a quoted value is not closed on its line/, 'naming the line');
unlike($out, qr/first|second|\Q$secret\E/, 'and no text of it');
ok(!-e "$dir/run/nginx.conf", 'nothing was started');
unlink "$dir/.env";

# Typos: an unknown PING_PONG_/AUTH_PROXY_/LOG_APP_ name in the environment
# or .env, and a line of .env that is not an assignment, get one warning
# each, naming the closest setting; the line's text (maybe a secret) is not shown.
open $fh, '>', "$dir/.env" or die;
print $fh "PING_PONG_WORKRES=4\nAUTH_PROXY_TIMEOUTS=3\nPING_PONG_DB_PASWORD $secret\nOTHER_APP_SETTING=1\n";
close $fh;
{
	local $ENV{LOG_APP_INTERVAL} = 3;
	local $ENV{PING_PONG_DB_PASSWORD} = $secret;
	$cfg = qx{cd $dir && $PP::ROOT/$PP::BUILD/pingpong-worker --check-config 2>&1};
}
is($? >> 8, 0, 'unknown names are warnings, not errors');
my @warn = grep { /WARNING/ } split /\n/, $cfg;
is(scalar @warn, 4, 'one warning each, none for names of other programs') or diag $cfg;
like($cfg, qr/unknown setting PING_PONG_WORKRES in \.env, ignored; the closest setting is PING_PONG_WORKERS/, 'a typo in .env names the setting meant');
like($cfg, qr/unknown setting AUTH_PROXY_TIMEOUTS in \.env.*closest setting is AUTH_PROXY_TIMEOUT\b/, 'another');
like($cfg, qr/unknown setting LOG_APP_INTERVAL in the environment.*closest setting is LOG_APP_PORT|unknown setting LOG_APP_INTERVAL in the environment.*closest setting is LOG_APP_LOG_INTERVAL_SECONDS/, 'a typo in the environment too');
like($cfg, qr/\.env line 3 is not NAME=value, ignored \(it starts with PING_PONG_DB_PASWORD; the closest setting is PING_PONG_DB_PASSWORD\)/, 'a malformed line, by number, with the closest setting');
unlike($cfg, qr/\Q$secret\E/, 'without the text of the line');

unlink "$dir/.env";

# The launcher reads booleans through the parser: TRUE is on for it too.
# It asks the parser once: each warning appears once in the stack's output.
{
	my $pp = PP->new(role => 'all', db => 0, start => 0, env => { PING_PONG_ACCESS_LOG => 'TRUE' });
	open $fh, '>', $pp->dir . '/.env' or die;
	print $fh "PING_PONG_WORKRES=4\n";
	close $fh;
	$pp->start;
	$pp->get('/health');
	$pp->get('/nothing-here');
	ok(PP::wait_until(5, sub { $pp->log =~ m{"GET /nothing-here HTTP/1.1" 404} }), 'PING_PONG_ACCESS_LOG=TRUE: the access log is on');
	$pp->stop;
	unlike($pp->log, qr{"GET /health HTTP}, 'and successful probes are left out of it by default');
	my @typo = $pp->log =~ /(PING_PONG_WORKRES)/g;
	is(scalar @typo, 1, 'the launcher warns once, not once per program') or diag $pp->log;
}

done_testing;
