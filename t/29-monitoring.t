# The alerting rules and the Grafana dashboard (manifests/monitoring/):
# promtool checks the rules and runs their unit tests, which show each
# alert firing and staying silent; two real Prometheus servers load the
# rules and scrape a running stack, one with Azure Monitor's own
# pod-annotation relabelling, one with the project's
# (manifests/monitoring/scrape-config.yml), and every panel query of the
# dashboard returns data from each.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use YAML::XS qw(LoadFile);
use PP qw(slurp);
use AuthStack;
use Prom;

my $mon = "$PP::ROOT/manifests/monitoring";
my ($rc, $out) = Prom::promtool(undef, 'check', 'rules', "$mon/pingpong.rules.yml");
is($rc, 0, 'promtool check rules accepts the rules file') or diag $out;
like($out, qr/SUCCESS: \d+ rules found/, 'and finds the rules');
($rc, $out) = Prom::promtool(undef, 'test', 'rules', "$mon/pingpong.rules.test.yml");
is($rc, 0, 'promtool test rules: every unit test passes') or diag $out;

# Every alert has a unit test where it fires and one where it stays silent.
my $rules = LoadFile("$mon/pingpong.rules.yml");
my @rules = map { @{ $_->{rules} } } @{ $rules->{groups} };
my %alert = map { $_->{alert} => $_ } grep { $_->{alert} } @rules;
my (%fires, %silent);
for my $t (@{ LoadFile("$mon/pingpong.rules.test.yml")->{tests} }) {
	for my $a (@{ $t->{alert_rule_test} || [] }) {
		(@{ $a->{exp_alerts} || [] } ? $fires{ $a->{alertname} } : $silent{ $a->{alertname} })++;
	}
}
for my $name (sort keys %alert) {
	ok($fires{$name} && $silent{$name}, "$name: shown firing ($fires{$name}) and silent (" . ($silent{$name} // 0) . ')');
	ok($alert{$name}{labels}{severity} && $alert{$name}{annotations}{summary}, "$name: a severity and a summary");
}
ok($alert{$_}, "alert $_ exists") for qw(PingPongErrorBudgetBurnFast PingPongErrorBudgetBurnSlow PingPongLatencySLO PingPongDatabaseDown
    PingPongAuthProxyNoToken PingPongCounterStuck PingPongCounterWentBack);
is($alert{PingPongDatabaseDown}{for}, '1m', 'the database alert waits a minute');

# The Azure Monitor rule groups (ARM) are generated from the rules file and
# hold the same rules: read back into Prometheus' form, they are its groups.
my $armfile = "$mon/pingpong.rulegroups.json";
is(scalar qx{$PP::ROOT/tools/prometheus-rule-group}, slurp($armfile), 'pingpong.rulegroups.json is tools/prometheus-rule-group\'s output (regenerate it)');
my $arm = decode_json(slurp($armfile));
my (@back, %sev);
for my $res (@{ $arm->{resources} }) {
	is($res->{type}, 'Microsoft.AlertsManagement/prometheusRuleGroups', 'an Azure Monitor Prometheus rule group');
	is_deeply($res->{properties}{scopes}, ["[parameters('azureMonitorWorkspaceResourceId')]", "[parameters('clusterResourceId')]"],
	    'its scopes are parameters: the workspace and the cluster');
	my ($gname) = $res->{name} =~ /-([\w-]+)'/;
	my $un = sub { $_[0] =~ s/^\[\[/[/r };
	push @back, { name => $gname, rules => [map {
		my $r = $_;
		$sev{ $r->{labels}{severity} }{ $r->{severity} } = 1 if $r->{alert};
		+{ ($r->{record} ? (record => $r->{record}) : (alert => $r->{alert})), expr => $un->($r->{expression}),
		   ($r->{for} ? (for => ($r->{for} =~ /^PT(\d+)([SMH])$/ ? $1 . lc $2 : '?')) : ()),
		   ($r->{labels} ? (labels => { map { $_ => $un->($r->{labels}{$_}) } keys %{ $r->{labels} } }) : ()),
		   ($r->{alert} ? (annotations => { map { $_ => $un->($r->{annotations}{$_}) } keys %{ $r->{annotations} } }) : ()) }
	} @{ $res->{properties}{rules} }] };
}
is_deeply(\@back, $rules->{groups}, 'the rule groups hold the rules file\'s groups, rule for rule');
is_deeply(\%sev, { page => { 1 => 1 }, ticket => { 3 => 1 } }, 'Azure severity 1 for a page, 3 for a ticket');
($rc, $out) = Prom::promtool(JSON::PP->new->encode({ groups => \@back }), 'check', 'rules', '/dev/stdin');
is($rc, 0, 'promtool accepts the rules read back from the template') or diag $out;

# The ama-metrics ConfigMap carries scrape-config.yml's job.
my $cm = LoadFile("$mon/ama-metrics-prometheus-config.yaml");
is_deeply([$cm->{kind}, $cm->{metadata}{name}, $cm->{metadata}{namespace}], ['ConfigMap', 'ama-metrics-prometheus-config', 'kube-system'],
    'ama-metrics-prometheus-config in kube-system');
my ($cmjob) = @{ YAML::XS::Load($cm->{data}{'prometheus-config'})->{scrape_configs} };
my ($job) = @{ LoadFile("$mon/scrape-config.yml")->{scrape_configs} };
is($cmjob->{job_name}, 'ping-pong-pods', 'its job is not named as ama-metrics\' own kubernetes-pods');
delete $_->{job_name} for $cmjob, $job;
is_deeply($cmjob, $job, 'and is scrape-config.yml\'s job otherwise');

# The dashboard's queries, against real Prometheus servers with the rules
# loaded, one per scraper.
my $dash = decode_json(slurp("$mon/ping-pong-dashboard.json"));
my @targets = map { my $p = $_; map { [$p->{title}, $_->{expr}] } @{ $p->{targets} } } @{ $dash->{panels} };
ok(@targets >= 10, scalar(@targets) . ' panel queries');
my @scrapers = qw(azure project);
my %prom = map { $_ => Prom->new(scraper => $_, rules => ["$mon/pingpong.rules.yml"]) } @scrapers;
for my $s (@scrapers) {
	($rc, $out) = Prom::promtool(undef, 'check', 'config', $prom{$s}->dir . '/prometheus.yml');
	is($rc, 0, "promtool check config accepts the $s job (discovery from a file)") or diag $out;
}
my ($pp, $aad) = AuthStack::start(cred => 'client_secret', role => 'all', prometheus => $prom{azure}->url);	# keep $aad: it issues the tokens
ok(PP::wait_until(20, sub { $pp->auth_get('/health')->{status} == 200 }), 'the auth proxy holds a token');
my $pod = 'ping-pong-app-6d9f7c8b5-x7k2p';
my $ro = LoadFile("$PP::ROOT/manifests/ping-pong/ping-pong-rollout.yaml");
for my $s (@scrapers) {
	$prom{$s}->pods({ name => $pod, namespace => 'exercises', template => $ro->{spec}{template},
	    ports => { 3000 => $pp->app_port, 8080 => $pp->auth_port } });
	$prom{$s}->cadvisor({ $pod => 0.05 });
}
sub wait_all {
	my ($expr, $pred, $what) = @_;
	ok($prom{$_}->wait_value(30, $expr, $pred), "$_: $what") or diag $prom{$_}->log for @scrapers;
}
wait_all(qq(count(up{kubernetes_pod_name="$pod"} == 1)), sub { $_[0] == 2 }, 'both containers of the pod are scraped');
wait_all(qq(count_over_time(pingpong_db_up{kubernetes_pod_name="$pod"}[1m])), sub { $_[0] >= 3 }, 'a few scrapes are in');
wait_all(qq(pingpong_authproxy_token_valid{kubernetes_pod_name="$pod"}), sub { $_[0] == 1 }, 'Prometheus has seen the token');
$pp->load(clients => 2, requests => 100);
$pp->get('/nowhere');
my $rate = '30s';
wait_all(qq(sum(rate(pingpong_requests_total{kubernetes_pod_name="$pod",code="200",route="/pingpong"}[$rate]))), sub { $_[0] > 0 },
    'Prometheus sees the pongs');
wait_all('sum(rate(pingpong_increment_batch_size_count[' . $rate . ']))', sub { $_[0] > 0 }, 'and the batches');
my ($var) = grep { $_->{name} eq 'namespace' } @{ $dash->{templating}{list} };
my ($metric, $label) = $var->{query}{query} =~ /^label_values\((\w+), (\w+)\)$/;
for my $s (@scrapers) {
	for my $t (@targets) {
		my ($title, $expr) = @$t;
		(my $q = $expr) =~ s/\$__rate_interval/$rate/g;
		$q =~ s/\$\{?namespace\}?/exercises/g;
		my $d = $prom{$s}->query($q);
		ok($d && $d->{status} eq 'success' && @{ $d->{data}{result} }, "$s: $title: $expr returns data")
		    or diag explain $d;
	}
	is_deeply([map { $_->{metric}{$label} } @{ $prom{$s}->query("group by ($label) ($metric)")->{data}{result} }], ['exercises'],
	    "$s: the namespace variable lists the namespace");
}

# The rules evaluate without error on real series.
for my $s (@scrapers) {
	my $rules_url = $prom{$s}->url('/api/v1/rules');
	my @loaded;
	ok(PP::wait_until(10, sub {
		@loaded = map { @{ $_->{rules} } } @{ decode_json(HTTP::Tiny->new->get($rules_url)->{content})->{data}{groups} };
		@loaded == @rules && !grep { $_->{health} ne 'ok' } @loaded }), "$s: Prometheus loaded every rule, and every one evaluates healthy")
	    or diag explain [grep { $_->{health} ne 'ok' } @loaded];
	# The recorded error ratio carries the namespace this scraper writes.
	my $v = $prom{$s}->wait_value(60, 'pingpong:pong_errors:ratio_rate5m{kubernetes_namespace="exercises"}', sub { 1 });
	ok(defined $v, "$s: pingpong:pong_errors:ratio_rate5m has a value for kubernetes_namespace=\"exercises\" (" . ($v // 'none') . ')')
	    or diag explain $prom{$s}->query('{__name__=~"pingpong:.*"}');
}

# On real series: the database gone, PingPongDatabaseDown is pending at
# once (and would fire after its minute: the unit tests show that part).
sub alerts { grep { $_->{metric}{alertname} =~ $_[1] } @{ ($prom{ $_[0] }->query('ALERTS') || {})->{data}{result} || [] } }
ok(!alerts($_, qr/^PingPongDatabaseDown$/), "$_: with the database up, PingPongDatabaseDown is silent") for @scrapers;
$pp->pg_stop('immediate');
for my $s (@scrapers) {
	# One alert for the namespace, not one per pod (docs/runbook.md).
	ok(PP::wait_until(30, sub { grep { ($_->{metric}{kubernetes_namespace} // '') eq 'exercises' && !exists $_->{metric}{kubernetes_pod_name} }
	    alerts($s, qr/^PingPongDatabaseDown$/) }), "$s: the database stopped: PingPongDatabaseDown is pending, for the namespace");
	my @auth = alerts($s, qr/^PingPongAuthProxy/);
	ok(!@auth, "$s: while the auth proxy, holding its token, raises nothing") or diag explain \@auth;
}

done_testing;
