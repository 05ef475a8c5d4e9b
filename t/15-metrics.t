# /metrics on 3000 and 8080: strictly valid exposition text, and numbers
# that move with what happens (pongs, refusals, an outage, a killed worker).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PP qw(wait_until);
use PromText;
use Prom;
use AuthStack;

my $pp = PP->new(env => { PING_PONG_WORKERS => 2 });
sub scrape {
	my ($p, $url) = @_;
	my $r = HTTP::Tiny->new->get($url // $p->url('/metrics'));
	is($r->{status}, 200, 'GET /metrics 200');
	my ($v, $err) = PromText::parse($r->{content});
	is_deeply($err, [], 'the exposition text is strictly valid');
	is(Prom::check_metrics($r->{content}), '', 'promtool check metrics finds nothing to say');
	return ($v, $r);
}
my (undef, $bad) = PromText::parse("# HELP x_total X.\nx_total 1\n# TYPE y gauge\ny{a=b} 2\n");
ok(@$bad >= 2, 'the parser rejects a missing TYPE and unquoted labels: ' . scalar(@$bad) . ' errors');
my ($m0, $r) = scrape($pp);
is($r->{headers}{'content-type'}, 'text/plain; version=0.0.4; charset=utf-8', 'text/plain; version=0.0.4');
for my $name (qw(pingpong_requests_total pingpong_request_duration_seconds pingpong_db_reconnects_total pingpong_db_errors_total
    pingpong_db_up pingpong_committed_pongs pingpong_guard_tripped pingpong_increment_batch_size pingpong_workers pingpong_worker_restarts_total pingpong_build_info process_start_time_seconds)) {
	like($r->{content}, qr/^# TYPE $name /m, "$name is exposed");
}
my $ok = 'pingpong_requests_total{route="/pingpong",code="200"}';
# What a ratio divides must exist before the first request and the first error.
for my $code (200, 500, 503) {
	for my $route ('/pingpong', '/') {
		is($m0->{"pingpong_requests_total{route=\"$route\",code=\"$code\"}"}, 0, "$route $code exists from the start at 0");
	}
}
is($m0->{'pingpong_build_info{version="' . Prom::version() . '",program="worker"}'}, 1, 'build_info carries the version of common/version.h');
my $n0 = $m0->{$ok};
$pp->get('/pingpong') for 1 .. 7;
$pp->request('POST', '/pingpong');
$pp->get('/metrics') for 1 .. 3;
# The answers are counted from nginx's access records, which nginx writes
# within a second (buffer=4k flush=1s) and the launcher counts as it reads.
ok(wait_until(5, sub { my ($m) = PromText::parse($pp->get('/metrics')->{content});
    ($m->{'pingpong_requests_total{route="/pingpong",code="405"}'} // 0) == 1 && $m->{$ok} - $n0 == 7 }),
    'the answers reach /metrics within nginx\'s flush');
my ($m1) = scrape($pp);
is($m1->{$ok} - $n0, 7, '7 pongs add 7 to the 200 counter');
is($m1->{'pingpong_requests_total{route="/pingpong",code="405"}'}, 1, 'a refused method adds 1 to 405');
ok(!grep({ /route="\/metrics"/ } keys %$m1), '/metrics is not counted in its own metrics');
is($m1->{'pingpong_committed_pongs'}, 7, 'committed_pongs is the last committed count');
is($m1->{'pingpong_workers'}, 2, 'two workers alive');
is($m1->{'pingpong_db_up'}, 1, 'db up');
ok($m1->{'pingpong_increment_batch_size_count'} >= 1, 'batches counted');
is($m1->{'pingpong_request_duration_seconds_count{route="/pingpong"}'}, 8, 'every /pingpong timed');
ok(abs($m1->{process_start_time_seconds} - time) < 120, 'start time is recent');

# An outage: 503s and a reconnect.
$pp->pg_stop('immediate');
is($pp->get('/pingpong')->{status}, 503, 'outage: 503');
ok(wait_until(5, sub { (PromText::parse($pp->get('/metrics')->{content}))[0]{'pingpong_requests_total{route="/pingpong",code="503"}'} >= 1 }),
    'the 503 is counted');
$pp->pg_start;
ok(wait_until(5, sub { $pp->get('/pingpong')->{status} == 200 }), 'and back');
# The worker that saw the outage counts its reconnect when it next gets a
# pong; nginx's kept connections may send the first ones to the other.
ok(wait_until(5, sub { $pp->get('/pingpong'); (PromText::parse($pp->get('/metrics')->{content}))[0]{pingpong_db_reconnects_total} >= 1 }),
    'the outage adds to the reconnect counter');
my ($m2) = scrape($pp);
ok($m2->{'pingpong_requests_total{route="/pingpong",code="503"}'} >= 1, 'the outage adds to 503');
ok($m2->{'pingpong_db_errors_total{kind="query"}'} + $m2->{'pingpong_db_errors_total{kind="connect"}'} >= 1, 'and to db errors');

# A killed worker resets nothing.
kill 'KILL', $pp->worker_pids->[0];
ok(wait_until(5, sub { @{ $pp->worker_pids } == 2 }), 'a killed worker is replaced');
my ($m3) = scrape($pp);
is($m2->{pingpong_worker_restarts_total}, 0, 'no restart before the kill');
# The replacement counts itself once it maps the segment (early in its start).
my $restarts;
ok(wait_until(5, sub { $restarts = (PromText::parse($pp->get('/metrics')->{content}))[0]{pingpong_worker_restarts_total}; $restarts == 1 }),
    'the replacement counts one restart') or diag "restarts: $restarts";
ok($m3->{$ok} >= $m2->{$ok}, 'the 200 counter did not reset');
ok($m3->{'pingpong_db_reconnects_total'} >= $m2->{'pingpong_db_reconnects_total'}, 'nor the reconnects');
ok(wait_until(3, sub { my ($m) = PromText::parse(HTTP::Tiny->new->get($pp->url('/metrics'))->{content}); $m->{pingpong_workers} == 2 }), 'workers gauge back at 2');
# log-output's /metrics on 8000 (issue 26): as strict, and in docs/observability.md too.
my (undef, $lr) = scrape($pp, $pp->log_url('/metrics'));
$pp->teardown;

# The auth proxy's /metrics.
my ($ap, $aad, $prom) = AuthStack::start();
ok(wait_until(5, sub { $ap->auth_get('/health')->{status} == 200 }), 'auth proxy has a token');
my ($a0) = scrape($ap, $ap->auth_url('/metrics'));
is($a0->{"pingpong_authproxy_upstream_requests_total{code=\"$_\"}"}, 0, "upstream $_ exists from the start at 0") for 200, 502, 503, 504;
$ap->auth_get('/api/v1/query?query=up') for 1 .. 3;
$prom->set_prom('status 403');
$ap->auth_get('/api/v1/query?query=up');
my $am;
ok(wait_until(5, sub { ($am) = PromText::parse($ap->auth_get('/metrics')->{content}); ($am->{'pingpong_authproxy_upstream_requests_total{code="403"}'} // 0) == 1 }),
    'upstream requests counted by status') or diag explain $am;
my ($a2) = scrape($ap, $ap->auth_url('/metrics'));
is($a2->{'pingpong_authproxy_upstream_requests_total{code="200"}'}, 3, '3 upstream 200s');
is($a2->{'pingpong_authproxy_token_refreshes_total{outcome="success"}'}, 1, 'one successful token refresh');
is($a2->{'pingpong_authproxy_token_valid'}, 1, 'token valid');
my $exp = $a2->{'pingpong_authproxy_token_expiry_timestamp_seconds'};
ok($exp > time + 3500 && $exp <= time + 3601, "the token's expiry as an absolute time ($exp)");
ok(abs($a2->{process_start_time_seconds} - time) < 120, 'the helper exports its start time');
is($a2->{'pingpong_build_info{version="' . Prom::version() . '",program="authproxy"}'}, 1, 'and its build_info');
my ($none) = AuthStack::start(cred => 'none');
my ($n) = scrape($none, $none->auth_url('/metrics'));
is_deeply([@$n{qw(pingpong_authproxy_token_valid pingpong_authproxy_token_expiry_timestamp_seconds)}], [0, 0], 'without a token: valid 0, expiry 0');

# PING_PONG_METRICS=off: no segment, and /metrics says so.
my $off = PP->new(env => { PING_PONG_METRICS => 'off' });
$off->get('/pingpong');
like($off->get('/metrics')->{content}, qr/^# metrics are off/, 'PING_PONG_METRICS=off turns them off');
$off->teardown;

# Scrape annotations on the Rollout's pods point at the app's /metrics.
use YAML::XS qw(LoadFile);
my $ro = LoadFile("$PP::ROOT/manifests/ping-pong/ping-pong-rollout.yaml");
my $ann = $ro->{spec}{template}{metadata}{annotations};
is_deeply([@$ann{qw(prometheus.io/scrape prometheus.io/port prometheus.io/path)}], ['true', undef, '/metrics'],
    'pods carry the scrape annotations for /metrics on every declared port (t/13 scrapes them)');

# docs/observability.md's Metrics table names exactly the families both ports expose.
my %doc = map { $_ => 1 } (PP::slurp("$PP::ROOT/docs/observability.md") =~ /^\| `([a-z_]+)(?:\{[^`]*\})?` \| (?:counter|gauge|histogram) \|/mg);
my %seen = map { /^# TYPE (\S+)/ ? ($1 => 1) : () } split /\n/, $r->{content} . $ap->auth_get('/metrics')->{content} . $lr->{content};
is_deeply([sort keys %doc], [sort keys %seen], 'docs/observability.md documents exactly the metrics exposed');

done_testing;
