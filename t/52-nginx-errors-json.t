# Every error nginx makes itself on the app's port (3000) and log-output's
# (8000) is the JSON error the programs answer there ({"error": "..."},
# application/json), never nginx's HTML page (nginx/errors.conf.in): bad
# requests (400), an internal path (404), TRACE (405), bodies over the
# limit (413), URIs and headers too long (414, 494 -> 400), a body nginx
# cannot write to disk (500), an unknown transfer coding (501), HTTP/2.0
# on HTTP/1 (505), the program not listening or killed holding the
# request (502), frozen past nginx's deadline (504).  The programs' own
# errors pass unchanged.  t/45 does the same for 8080.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep time);
use PP qw(wait_until);
use Faults;

# nginx waits connect (2 s) + statement (2 s) + 3 s for a worker; a worker
# waiting on a frozen database holds its request for 4 s.
my $pp = PP->new(env => { PING_PONG_WORKERS => 2, PING_PONG_DB_STATEMENT_TIMEOUT => 2000 });
my %port = (worker => $pp->app_port, 'log-output' => $pp->log_port);
my %sock = (worker => 'app.sock', 'log-output' => 'log.sock');
my %pids = (worker => sub { $pp->worker_pids }, 'log-output' => sub { $pp->pids_of('pingpong-logoutput') });
my %count = (worker => 2, 'log-output' => 1);
my $end = "Host: x\r\nConnection: close\r\n\r\n";

