# Each credential kind asks for a token with exactly the right request, and
# the token reaches Prometheus as a bearer token; no credentials: a clear 503.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PP qw(wait_until slurp);
use AuthStack;

my $scope = 'https://prometheus.monitor.azure.com/.default';

sub query_ok {
	my ($pp, $prom, $what) = @_;
	my $r;
	ok(wait_until(5, sub { $r = $pp->auth_get('/api/v1/query?query=up'); $r->{status} == 200 }),
	    "$what: a query succeeds") or diag explain $r;
	my @seen = $prom->requests('prom');
	return $seen[-1];
}

# 1. Client secret.
{
	my ($pp, $aad, $prom) = AuthStack::start(cred => 'client_secret');
	my $got = query_ok($pp, $prom, 'client secret');
	my ($req) = $aad->requests('aad');
	is($req->{method}, 'POST', 'client secret: POST');
	is($req->{path}, '/tenant-1/oauth2/v2.0/token', 'to <authority>/<tenant>/oauth2/v2.0/token');
	is($req->{headers}{'content-type'}, 'application/x-www-form-urlencoded', 'form encoded');
	is_deeply($req->{form}, { grant_type => 'client_credentials', client_id => 'client-1',
	    scope => $scope, client_secret => $pp->{env}{AZURE_CLIENT_SECRET} }, 'exactly the form fields of a client secret grant');
	is($got->{headers}{authorization}, 'Bearer ' . ($aad->tokens_issued)[0], 'Prometheus gets the issued token as a bearer token');
	my $h = $pp->auth_get('/health');
	is($h->{status}, 200, '/health 200 with a token');
	like($h->{content}, qr/"status":"healthy".*"token_valid":true.*"credential":"client_secret"/, '/health says healthy, client_secret');
	like($h->{content}, qr/"expires_at":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ".*"time_to_expiry_seconds":(\d+)/, 'with the expiry');
	my ($ttl) = $h->{content} =~ /"time_to_expiry_seconds":(\d+)/;
	ok($ttl > 3500 && $ttl <= 3600, "time to expiry counted from receipt ($ttl)");
	unlike($pp->log . $h->{content}, qr/\Q$pp->{env}{AZURE_CLIENT_SECRET}\E/, 'the secret is in no log and no answer');
}

# 2. Workload identity: the file is read afresh for every token request.
{
	my ($pp, $aad, $prom) = AuthStack::start(cred => 'workload_identity', token_mode => 'ok 3');
	query_ok($pp, $prom, 'workload identity');
	my ($req) = $aad->requests('aad');
	is_deeply($req->{form}, { grant_type => 'client_credentials', client_id => 'client-1', scope => $scope,
	    client_assertion_type => 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
	    client_assertion => 'jwt-one.part2.part3' }, 'exactly the form fields of a federated credential grant');
	FakeAzure::write_file($pp->{env}{AZURE_FEDERATED_TOKEN_FILE}, "jwt-two.rotated.sig\n");
	ok(wait_until(6, sub { grep { $_->{form}{client_assertion} eq 'jwt-two.rotated.sig' } $aad->requests('aad') }),
	    'the rotated token file is used at the next refresh');
	like($pp->auth_get('/health')->{content}, qr/"credential":"workload_identity"/, '/health names workload_identity');
}

# 3. Managed identity through IMDS.
{
	my ($pp, $aad, $prom) = AuthStack::start(cred => 'managed_identity');
	query_ok($pp, $prom, 'managed identity');
	my ($req) = $aad->requests('imds');
	is($req->{method}, 'GET', 'IMDS: GET');
	is($req->{path}, '/metadata/identity/oauth2/token', 'IMDS path');
	is($req->{headers}{metadata}, 'true', 'Metadata: true');
	is_deeply($req->{form}, { 'api-version' => '2018-02-01', resource => 'https://prometheus.monitor.azure.com',
	    client_id => 'mi-client-1' }, 'api-version, resource without /.default, client_id');
	my ($ttl) = $pp->auth_get('/health')->{content} =~ /"time_to_expiry_seconds":(\d+)/;
	ok($ttl > 3500, 'string expires_in of IMDS understood');
}

# 4. No credentials: the proxy runs and says why.
{
	my ($pp, $aad, $prom) = AuthStack::start(cred => 'none');
	my $r = $pp->auth_get('/api/v1/query?query=up');
	is($r->{status}, 503, 'no credentials: a query gets 503');
	like($r->{content}, qr/^\{"status":"error","errorType":"unavailable","error":"no valid Azure AD token: no credentials configured/,
	    'a Prometheus API error body saying why');
	my $h = $pp->auth_get('/health');
	is($h->{status}, 503, '/health 503');
	like($h->{content}, qr/"status":"unhealthy".*"token_valid":false.*"reason":"no credentials configured/, '/health gives the reason');
	is($pp->auth_get('/health/live')->{status}, 200, '/health/live 200 all the same');
	my @asked = $aad->requests;
	is(scalar @asked, 0, 'nothing was asked of Azure');
	is(scalar(grep { /no credentials configured/ } split /\n/, $pp->log), 1, 'one clear log line at start');
}

# 5. Contradictory settings: one line, and the documented winner.
{
	my ($pp, $aad, $prom) = AuthStack::start(cred => 'workload_identity',
	    env => { AZURE_CLIENT_SECRET => 'also-a-secret' });
	query_ok($pp, $prom, 'secret and token file');
	like($pp->log, qr/both AZURE_CLIENT_SECRET and AZURE_FEDERATED_TOKEN_FILE are set; using the client secret/, 'says which wins');
	ok(exists(($aad->requests('aad'))[0]{form}{client_secret}), 'and uses the client secret');
	unlike($pp->log, qr/also-a-secret/, 'without printing it');
}
{
	my ($pp) = AuthStack::start(cred => 'none', env => { AZURE_CLIENT_SECRET => 'lonely-secret' });
	like($pp->auth_get('/health')->{content}, qr/AZURE_TENANT_ID is missing/, 'an incomplete client secret says what is missing');
	unlike($pp->log, qr/lonely-secret/, 'without printing the secret');
}

done_testing;
