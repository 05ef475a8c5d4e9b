# The real AnalysisTemplate, measured as Argo's web provider would
# (t/lib/ArgoWeb.pm) through a running auth proxy against a real
# Prometheus (t/lib/Prom.pm) that scrapes the running stack as the canary
# pod, and a stand-in cAdvisor for CPU. Only Azure's token endpoint is
# fake. Two Prometheus servers scrape the same stack, each with its own
# relabelling, and every outcome below holds under both:
#   azure: Azure Monitor's own pod-annotation job, verbatim (what AKS
#     writes: pod labels, kubernetes_namespace, kubernetes_pod_name);
#   project: manifests/monitoring/scrape-config.yml.
# PP_ANALYSIS_TEMPLATE=file measures another template (to show an old one
# failing).
#   healthy canary, 0 % errors: Successful, a number;
#   canary's database unreachable (5xx): Failed;
#   canary burning CPU while the stable pods do not: Failed;
#   no traffic at all: Inconclusive (the template's decision);
#   no canary data, no token, Prometheus down, proxy down: Error.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use POSIX ();
use Time::HiRes qw(sleep);
use YAML::XS qw(LoadFile);
use PP qw(wait_until);
use AuthStack;
use ArgoWeb;
use FakeAzure;
use Prom;

my $doc = LoadFile($ENV{PP_ANALYSIS_TEMPLATE} || "$PP::ROOT/manifests/ping-pong/ping-pong-analysis-template-sidecar.yaml");
my $ro = LoadFile("$PP::ROOT/manifests/ping-pong/ping-pong-rollout.yaml");
is($doc->{kind}, 'AnalysisTemplate', 'the manifest is an AnalysisTemplate');
is($doc->{metadata}{name}, 'ping-pong-cpu-analysis-sidecar', 'named ping-pong-cpu-analysis-sidecar');
my %targ = map { $_->{name} => $_ } @{ $doc->{spec}{args} };
ok($targ{'canary-hash'} && !defined $targ{'canary-hash'}{value}, 'canary-hash is an argument without a default');
is($targ{window}{value}, '5m', 'the rate window is an argument, 5m in production');
for my $step (grep { $_->{analysis} } @{ $ro->{spec}{strategy}{canary}{steps} }) {
	my %a = map { $_->{name} => $_ } @{ $step->{analysis}{args} };
	is($a{'canary-hash'}{valueFrom}{podTemplateHashValue}, 'Latest', 'the Rollout passes the canary\'s pod-template hash');
	ok(!$a{window}, 'and leaves the window at the production default');
}
for my $m (@{ $doc->{spec}{metrics} }) {
	my $web = $m->{provider}{web};
	is($web->{method}, 'POST', "$m->{name}: POST");
	is($web->{url}, 'http://ping-pong-svc.exercises.svc.cluster.local:8080/api/v1/query', "$m->{name}: to the sidecar through the Service");
	ok(defined $m->{$_}, "$m->{name}: $_ is set") for qw(interval count failureLimit consecutiveErrorLimit);
}
eval { ArgoWeb::metric($doc, 'cpu-usage', {}) };
like($@, qr/args\.canary-hash was not resolved/, 'without the canary hash there is no AnalysisRun');

# The contract's own semantics, on canned bodies, so it cannot pass vacuously.
ok(!eval { ArgoWeb::jsonpath({ data => { result => [] } }, '{$.data.result[0].value[1]}'); 1 }, 'an empty result: the jsonPath finds nothing');
ok(!eval { ArgoWeb::condition('asFloat(result) < 0.2', 'abc'); 1 }, 'asFloat of a non-number cannot be evaluated');
is(ArgoWeb::condition('asFloat(result) < 0.2', 'NaN') + ArgoWeb::condition('asFloat(result) >= 0.2', 'NaN'), 0, 'NaN makes every comparison false');

