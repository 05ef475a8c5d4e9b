# The data side on Kubernetes, proven offline: the high-availability
# deployment (manifests/ha: the canary deployment with a CloudNativePG
# Cluster as the app's database) and the single PostgreSQL of
# manifests/ping-pong. CloudNativePG's resources have no published schema,
# so tools/k8s-validate checks them explicitly against the APIs (cnpg.mjs);
# this file shows that check rejects what it should, that the overlay wires
# the app to the cluster's read-write Service with synchronous replication
# on and moves the counter without a fork (the import, the handover mark),
# and that both databases have storage sized for their WAL, pinned images,
# Guaranteed resources, backups (the cluster), a restricted security
# context, an application role that is not the superuser, a NetworkPolicy
# for 5432, and that no example Secret is what SOPS encrypts.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Encode ();
use JSON::PP;
use File::Temp;
use YAML::XS ();
use PP qw(slurp);

my $root = $PP::ROOT;
my $tools = "$root/tools/k8s-validate";
PP::k8s_validate_deps($tools) or BAIL_OUT('npm ci in tools/k8s-validate failed');
sub validate { map { decode_json($_) } grep { /^\{/ } split /\n/, qx{cd $tools && node validate.mjs @_} }

my $built = qx{kubectl kustomize $root/manifests/ha 2>&1};
is($?, 0, 'kubectl kustomize manifests/ha builds') or diag $built;
my $tmp = File::Temp->new(SUFFIX => '.yaml');
print $tmp $built;
close $tmp;
my @res = validate("$tmp");
is(scalar(grep { !$_->{ok} } @res), 0, 'every object of the build validates (the Cluster by the explicit check)')
    or diag explain [grep { !$_->{ok} } @res];
ok(grep({ ($_->{kind} // '') eq 'Cluster' && $_->{explicit} } @res), 'the Cluster went through the CloudNativePG check');

my @bad = validate("$root/t/data/invalid-cnpg-clusters.yaml");
is(scalar @bad, 13, 'thirteen invalid CloudNativePG objects read');
ok(!$_->{ok}, "rejected: $_->{name} ($_->{error})") for @bad;

my @objs = grep { ref $_ eq 'HASH' } YAML::XS::Load($built);
my ($cl) = grep { $_->{kind} eq 'Cluster' } @objs;
my $name = $cl->{metadata}{name};
is($cl->{spec}{instances}, 3, 'three instances');
my $sync = $cl->{spec}{postgresql}{synchronous};
ok($sync && $sync->{number} >= 1, "synchronous replication: $sync->{method} $sync->{number}");
is($sync->{dataDurability}, 'required', 'and commits wait rather than run unprotected');
is($cl->{spec}{affinity}{podAntiAffinityType}, 'required', 'one instance per node');
ok(grep({ $_->{kind} eq 'StatefulSet' } @objs) && grep({ $_->{kind} eq 'Service' && $_->{metadata}{name} eq 'postgres-svc' } @objs),
    'the single PostgreSQL and its Service stay: the import reads them, a pruning GitOps tool must not delete them first');

my ($ro) = grep { $_->{kind} eq 'Rollout' } @objs;
my ($app) = grep { $_->{name} eq 'ping-pong' } @{ $ro->{spec}{template}{spec}{containers} };
my %env = map { $_->{name} => $_ } @{ $app->{env} };
is($env{PING_PONG_DB_HOST}{value}, "$name-rw", "the app connects to the read-write Service $name-rw");
is($env{PING_PONG_DB_NAME}{value}, $cl->{spec}{bootstrap}{initdb}{database}, 'to the database the cluster creates');
my ($role) = @{ $cl->{spec}{managed}{roles} || [] };
my $login = $role->{passwordSecret}{name};
is_deeply($env{PING_PONG_DB_USER}{valueFrom}{secretKeyRef}, { name => $login, key => 'username' },
    "as the managed role's login ($login)");
my ($vol) = grep { $_->{name} eq 'db-secret' } @{ $ro->{spec}{template}{spec}{volumes} };
is_deeply($vol->{secret}, { secretName => $login, items => [{ key => 'password', path => 'DB_PASSWORD' }] },
    'with its password, mounted where PING_PONG_DB_PASSWORD_FILE points');
like($env{PING_PONG_DB_PASSWORD_FILE}{value}, qr{/DB_PASSWORD$}, 'PING_PONG_DB_PASSWORD_FILE reads that file');

# PgBouncer under manifests/ha pools onto the primary: manifests/ha/pgbouncer
# is manifests/pgbouncer with databases.ini alone replaced, and the new
# ConfigMap name rolls PgBouncer's pods onto it (it reads its ini at start).
my @pgb_ha = grep { ref $_ eq 'HASH' } YAML::XS::Load(scalar qx{kubectl kustomize $root/manifests/ha/pgbouncer 2>&1});
my @pgb_base = grep { ref $_ eq 'HASH' } YAML::XS::Load(scalar qx{kubectl kustomize $root/manifests/pgbouncer 2>&1});
my ($pgb_cm) = grep { $_->{kind} eq 'ConfigMap' } @pgb_ha;
my ($pgb_cm_base) = grep { $_->{kind} eq 'ConfigMap' } @pgb_base;
my ($pgb_dep) = grep { $_->{kind} eq 'Deployment' } @pgb_ha;
like($pgb_cm->{data}{'databases.ini'} // '', qr/^pingpong = host=\Q$name\E-rw port=5432 dbname=\Q$cl->{spec}{bootstrap}{initdb}{database}\E$/m,
    "manifests/ha/pgbouncer: PgBouncer pools onto $name-rw");
like($pgb_cm->{data}{'pgbouncer.ini'} // '', qr{^%include /etc/pgbouncer/databases\.ini$}m, 'which its ini includes');
is(join(' ', map { $_->{configMap} ? $_->{configMap}{name} : () } @{ $pgb_dep->{spec}{template}{spec}{volumes} }), $pgb_cm->{metadata}{name},
    'the Deployment mounts that ConfigMap');
isnt($pgb_cm->{metadata}{name}, $pgb_cm_base->{metadata}{name}, 'under another name than manifests/pgbouncer\'s: its pods roll');
# An object of a PgBouncer build as YAML, without databases.ini and with
# its ConfigMap's name (given) as CONFIG.
sub without_db {
	my ($obj, $cm) = @_;
	my $o = YAML::XS::Load(YAML::XS::Dump($obj));
	delete $o->{data}{'databases.ini'} if $o->{kind} eq 'ConfigMap';
	my $name = $cm->{metadata}{name};
	return YAML::XS::Dump($o) =~ s/\Q$name\E/CONFIG/gr;
}
is_deeply([map { without_db($_, $pgb_cm) } @pgb_ha], [map { without_db($_, $pgb_cm_base) } @pgb_base],
    'and nothing else differs');
my @pgb_res = do { my $t = File::Temp->new(SUFFIX => '.yaml'); print $t YAML::XS::Dump(@pgb_ha); close $t; validate("$t") };
ok(@pgb_res && !grep({ !$_->{ok} } @pgb_res), scalar(@pgb_res) . ' objects of manifests/ha/pgbouncer validate') or diag explain \@pgb_res;

# No fork of the counter: the cluster is a copy of the single PostgreSQL,
# and the app serves only on a database holding the freeze's mark.
is($env{PING_PONG_DB_REQUIRE_HANDOVER}{value}, 'on', 'the overlay sets PING_PONG_DB_REQUIRE_HANDOVER=on');
my $import = $cl->{spec}{bootstrap}{initdb}{import};
is($import->{type}, 'microservice', 'the cluster bootstraps by importing (microservice)');
is_deeply($import->{databases}, [$cl->{spec}{bootstrap}{initdb}{database}], 'the app\'s database');
my ($src) = grep { $_->{name} eq $import->{source}{externalCluster} } @{ $cl->{spec}{externalClusters} };
is($src->{connectionParameters}{host}, 'postgres-svc', 'from the single PostgreSQL\'s Service');
my @objs_base = grep { ref $_ eq 'HASH' } YAML::XS::Load(scalar qx{kubectl kustomize $root/manifests/ping-pong 2>&1});
my %secrets = map { $_->{metadata}{name} => $_ } grep { $_->{kind} eq 'Secret' }
    map { YAML::XS::LoadFile($_) } glob("$root/manifests/*/*.example.yaml");
is($secrets{ $src->{password}{name} }{stringData}{ $src->{password}{key} } ? $secrets{ $src->{password}{name} }{stringData}{USER} : '',
    $src->{connectionParameters}{user}, 'as the superuser, whose password it reads from the Secret that holds it');
like(slurp("$root/manifests/ha/handover.sql"), qr/default_transaction_read_only = on.*pg_terminate_backend.*CREATE TABLE IF NOT EXISTS ping_counter_handover/s,
    'handover.sql freezes writes, ends the sessions, then writes the mark');
like(slurp("$root/sql/continuity.sql"), qr/ping_counter_handover/, 'the mark the worker checks (sql/continuity.sql) is that table');

# Storage: WAL has room.
my ($ss) = grep { $_->{kind} eq 'StatefulSet' && $_->{metadata}{name} eq 'postgres-statefulset' } @objs_base;
my ($pgc) = @{ $ss->{spec}{template}{spec}{containers} };
sub bytes { my ($q) = @_; my %u = (Ki => 2**10, Mi => 2**20, Gi => 2**30, Ti => 2**40, kB => 1e3, MB => 2**20, GB => 2**30);
	$q =~ /^(\d+)(\w*)$/ or return 0; return $1 * ($2 eq '' ? 1 : $u{$2} // 0) }
my %args = join(' ', @{ $pgc->{args} || [] }) =~ /-c (\w+)=(\S+)/g;
my $vol_size = bytes($ss->{spec}{volumeClaimTemplates}[0]{spec}{resources}{requests}{storage});
ok($args{max_wal_size} && $vol_size >= 4 * bytes($args{max_wal_size}),
    "StatefulSet: the volume ($ss->{spec}{volumeClaimTemplates}[0]{spec}{resources}{requests}{storage}) holds 4x max_wal_size ($args{max_wal_size})");
my $par = $cl->{spec}{postgresql}{parameters};
ok($cl->{spec}{walStorage}{size}, "Cluster: WAL on its own volume ($cl->{spec}{walStorage}{size})");
ok(bytes($cl->{spec}{walStorage}{size}) >= 2 * (bytes($par->{max_wal_size}) + bytes($par->{wal_keep_size})),
    "Cluster: walStorage holds twice max_wal_size + wal_keep_size ($par->{max_wal_size} + $par->{wal_keep_size})");

# Images pinned by digest, one image for both.
my $pinned = qr/\@sha256:[0-9a-f]{64}$/;
like($pgc->{image}, $pinned, 'StatefulSet: the image is pinned by digest');
ok(!exists $cl->{spec}{imageName}, 'Cluster: no floating imageName');
my $ref = $cl->{spec}{imageCatalogRef};
my ($catalog) = grep { $_->{kind} eq $ref->{kind} && $_->{metadata}{name} eq $ref->{name} } @objs;
my ($entry) = grep { $_->{major} == $ref->{major} } @{ $catalog->{spec}{images} || [] };
like($entry->{image} // '', $pinned, "Cluster: its ImageCatalog $ref->{name} pins major $ref->{major} by digest");
is($pgc->{image}, $entry->{image}, 'the StatefulSet runs the same image');

# Guaranteed QoS for the database pods: requests == limits.
sub guaranteed { my ($r) = @_; $r && $r->{limits} && $r->{requests} && %{ $r->{limits} } >= 2
	&& !grep { ($r->{requests}{$_} // '') ne $r->{limits}{$_} } keys %{ $r->{limits} } }
ok(guaranteed($pgc->{resources}), 'StatefulSet: requests == limits (cpu and memory)');
ok(guaranteed($cl->{spec}{resources}), 'Cluster: requests == limits');
my ($store) = grep { $_->{kind} eq 'ObjectStore' } @objs;
ok(guaranteed($store->{spec}{instanceSidecarConfiguration}{resources}), 'and the backup sidecar in its pods');

# Backups: the barman-cloud plugin to Azure Blob with workload identity, scheduled.
my ($plugin) = @{ $cl->{spec}{plugins} || [] };
ok($plugin && $plugin->{isWALArchiver} && $plugin->{parameters}{barmanObjectName} eq $store->{metadata}{name},
    'Cluster: WAL archived by barman-cloud to the ObjectStore');
like($store->{spec}{configuration}{destinationPath}, qr{^https://[^/]+\.blob\.core\.windows\.net/}, 'an Azure Blob container');
ok($store->{spec}{configuration}{azureCredentials}{useDefaultAzureCredentials} && !grep({ /^(connectionString|storageKey|storageSasToken)$/ } keys %{ $store->{spec}{configuration}{azureCredentials} }),
    'reached with the pods\' workload identity, no key');
is($cl->{spec}{inheritedMetadata}{labels}{'azure.workload.identity/use'}, 'true', 'the instance pods carry the workload identity label');
ok($cl->{spec}{serviceAccountTemplate}{metadata}{annotations}{'azure.workload.identity/client-id'}, 'and their ServiceAccount the client id');
my ($sched) = grep { $_->{kind} eq 'ScheduledBackup' } @objs;
ok($sched && $sched->{spec}{cluster}{name} eq $name && $sched->{spec}{method} eq 'plugin', 'a ScheduledBackup of the cluster through the plugin');

# PodSecurity "restricted": the namespace enforces it, so every pod must meet it.
my ($ns) = grep { $_->{kind} eq 'Namespace' } @objs;
is($ns->{metadata}{labels}{'pod-security.kubernetes.io/enforce'}, 'restricted', 'the namespace enforces PodSecurity restricted');
my @pods = grep { $_->{spec}{template}{spec} } @objs, @pgb_ha, YAML::XS::LoadFile("$root/manifests/ping-pong/migrate-widen-job.yaml");
for my $w (@pods) {
	my $ps = $w->{spec}{template}{spec};
	my $psc = $ps->{securityContext} || {};
	for my $c (@{ $ps->{containers} }, @{ $ps->{initContainers} || [] }) {
		my $sc = $c->{securityContext} || {};
		ok(($sc->{runAsNonRoot} // $psc->{runAsNonRoot}) && ($sc->{runAsUser} // $psc->{runAsUser} // 1) != 0
		    && (($sc->{seccompProfile} // $psc->{seccompProfile} // {})->{type} // '') =~ /^(RuntimeDefault|Localhost)$/
		    && defined $sc->{allowPrivilegeEscalation} && !$sc->{allowPrivilegeEscalation}
		    && grep({ $_ eq 'ALL' } @{ $sc->{capabilities}{drop} || [] }) && !@{ $sc->{capabilities}{add} || [] }
		    && !$ps->{hostNetwork} && !grep({ $_->{hostPath} } @{ $ps->{volumes} || [] }),
		    "$w->{metadata}{name}/$c->{name}: restricted (non-root, seccomp, no escalation, capabilities dropped)");
	}
}
ok($pgc->{securityContext}{readOnlyRootFilesystem}, 'PostgreSQL: read-only root');
my %mounted = map { $_->{mountPath} => 1 } @{ $pgc->{volumeMounts} };
my ($pgdata) = map { $_->{value} } grep { $_->{name} eq 'PGDATA' } @{ $pgc->{env} };
(my $pgdata_mount = $pgdata) =~ s{/[^/]+$}{};
ok($mounted{$_}, "with $_ mounted (written: data, socket, temporary files)") for ($pgdata_mount, '/var/run/postgresql', '/tmp');

# The application's role is not the superuser, and has only what serving needs.
my ($initdb) = grep { $_->{kind} eq 'ConfigMap' && $_->{metadata}{name} eq 'postgres-initdb' } @objs_base;
is($initdb->{data}{'10-roles.sh'} . $initdb->{data}{'schema.sql'}, do {
	my $gen = qx{$root/tools/postgres-initdb};
	my ($cm) = YAML::XS::Load($gen);
	$cm->{data}{'10-roles.sh'} . $cm->{data}{'schema.sql'} }, 'postgres-initdb.yaml is current (tools/postgres-initdb)');
is($initdb->{data}{'schema.sql'}, Encode::decode('UTF-8', slurp("$root/sql/schema.sql")), 'its schema is sql/schema.sql');
my $roles = $initdb->{data}{'10-roles.sh'};
my $app_user = $secrets{'ping-pong-app-secret'}{stringData}{DB_USER};
isnt($app_user, $secrets{'postgres-secret'}{stringData}{USER}, "the app logs in as $app_user, not as the superuser");
my ($create) = $roles =~ /^(CREATE ROLE \Q$app_user\E .*)$/m;
is($create, "CREATE ROLE $app_user LOGIN PASSWORD :'app_password';", "the bootstrap creates $app_user with no attribute beyond LOGIN");
my @grants = $roles =~ /^GRANT (.+) TO \Q$app_user\E;$/mg;
is_deeply([sort @grants], [sort 'CONNECT ON DATABASE :"DBNAME"', 'SELECT, INSERT, UPDATE ON ping_counter', 'USAGE ON SEQUENCE ping_counter_id_seq'],
    'and grants it CONNECT, SELECT/INSERT/UPDATE on the counter, USAGE on its sequence: nothing else');
like($roles, qr/REVOKE ALL ON DATABASE :"DBNAME" FROM PUBLIC/, 'PUBLIC loses CONNECT and TEMP');
like($roles, qr/SET ROLE pingpong_owner;\n\\i :schema/, 'the schema runs as the owner');
my %pg_env = map { $_->{name} => $_->{valueFrom}{secretKeyRef} } grep { $_->{valueFrom} } @{ $pgc->{env} };
is_deeply($pg_env{PINGPONG_APP_PASSWORD}, { name => 'ping-pong-app-secret', key => 'DB_PASSWORD' }, 'the app\'s password comes from its own Secret (one copy)');
is($role->{name}, 'pingpong', 'Cluster: the same role, managed');
ok(defined $role->{superuser} && !$role->{superuser} && !$role->{createdb} && !$role->{createrole} && $role->{login}, 'LOGIN only');
is($secrets{$login}{stringData}{username}, $role->{name}, "its Secret $login logs in as it");
is($secrets{$login}{type}, 'kubernetes.io/basic-auth', 'a basic-auth Secret, as CloudNativePG wants');
is_deeply([grep { /GRANT/ } @{ $import->{postImportApplicationSQL} }],
    ['GRANT CONNECT ON DATABASE pingpong TO pingpong', 'GRANT SELECT, INSERT, UPDATE ON ping_counter TO pingpong', 'GRANT USAGE ON SEQUENCE ping_counter_id_seq TO pingpong'],
    'the import grants it the same rights, nothing more');
is($cl->{spec}{bootstrap}{initdb}{owner}, 'pingpong_owner', 'the owner role owns the imported database');
ok(!$cl->{spec}{enableSuperuserAccess}, 'the cluster\'s superuser has no password');

# NetworkPolicies for 5432.
sub policy_for { my ($sel, @o) = @_; grep { my $m = $_->{spec}{podSelector}{matchLabels} || {};
	$_->{kind} eq 'NetworkPolicy' && !grep({ ($sel->{$_} // '') ne $m->{$_} } keys %$m) && %$m } @o }
sub peers { my ($p, $port) = @_; sort map { join ',', map { my $s = $_; map { "$_=" . ($s->{$_} // '') } sort keys %$s }
	grep { defined } ($_->{namespaceSelector}{matchLabels}, $_->{podSelector}{matchLabels}) }
	map { @{ $_->{from} || [] } } grep { grep { $_->{port} eq $port } @{ $_->{ports} || [] } } @{ $p->{spec}{ingress} } }
my ($np) = policy_for($ss->{spec}{template}{metadata}{labels}, @objs_base);
ok($np, "a NetworkPolicy selects the PostgreSQL pods ($np->{metadata}{name})");
is_deeply([peers($np, 5432)], [sort 'app=ping-pong', 'app=pgbouncer', 'app=ping-pong-migrate', "cnpg.io/cluster=$name"],
    'only the app, PgBouncer, the widening Job and the cluster\'s import reach 5432');
my ($job) = YAML::XS::LoadFile("$root/manifests/ping-pong/migrate-widen-job.yaml");
is($job->{spec}{template}{metadata}{labels}{app}, 'ping-pong-migrate', 'the widening Job carries that label');
is($job->{spec}{template}{spec}{volumes}[0]{secret}{secretName}, 'postgres-owner-secret', 'and logs in as the owner, not the superuser');
ok(!grep({ !$_->{ports} || grep({ $_->{port} ne 5432 } @{ $_->{ports} }) } @{ $np->{spec}{ingress} }), 'and nothing reaches another port');
my ($cnp) = policy_for({ 'cnpg.io/cluster' => $name, 'cnpg.io/instanceRole' => 'primary' }, @objs);
ok($cnp, "a NetworkPolicy selects the cluster's pods ($cnp->{metadata}{name})");
is_deeply([peers($cnp, 5432)], [sort 'app=ping-pong', 'app=pgbouncer', "cnpg.io/cluster=$name",
    'kubernetes.io/metadata.name=cnpg-system,app.kubernetes.io/name=cloudnative-pg'],
    'only the app, PgBouncer, the instances and the operator reach 5432');
is_deeply([peers($cnp, 9187)], ['kubernetes.io/metadata.name=kube-system,rsName=ama-metrics'], 'only the scraper reaches the exporter');
is($cl->{spec}{inheritedMetadata}{annotations}{'prometheus.io/port'}, '9187', 'which scrapes it by the pods\' annotations');

# Secrets: SOPS never encrypts an example (t/70 checks the whole loop).
my $sops = YAML::XS::LoadFile("$root/.sops.yaml");
my @rules = map { $_->{path_regex} } @{ $sops->{creation_rules} };
for my $ex (map { s{^\Q$root/\E}{}r } glob("$root/manifests/*/*.example.yaml")) {
	ok(!grep({ $ex =~ /$_/ } @rules), "no SOPS rule matches $ex");
}
(my $flat = slurp("$root/docs/kubernetes.md")) =~ s/\\\n\s*/ /g;
my @sops_cmds = $flat =~ /\b(sops (?:--encrypt|--decrypt|edit|encrypt|decrypt|-e|-d)\b[^\n|>;]*)/g;
ok(@sops_cmds >= 3, scalar(@sops_cmds) . ' sops commands in docs/kubernetes.md');
ok(!grep({ /\.example\.yaml/ } @sops_cmds), 'none of them takes an example') or diag join "\n", @sops_cmds;

done_testing;
