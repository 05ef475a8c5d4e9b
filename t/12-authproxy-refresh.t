# Token lifecycle: refresh before expiry with no failed query; retries with
# backoff on 500, 429 + Retry-After and a hanging endpoint; the old token
# kept while valid; no token -> 503 and /health says why; recovery.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(time sleep);
use PP qw(wait_until);
use AuthStack;

# Tokens living 4 s, queries every 100 ms for 9 s: never a failure.
{
	my ($pp, $aad, $prom) = AuthStack::start(token_mode => 'ok 4');
	ok(wait_until(5, sub { $pp->auth_get('/health')->{status} == 200 }), 'first token');
	my ($n, $bad) = (0, 0);
	my $end = time + 9;
	while (time < $end) {
		$n++;
		$bad++ if $pp->auth_get('/api/v1/query?query=up')->{status} != 200;
		sleep 0.1;
	}
	is($bad, 0, "no failed query among $n across several expiries");
	my @issued = $aad->tokens_issued;
	ok(@issued >= 3, scalar(@issued) . ' tokens fetched, each before the last expired');
	my %used = map { ($_->{headers}{authorization} // '') => 1 } $prom->requests('prom');
	ok(keys %used >= 3, 'and the new ones were used upstream');
}

# The endpoint fails with 500 after the first token: retries back off, the
# old token serves until it expires, then 503 with the reason, then recovery.
{
	my ($pp, $aad, $prom) = AuthStack::start(token_mode => 'ok 6');
	ok(wait_until(5, sub { $pp->auth_get('/health')->{status} == 200 }), 'first token (6 s)');
	$aad->set_token('status 500');
	my $t_fail = time;
	# The refresh comes 3 s after the token was obtained, which may have
	# been just before $t_fail; the old token serves until 6 s.
	ok(wait_until(5, sub { $pp->auth_get('/api/v1/query?query=up')->{status} == 200 && grep { $_->{t} > $t_fail } $aad->requests('aad') }),
	    'a refresh failed and the old token still serves');
	ok(wait_until(8, sub { $pp->auth_get('/api/v1/query?query=up')->{status} == 503 }), 'once it expires: 503');
	my $r = $pp->auth_get('/api/v1/query?query=up');
	like($r->{content}, qr/^\{"status":"error","errorType":"unavailable","error":"no valid Azure AD token: client_secret: token endpoint answered HTTP 500/, 'a Prometheus error with the reason');
	my $h = $pp->auth_get('/health');
	is($h->{status}, 503, '/health 503');
	like($h->{content}, qr/"token_valid":false.*"reason":"client_secret: token endpoint answered HTTP 500 temporarily_unavailable"/, '/health gives the error code');
	is($pp->auth_get('/health/live')->{status}, 200, '/health/live 200');
	my @t = map { $_->{t} } grep { $_->{t} > $t_fail } $aad->requests('aad');
	my @gaps = map { $t[$_] - $t[$_ - 1] } 1 .. $#t;
	ok(@gaps >= 3, scalar(@t) . ' attempts');
	ok($gaps[2] > $gaps[0] * 1.5, sprintf('backing off: gaps %s', join(' ', map { sprintf '%.2f', $_ } @gaps)));
	ok((grep { $_ <= 2.5 } @gaps) == @gaps, 'never longer than the configured maximum');
	$aad->set_token('ok 3600');
	ok(wait_until(4, sub { $pp->auth_get('/api/v1/query?query=up')->{status} == 200 }), 'the endpoint comes back: queries flow again');
}

# 429 with Retry-After: the next attempt waits at least that long.
{
	my ($pp, $aad, $prom) = AuthStack::start(token_mode => 'status 429 retry-after 2');
	ok(wait_until(5, sub { $aad->requests('aad') >= 2 }), 'retried after a 429');
	my @t = map { $_->{t} } $aad->requests('aad');
	ok($t[1] - $t[0] >= 1.9, sprintf('Retry-After honoured (%.2f s)', $t[1] - $t[0]));
}

# A hanging endpoint: the request times out (AUTH_PROXY_TOKEN_TIMEOUT=2) and is retried.
{
	my ($pp, $aad, $prom) = AuthStack::start(token_mode => 'hang');
	ok(wait_until(8, sub { $aad->requests('aad') >= 2 }), 'a hanging token endpoint is retried');
	like($pp->auth_get('/health')->{content}, qr/"reason":"client_secret: token endpoint unreachable: Timeout/, '/health says it timed out');
	is($pp->auth_get('/health/live')->{status}, 200, 'the proxy stays live');
	$aad->set_token('ok 3600');
	ok(wait_until(8, sub { $pp->auth_get('/health')->{status} == 200 }), 'and recovers');
}

# A 400 is not retried at once (it will not fix itself), and says why.
{
	my ($pp, $aad, $prom) = AuthStack::start(token_mode => 'status 400');
	ok(wait_until(3, sub { $pp->auth_get('/health')->{content} =~ /invalid_client AADSTS7000215/ }), '400: /health names the error and AADSTS code');
	sleep 1;
	# A second try is legitimate once the backoff maximum (2 s) has passed
	# since the first, which a slow start may have made before the probe.
	my @t = map { $_->{t} } $aad->requests('aad');
	ok(@t == 1 || (@t == 2 && $t[1] - $t[0] >= 1.9), 'and it was not retried within the backoff maximum')
	    or diag explain \@t;
}

done_testing;