# The stack (app + auth proxy + database) is the canary pod; each
# Prometheus scrapes it through the pod template's own annotations and
# ports, and each has an auth proxy of its own in front (the azure one is
# the stack's own).
my @scrapers = qw(azure project);
my %prom = map { $_ => Prom->new(scraper => $_) } @scrapers;
my ($pp, $aad) = AuthStack::start(cred => 'workload_identity', role => 'all', prometheus => $prom{azure}->url);	# keep $aad: it issues the tokens
my ($pproxy, $paad) = AuthStack::start(cred => 'workload_identity', prometheus => $prom{project}->url);
my %base = (azure => 'http://127.0.0.1:' . $pp->auth_port, project => 'http://127.0.0.1:' . $pproxy->auth_port);
my ($hash, $stable) = ('6d9f7c8b5', '58c7d4f9b6');
my $canary = "ping-pong-app-$hash-x7k2p";
my @stable = map { "ping-pong-app-$stable-$_" } qw(a1b2c d3e4f g5h6i);
for my $s (@scrapers) {
	$prom{$s}->pods({ name => $canary, namespace => 'exercises', template => $ro->{spec}{template}, hash => $hash,
	    ports => { 3000 => $pp->app_port, 8080 => $pp->auth_port } });
	$prom{$s}->cadvisor({ $canary => 0.05, map { $_ => 0.05 } @stable });
}
sub cadvisor { $prom{$_}->cadvisor(@_) for @scrapers }
for my $p ($pp, $pproxy) {
	ok(wait_until(20, sub { $p->auth_get('/health')->{status} == 200 }), 'an auth proxy holds a token');
}
my %args = ('canary-hash' => $hash, window => '10s');
sub measure {
	my ($s, $name, %o) = @_;
	return ArgoWeb::measure(ArgoWeb::metric($doc, $name, { %args, %{ $o{args} || {} } }), $o{base} || $base{$s});
}
# The query a metric sends, as PromQL.
sub promql { FakeAzure::form_decode(ArgoWeb::metric($doc, $_[0], \%args)->{provider}{web}{body})->{query} }
# Waits until every Prometheus has a value of $expr that satisfies $pred.
sub wait_all {
	my ($secs, $expr, $pred, $what) = @_;
	for my $s (@scrapers) {
		ok($prom{$s}->wait_value($secs, $expr, $pred), "$s: $what") or diag $prom{$s}->log;
	}
}

wait_all(30, qq(count(up{kubernetes_pod_name="$canary"} == 1)), sub { $_[0] == 2 },
    'Prometheus scrapes both containers of the canary (3000 and 8080) through the pod annotations');
my $sel = qq(pingpong_requests_total{route="/pingpong",code="200",kubernetes_pod_name="$canary"});
wait_all(30, "count_over_time(${sel}[10s])", sub { $_[0] >= 4 }, 'a few scrapes of the canary are in');
for my $s (@scrapers) {
	my ($series) = @{ $prom{$s}->query($sel)->{data}{result} };
	my $m = $series->{metric};
	is_deeply([@$m{qw(kubernetes_namespace kubernetes_pod_name rollouts_pod_template_hash app)}], ['exercises', $canary, $hash, 'ping-pong'],
	    "$s: kubernetes_namespace, kubernetes_pod_name and the pod's labels (rollouts_pod_template_hash, app)");
	if ($s eq 'azure') {
		ok(!grep({ exists $m->{$_} } qw(namespace pod container)), 'azure: no namespace, pod or container label (what the old queries read)');
	} else {
		is_deeply([@$m{qw(namespace pod container)}], ['exercises', $canary, 'ping-pong'], 'project: namespace, pod and container as well');
	}
}

# No traffic yet: 0 / 0.  (rate() needs a window's worth of samples first.)
wait_all(30, promql('cpu-usage'), sub { $_[0] > 0.04 }, 'Prometheus has the CPU rates');
for my $s (@scrapers) {
	my ($phase, $v) = measure($s, 'error-ratio');
	is($phase, 'Inconclusive', "$s: no traffic at all: Inconclusive, the Rollout pauses for a person ($v)");
	is($v, 'NaN', "$s: the measured value is NaN, not an empty result");
	($phase, $v) = measure($s, 'cpu-usage');
	is($phase, 'Successful', "$s: canary CPU 0.05 cores: Successful ($v)");
	ok($v > 0.03 && $v < 0.07, "$s: and the value is the canary's rate");
}

# Healthy traffic, 0 % errors.
my $traffic = fork // die;
if ($traffic == 0) {
	my $ua = HTTP::Tiny->new(timeout => 5, keep_alive => 1);
	for (1 .. 6000) { $ua->get($pp->url('/pingpong')); sleep 0.02 }
	POSIX::_exit(0);
}
END { if ($traffic) { local $?; kill 'KILL', $traffic; waitpid($traffic, 0) } }
wait_all(30, qq(sum(rate(pingpong_requests_total{route=~"/pingpong|/",rollouts_pod_template_hash="$hash"}[10s]))), sub { $_[0] > 0 },
    'Prometheus sees the canary\'s pongs');