sub is_json_error {
	my ($what, $want, $r, $says) = @_;
	is($r->{status}, $want, "$what: $want") or diag $r->{raw};
	is($r->{headers}{'content-type'}, 'application/json', "$what: application/json");
	my $j = eval { decode_json($r->{content}) };
	ok(ref $j eq 'HASH' && defined $j->{error} && keys %$j == 1, qq($what: a JSON {"error": ...} body))
	    or diag $r->{raw};
	like($j->{error} // '', $says, "$what: says $says") if $says;
	unlike($r->{raw}, qr/<html/i, "$what: no HTML");
}

# The state letter of each of a process's threads (T: stopped).
sub threads_state { map { (PP::slurp($_) =~ /\) (\S)/)[0] // 'gone' } glob "/proc/$_[0]/task/*/stat" }

# Answering again, every process respawned (so a test freezes them all).
sub serving {
	my ($part) = @_;
	return wait_until(10, sub { @{ $pids{$part}->() } == $count{$part}
	    && PP::raw_http($port{$part}, "GET /health HTTP/1.1\r\n$end")->{status} == 200 });
}

for my $part (sort keys %port) {
	my $p = $port{$part};
	my $req = sub { PP::raw_http($p, $_[0]) };
	is_json_error("$part: a request line that is not HTTP", 400, $req->("GARBAGE\r\n\r\n"), qr/^bad request$/);
	is_json_error("$part: a NUL byte in the path", 400, $req->("GET /ping\x00pong HTTP/1.1\r\n$end"));
	is_json_error("$part: two Host headers", 400, $req->("GET /health HTTP/1.1\r\nHost: y\r\n$end"));
	is_json_error("$part: HTTP/1.1 without Host", 400, $req->("GET /health HTTP/1.1\r\nConnection: close\r\n\r\n"));
	is_json_error("$part: the internal error page from outside", 404, $req->("GET /_error/502 HTTP/1.1\r\n$end"), qr/^not found$/);
	is_json_error("$part: TRACE", 405, $req->("TRACE /health HTTP/1.1\r\n$end"));
	is_json_error("$part: a body over the limit", 413,
	    $req->("POST /health HTTP/1.1\r\nContent-Length: 2000000\r\n$end"), qr/larger than \d+ bytes/);
	is_json_error("$part: a 9000-byte URI", 414, $req->('GET /health?' . ('u' x 9000) . " HTTP/1.1\r\n$end"));
	is_json_error("$part: a 9000-byte header", 400,
	    $req->("GET /health HTTP/1.1\r\nX-Big: " . ('h' x 9000) . "\r\n$end"), qr/header too large/);
	is_json_error("$part: an unknown transfer coding", 501,
	    $req->("POST /health HTTP/1.1\r\nTransfer-Encoding: gzip\r\n$end"));
	is_json_error("$part: HTTP/2.0 on HTTP/1", 505, $req->("GET /health HTTP/2.0\r\n$end"));
}

# The programs' own errors pass unchanged: their 405 names what is allowed.
for my $part (sort keys %port) {
	my $r = PP::raw_http($port{$part}, "PUT /health HTTP/1.1\r\nContent-Length: 0\r\n$end");
	is($r->{status}, 405, "$part: its own 405 passes");
	is($r->{headers}{allow}, 'GET, HEAD', "$part: with its Allow header");
}

# A 500: nginx keeps a body over 10 KiB (client_body_buffer_size, 8 KiB,
# and a quarter) in a file under the runtime directory, and a file where
# that directory was makes the write fail.
my $body_dir = $pp->dir . '/run/nginx/body';
rename $body_dir, "$body_dir.away" or die "rename: $!";
open my $fh, '>', $body_dir or die "$body_dir: $!";
close $fh;
for my $part (sort keys %port) {
	is_json_error("$part: a body nginx cannot write", 500,
	    PP::raw_http($port{$part}, "POST /health HTTP/1.1\r\nContent-Length: 16000\r\n$end" . ('b' x 16000)),
	    qr/^internal error$/);
}
unlink $body_dir or die;
rename "$body_dir.away", $body_dir or die "rename: $!";

# Nothing listening: the socket moved away; the workers killed, so that no
# connection nginx kept to one of them answers.
for my $part (sort keys %port) {
	my $s = $pp->dir . "/run/$sock{$part}";
	rename $s, "$s.away" or die "rename: $!";
	kill 'KILL', @{ $pids{$part}->() } if $part eq 'worker';
	is_json_error("$part: nothing listening", 502,
	    PP::raw_http($port{$part}, "GET /health HTTP/1.1\r\n$end"), qr/^\Q$part\E unavailable$/);
	rename "$s.away", $s or die "rename: $!";
	ok(serving($part), "$part: serving again");
}

# Frozen past nginx's deadline (fastcgi_read_timeout: 7 s on 3000, 10 s on 8000).
for my $part (sort keys %port) {
	my @p = @{ $pids{$part}->() };
	ok(@p, "$part: running (@p)");
	kill 'STOP', @p;
	# The request goes once every thread of theirs is stopped, not when kill returns.
	ok(wait_until(10, sub { !grep { $_ ne 'T' } map { threads_state($_) } @p }), "$part: stopped");
	my $t0 = time;
	my $r = PP::raw_http($port{$part}, "GET /health HTTP/1.1\r\n$end", 30);
	my $took = time - $t0;
	my $states = join " ", map { "$_:" . join("", threads_state($_)) } @p;
	kill 'CONT', @p;
	is_json_error("$part: frozen", 504, $r, qr/^\Q$part\E timed out$/);
	diag sprintf("$part was @p ($states after the answer, %.2f s), now", $took) . " @{ $pids{$part}->() }\n" . $pp->log
	    if $r->{status} != 504;
	ok(serving($part), "$part: serving again");
}

# Bytes and connections the frozen database has not read yet, on its socket.
sub pg_unread {
	my $path = $pp->pgdir . '/.s.PGSQL.' . $pp->pg_port;
	my $n = 0;
	for (split /\n/, qx{ss -xan}) {
		my @f = split;
		$n += $f[2] if @f >= 5 && $f[4] eq $path;
	}
	return $n;
}

# Killed holding the request: the database frozen, a worker holds /pings
# for 4 s, and log-output holds / while it asks ping-pong (2 s at most).
# The kill comes once the request's statement (or connection) reached the
# database, 3 s at most after it was sent; the pids are taken before.  The
# database is frozen for one part at a time: log-output's request leaves a
# worker waiting on it, and under load that worker's own deadline (its 503)
# could come before the worker part's kill.  Each freeze lists the cluster
# anew (Faults::freeze_pg): that worker may since have reconnected, to a
# backend an earlier list lacks, which answered /pings while "frozen".
for my $part (sort keys %port) {
	my $path = $part eq 'worker' ? '/pings' : '/';
	my @p = @{ $pids{$part}->() };
	my @pg = Faults::freeze_pg($pp);
	my $before = pg_unread();
	my $reached;
	my $r = PP::raw_http($port{$part}, "GET $path HTTP/1.1\r\n$end", 30, sub {
		$reached = wait_until(3, sub { pg_unread() > $before });
		kill 'KILL', @p;
	});
	kill 'CONT', @pg;
	is_json_error("$part: killed holding the request", 502, $r, qr/^\Q$part\E unavailable$/);
	ok($reached, "$part: killed once the request reached the database");
	ok(serving($_), "$part: $_ serving again") for sort keys %port;
}

# The database down: the workers' own 503, with its Retry-After, passes.
$pp->pg_stop;
my $r = PP::raw_http($port{worker}, "GET /pingpong HTTP/1.1\r\n$end");
is($r->{status}, 503, 'database down: the workers\' 503');
is($r->{content}, qq({"error": "database unavailable"}\n), 'with their body');
is($r->{headers}{'retry-after'}, '1', 'and Retry-After');

unlike($pp->log, qr/empty URI in redirect/, 'no error page failed to redirect');

done_testing;
