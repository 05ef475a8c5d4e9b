# The alerting rules and the Grafana dashboard (manifests/monitoring/):
# promtool checks the rules and runs their unit tests, which show each
# alert firing and staying silent; a real Prometheus loads the rules and
# scrapes a running stack, and every panel query of the dashboard returns
# data from it.
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
ok($alert{$_}, "alert $_ exists") for qw(PingPongErrorBudgetBurnFast PingPongErrorBudgetBurnSlow PingPongDatabaseDown
    PingPongAuthProxyNoToken PingPongCounterStuck PingPongCounterWentBack);
is($alert{PingPongDatabaseDown}{for}, '1m', 'the database alert waits a minute');

# The dashboard's queries, against a real Prometheus with the rules loaded.
my $dash = decode_json(slurp("$mon/ping-pong-dashboard.json"));
my @targets = map { my $p = $_; map { [$p->{title}, $_->{expr}] } @{ $p->{targets} } } @{ $dash->{panels} };
ok(@targets >= 10, scalar(@targets) . ' panel queries');
my $prom = Prom->new(rules => ["$mon/pingpong.rules.yml"]);
($rc, $out) = Prom::promtool(undef, 'check', 'config', $prom->dir . '/prometheus.yml');
is($rc, 0, 'promtool check config accepts scrape-config.yml\'s job (discovery from a file)') or diag $out;
my ($pp, $aad) = AuthStack::start(cred => 'client_secret', role => 'all', prometheus => $prom->url);	# keep $aad: it issues the tokens
ok(PP::wait_until(20, sub { $pp->auth_get('/health')->{status} == 200 }), 'the auth proxy holds a token');
my $pod = 'ping-pong-app-6d9f7c8b5-x7k2p';
my $ro = LoadFile("$PP::ROOT/manifests/ping-pong/ping-pong-rollout.yaml");
$prom->pods({ name => $pod, namespace => 'exercises', template => $ro->{spec}{template},
    ports => { 3000 => $pp->app_port, 8080 => $pp->auth_port } });
$prom->cadvisor({ $pod => 0.05 });
ok($prom->wait_value(30, qq(count(up{pod="$pod"} == 1)), sub { $_[0] == 2 }), 'both containers of the pod are scraped')
    or diag $prom->log;
ok($prom->wait_value(30, qq(count_over_time(pingpong_db_up{pod="$pod"}[1m])), sub { $_[0] >= 3 }), 'a few scrapes are in');
ok($prom->wait_value(30, qq(pingpong_authproxy_token_valid{pod="$pod"}), sub { $_[0] == 1 }), 'Prometheus has seen the token');
$pp->load(clients => 2, requests => 100);
$pp->get('/nowhere');
my $rate = '30s';
ok($prom->wait_value(30, qq(sum(rate(pingpong_requests_total{pod="$pod",code="200",route="/pingpong"}[$rate]))), sub { $_[0] > 0 }),
    'Prometheus sees the pongs');
ok($prom->wait_value(30, 'sum(rate(pingpong_increment_batch_size_count[' . $rate . ']))', sub { $_[0] > 0 }), 'and the batches');
for my $t (@targets) {
	my ($title, $expr) = @$t;
	(my $q = $expr) =~ s/\$__rate_interval/$rate/g;
	$q =~ s/\$\{?namespace\}?/exercises/g;
	my $d = $prom->query($q);
	ok($d && $d->{status} eq 'success' && @{ $d->{data}{result} }, "$title: $expr returns data")
	    or diag explain $d;
}
my ($var) = grep { $_->{name} eq 'namespace' } @{ $dash->{templating}{list} };
my ($metric, $label) = $var->{query}{query} =~ /^label_values\((\w+), (\w+)\)$/;
is_deeply([map { $_->{metric}{$label} } @{ $prom->query("group by ($label) ($metric)")->{data}{result} }], ['exercises'],
    'the namespace variable lists the namespace');

# The rules evaluate without error on real series.
my $groups = decode_json(HTTP::Tiny->new->get($prom->url('/api/v1/rules'))->{content})->{data}{groups};
my @loaded = map { @{ $_->{rules} } } @$groups;
is(scalar @loaded, scalar @rules, 'Prometheus loaded every rule');
ok(PP::wait_until(10, sub {
	@loaded = map { @{ $_->{rules} } } @{ decode_json(HTTP::Tiny->new->get($prom->url('/api/v1/rules'))->{content})->{data}{groups} };
	!grep { $_->{health} ne 'ok' } @loaded }), 'and every one evaluates healthy') or diag explain [grep { $_->{health} ne 'ok' } @loaded];

# On real series: the database gone, PingPongDatabaseDown is pending at
# once (and would fire after its minute: the unit tests show that part).
ok(!grep({ $_->{metric}{alertname} eq 'PingPongDatabaseDown' } @{ $prom->query('ALERTS')->{data}{result} }),
    'with the database up, PingPongDatabaseDown is silent');
$pp->pg_stop('immediate');
ok(PP::wait_until(30, sub {
	grep { $_->{metric}{alertname} eq 'PingPongDatabaseDown' && $_->{metric}{pod} eq $pod }
	    @{ ($prom->query('ALERTS') || {})->{data}{result} || [] } }), 'the database stopped: PingPongDatabaseDown is pending');
my @auth = grep { $_->{metric}{alertname} =~ /^PingPongAuthProxy/ } @{ $prom->query('ALERTS')->{data}{result} };
ok(!@auth, 'while the auth proxy, holding its token, raises nothing') or diag explain \@auth;

done_testing;
