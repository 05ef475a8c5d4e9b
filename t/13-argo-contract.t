# The real AnalysisTemplate, measured as Argo's web provider would against
# the running auth proxy: under the threshold Successful, over it Failed,
# no token or no data an Error (never a success).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use YAML::XS qw(LoadFile);
use PP qw(wait_until);
use AuthStack;
use ArgoWeb;

my $doc = LoadFile("$PP::ROOT/manifests/ping-pong/ping-pong-analysis-template-sidecar.yaml");
is($doc->{kind}, 'AnalysisTemplate', 'the manifest is an AnalysisTemplate');
is($doc->{metadata}{name}, 'ping-pong-cpu-analysis-sidecar', 'named ping-pong-cpu-analysis-sidecar');
my @metrics = @{ $doc->{spec}{metrics} };
ok(@metrics >= 1, 'with metrics');
my ($cpu) = grep { $_->{name} eq 'cpu-usage' } @metrics;
ok($cpu, 'a cpu-usage metric');
my $web = $cpu->{provider}{web};
is($web->{method}, 'POST', 'web provider, POST');
is($web->{url}, 'http://ping-pong-svc.exercises.svc.cluster.local:8080/api/v1/query', 'to the sidecar through the Service');
like(FakeAzure::form_decode($web->{body})->{query}, qr/^avg\(rate\(container_cpu_usage_seconds_total\{.*container="ping-pong".*\}\[5m\]\)\)$/,
    'the body is the URL-encoded PromQL of the average CPU rate over 5m');
for my $k (qw(interval count failureLimit)) { ok(defined $cpu->{$k}, "$k is set") }

my ($pp, $aad, $prom) = AuthStack::start(cred => 'workload_identity');
ok(wait_until(5, sub { $pp->auth_get('/health')->{status} == 200 }), 'the proxy holds a token');
my $base = 'http://127.0.0.1:' . $pp->auth_port;

$prom->set_prom('value 0.05');
my ($phase, $v) = ArgoWeb::measure($cpu, $base);
is($phase, 'Successful', "CPU 0.05: Successful ($v)");
my $seen = ($prom->requests('prom'))[-1];
is($seen->{body}, $web->{body}, 'Prometheus received the template\'s body unchanged');
like($seen->{headers}{authorization}, qr/^Bearer fake-token-/, 'with the bearer token');

$prom->set_prom('value 0.9');
($phase, $v) = ArgoWeb::measure($cpu, $base);
is($phase, 'Failed', "CPU 0.9: Failed ($v)");

$prom->set_prom('empty');
($phase, $v) = ArgoWeb::measure($cpu, $base);
is($phase, 'Error', "no data: Error ($v)");

$prom->set_prom('status 403');
($phase, $v) = ArgoWeb::measure($cpu, $base);
is($phase, 'Error', "upstream 403: Error ($v)");

my ($pp2) = AuthStack::start(cred => 'none');
($phase, $v) = ArgoWeb::measure($cpu, 'http://127.0.0.1:' . $pp2->auth_port);
is($phase, 'Error', "no token: Error, not a success ($v)");

# The error-ratio metric, driven the same way.
my ($err) = grep { $_->{name} eq 'error-ratio' } @metrics;
ok($err, 'an error-ratio metric');
my $args = { 'canary-hash' => '6d9f7c8b5' };
like(FakeAzure::form_decode(ArgoWeb::expand($err->{provider}{web}{body}, $args))->{query},
    qr/^sum\(rate\(pingpong_requests_total\{route="\/pingpong",code=~"5\.\.",pod=~"ping-pong-app-6d9f7c8b5-\.\*"\}\[2m\]\)\) \/ sum\(rate\(pingpong_requests_total\{route="\/pingpong",pod=~"ping-pong-app-6d9f7c8b5-\.\*"\}\[2m\]\)\)$/,
    'the ratio of 5xx to all /pingpong answers of the canary pods');
my %tmpl_args = map { $_->{name} => 1 } @{ $doc->{spec}{args} || [] };
ok($tmpl_args{'canary-hash'}, 'the template declares the canary-hash argument');
$prom->set_prom('value 0.01');
($phase, $v) = ArgoWeb::measure($err, $base, $args);
is($phase, 'Successful', "error ratio 0.01: Successful ($v)");
is(FakeAzure::form_decode(($prom->requests('prom'))[-1]{body})->{query} =~ /6d9f7c8b5/ ? 1 : 0, 1, 'Prometheus got the query with the canary hash');
$prom->set_prom('value 0.2');
($phase, $v) = ArgoWeb::measure($err, $base, $args);
is($phase, 'Failed', "error ratio 0.2: Failed ($v)");
$prom->set_prom('empty');
($phase, $v) = ArgoWeb::measure($err, $base, $args);
is($phase, 'Error', "no data: Error ($v)");
$prom->set_prom('value NaN');
($phase, $v) = ArgoWeb::measure($err, $base, $args);
isnt($phase, 'Successful', "no traffic (NaN): not a success ($phase)");

done_testing;
