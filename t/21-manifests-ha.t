# The high-availability deployment (manifests/ha): the canary deployment with
# a CloudNativePG Cluster instead of the single PostgreSQL StatefulSet,
# proven offline. The Cluster has no published schema, so tools/k8s-validate
# checks it explicitly against the operator's API (cnpg.mjs); this file
# shows that check rejects what it should, and that the overlay wires the app
# to the cluster's read-write Service with synchronous replication on.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
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
is(scalar @bad, 7, 'seven invalid Clusters read');
ok(!$_->{ok}, "rejected: $_->{name} ($_->{error})") for @bad;

my @objs = grep { ref $_ eq 'HASH' } YAML::XS::Load($built);
my ($cl) = grep { $_->{kind} eq 'Cluster' } @objs;
my $name = $cl->{metadata}{name};
is($cl->{spec}{instances}, 3, 'three instances');
my $sync = $cl->{spec}{postgresql}{synchronous};
ok($sync && $sync->{number} >= 1, "synchronous replication: $sync->{method} $sync->{number}");
is($sync->{dataDurability}, 'required', 'and commits wait rather than run unprotected');
is($cl->{spec}{affinity}{podAntiAffinityType}, 'required', 'one instance per node');
ok(!grep({ $_->{kind} eq 'StatefulSet' || ($_->{kind} eq 'Service' && $_->{metadata}{name} eq 'postgres-svc') } @objs),
    'the single PostgreSQL and its Service are gone');

my ($ro) = grep { $_->{kind} eq 'Rollout' } @objs;
my ($app) = grep { $_->{name} eq 'ping-pong' } @{ $ro->{spec}{template}{spec}{containers} };
my %env = map { $_->{name} => $_ } @{ $app->{env} };
is($env{PING_PONG_DB_HOST}{value}, "$name-rw", "the app connects to the read-write Service $name-rw");
is($env{PING_PONG_DB_NAME}{value}, $cl->{spec}{bootstrap}{initdb}{database}, 'to the database the cluster creates');
is_deeply($env{PING_PONG_DB_USER}{valueFrom}{secretKeyRef}, { name => "$name-app", key => 'username' },
    'as the owner the operator generates');
my ($vol) = grep { $_->{name} eq 'db-secret' } @{ $ro->{spec}{template}{spec}{volumes} };
is_deeply($vol->{secret}, { secretName => "$name-app", items => [{ key => 'password', path => 'DB_PASSWORD' }] },
    'with its password, mounted where PING_PONG_DB_PASSWORD_FILE points');
like($env{PING_PONG_DB_PASSWORD_FILE}{value}, qr{/DB_PASSWORD$}, 'PING_PONG_DB_PASSWORD_FILE reads that file');

done_testing;
