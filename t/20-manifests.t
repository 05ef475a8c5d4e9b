# The Kubernetes manifests, proven offline: every object validates against
# its schema (kubernetes-models, pinned in tools/k8s-validate), each
# kustomization builds, and cross-checks catch what would break a deploy.
# manifests/monitoring/ holds Prometheus and Grafana files, not Kubernetes
# objects: t/29-monitoring.t proves those.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use File::Find;
use JSON::PP;
use File::Temp;
use YAML::XS qw(LoadFile);
use PP qw(slurp wait_until);

my $root = $PP::ROOT;
my $tools = "$root/tools/k8s-validate";
PP::k8s_validate_deps($tools) or BAIL_OUT('npm ci in tools/k8s-validate failed');

my @files;
find(sub { push @files, $File::Find::name if /\.ya?ml$/ && $File::Find::dir !~ m{/manifests/monitoring} }, "$root/manifests");
@files = sort @files;
ok(@files >= 20, scalar(@files) . ' manifest files');

# 1. Schemas.
my @res = map { decode_json($_) } grep { /^\{/ } split /\n/, qx{cd $tools && node validate.mjs @files};
is(scalar(grep { !$_->{ok} } @res), 0, 'every object validates against its schema')
    or diag explain [grep { !$_->{ok} } @res];
ok(@res >= @files, scalar(@res) . ' objects checked');
my $bad = "$root/t/data/invalid-deployment.yaml";
my ($neg) = map { decode_json($_) } grep { /^\{/ } split /\n/, qx{cd $tools && node validate.mjs $bad};
ok($neg && !$neg->{ok}, 'and the validator does reject an invalid object') or diag explain $neg;

# 2. kustomize.
for my $dir ("$root/manifests", "$root/manifests/ping-pong") {
	my $out = qx{kubectl kustomize $dir 2>&1};
	is($?, 0, "kubectl kustomize $dir builds") or diag $out;
}

# Load every object, per set (the directory it is in).
my (%set, @objs);
for my $f (@files) {
	for my $o (YAML::XS::LoadFile($f)) {
		next unless ref $o eq 'HASH' && $o->{kind} && $o->{kind} ne 'Kustomization';
		my $s = $f =~ m{/manifests/ping-pong/} ? 'ping-pong' : 'shared-volume';
		$o->{_file} = $f;
		push @{ $set{$s} }, $o;
		push @objs, $o;
	}
}
sub pod_templates { grep { $_->{spec}{template} } @_ }
sub containers { my ($o) = @_; (@{ $o->{spec}{template}{spec}{containers} }, @{ $o->{spec}{template}{spec}{initContainers} || [] }) }

# 3. Cross-checks per set.
for my $s (sort keys %set) {
	my @o = @{ $set{$s} };
	my @workloads = pod_templates(@o);
	for my $svc (grep { $_->{kind} eq 'Service' } @o) {
		my $sel = $svc->{spec}{selector};
		my @match = grep { my $l = $_->{spec}{template}{metadata}{labels}; !grep { ($l->{$_} // '') ne $sel->{$_} } keys %$sel } @workloads;
		ok(@match, "$s: Service $svc->{metadata}{name} selects pods ($match[0]{metadata}{name})");
		for my $p (@{ $svc->{spec}{ports} }) {
			my $tp = $p->{targetPort} // $p->{port};
			my $found = grep { grep { $_->{name} && $_->{name} eq $tp || $_->{containerPort} eq $tp } @{ $_->{ports} || [] } } map { containers($_) } @match;
			ok($found, "$s: Service $svc->{metadata}{name} targetPort $tp is a containerPort");
		}
	}
	my %svc = map { $_->{metadata}{name} => $_ } grep { $_->{kind} eq 'Service' } @o;
	for my $ing (grep { $_->{kind} eq 'Ingress' } @o) {
		for my $path (map { @{ $_->{http}{paths} } } @{ $ing->{spec}{rules} }) {
			my $b = $path->{backend}{service};
			my $svc = $svc{$b->{name}};
			ok($svc && grep({ $_->{port} == $b->{port}{number} } @{ $svc->{spec}{ports} }),
			    "$s: Ingress $path->{path} -> $b->{name}:$b->{port}{number} exists");
		}
	}
}

# Secrets: every secretKeyRef and secret volume names an example secret and key.
my %secret = map { $_->{metadata}{name} => { %{ $_->{stringData} || {} }, %{ $_->{data} || {} } } } grep { $_->{kind} eq 'Secret' } @objs;
for my $w (pod_templates(@objs)) {
	for my $c (containers($w)) {
		for my $e (@{ $c->{env} || [] }) {
			my $ref = $e->{valueFrom}{secretKeyRef} or next;
			ok(exists $secret{ $ref->{name} }{ $ref->{key} }, "$w->{metadata}{name}/$c->{name}: secret $ref->{name} has key $ref->{key}");
		}
	}
	for my $v (@{ $w->{spec}{template}{spec}{volumes} || [] }) {
		my $sv = $v->{secret} or next;
		ok(exists $secret{ $sv->{secretName} }{ $_->{key} }, "$w->{metadata}{name}: volume from secret $sv->{secretName} key $_->{key}")
		    for @{ $sv->{items} };
	}
}

# Env vars: only ones the programs read (their settings table) or PostgreSQL's image.
my %known = map { $_ => 1 } (slurp("$root/common/config.c") =~ /\{\s*"([A-Z_]+)",\s*T_/g);
$known{$_} = 1 for qw(POSTGRES_DB POSTGRES_USER POSTGRES_PASSWORD PGDATA);
for my $w (pod_templates(@objs)) {
	for my $c (grep { $_->{image} =~ m{^kubemooc\.azurecr\.io/ping-pong-app:|^postgres:} } containers($w)) {
		ok($known{ $_->{name} }, "$w->{metadata}{name}/$c->{name}: env $_->{name} is read by the code") for @{ $c->{env} || [] };
	}
}

# Images: our containers all use one image; the role is the argument.
my @ours = grep { $_->{image} =~ /ping-pong/ } map { containers($_) } pod_templates(@objs);
my %images = map { ((split /:/, $_->{image})[0] => 1) } @ours;
my %tags = map { $_->{image} => 1 } @ours;
is(scalar keys %tags, 1, 'and one tag everywhere: ' . join(' ', keys %tags));
is_deeply([keys %images], ['kubemooc.azurecr.io/ping-pong-app'], 'one image for every role');
my %roles = map { $_->{args}[0] => 1 } grep { !$_->{command} } @ours;
# A one-shot step runs a program of the image itself, not the launcher.
my ($widen) = grep { $_->{kind} eq 'Job' && $_->{metadata}{name} eq 'ping-pong-migrate-widen' } @objs;
my ($wc) = $widen ? containers($widen) : ();
is_deeply($wc && [@{ $wc->{command} }, @{ $wc->{args} }], ['/usr/local/lib/pingpong/pingpong-worker', '--migrate', 'widen'],
    'the widening Job runs pingpong-worker --migrate widen');
is_deeply([grep { $_->{command} } @ours], [$wc], 'and is the one container with a command of its own');
ok(!grep({ !/^(app|authproxy|log-output|all)$/ } keys %roles), 'every role is one the launcher knows: ' . join(' ', sort keys %roles));

# The Rollout: replicas, steps, analysis names.
my ($ro) = grep { $_->{kind} eq 'Rollout' } @objs;
is($ro->{metadata}{name}, 'ping-pong-app', 'Rollout ping-pong-app');
is($ro->{metadata}{namespace}, 'exercises', 'in exercises');
is($ro->{spec}{replicas}, 4, '4 replicas');
my @steps = map { exists $_->{setWeight} ? "w$_->{setWeight}" : exists $_->{pause} ? 'pause'
    : exists $_->{analysis} ? 'analysis:' . join(',', map { $_->{templateName} } @{ $_->{analysis}{templates} }) : '?' } @{ $ro->{spec}{strategy}{canary}{steps} };
my $a = 'analysis:ping-pong-cpu-analysis-sidecar';
is_deeply(\@steps, ['w25', 'pause', $a, 'w50', 'pause', $a, 'w75', 'pause', $a, 'w100'], 'canary steps 25 -> pause -> analysis -> 50 -> ... -> 100');
my %templates = map { $_->{metadata}{name} => 1 } grep { $_->{kind} eq 'AnalysisTemplate' } @objs;
ok($templates{$_}, "analysis template $_ exists") for map { $_->{templateName} } map { @{ $_->{analysis}{templates} } } grep { $_->{analysis} } @{ $ro->{spec}{strategy}{canary}{steps} };
my $pod = $ro->{spec}{template};
is($pod->{metadata}{labels}{'azure.workload.identity/use'}, 'true', 'workload identity label');
my ($sa) = grep { $_->{kind} eq 'ServiceAccount' && $_->{metadata}{name} eq $pod->{spec}{serviceAccountName} } @objs;
ok($sa && $sa->{metadata}{annotations}{'azure.workload.identity/client-id'}, 'the ServiceAccount exists with its client-id annotation');
for my $c (@{ $pod->{spec}{containers} }) {
	my $sc = $c->{securityContext};
	ok($sc->{readOnlyRootFilesystem} && !$sc->{allowPrivilegeEscalation} && grep({ $_ eq 'ALL' } @{ $sc->{capabilities}{drop} }),
	    "$c->{name}: read-only root, no privilege escalation, capabilities dropped");
	ok($c->{resources}{requests} && $c->{resources}{limits}, "$c->{name}: requests and limits");
}
ok($pod->{spec}{securityContext}{runAsNonRoot}, 'pods run as non-root');
my ($svc) = grep { $_->{kind} eq 'Service' && $_->{metadata}{name} eq 'ping-pong-svc' && $_->{_file} =~ m{/ping-pong/} } @objs;
is_deeply({ map { $_->{port} => $_->{targetPort} } @{ $svc->{spec}{ports} } }, { 2507 => 'http', 8080 => 'auth-proxy' }, 'ping-pong-svc: 2507 -> app, 8080 -> auth proxy');

# Scale-out objects: the HPA scales the Rollout within sane bounds, the PDB
# covers its pods, and the budget reaches the app's env.
my ($hpa) = grep { $_->{kind} eq 'HorizontalPodAutoscaler' } @objs;
is_deeply([@{ $hpa->{spec}{scaleTargetRef} }{qw(kind name)}], ['Rollout', 'ping-pong-app'], 'the HPA scales the Rollout');
ok($hpa->{spec}{minReplicas} >= 4 && $hpa->{spec}{minReplicas} % 4 == 0 && $hpa->{spec}{maxReplicas} >= $hpa->{spec}{minReplicas}, 'between sane bounds (a multiple of 4 at least)');
my ($pdb) = grep { $_->{kind} eq 'PodDisruptionBudget' } @objs;
is($pdb->{spec}{selector}{matchLabels}{app}, 'ping-pong', 'the PDB covers the ping-pong pods');
my ($app) = grep { $_->{name} eq 'ping-pong' } @{ $ro->{spec}{template}{spec}{containers} };
my %appenv = map { $_->{name} => $_->{value} } @{ $app->{env} };
ok($appenv{PING_PONG_DB_MAX_CONNECTIONS}, 'the connection budget is set on the app');
ok($hpa->{spec}{maxReplicas} * $appenv{PING_PONG_DB_MAX_CONNECTIONS} <= 100, 'max replicas x budget fits PostgreSQL\'s max_connections');

# Both variants in one namespace: neither replaces an object of the other
# (the shared-volume variant once repointed the canary's ping-pong-svc).
my %where;
for my $s (sort keys %set) {
	$where{"$_->{kind}/$_->{metadata}{name}"}{$s} = 1 for grep { $_->{kind} ne 'Namespace' } @{ $set{$s} };
}
is_deeply([grep { keys %{ $where{$_} } > 1 } sort keys %where], [], 'no kind/name in both variants');

# One version: the image tag is common/version.h's.
my ($version) = slurp("$root/common/version.h") =~ /#define PP_VERSION\s+"([^"]+)"/;
is((keys %tags)[0], "kubemooc.azurecr.io/ping-pong-app:$version", "the image tag is the version, $version");

# Workload identity: the ids have one source (the ServiceAccount's
# annotations, read by the webhook), and only the auth proxy gets them.
ok($sa->{metadata}{annotations}{"azure.workload.identity/$_"}, "the ServiceAccount carries the $_") for qw(client-id tenant-id);
for my $c (map { containers($_) } pod_templates(@objs)) {
	ok(!grep({ $_->{name} =~ /^AZURE_(CLIENT|TENANT)_ID$/ } @{ $c->{env} || [] }), "$c->{name}: no AZURE_CLIENT_ID/AZURE_TENANT_ID of its own");
}
my %skip = map { $_ => 1 } split /;/, $pod->{metadata}{annotations}{'azure.workload.identity/skip-containers'} // '';
is_deeply([sort keys %skip], [sort grep { $_ ne 'prometheus-auth-sidecar' } map { $_->{name} } @{ $pod->{spec}{containers} }],
    'the webhook skips every container but the auth proxy');

# The NetworkPolicy: 3000 open; 8080 only to Argo Rollouts' controller, the
# scraper and the ping-pong pods.
my ($np) = grep { $_->{kind} eq 'NetworkPolicy' } @{ $set{'ping-pong'} };
ok($np, 'a NetworkPolicy in the canary deployment');
is_deeply($np->{spec}{podSelector}{matchLabels}, $ro->{spec}{selector}{matchLabels}, 'it selects the Rollout\'s pods');
ok(grep({ $_ eq 'Ingress' } @{ $np->{spec}{policyTypes} }), 'for Ingress');
my %cport = map { ($_->{name} => $_->{containerPort}) } map { @{ $_->{ports} || [] } } @{ $pod->{spec}{containers} };
my (%open, %peers);
for my $rule (@{ $np->{spec}{ingress} }) {
	my @ports = map { $cport{ $_->{port} } // $_->{port} } @{ $rule->{ports} || [] };
	ok(@ports, 'every ingress rule names its ports');
	for my $port (@ports) {
		if (!$rule->{from}) { $open{$port} = 1 }
		else { push @{ $peers{$port} }, @{ $rule->{from} } }
	}
}
ok($open{3000}, 'the app (3000) is open to every client');
ok(!$open{8080}, 'the auth proxy (8080) is not');
my @p8080 = @{ $peers{8080} || [] };
ok(grep({ ((($_->{namespaceSelector} || {})->{matchLabels} || {})->{'kubernetes.io/metadata.name'} // '') eq 'argo-rollouts' } @p8080),
    '8080 admits the argo-rollouts namespace');
ok(!grep({ !$_->{podSelector} || ($_->{namespaceSelector} && !%{ $_->{namespaceSelector}{matchLabels} || {} }) } @p8080),
    'and every peer of 8080 names its pods (no whole namespace, no "all namespaces")');

# The PrometheusRule is generated from the rules file, and promtool accepts what it holds.
my $gen = qx{$root/tools/prometheus-rule};
is($gen, slurp("$root/manifests/ping-pong/prometheus-rule.yaml"), 'prometheus-rule.yaml is tools/prometheus-rule\'s output (regenerate it)');
my ($pr) = grep { $_->{kind} eq 'PrometheusRule' } @objs;
is_deeply($pr->{spec}{groups}, LoadFile("$root/manifests/monitoring/pingpong.rules.yml")->{groups}, 'the PrometheusRule holds the rules file\'s groups');
{
	my $tmp = File::Temp->new(SUFFIX => '.yml');
	print $tmp YAML::XS::Dump({ groups => $pr->{spec}{groups} });
	close $tmp;
	my $out = qx{promtool check rules $tmp 2>&1};
	is($?, 0, 'promtool check rules accepts the PrometheusRule\'s groups') or diag $out;
}

# The README's Kubernetes section: every file it names exists, and the
# canary command is one kubectl argo rollouts accepts.
my $readme = slurp("$root/README.md");
(my $flat = $readme) =~ s/\\\n\s*/ /g;
my %named = map { $_ => 1 } $flat =~ m{(manifests/[\w./-]+\.ya?ml)}g;
for my $f (sort keys %named) {
	next if $f =~ /\.enc\.yaml$/;	# made by sops from the .example.yaml
	ok(-f "$root/$f", "README names $f, which exists");
}
my @set_image = $flat =~ /^(kubectl argo rollouts set image .*)$/mg;
ok(@set_image, 'the README shows the canary command');
for my $cmd (@set_image) {
	my (undef, undef, undef, undef, undef, $rollout, @rest) = split ' ', $cmd;
	is($rollout, $ro->{metadata}{name}, 'it names the Rollout');
	my @pairs = grep { /=/ } @rest;
	is(scalar @pairs, 1, 'with one CONTAINER=IMAGE pair (the plugin takes one)');
	my ($ctr, $img) = $pairs[0] =~ /^'?([^=]+)=([^']+)'?$/;
	ok($ctr eq '*' || grep({ $_->{name} eq $ctr } @{ $pod->{spec}{containers} }), "container $ctr is * or one of the Rollout's");
	my ($repo, $newtag) = split /:/, $img;
	is($repo, 'kubemooc.azurecr.io/ping-pong-app', 'the image is ours');
	isnt($newtag, $version, "a new tag ($newtag), not the running $version");
	like($cmd, qr/ -n exercises\b/, 'in the Rollout\'s namespace');
}

# Probes: ask a running stack each probe path the manifests use.
my $pp = PP->new;
my %port = (3000 => $pp->app_port, 8080 => $pp->auth_port);
for my $w (pod_templates(@objs)) {
	for my $c (grep { $_->{image} =~ /ping-pong/ && $_->{args}[0] ne 'log-output' } containers($w)) {
		my %named = map { $_->{name} => $_->{containerPort} } @{ $c->{ports} };
		for my $kind (qw(readinessProbe livenessProbe)) {
			my $g = $c->{$kind}{httpGet} or next;
			my $cport = $named{ $g->{port} } // $g->{port};
			my $r = HTTP::Tiny->new->get("http://127.0.0.1:$port{$cport}$g->{path}");
			is($r->{status}, 200, "$w->{metadata}{name}/$c->{name} $kind $g->{path} on $cport answers 200");
		}
	}
}

done_testing;
