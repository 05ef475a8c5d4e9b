# Every line of the stack arrives whole, once, in one format, whatever
# stdout is: the launcher is the one writer of stdout and stderr
# (launcher/accesslog.c reads nginx's access records from a FIFO).
#   - `bin/pingpong > file 2>&1` (no O_APPEND) and `>> file` under load:
#     one access line per 200 the clients got, the launcher's lines after
#     them, nothing overwritten;
#   - a client's URI in 8080's upstream-denied line cannot forge a line,
#     however long (the URI is cut with a marker, never split);
#   - bytes 0x80-0xFF in a request keep the JSON access log valid JSON
#     (invalid UTF-8 becomes U+FFFD; valid UTF-8 passes).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep);
use PP qw(wait_until);
use AuthStack;

my $stamp = qr/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/;
my $text = qr/^$stamp (?:DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w-]+\[\d+\] request_id=\S+ /;

for my $mode ('>', '>>') {
	my $pp = PP->new(role => 'app', stdout => $mode,
	    env => { PING_PONG_ACCESS_LOG => 'on', PING_PONG_NGINX_WORKERS => 2 });
	my @res = $pp->load(clients => 6, requests => 150, seconds => 60, keep_alive => 0);
	my ($n, $other) = PP->pongs(@res);
	is($other, 0, "stdout opened with $mode: " . scalar(@res) . ' pongs under load');
	$pp->stop;
	is($pp->{last_exit} >> 8, 0, "$mode: stopped with status 0");
	my $log = $pp->log;
	unlike($log, qr/\0/, "$mode: no NUL byte (nothing written over a hole)");
	my @lines = split /\n/, $log;
	my @odd = grep { !/$text/ } @lines;
	is(scalar @odd, 0, "$mode: all " . scalar(@lines) . ' lines whole and in the log format') or diag join "\n", @odd[0 .. 4];
	my $port = $pp->app_port;
	my @access = grep { m{^$stamp INFO nginx\[\d+\] request_id=[0-9a-f]{32} 127\.0\.0\.1 "GET /pingpong HTTP/1\.1" 200 \d+ [\d.]+ port=$port$} } @lines;
	is(scalar @access, scalar @$n, "$mode: one whole access line per 200 the clients got");
	like($lines[-1], qr/INFO launcher\[\d+\] request_id=- stopped$/, "$mode: the launcher's last line is the last line");
	my @starts = grep { /INFO launcher\[\d+\] request_id=- (?:role app|listening on|signal Terminated|stopped)/ } @lines;
	is(scalar @starts, 4, "$mode: the launcher's own lines, each once");
	$pp->teardown;
}

# 8080: Prometheus refuses the token; the URI is a label name of 7 KiB,
# holding what would be a line of its own were the line split, at every
# offset of it; and one of 20 KiB (nginx refuses it: 414).
{
	my ($pp, $aad, $fake) = AuthStack::start(cred => 'client_secret');
	ok(wait_until(20, sub { $pp->auth_get('/health')->{status} == 200 }), 'the proxy holds a token');
	$fake->set_prom('status 403');
	my $forged = '2026-12-06T00:00:00.000Z CRITICAL worker[1] request_id=- counter guard: FORGED';
	(my $unit = "%0A$forged") =~ s/ /%20/g;
	my $denied = 0;
	for my $pad (0 .. 40) {
		my $label = ('a' x $pad) . ($unit x int(7000 / length $unit));
		my $r = PP::raw_http($pp->auth_port, "GET /api/v1/label/$label/values HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
		$denied++ if $r->{status} == 403;
	}
	is($denied, 41, 'the upstream refused each (403)');
	my $r = PP::raw_http($pp->auth_port, 'GET /api/v1/label/' . ($unit x int(20480 / length $unit)) . "/values HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	is($r->{status}, 414, 'a 20 KiB URI: 414');
	ok(wait_until(10, sub { (() = $pp->log =~ /upstream refused the token/g) >= 41 }), 'one WARNING line per refusal');
	$pp->stop;
	my @lines = split /\n/, $pp->log;
	my @odd = grep { !/$text/ } @lines;
	is(scalar @odd, 0, 'every line has the log format') or diag substr(join("\n", @odd[0 .. 2]), 0, 2000);
	my @forged = grep { /^\S+ CRITICAL worker\[1\]/ || /^\Q$forged\E/ } @lines;
	is(scalar @forged, 0, 'no forged line');
	my @warn = grep { /WARNING nginx\[\d+\] request_id=[0-9a-f]{32} upstream refused the token: 403 for \/api\/v1\/label\// } @lines;
	is(scalar @warn, 41, 'each refusal one WARNING line');
	is(scalar(grep { /\Q...[cut]\E/ && length($_) < 4096 } @warn), 41, 'each cut, marked, under 4 KiB');
	$pp->teardown;
}

# Bytes 0x80-0xFF in the JSON access log.
{
	my $pp = PP->new(role => 'app', env => { PING_PONG_ACCESS_LOG => 'on', PING_PONG_LOG_FORMAT => 'json' });
	my $bytes = join '', map { chr } 0x80 .. 0xff;
	my $r = PP::raw_http($pp->app_port, "GET /x$bytes\xc3\xa9?q=\xff\xfe\" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	ok($r->{status} == 404 || $r->{status} == 400, "a request line with bytes 0x80-0xFF is answered ($r->{status})");
	$pp->stop;
	my @lines = grep { /\S/ } split /\n/, $pp->log;
	my @bad = grep { !eval { decode_json($_); 1 } } @lines;
	is(scalar @bad, 0, 'json: every line is valid JSON (' . scalar(@lines) . ' lines)') or diag explain \@bad;
	my ($line) = grep { /"uri":"\/x/ } @lines;
	my $j = decode_json($line // '{}');
	is($j->{uri}, "/x" . ("\x{fffd}" x 128) . "\x{e9}?q=\x{fffd}\x{fffd}\"",
	    'the URI: each byte that is not UTF-8 is U+FFFD, valid UTF-8 passes, a quote is escaped');
	is($j->{port}, $pp->app_port, 'and the port that answered');
	$pp->teardown;
}

done_testing;
