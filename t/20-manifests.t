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

# 2. kustomize: every directory docs/kubernetes.md applies (kubectl apply -k) is
# rendered here, and every kustomization is one docs/kubernetes.md applies.
my $readme = slurp("$root/docs/kubernetes.md");
(my $flat = $readme) =~ s/\\\n\s*/ /g;
my @readme_k = do { my %u; grep { !$u{$_}++ } $flat =~ /\bkubectl (?:apply -k|kustomize) (manifests[\w\/-]*)/g };
my %rendered;
for my $d (@readme_k) {
	(my $dir = "$root/$d") =~ s{/$}{};
	my $out = qx{kubectl kustomize $dir 2>&1};
	is($?, 0, "kubectl kustomize $d builds (docs/kubernetes.md: kubectl apply -k $d)") or diag $out;
	$rendered{$d} = [grep { ref $_ eq 'HASH' } YAML::XS::Load($out)] unless $?;
}
# manifests/secrets renders only with the age key, through Flux or KSOPS
# (docs/kubernetes.md: Secrets): t/70-secrets.t checks it.
my @kdirs = grep { !m{^manifests/secrets\b} } map { m{^\Q$root\E/(.*)/kustomization\.yaml$} ? $1 : () } @files;
is_deeply([sort @kdirs], [sort keys %rendered], 'every kustomization is applied by docs/kubernetes.md, and renders');
ok($rendered{$_}, "docs/kubernetes.md applies $_") for qw(manifests manifests/ping-pong);

