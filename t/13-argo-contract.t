# The real AnalysisTemplate, measured as Argo's web provider would
# (t/lib/ArgoWeb.pm) through a running auth proxy (a stable pod's: the
# judge) against a real Prometheus (t/lib/Prom.pm) that scrapes two running
# stacks as the canary and a stable pod, and a stand-in cAdvisor for CPU.
# Only Azure's token endpoint is fake. Two Prometheus servers scrape the
# same stacks, each with its own relabelling, and every outcome below holds
# under both:
#   azure: Azure Monitor's own pod-annotation job, verbatim (what AKS
#     writes: pod labels, kubernetes_namespace, kubernetes_pod_name);
#   project: manifests/monitoring/scrape-config.yml.
#   no traffic at all: Inconclusive (the template's decision); the smoke
#     calls alone (a quiet cluster): a number, Successful;
#   healthy canary, 0 % errors, stable-like latency: Successful;
#   canary's database 0.7 s away (latency injected in front of it): latency
#     Failed, errors still Successful;
#   CPU: canary hot while stable pods idle, or 3x busy stable pods: Failed;
#     as hungry as busy stable pods, or cool beside hot ones: Successful;
#   canary's database unreachable (5xx): Failed, and smoke Error;
#   no canary data, no token, Prometheus down, proxy down: Error.
# PP_ANALYSIS_TEMPLATE=file measures another template (to show an old one
# failing).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use POSIX ();
use Time::HiRes qw(sleep);
use YAML::XS qw(LoadFile);
use PP qw(wait_until slurp);
use AuthStack;
use ArgoWeb;
use FakeAzure;
use Prom;
use DelayProxy;

