# The token's size, lifetime and the federated assertion's size at their
# limits, through the real nginx and token helper against FakeAzure:
# tokens up to PP_TOKEN_MAX (16 KiB) reach Prometheus whole, a longer one is
# refused clearly; absurd lifetimes are clamped to a day and the refresh
# thread never spins; an assertion too large to send is never sent cut.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(time sleep);
use Time::Local qw(timegm);
use PP qw(wait_until slurp);
use AuthStack;

my $max = PP::limit('PP_TOKEN_MAX');
is($max, 16384, 'PP_TOKEN_MAX is 16 KiB');

sub helper_pid { $_[0]->pids_of('pingpong-authproxy')->[0] }

# CPU the helper uses over 2 s of what should be idle waiting.
sub idle_cpu {
	my ($pp) = @_;
	my $pid = helper_pid($pp) or return 99;
	my $c0 = PP->cpu_seconds($pid);
	sleep 2;
	return PP->cpu_seconds($pid) - $c0;
}

# 1. Tokens of 4, 8 and 16 KiB pass whole (nginx's default 4k buffer for
#    /_token made every query a 503 past about 4 KiB).
for my $size (4096, 8192, $max) {
	my ($pp, $aad, $prom) = AuthStack::start(token_mode => "ok 3600 size $size");
	my $r;
	ok(wait_until(5, sub { $r = $pp->auth_get('/api/v1/query?query=up'); $r->{status} == 200 }),
	    "$size-byte token: a query succeeds") or diag "$r->{status} $r->{content}";
	my ($tok) = $aad->tokens_issued;
	is(length $tok, $size, "$size-byte token issued");
	is((($prom->requests('prom'))[-1] // {})->{headers}{authorization}, "Bearer $tok", "$size-byte token: Prometheus got it whole");
	like($pp->auth_get('/health')->{content}, qr/"token_valid":true/, "$size-byte token: /health healthy");
}

# 2. One byte over: refused by the helper, said once per attempt, never logged.
{
	my ($pp, $aad, $prom) = AuthStack::start(token_mode => 'ok 3600 size ' . ($max + 1));
	my $r;
	ok(wait_until(5, sub { $r = $pp->auth_get('/api/v1/query?query=up'); $r->{status} == 503 && $r->{content} =~ /access_token/ }),
	    'a token over the limit: queries get 503');
	like($r->{content}, qr/"error":"no valid Azure AD token: client_secret: token endpoint answer: the access_token has 16385 bytes, more than the 16384 this proxy passes on"/,
	    'a Prometheus error body saying why');
	like($pp->auth_get('/health')->{content}, qr/"token_valid":false.*16385 bytes/, '/health says why');
	my @lines = grep { /16385 bytes/ } split /\n/, $pp->log;	# before the requests: each logged one was made
	my @asked = $aad->requests('aad');
	ok(@asked >= 1 && @lines <= @asked && @lines >= @asked - 1,
	    scalar(@lines) . ' log lines for ' . scalar(@asked) . ' attempts: one each');
	my ($tok) = $aad->tokens_issued;
	my $stem = substr $tok, 0, 30;
	unlike($pp->log . $r->{content}, qr/\Q$stem\E/, 'the token is in no log line and no answer');
	is(scalar(my @up = $prom->requests('prom')), 0, 'no query went upstream');
}

# 3. Lifetimes: huge, far, negative, not a number.
sub expires_at_epoch {
	my ($body) = @_;
	my ($y, $mo, $d, $h, $mi, $s) = $body =~ /"expires_at":"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z"/ or return undef;
	return timegm($s, $mi, $h, $d, $mo - 1, $y);
}
for my $case (['expires_in 1e300', '{"token_type":"Bearer","expires_in":1e300,"access_token":"TOKEN"}'],
    ['expires_on far away', '{"token_type":"Bearer","expires_on":"99999999999","access_token":"TOKEN"}'],
    ['expires_in "1e300" as a string', '{"token_type":"Bearer","expires_in":"1e300","access_token":"TOKEN"}']) {
	my ($what, $body) = @$case;
	my ($pp, $aad, $prom) = AuthStack::start(token_mode => "body $body");
	my $h;
	ok(wait_until(5, sub { $h = $pp->auth_get('/health'); $h->{status} == 200 }), "$what: a token");
	my $at = expires_at_epoch($h->{content});
	ok(defined $at && $at > time + 86400 - 120 && $at <= time + 86400 + 5,
	    "$what: expires_at clamped to a day") or diag $h->{content};
	my ($ttl) = $h->{content} =~ /"time_to_expiry_seconds":(-?\d+)/;
	ok($ttl > 86000 && $ttl <= 86400, "$what: time to expiry $ttl s");
	ok(wait_until(5, sub { $pp->log =~ /token obtained, expires in 86400 s, next refresh in 43200 s/ }), "$what: refresh at half the clamped life");
	my $cpu = idle_cpu($pp);
	cmp_ok($cpu, '<', 0.2, "$what: the helper waits without spinning ($cpu CPU s over 2 s)");
	is($pp->auth_get('/api/v1/query?query=up')->{status}, 200, "$what: queries flow");
}

# A huge lifetime with the server's refresh_in: refreshed when it says.
{
	my ($pp, $aad, $prom) = AuthStack::start(token_mode =>
	    'body {"token_type":"Bearer","expires_in":1e300,"refresh_in":1,"access_token":"TOKEN"}');
	ok(wait_until(8, sub { $aad->tokens_issued >= 3 }), 'expires_in 1e300 with refresh_in 1: refreshed again and again');
	my %used;
	for (1 .. 20) {
		$pp->auth_get('/api/v1/query?query=up');
		%used = map { ($_->{headers}{authorization} // '') => 1 } $prom->requests('prom');
		last if keys %used >= 2;
		sleep 0.3;
	}
	ok(keys %used >= 2, 'and the new tokens are used upstream');
}

for my $case (['negative', '-5'], ['"NaN"', '"NaN"'], ['"-inf"', '"-inf"'], ['"abc"', '"abc"']) {
	my ($what, $v) = @$case;
	my ($pp, $aad, $prom) = AuthStack::start(token_mode =>
	    qq(body {"token_type":"Bearer","expires_in":$v,"access_token":"TOKEN"}));
	my $h;
	ok(wait_until(5, sub { $h = $pp->auth_get('/health'); $h->{content} =~ /no valid expires_in/ }),
	    "expires_in $what: refused");
	is($h->{status}, 503, "expires_in $what: /health 503");
	my $cpu = idle_cpu($pp);
	cmp_ok($cpu, '<', 0.2, "expires_in $what: no spin ($cpu CPU s over 2 s)");
	my $n = () = $aad->requests('aad');
	ok($n >= 2 && $n <= 8, "expires_in $what: retried with backoff ($n attempts)");
}

# 4. Workload identity: an assertion too large to send is refused before
#    anything is sent (it went out cut at 20479 bytes); a 16,000-byte
#    base64url one (a real JWT's alphabet) goes whole.
{
	my ($pp, $aad, $prom) = AuthStack::start(cred => 'workload_identity', env => { AUTH_PROXY_RETRY_MAX_MS => 60000 },
	    assertion => ('a+b/' x 4000) . "\n");
	my $h;
	ok(wait_until(5, sub { $h = $pp->auth_get('/health'); $h->{content} =~ /request too large/ }),
	    '16,000 characters needing escapes: /health says so');
	like($h->{content}, qr/"reason":"workload_identity: request too large \(not sent\)"/, 'the reason, clearly');
	sleep 1;
	is(scalar(my @sent = $aad->requests('aad')), 0, 'nothing was sent');
	is(scalar(grep { /request too large/ } split /\n/, $pp->log), 1, 'logged once');
}
{
	my $jwt = join('.', 'A' x 6000, 'b-_9' x 2000, 'c' x 1998);
	is(length $jwt, 16000, 'a 16,000-byte assertion');
	my ($pp, $aad, $prom) = AuthStack::start(cred => 'workload_identity', assertion => "$jwt\n");
	my $req;
	ok(wait_until(5, sub { ($req) = $aad->requests('aad'); $req }), 'it was sent');
	is($req->{headers}{'content-length'}, length $req->{body}, 'Content-Length matches the body received');
	is($req->{form}{client_assertion}, $jwt, 'and the assertion arrived whole');
}

done_testing;
