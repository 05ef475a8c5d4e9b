# Forwarding through 8080: bearer token in, client Authorization out, bodies
# and query strings unchanged, upstream answers unchanged, every error a
# Prometheus API error body, and the token nowhere a client or log can see.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use PP qw(wait_until slurp);
use AuthStack;

my ($pp, $aad, $prom) = AuthStack::start(cred => 'client_secret', env => { AUTH_PROXY_TIMEOUT => 2 });
ok(wait_until(5, sub { $pp->auth_get('/health')->{status} == 200 }), 'a token is held');
my ($token) = $aad->tokens_issued;
my $ua = HTTP::Tiny->new(timeout => 20);

# GET with a query string, and a client Authorization header that must not pass.
my $r = $ua->get($pp->auth_url('/api/v1/query?query=sum%28rate%28x%5B5m%5D%29%29&time=1700000000'),
    { headers => { Authorization => 'Bearer client-forged', Cookie => 'a=b' } });
is($r->{status}, 200, 'GET /api/v1/query 200');
is($r->{content}, '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000.123,"0.25"]}]}}',
    'the upstream body comes back unchanged');
my $got = ($prom->requests('prom'))[-1];
is($got->{headers}{authorization}, "Bearer $token", 'upstream gets the helper\'s token, not the client\'s');
is($got->{query}, 'query=sum%28rate%28x%5B5m%5D%29%29&time=1700000000', 'the query string arrives unchanged');
is($got->{path}, '/api/v1/query', 'at the same path');
ok(!exists $got->{headers}{cookie}, 'client cookies are not forwarded');

# POST form bodies, as Argo's web provider sends them.
my $form = 'query=avg%28rate%28container_cpu_usage_seconds_total%7Bpod%3D~%22ping-pong.%2A%22%7D%5B5m%5D%29%29&time=1700000000';
for my $path (qw(/api/v1/query /api/v1/query_range /api/v1/series /api/v1/labels /api/v1/label/job/values)) {
	$r = $ua->request('POST', $pp->auth_url($path), { content => $form,
	    headers => { 'Content-Type' => 'application/x-www-form-urlencoded' } });
	is($r->{status}, 200, "POST $path 200");
	$got = ($prom->requests('prom'))[-1];
	is($got->{body}, $form, "POST $path: the form body arrives unchanged");
	is($got->{path}, $path, "POST $path: same path upstream");
}

# Upstream refusals pass through unchanged, and are logged clearly.
for my $code (401, 403) {
	$prom->set_prom("status $code");
	$r = $pp->auth_get('/api/v1/query?query=up');
	is($r->{status}, $code, "upstream $code passed through");
	like($r->{content}, qr/fake upstream refusal/, "with the upstream's body");
}
ok(wait_until(5, sub { $pp->log =~ /upstream refused the token: 401 .*Monitoring Data Reader/ }), 'an upstream 401 is logged clearly');

# Upstream hang -> 504; down -> 502.
$prom->set_prom('hang');
$r = $pp->auth_get('/api/v1/query?query=up');
is($r->{status}, 504, 'upstream hang: 504');
is($r->{content}, qq({"status":"error","errorType":"timeout","error":"Prometheus upstream timed out"}\n), 'as a Prometheus error body');
$prom->stop;
$r = $pp->auth_get('/api/v1/query?query=up');
is($r->{status}, 502, 'upstream down: 502');
like($r->{content}, qr/^\{"status":"error","errorType":"unavailable"/, 'as a Prometheus error body');

# Refusals of the proxy itself.
$r = $pp->auth_get('/_token');
is($r->{status}, 404, 'the internal token location is 404 from outside');
unlike($r->{content} . join('', values %{ $r->{headers} }), qr/\Q$token\E/, 'and gives nothing away');
for my $p ('/nope', '/api/v1/admin/tsdb/delete_series', '/api/v1/query/../../x', '/api/v2/query', '/') {
	$r = $pp->auth_get($p);
	is($r->{status}, 404, "GET $p 404");
	like($r->{content}, qr/"status":"error"/, "$p: a JSON error");
}
for my $m (qw(PUT DELETE PATCH)) {
	$r = $ua->request($m, $pp->auth_url('/api/v1/query'));
	is($r->{status}, 405, "$m /api/v1/query 405");
	is($r->{headers}{allow}, 'GET, POST', 'with Allow');
}
$r = $ua->request('POST', $pp->auth_url('/api/v1/query'), { content => 'query=' . ('x' x (2 * 1024 * 1024)),
    headers => { 'Content-Type' => 'application/x-www-form-urlencoded' } });
is($r->{status}, 413, 'a 2 MiB body: 413');
like($r->{content}, qr/"errorType":"bad_data"/, 'as a Prometheus error body');

# A Host header or an absolute URI cannot steer the proxy elsewhere.
my $evil = FakeAzure->new($pp->dir . '/fake-evil');
my $prom2 = FakeAzure->new($pp->dir . '/fake-prom2');
for my $req ("GET /api/v1/query?query=up HTTP/1.1\r\nHost: 127.0.0.1:" . $evil->port . "\r\nConnection: close\r\n\r\n",
    "GET http://127.0.0.1:" . $evil->port . "/api/v1/query?query=up HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") {
	my $ans = PP::raw_http($pp->auth_port, $req)->{raw};
	like($ans, qr{^HTTP/1\.1 502}, 'a steering attempt goes to the configured (stopped) upstream only');
}
my @evil = $evil->requests;
is(scalar @evil, 0, 'nothing reached the other server');

# The token appears in no log, no answer and not in /health.
my $h = $pp->auth_get('/health')->{content};
unlike($pp->log . $h, qr/\Q$token\E/, 'the token is in no log line and not in /health');
# Regular files only: access.fifo (nginx's access records) never ends.
unlike(join('', map { slurp($_) } grep { -f } glob($pp->dir . '/run/*') ), qr/\Q$token\E/, 'nor in any file of the runtime directory');

done_testing;
