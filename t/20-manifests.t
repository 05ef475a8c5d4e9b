# The Kubernetes manifests, proven offline: every object validates against
# its schema (kubernetes-models, pinned in tools/k8s-validate), each
# kustomization builds, and cross-checks catch what would break a deploy.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use File::Find;
use JSON::PP;
use YAML::XS qw(LoadFile);
use PP qw(slurp wait_until);

my $root = $PP::ROOT;
my $tools = "$root/tools/k8s-validate";
system("cd $tools && (test -d node_modules || npm ci --no-audit --no-fund --loglevel=error) >/dev/null") == 0
    or BAIL_OUT('npm ci in tools/k8s-validate failed');

my @files;
find(sub { push @files, $File::Find::name if /\.ya?ml$/ }, "$root/manifests");
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
my %roles = map { $_->{args}[0] => 1 } @ours;
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