my $doc = LoadFile($ENV{PP_ANALYSIS_TEMPLATE} || "$PP::ROOT/manifests/ping-pong/ping-pong-analysis-template-sidecar.yaml");
my $ro = LoadFile("$PP::ROOT/manifests/ping-pong/ping-pong-rollout.yaml");
is($doc->{kind}, 'AnalysisTemplate', 'the manifest is an AnalysisTemplate');
is($doc->{metadata}{name}, 'ping-pong-cpu-analysis-sidecar', 'named ping-pong-cpu-analysis-sidecar');
my %targ = map { $_->{name} => $_ } @{ $doc->{spec}{args} };
ok($targ{$_} && !defined $targ{$_}{value}, "$_ is an argument without a default") for qw(canary-hash stable-hash);
is($targ{window}{value}, '5m', 'the rate window is an argument, 5m in production');
my $canary_rollout = $ro->{spec}{strategy}{canary};
for my $step (grep { $_->{analysis} } @{ $canary_rollout->{steps} }) {
	my %a = map { $_->{name} => $_ } @{ $step->{analysis}{args} };
	is($a{'canary-hash'}{valueFrom}{podTemplateHashValue}, 'Latest', 'the Rollout passes the canary\'s pod-template hash');
	is($a{'stable-hash'}{valueFrom}{podTemplateHashValue}, 'Stable', 'and the stable pods\'');
	ok(!$a{window}, 'and leaves the window at the production default');
}
my %metric = map { $_->{name} => $_ } @{ $doc->{spec}{metrics} };
is_deeply([sort keys %metric], [qw(cpu-usage error-ratio latency-p99 smoke worker-restarts)], 'five metrics: smoke, error-ratio, latency-p99, cpu-usage, worker-restarts');
my $text = slurp($ENV{PP_ANALYSIS_TEMPLATE} || "$PP::ROOT/manifests/ping-pong/ping-pong-analysis-template-sidecar.yaml");
for my $m (grep { $_->{name} ne 'smoke' } @{ $doc->{spec}{metrics} }) {
	my $web = $m->{provider}{web};
	is($web->{method}, 'POST', "$m->{name}: POST");
	is($web->{url}, 'http://ping-pong-stable-proxy.exercises.svc.cluster.local:8080/api/v1/query', "$m->{name}: to the stable pods' auth proxies");
	ok(defined $m->{$_}, "$m->{name}: $_ is set") for qw(interval count failureLimit consecutiveErrorLimit);
	# The PromQL written above the body is the body's.
	my $q = FakeAzure::form_decode(ArgoWeb::metric($doc, $m->{name}, { 'canary-hash' => '<canary>', 'stable-hash' => '<stable>', window => '<window>' })->{provider}{web}{body})->{query};
	my ($c) = $text =~ /- name: \Q$m->{name}\E\n.*?((?:^ *#[^\n]*\n)+)^ *body:/ms;
	is(join(' ', map { s/^\s*#\s*//r } split /\n/, $c // '') =~ s/\s+/ /gr, $q =~ s/\s+/ /gr, "$m->{name}: the comment above the body is its PromQL");
}
is($metric{$_}{initialDelay}, '1m', "$_ waits for smoke's first answers to be scraped") for qw(error-ratio latency-p99);
my $smoke = $metric{smoke}{provider}{web};
is_deeply([$smoke->{method}, $smoke->{url}], ['GET', 'http://ping-pong-canary-svc.exercises.svc.cluster.local:2507/pings'],
    'smoke: GET /pings through the canary\'s Service');
ok($metric{smoke}{interval} && $metric{smoke}{count} * ($metric{smoke}{interval} =~ /^(\d+)s$/)[0] >= 180, 'smoke calls through the whole analysis (3 minutes or more)');

# The judge is not the canary: the queries' Service is the Rollout's
# stableService, exposes 8080 only, and once Argo has added the stable
# hash to its selector it cannot select a canary pod; smoke's Service is
# the canaryService; the Ingress's Service is neither.
my %svc = map { my $d = $_; map { $_->{metadata}{name} => $_ } grep { ($_->{kind} // '') eq 'Service' } YAML::XS::LoadFile($d) }
    glob("$PP::ROOT/manifests/ping-pong/*.yaml");
my ($judge) = $metric{'error-ratio'}{provider}{web}{url} =~ m{^http://([^.]+)\.exercises\.svc};
my ($smokesvc) = $smoke->{url} =~ m{^http://([^.]+)\.exercises\.svc};
is($canary_rollout->{stableService}, $judge, "the analysis asks $judge, the Rollout's stableService");
is($canary_rollout->{canaryService}, $smokesvc, "smoke calls $smokesvc, the Rollout's canaryService");
is_deeply([map { "$_->{port}>$_->{targetPort}" } @{ $svc{$judge}{spec}{ports} }], ['8080>auth-proxy'], "$judge exposes the auth proxy (8080) only");
is_deeply([map { "$_->{port}>$_->{targetPort}" } @{ $svc{$smokesvc}{spec}{ports} }], ['2507>http'], "$smokesvc exposes the app only");
my ($hash, $stable) = ('6d9f7c8b5', '58c7d4f9b6');
my %labels = (%{ $ro->{spec}{template}{metadata}{labels} });
sub selects {	# a Service's selector as Argo rewrites it, against a pod of the Rollout with $podhash
	my ($svc, $svchash, $podhash) = @_;
	my %sel = (%{ $svc->{spec}{selector} }, defined $svchash ? ('rollouts-pod-template-hash' => $svchash) : ());
	my %pod = (%labels, 'rollouts-pod-template-hash' => $podhash);
	return !grep { ($pod{$_} // "\0") ne $sel{$_} } keys %sel;
}
ok(selects($svc{$judge}, $stable, $stable), "$judge selects a stable pod");
ok(!selects($svc{$judge}, $stable, $hash), "$judge cannot select a canary pod");
ok(selects($svc{$smokesvc}, $hash, $hash) && !selects($svc{$smokesvc}, $hash, $stable), "$smokesvc selects the canary's pods only");
my ($ing) = grep { $_ ne $judge && $_ ne $smokesvc } map { $_->{backend}{service}{name} }
    map { @{ $_->{http}{paths} } } @{ (YAML::XS::LoadFile("$PP::ROOT/manifests/ping-pong/ingress.yaml"))->{spec}{rules} };
ok($ing && selects($svc{$ing}, undef, $hash) && !grep({ $_->{port} == 8080 } @{ $svc{$ing}{spec}{ports} }),
    "the Ingress's $ing reaches the canary too, and has no 8080");
eval { ArgoWeb::metric($doc, 'cpu-usage', {}) };
like($@, qr/args\.canary-hash was not resolved/, 'without the canary hash there is no AnalysisRun');

# The contract's own semantics, on canned bodies, so it cannot pass vacuously.
ok(!eval { ArgoWeb::jsonpath({ data => { result => [] } }, '{$.data.result[0].value[1]}'); 1 }, 'an empty result: the jsonPath finds nothing');
ok(!eval { ArgoWeb::condition('asFloat(result) < 0.2', 'abc'); 1 }, 'asFloat of a non-number cannot be evaluated');
is(ArgoWeb::condition('asFloat(result) < 0.2', 'NaN') + ArgoWeb::condition('asFloat(result) >= 0.2', 'NaN'), 0, 'NaN makes every comparison false');

# Two stacks (app + auth proxy + database each): the canary pod, whose
# database is reached through a proxy that can add latency, and a stable
# pod, whose auth proxy is the judge. Each Prometheus scrapes both through
# the pod template's own annotations and ports; the project's has an auth
# proxy of its own in front. Their log-output asks a port where nobody
# listens: its /pings would be traffic.
my @scrapers = qw(azure project);
my %prom = map { $_ => Prom->new(scraper => $_) } @scrapers;
my %quiet = (LOG_APP_PING_PONG_SERVICE_PORT => PP::free_port());
my ($pp, $aad) = AuthStack::start(cred => 'workload_identity', role => 'all', prometheus => $prom{azure}->url, env => \%quiet);	# keep $aad: it issues the tokens
my $delay = DelayProxy->new(to => $pp->pgdir, delay => 0.7);
$pp->stop;
$pp->{env}{PING_PONG_DB_HOST} = $delay->dir;
$pp->start;
my ($st, $staad) = AuthStack::start(cred => 'workload_identity', role => 'all', prometheus => $prom{azure}->url, env => \%quiet);
my ($pproxy, $paad) = AuthStack::start(cred => 'workload_identity', prometheus => $prom{project}->url);
my %base = (azure => 'http://127.0.0.1:' . $st->auth_port, project => 'http://127.0.0.1:' . $pproxy->auth_port);
my $canary = "ping-pong-app-$hash-x7k2p";
my @stable = map { "ping-pong-app-$stable-$_" } qw(a1b2c d3e4f g5h6i);
for my $s (@scrapers) {
	$prom{$s}->pods({ name => $canary, namespace => 'exercises', template => $ro->{spec}{template}, hash => $hash,
	    ports => { 3000 => $pp->app_port, 8080 => $pp->auth_port } },
	    { name => $stable[0], namespace => 'exercises', template => $ro->{spec}{template}, hash => $stable,
	    ports => { 3000 => $st->app_port, 8080 => $st->auth_port } });
	$prom{$s}->cadvisor({ $canary => 0.05, map { $_ => 0.05 } @stable });
}
sub cadvisor { $prom{$_}->cadvisor(@_) for @scrapers }
for my $p ($pp, $st, $pproxy) {
	ok(wait_until(20, sub { $p->auth_get('/health')->{status} == 200 }), 'an auth proxy holds a token');
}
my %args = ('canary-hash' => $hash, 'stable-hash' => $stable, window => '10s');
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
# Measures $name under both scrapers, expecting $phase.
sub expect {
	my ($name, $phase, $what, %o) = @_;
	for my $s (@scrapers) {
		my ($p, $v) = measure($s, $name, %o);
		is($p, $phase, "$s: $name: $what: $phase ($v)");
	}
}

wait_all(30, qq(count(up{kubernetes_pod_name=~"$canary|$stable[0]"} == 1)), sub { $_[0] == 4 },
    'Prometheus scrapes both containers of the canary and of the stable pod (3000 and 8080) through the pod annotations');
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
wait_all(30, promql('cpu-usage'), sub { $_[0] > 0.4 }, 'Prometheus has the CPU rates');
expect('error-ratio', 'Inconclusive', 'no traffic at all, the Rollout would pause for a person');
expect('latency-p99', 'Inconclusive', 'no traffic at all');
for my $s (@scrapers) {
	my ($phase, $v) = measure($s, 'error-ratio');
	is($v, 'NaN', "$s: the measured value is NaN, not an empty result");
	($phase, $v) = measure($s, 'cpu-usage');
	is($phase, 'Successful', "$s: canary and stable pods idle at 0.05 cores: Successful ($v)");
	ok($v > 0.4 && $v < 0.6, "$s: and the value is the canary's rate over the 0.1-core floor");
}

# A quiet cluster: smoke's calls alone, through the canary's Service, are
# evidence the ratios read.
my $app = 'http://127.0.0.1:' . $pp->app_port;
my ($phase, $v) = ArgoWeb::measure($metric{smoke}, $app);
is($phase, 'Successful', "smoke on the canary: Successful (pings $v)");
ok(wait_until(30, sub { (ArgoWeb::measure($metric{smoke}, $app))[0] eq 'Successful'
    && !grep { !$prom{$_}->results(promql('error-ratio') . ' >= 0') } @scrapers }), 'smoke called until its answers are scraped');
expect('error-ratio', 'Successful', 'a quiet cluster, smoke\'s calls only');
expect('latency-p99', 'Successful', 'a quiet cluster, smoke\'s calls only');

# Healthy traffic to the canary and the stable pod, 0 % errors.
my @traffic;
for my $p ($pp, $st) {
	my $pid = fork // die;
	if ($pid == 0) {
		my $ua = HTTP::Tiny->new(timeout => 5, keep_alive => 1);
		for (1 .. 20000) { $ua->get($p->url('/pingpong')); sleep 0.02 }
		POSIX::_exit(0);
	}
	push @traffic, $pid;
}
END { local $?; for (@traffic) { kill 'KILL', $_; waitpid($_, 0) } }
wait_all(30, qq(sum(rate(pingpong_requests_total{route=~"/pingpong|/",rollouts_pod_template_hash="$hash"}[10s]))), sub { $_[0] > 5 },
    'Prometheus sees the canary\'s pongs');
wait_all(30, qq(sum(rate(pingpong_requests_total{route=~"/pingpong|/",rollouts_pod_template_hash="$stable"}[10s]))), sub { $_[0] > 5 },
    'and the stable pod\'s');
for my $i (1 .. 3) {
	for my $s (@scrapers) {
		my ($phase, $v) = measure($s, 'error-ratio');
		is($phase, 'Successful', "$s: healthy canary, measurement $i: Successful ($v)");
		ok($v =~ /^[0-9.]+(?:e-?\d+)?$/ && $v <= 0.05, "$s: a number, not an empty result or NaN ($v; 0 unless the loaded machine timed a pong out)");
	}
	sleep 1 if $i < 3;
}
for my $s (@scrapers) {
	my ($phase, $v) = measure($s, 'worker-restarts');
	is($phase, 'Successful', "$s: healthy canary: no worker restarted ($v)");
}
expect('latency-p99', 'Successful', 'healthy canary beside a healthy stable pod');

# Latency: the canary's database 0.7 s away.
$delay->arm;
wait_all(40, promql('latency-p99'), sub { $_[0] > 3 }, 'Prometheus sees the canary\'s pongs slow down (the window all slow pongs)');
expect('latency-p99', 'Failed', 'the canary\'s database 0.7 s away');
expect('error-ratio', 'Successful', 'slow but no 5xx');
$delay->disarm;
wait_all(40, promql('latency-p99'), sub { $_[0] < 1 }, 'the canary fast again');

# CPU, judged against the stable pods in the same window.
sub cpu_case {
	my ($c, $s, $phase, $what) = @_;
	cadvisor({ $canary => $c, map { $_ => $s } @stable });
	my $want = $c / ($s > 0.1 ? $s : 0.1);
	wait_all(30, promql('cpu-usage'), sub { abs($_[0] - $want) < 0.15 * $want }, "canary at $c cores, stable pods at $s: about $want");
	expect('cpu-usage', $phase, $what);
}
cpu_case(0.6, 0.05, 'Failed', 'canary hot while the stable pods idle');
my ($diluted) = $prom{azure}->results('avg(rate(container_cpu_usage_seconds_total{namespace="exercises",container="ping-pong"}[10s]))');
ok($diluted < 0.2, "(averaged with the stable pods it would pass an absolute 0.2-core bound: $diluted)");
cpu_case(0.05, 0.9, 'Successful', 'stable pods hot, canary cool');
cpu_case(0.9, 0.9, 'Successful', 'a busy cluster: the canary as hungry as the stable pods');
cpu_case(0.9, 0.3, 'Failed', 'the canary 3x hungrier than the stable pods');
cpu_case(0.15, 0.02, 'Successful', 'a quiet cluster: below the 0.1-core floor times 2');

# A canary that fails in nginx rather than in the worker: what the clients
# got is what the pod's /metrics counts (nginx's 502, 504 and 499 too,
# launcher/accesslog.c).  Once the analysis's window holds only the fault,
# no measurement is Successful.
sub canary_fails {
	my ($what) = @_;
	my (%seen, @vals, $passed);
	# Until the analysis's own queries say the canary is not healthy: a
	# ratio over 5 %, a restart, or no canary series at all.
	my $pongs = qq(sum(rate(pingpong_requests_total{route=~"/pingpong|/",rollouts_pod_template_hash="$hash"}[10s])));
	for my $s (@scrapers) {
		ok(defined $prom{$s}->wait_value(40, "(" . promql('error-ratio') . ") > 0.05 or (" . promql('worker-restarts') . ") >= 0.5 or absent($pongs)",
		    sub { 1 }), "$s, $what: Prometheus's window holds the fault");
	}
	# A run is Successful only when every metric is; three rounds, none may be.
	for my $i (1 .. 3) {
		for my $s (@scrapers) {
			my @round = map { [$_, measure($s, $_)] } 'error-ratio', 'worker-restarts';
			$seen{$_->[1]}++ for @round;
			push @vals, "$s: " . join(', ', map { "$_->[0] $_->[1] $_->[2]" } @round);
			$passed++ unless grep { $_->[1] ne 'Successful' } @round;
		}
		sleep 2 if $i < 3;
	}
	ok(!$passed, "$what: no round of measurements is Successful (" . join('; ', @vals) . ')');
	return \%seen;
}
sub healthy_again {
	my ($what) = @_;
	ok(wait_until(20, sub { @{ $pp->worker_pids } == 2 && $pp->get('/health')->{status} == 200 }), "$what: serving again");
	for my $s (@scrapers) {
		ok(defined $prom{$s}->wait_value(60, promql('error-ratio'), sub { $_[0] <= 0.05 }), "$s, $what: Prometheus sees the canary healthy again")
		    or diag explain $prom{$s}->query(promql('error-ratio'));
	}
}

# Its workers hang while 32 clients keep arriving (each waits up to 10 s:
# nginx answers 504 after 7 s).  The workers also answer the pod's
# /metrics, so its scrapes fail too and the canary's series go stale: the
# analysis gets no canary data, an Error, and after consecutiveErrorLimit
# the run errors and the Rollout aborts (the decision, written beside
# error-ratio in the AnalysisTemplate).
my @hung = @{ $pp->worker_pids };
my @crowd;
for (1 .. 32) {
	my $pid = fork // die;
	if ($pid == 0) {
		my $ua = HTTP::Tiny->new(timeout => 10, keep_alive => 0);
		$ua->get($pp->url('/pingpong')) for 1 .. 20;
		POSIX::_exit(0);
	}
	push @crowd, $pid;
}
kill 'STOP', @hung;
my $hang = canary_fails('workers hung under 32 clients');
is_deeply($hang, { Error => 12 }, 'hung: no canary series, every measurement an Error (the run errors and the Rollout aborts)');
kill 'CONT', @hung;
kill 'KILL', @crowd;
waitpid($_, 0) for @crowd;
healthy_again('after the hang');

# Its workers killed once a second under 50 requests per second (the
# traffic above): nginx answers 502 to what a dying worker held and to the
# next request on each connection it kept to one.
my $killer = fork // die;
if ($killer == 0) {
	for (1 .. 60) { kill 'KILL', @{ $pp->worker_pids }; sleep 1 }
	POSIX::_exit(0);
}
my $crash = canary_fails('workers killed once a second');
ok($crash->{Failed}, 'killed: worker-restarts Fails');
kill 'KILL', $killer;
waitpid($killer, 0);
healthy_again('after the crashes');

# The canary's database unreachable: its pongs are 503s.
$pp->pg_stop('immediate');
wait_all(30, promql('error-ratio'), sub { $_[0] > 0.5 }, 'Prometheus sees the canary\'s 5xx');
expect('error-ratio', 'Failed', 'canary answering 5xx');
($phase, $v) = ArgoWeb::measure($metric{smoke}, $app);
is($phase, 'Error', "smoke on a canary without its database: Error ($v)");

# No data for the canary (another hash: no such pods): an empty result.
expect($_, 'Error', 'no series for the canary', args => { 'canary-hash' => 'ffffffff' }) for qw(error-ratio latency-p99 cpu-usage);
$pproxy->teardown;

# No token: a proxy without credentials, in front of the same Prometheus.
my ($none) = AuthStack::start(cred => 'none', prometheus => $prom{azure}->url);
for my $name ('error-ratio', 'latency-p99', 'cpu-usage') {
	($phase, $v) = measure('azure', $name, base => 'http://127.0.0.1:' . $none->auth_port);
	is($phase, 'Error', "$name without a token: Error, not a success ($v)");
}
$none->teardown;

# Prometheus (or Azure Monitor) refusing the token, as without the Monitoring Data Reader role.
my ($denied, $denied_aad, $fake) = AuthStack::start(cred => 'client_secret');
ok(wait_until(20, sub { $denied->auth_get('/health')->{status} == 200 }), 'a proxy holding a token') or diag $denied->auth_get('/health')->{content}, $denied->log;
$fake->set_prom('status 403');
($phase, $v) = measure('azure', 'error-ratio', base => 'http://127.0.0.1:' . $denied->auth_port);
is($phase, 'Error', "upstream 403: Error ($v)");
$denied->teardown;

# Prometheus down, then the judge (the stable pod's proxy) down.
$prom{azure}->stop;
for my $name ('error-ratio', 'latency-p99', 'cpu-usage') {
	($phase, $v) = measure('azure', $name);
	is($phase, 'Error', "$name with Prometheus down: Error ($v)");
}
$st->stop;
for my $name ('error-ratio', 'latency-p99', 'cpu-usage') {
	($phase, $v) = measure('azure', $name);
	is($phase, 'Error', "$name with the proxy down: Error ($v)");
}

done_testing;