# Load every object, per set (the directory it is in).
my (%set, @objs);
for my $f (@files) {
	for my $o (YAML::XS::LoadFile($f)) {
		next unless ref $o eq 'HASH' && $o->{kind} && $o->{kind} ne 'Kustomization';
		my $s = $f =~ m{/manifests/(?:ping-pong|pgbouncer)/} ? 'ping-pong' : 'shared-volume';
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
is_deeply({ map { $_->{port} => $_->{targetPort} } @{ $svc->{spec}{ports} } }, { 2507 => 'http' }, 'ping-pong-svc: 2507 -> app (the analysis\'s Services: t/13)');

# Scale-out objects: the HPA scales the Rollout within sane bounds, the PDB
# covers its pods, and the budget reaches the app's env.
my ($hpa) = grep { $_->{kind} eq 'HorizontalPodAutoscaler' } @objs;
is_deeply([@{ $hpa->{spec}{scaleTargetRef} }{qw(kind name)}], ['Rollout', 'ping-pong-app'], 'the HPA scales the Rollout');
ok($hpa->{spec}{minReplicas} >= 4 && $hpa->{spec}{minReplicas} % 4 == 0 && $hpa->{spec}{maxReplicas} >= $hpa->{spec}{minReplicas}, 'between sane bounds (a multiple of 4 at least)');
my ($pdb) = grep { $_->{kind} eq 'PodDisruptionBudget' && $_->{metadata}{name} eq 'ping-pong-app' } @objs;
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

# docs/kubernetes.md: every file it names exists, and the
# canary command is one kubectl argo rollouts accepts.
my %named = map { $_ => 1 } $flat =~ m{(manifests/[\w./-]+\.ya?ml)}g;
for my $f (sort keys %named) {
	next if $f =~ /\.enc\.yaml$/;	# made by sops from the .example.yaml
	ok(-f "$root/$f", "docs/kubernetes.md names $f, which exists");
}
# The image: the version of our own (never the Python original's 4.4.3),
# equal in version.h (so pingpong_build_info, t/15), every manifest, both
# kustomizations' images: and its build and push commands.
my $image = 'kubemooc.azurecr.io/ping-pong-app';
isnt($version, '4.4.3', "the version ($version) is not the Python original's 4.4.3");
for my $f (@files, glob("$root/manifests/monitoring/*")) {
	my $text = slurp($f);
	unlike($text, qr/\b4\.4\.3\b/, "$f: no 4.4.3");
	my @refs = $text =~ m{\Q$image\E:([\w.-]+)}g;
	is_deeply([grep { $_ ne $version } @refs], [], "$f: every $image tag is $version") if @refs;
}
for my $d (qw(manifests manifests/ping-pong)) {
	my ($k) = LoadFile("$root/$d/kustomization.yaml");
	my @img = grep { $_->{name} eq $image } @{ $k->{images} || [] };
	is(scalar @img, 1, "$d/kustomization.yaml: images: names $image");
	is($img[0]{newTag}, $version, "$d: its newTag is $version") if @img;
	ok(!grep({ $_->{newName} } @img), "$d: and no newName (the repository stays ours)");
}
for my $d (grep { !m{pgbouncer$} } sort keys %rendered) {	# PgBouncer runs its own image
	my @c = grep { $_->{image} =~ /ping-pong-app/ } map { containers($_) } pod_templates(@{ $rendered{$d} });
	ok(@c, "$d renders our containers");
	is_deeply([grep { $_->{image} ne "$image:$version" } @c], [], "$d: every one runs $image:$version");
}
unlike($flat, qr/\b4\.4\.3\b(?!.{0,80}(?:Python|original))/s, 'docs/kubernetes.md names 4.4.3 only as the original\'s');
my @build = $flat =~ /^(\.\/build\.sh .*|podman push .*|docker push .*|az acr build .*)$/mg;
ok(@build >= 3, 'docs/kubernetes.md builds, pushes, or builds in the registry: ' . scalar @build . ' commands');
for my $cmd (@build) {
	like($cmd, qr{(?:\Q$image\E|ping-pong-app):\Q$version\E(?:\s|$)}, "$cmd: tags $version");
}
like($flat, qr/^az aks update .*--attach-acr \S+/m, 'docs/kubernetes.md attaches the registry to the cluster');
like($flat, qr/^az acr login /m, 'and logs in to push');

# The canary: a kustomize edit of images:, then an apply of the directory,
# so later applies keep the tag (set image alone would be reverted).
my @edit = $flat =~ /^\(cd (manifests\/[\w\/-]+) && (kustomize edit set image \S+)\)$/mg;
is(scalar @edit, 2, 'docs/kubernetes.md\'s canary command edits a kustomization\'s images:');
my ($edir, $ecmd) = @edit;
is($edir, 'manifests/ping-pong', 'the canary deployment\'s');
my ($newimg) = $ecmd =~ /set image (\S+)$/;
my ($newrepo, $newtag) = $newimg =~ /^(.*):([^:\/]+)$/;
is($newrepo, $image, 'the image is ours');
isnt($newtag, $version, "a new tag ($newtag), not the running $version");
like($flat, qr/\Q$ecmd\E\)\nkubectl apply -k \Q$edir\E\n/, 'and docs/kubernetes.md applies that directory right after');
unlike($flat, qr/^kubectl argo rollouts set image/m, 'no kubectl argo rollouts set image (the next apply would revert it)');
if ($edir && $newrepo) {
	my $tmp = File::Temp->newdir;
	system('cp', '-a', "$root/manifests", "$tmp/") == 0 or die 'cp';
	if (grep { -x "$_/kustomize" } split /:/, $ENV{PATH}) {
		my $out = qx{cd $tmp/$edir && $ecmd 2>&1};
		is($?, 0, "$ecmd runs") or diag $out;
	} else {
		# kustomize is not packaged in Debian 12 (kubectl's built-in one
		# cannot edit): write what kustomize edit set image NAME:TAG writes
		# (kustomize/commands/edit/set/setimage.go): the images: entry named
		# NAME replaced by one with that newTag alone (a newName in it is
		# dropped: docs/kubernetes.md, Placeholders to replace), sorted by name.
		my $kf = "$tmp/$edir/kustomization.yaml";
		my ($k) = LoadFile($kf);
		$k->{images} = [sort { $a->{name} cmp $b->{name} } (grep { $_->{name} ne $newrepo } @{ $k->{images} || [] }),
		    { name => $newrepo, newTag => $newtag }];
		YAML::XS::DumpFile($kf, $k);
		pass('kustomize is not installed: its edit written as it writes it');
	}
	for my $d (grep { ($_ eq $edir || m{^manifests/ha}) && !m{pgbouncer$} } sort keys %rendered) {
		my $out = qx{kubectl kustomize $tmp/$d 2>&1};
		is($?, 0, "after the edit $d still builds") or diag $out;
		my @c = grep { $_->{image} =~ /ping-pong-app/ } map { containers($_) } pod_templates(grep { ref $_ eq 'HASH' } YAML::XS::Load($out));
		ok(@c && !grep({ $_->{image} ne $newimg } @c), "after the edit every container of ours in $d runs $newimg");
	}
}

# The HPA owns the replica count: nothing it scales carries spec.replicas
# (an apply would scale it back), in the files and in every render.
for my $objs (\@objs, map { $rendered{$_} } sort keys %rendered) {
	for my $h (grep { $_->{kind} eq 'HorizontalPodAutoscaler' } @$objs) {
		my $t = $h->{spec}{scaleTargetRef};
		my @tg = grep { $_->{kind} eq $t->{kind} && $_->{metadata}{name} eq $t->{name} } @$objs;
		ok(@tg, "the HPA $h->{metadata}{name} targets $t->{kind}/$t->{name}, which exists");
		ok(!grep({ exists $_->{spec}{replicas} } @tg), "$t->{kind}/$t->{name} has no spec.replicas beside the HPA");
	}
}
# docs/kubernetes.md's table of canary splits between the HPA's bounds is Argo's
# arithmetic without a traffic router (utils/replicaset/canary.go): canary
# ceil(n x w), stable ceil(n x (1 - w)).
{
	use POSIX ();
	my %rows = $readme =~ /^\| (\d+) \| (.*?) \|\s*$/mg;
	my @w = map { $_->{setWeight} } grep { exists $_->{setWeight} && $_->{setWeight} < 100 } @{ $ro->{spec}{strategy}{canary}{steps} };
	is_deeply([sort { $::a <=> $::b } keys %rows], [$hpa->{spec}{minReplicas} .. $hpa->{spec}{maxReplicas}], 'docs/kubernetes.md tabulates the splits for every replica count the HPA allows');
	for my $n (sort keys %rows) {
		my @got = map { [/(\d+) \/ (\d+)/] } split /\|/, $rows{$n};
		my @want = map { [POSIX::ceil($n * $_ / 100 - 1e-9), POSIX::ceil($n * (100 - $_) / 100 - 1e-9)] } @w;
		is_deeply(\@got, \@want, "$n replicas: " . join(', ', map { "$_->[0]/$_->[1]" } @want));
	}
}
my ($hm) = @{ $hpa->{spec}{metrics} };
is_deeply([$hm->{type}, $hm->{containerResource}{name}, $hm->{containerResource}{container}], ['ContainerResource', 'cpu', 'ping-pong'],
    'the HPA scales on the app container\'s own CPU');

# A canary that never gets ready aborts; the pauses are judged.
ok($ro->{spec}{progressDeadlineAbort}, 'progressDeadlineAbort: true');
ok(($ro->{spec}{progressDeadlineSeconds} // 600) <= 900, 'within a deadline of at most 15 minutes');
sub seconds { my ($d) = @_; my %u = (s => 1, m => 60, h => 3600); $d =~ /^(\d+)([smh])$/ ? $1 * $u{$2} : $d =~ /^\d+$/ ? $d : -1 }
if ($ro->{spec}{strategy}{canary}{analysis}) {
	pass('a background analysis judges the canary during the pauses');
} else {
	# Without one, each step analysis must look back over the pause before it.
	my @st = @{ $ro->{spec}{strategy}{canary}{steps} };
	for my $i (grep { $st[$_]{analysis} } 0 .. $#st) {
		my $p = $i > 0 && $st[$i - 1]{pause} ? seconds($st[$i - 1]{pause}{duration}) : 0;
		for my $tn (map { $_->{templateName} } @{ $st[$i]{analysis}{templates} }) {
			my ($t) = grep { $_->{kind} eq 'AnalysisTemplate' && $_->{metadata}{name} eq $tn } @objs;
			my ($w) = grep { $_->{name} eq 'window' } @{ $t->{spec}{args} || [] };
			my $passed = grep { $_->{name} eq 'window' } @{ $st[$i]{analysis}{args} || [] };
			ok(!$passed && $w && seconds($w->{value}) >= $p, "step $i: $tn looks back ($w->{value}) over the pause before it (${p}s)");
		}
	}
}

# Disruptions: every PDB lets unready pods go (drains never stall on them).
for my $b (grep { $_->{kind} eq 'PodDisruptionBudget' } @objs) {
	is($b->{spec}{unhealthyPodEvictionPolicy}, 'AlwaysAllow', "PDB $b->{metadata}{name}: unhealthyPodEvictionPolicy AlwaysAllow");
}

# Topology spread by node and zone, per ReplicaSet, for every workload of
# more than one pod (the Rollout's count is the HPA's).
for my $w (grep { $_->{kind} eq 'Rollout' || ($_->{spec}{replicas} // 1) > 1 } grep { $_->{kind} =~ /^(Rollout|Deployment)$/ } @objs) {
	my $hash = $w->{kind} eq 'Rollout' ? 'rollouts-pod-template-hash' : 'pod-template-hash';
	my %tsc = map { $_->{topologyKey} => $_ } @{ $w->{spec}{template}{spec}{topologySpreadConstraints} || [] };
	for my $key (qw(kubernetes.io/hostname topology.kubernetes.io/zone)) {
		my $c = $tsc{$key};
		ok($c && $c->{maxSkew} == 1, "$w->{metadata}{name}: spread over $key");
		is_deeply($c->{labelSelector}{matchLabels}, $w->{spec}{selector}{matchLabels}, "$w->{metadata}{name}: $key counts its own pods");
		is_deeply($c->{matchLabelKeys}, [$hash], "$w->{metadata}{name}: $key per ReplicaSet ($hash)");
	}
	is(($tsc{'topology.kubernetes.io/zone'} || {})->{whenUnsatisfiable}, 'ScheduleAnyway', "$w->{metadata}{name}: zones best effort (clusters without zones schedule)");
}

# Probes: each one's timeout above the longest its path can wait, plus a
# second (nginx, the network). /health/ready on the app waits up to the
# request deadline (connect + statement timeouts, the settings' defaults or
# the container's env) and a cancel's answer; log-output's waits for
# ping-pong (two calls).
my %default = slurp("$root/common/config.c") =~ /\{\s*"([A-Z_]+)",\s*T_\w+,\s*"([^"]*)"/g;
# The app's: a statement is sent only while a whole statement timeout is
# left (fcgi/dbthread.c), and a cut one waits for its cancel's answer.
my ($cancel_ms) = slurp("$root/common/pp_limits.h") =~ /#define PP_DB_CANCEL_WAIT_MS\s+(\d+)/;
# log-output's: the call in progress and its own (logoutput/fetcher.c).
my ($log_ms) = map { 2 * $_ } slurp("$root/common/pp_limits.h") =~ /#define PP_LOG_UPSTREAM_MS\s+(\d+)/;
ok($default{PING_PONG_DB_CONNECT_TIMEOUT} && $default{PING_PONG_DB_STATEMENT_TIMEOUT} && $log_ms && $cancel_ms, 'the deadlines read from the code');
for my $w (pod_templates(@objs)) {
	for my $c (grep { $_->{image} =~ /ping-pong-app/ } containers($w)) {
		my %e = (%default, map { $_->{name} => $_->{value} } grep { defined $_->{value} } @{ $c->{env} || [] });
		my %wait = (
			app => { '/health/ready' => $e{PING_PONG_DB_CONNECT_TIMEOUT} * 1000 + $e{PING_PONG_DB_STATEMENT_TIMEOUT} + $cancel_ms,
			    '/health' => 0, '/metrics' => 0 },
			'log-output' => { '/health/ready' => $log_ms, '/health' => 0 },
			authproxy => { '/health/live' => 0, '/health' => 0 },
		);
		for my $kind (qw(readinessProbe livenessProbe startupProbe)) {
			my $g = ($c->{$kind} || {})->{httpGet} or next;
			my $ms = $wait{ $c->{args}[0] }{ $g->{path} };
			ok(defined $ms, "$w->{metadata}{name}/$c->{name} $kind $g->{path}: a path whose deadline is known") or next;
			my $t = ($c->{$kind}{timeoutSeconds} // 1) * 1000;
			ok($t >= $ms + 1000, "$w->{metadata}{name}/$c->{name} $kind $g->{path}: timeout ${t} ms >= its deadline ${ms} ms + 1 s");
		}
	}
}

# Ingresses name their class.
ok($_->{spec}{ingressClassName}, "Ingress $_->{metadata}{name}: ingressClassName $_->{spec}{ingressClassName}")
    for grep { $_->{kind} eq 'Ingress' } @objs;

# The PrometheusRule carries the label kube-prometheus-stack selects by.
ok($pr->{metadata}{labels}{release}, "the PrometheusRule carries release: $pr->{metadata}{labels}{release}");

# Every alert has a runbook_url naming its section of docs/runbook.md.
{
	my %sections = map { $_ => 1 } slurp("$root/docs/runbook.md") =~ /^## (\S+)$/mg;
	for my $r (grep { $_->{alert} } map { @{ $_->{rules} } } @{ $pr->{spec}{groups} }) {
		my ($anchor) = ($r->{annotations}{runbook_url} // '') =~ m{^docs/runbook\.md#(\S+)$};
		ok($anchor && $sections{$anchor}, "alert $r->{alert}: runbook_url names a section of docs/runbook.md (" . ($anchor // 'none') . ')');
	}
	my ($down) = grep { ($_->{alert} // '') eq 'PingPongDatabaseDown' } map { @{ $_->{rules} } } @{ $pr->{spec}{groups} };
	unlike($down->{expr}, qr/pod/, 'PingPongDatabaseDown is one alert per namespace, not per pod');
}

# The shared-volume variant runs on any cluster: no volume pinned to a node.
ok(!grep({ $_->{kind} eq 'PersistentVolume' } @objs), 'no PersistentVolume of our own (a claim of the default StorageClass)');
ok(!grep({ $_->{kind} eq 'PersistentVolumeClaim' && exists $_->{spec}{storageClassName} } @objs), 'claims use the default StorageClass');
unlike($flat, qr/^docker exec k3d/m, 'docs/kubernetes.md needs no k3d node');

# No service account token where nothing calls the Kubernetes API: every
# pod of ours (PostgreSQL's is its own manifest's).
for my $w (grep { $_->{_file} !~ m{/postgres-|/ha/} } pod_templates(@objs)) {
	ok(defined $w->{spec}{template}{spec}{automountServiceAccountToken} && !$w->{spec}{template}{spec}{automountServiceAccountToken},
	    "$w->{metadata}{name}: automountServiceAccountToken: false");
}

# CPU: the app's request is docs/kubernetes.md's, sized from make bench, and no
# container of ours has a CPU limit (CFS throttling hurts p99).
my $req = $app->{resources}{requests}{cpu};
like($readme, qr/requests \*\*\Q$req\E\*\*/, "docs/kubernetes.md's sizing names the app's request ($req)");
for my $c (map { containers($_) } grep { $_->{_file} !~ m{/postgres-|/ha/} } pod_templates(@objs)) {
	ok(!exists $c->{resources}{limits}{cpu}, "$c->{name}: no CPU limit");
}

# PgBouncer starts on a read-only root: its own command (never the image's
# entrypoint script), every path its ini names under a mount, no unix
# socket, 2 replicas and a PDB. t/67 runs it. Its ConfigMap is generated
# (manifests/pgbouncer/kustomization.yaml), so it is read from the build.
my @pgb_built = @{ $rendered{'manifests/pgbouncer'} || [] };
my ($pgb) = grep { $_->{kind} eq 'Deployment' && $_->{metadata}{name} eq 'pgbouncer' } @pgb_built;
my ($pc) = @{ $pgb->{spec}{template}{spec}{containers} };
ok($pc->{command} && $pc->{command}[0] =~ m{^/.*/pgbouncer$}, 'PgBouncer: an explicit command: running pgbouncer itself');
ok(!$pc->{args}, 'and no args: (the command line is whole)');
ok(!grep({ /^-d$|^--daemon$/ } @{ $pc->{command} }), 'in the foreground');
ok($pc->{securityContext}{readOnlyRootFilesystem}, 'on a read-only root');
my @mounts = map { $_->{mountPath} } @{ $pc->{volumeMounts} };
sub under_mount { my ($p) = @_; grep { index($p, "$_/") == 0 } @mounts }
my ($ini_path) = grep { m{^/} } @{ $pc->{command} }[1 .. $#{ $pc->{command} }];
ok($ini_path && under_mount($ini_path), "its ini ($ini_path) is under a mount");
my ($cfgvol) = grep { my $v = $_; grep { $_->{name} eq $v->{name} && index($ini_path, "$_->{mountPath}/") == 0 } @{ $pc->{volumeMounts} } }
    @{ $pgb->{spec}{template}{spec}{volumes} };
my ($cm) = grep { $_->{kind} eq 'ConfigMap' && $_->{metadata}{name} eq ($cfgvol->{configMap}{name} // '') } @pgb_built;
(my $ini_key = $ini_path) =~ s{.*/}{};
(my $ini_dir = $ini_path) =~ s{/[^/]*$}{};
my $ini = $cm && $cm->{data}{$ini_key};
ok($ini, "the ini is the ConfigMap $cfgvol->{configMap}{name}'s $ini_key");
my @included = map { [$_, $cm->{data}{ s{^\Q$ini_dir\E/}{}r }] } ($ini // '') =~ /^%include\s+(\S+)/mg;
ok(@included, 'it includes the database it pools onto: ' . join(' ', map { $_->[0] } @included));
ok(defined $_->[1], "$_->[0]: a key of the same ConfigMap") for @included;
my %ini = map { /^\s*(\w+)\s*=\s*(.*?)\s*$/ ? ($1 => $2) : () } split /\n/, join "\n", $ini // '', map { $_->[1] // '' } @included;
like($ini{pingpong} // '', qr/^host=postgres-svc port=5432 dbname=pingpong$/, 'onto the single PostgreSQL (manifests/ha/pgbouncer: t/21)');
ok(exists $ini{unix_socket_dir} && $ini{unix_socket_dir} eq '', 'unix_socket_dir = (empty: no socket on the read-only root)');
my @paths = grep { $ini{$_} =~ m{^/} } sort keys %ini;
ok(@paths, 'the ini names paths: ' . join(' ', @paths));
ok(under_mount($ini{$_}), "$_ = $ini{$_} is under a mount") for @paths;
ok(!exists $ini{$_} || $ini{$_} eq '', "no $_ (it would be written on the read-only root)") for qw(logfile pidfile);
my ($authm) = grep { index($ini{auth_file} // '', "$_->{mountPath}/") == 0 } @{ $pc->{volumeMounts} };
my ($authv) = grep { $_->{name} eq ($authm || {})->{name} } @{ $pgb->{spec}{template}{spec}{volumes} };
(my $auth_rel = $ini{auth_file} // '') =~ s{^\Q@{[ ($authm || {})->{mountPath} // '' ]}\E/}{};
ok($authv && $authv->{secret} && grep({ $_->{path} eq $auth_rel } @{ $authv->{secret}{items} }), "auth_file is the secret's $auth_rel");
my ($pgbv) = $pc->{image} =~ /:v?(\d+\.\d+)/;
ok($pgbv && ($pgbv < 1.21 || $ini{max_prepared_statements}), "PgBouncer $pgbv: max_prepared_statements set where 1.21 or newer keeps the statements");
ok($pgb->{spec}{replicas} >= 2, 'two PgBouncers at least');
ok(grep({ $_->{kind} eq 'PodDisruptionBudget' && ($_->{spec}{selector}{matchLabels}{app} // '') eq $pgb->{spec}{selector}{matchLabels}{app} } @objs),
    'and a PDB for them');

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