for my $i (1 .. 3) {
	for my $s (@scrapers) {
		my ($phase, $v) = measure($s, 'error-ratio');
		is($phase, 'Successful', "$s: healthy canary, measurement $i: Successful ($v)");
		ok($v =~ /^[0-9.]+(?:e-?\d+)?$/ && $v <= 0.05, "$s: a number, not an empty result or NaN ($v; 0 unless the loaded machine timed a pong out)");
	}
	sleep 1 if $i < 3;
}

# CPU: the canary hot while the stable pods are not, then the other way.
cadvisor({ $canary => 0.6, map { $_ => 0.05 } @stable });
wait_all(30, promql('cpu-usage'), sub { $_[0] > 0.5 }, 'Prometheus sees the canary\'s CPU rise');
for my $s (@scrapers) {
	my ($phase, $v) = measure($s, 'cpu-usage');
	is($phase, 'Failed', "$s: canary at 0.6 cores, stable at 0.05: Failed ($v)");
	my ($diluted) = $prom{$s}->results('avg(rate(container_cpu_usage_seconds_total{namespace="exercises",container="ping-pong"}[10s]))');
	ok($diluted < 0.2, "$s: (averaged with the stable pods it would pass: $diluted)");
}
cadvisor({ $canary => 0.05, map { $_ => 0.9 } @stable });
wait_all(30, 'max(rate(container_cpu_usage_seconds_total{container="ping-pong",pod!~"' . "ping-pong-app-$hash-.*" . '"}[10s]))',
    sub { $_[0] > 0.8 }, 'stable pods hot');
wait_all(30, promql('cpu-usage'), sub { $_[0] < 0.1 }, 'canary cool');
for my $s (@scrapers) {
	my ($phase, $v) = measure($s, 'cpu-usage');
	is($phase, 'Successful', "$s: stable pods at 0.9 cores do not fail the canary ($v)");
}

# The canary's database unreachable: its pongs are 503s.
$pp->pg_stop('immediate');
wait_all(30, promql('error-ratio'), sub { $_[0] > 0.5 }, 'Prometheus sees the canary\'s 5xx');
for my $s (@scrapers) {
	my ($phase, $v) = measure($s, 'error-ratio');
	is($phase, 'Failed', "$s: canary answering 5xx: Failed ($v)");
}

# No data for the canary (another hash: no such pods): an empty result.
for my $s (@scrapers) {
	my ($phase, $v) = measure($s, 'error-ratio', args => { 'canary-hash' => 'ffffffff' });
	is($phase, 'Error', "$s: no series for the canary: Error ($v)");
	($phase, $v) = measure($s, 'cpu-usage', args => { 'canary-hash' => 'ffffffff' });
	is($phase, 'Error', "$s: no CPU series for the canary: Error ($v)");
}
$pproxy->teardown;

# No token: a proxy without credentials, in front of the same Prometheus.
my ($none) = AuthStack::start(cred => 'none', prometheus => $prom{azure}->url);
for my $name ('error-ratio', 'cpu-usage') {
	my ($phase, $v) = measure('azure', $name, base => 'http://127.0.0.1:' . $none->auth_port);
	is($phase, 'Error', "$name without a token: Error, not a success ($v)");
}
$none->teardown;

# Prometheus (or Azure Monitor) refusing the token, as without the Monitoring Data Reader role.
my ($denied, $denied_aad, $fake) = AuthStack::start(cred => 'client_secret');
ok(wait_until(20, sub { $denied->auth_get('/health')->{status} == 200 }), 'a proxy holding a token') or diag $denied->auth_get('/health')->{content}, $denied->log;
$fake->set_prom('status 403');
my ($phase, $v) = measure('azure', 'error-ratio', base => 'http://127.0.0.1:' . $denied->auth_port);
is($phase, 'Error', "upstream 403: Error ($v)");
$denied->teardown;

# Prometheus down, then the proxy down.
$prom{azure}->stop;
for my $name ('error-ratio', 'cpu-usage') {
	($phase, $v) = measure('azure', $name);
	is($phase, 'Error', "$name with Prometheus down: Error ($v)");
}
$pp->stop;
for my $name ('error-ratio', 'cpu-usage') {
	($phase, $v) = measure('azure', $name);
	is($phase, 'Error', "$name with the proxy down: Error ($v)");
}

done_testing;
