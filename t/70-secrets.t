# Secrets as SOPS users work (docs/kubernetes.md: Secrets), checked offline:
# every Secret a manifest references (env, volumes, CloudNativePG's
# passwordSecret and externalClusters) has an example with the keys it
# needs, placeholders only, and is in the loop: its encrypted file is listed
# for Flux (manifests/secrets/kustomization.yaml) and for KSOPS
# (manifests/secrets/ksops/secret-generator.yaml); .sops.yaml's rule takes
# its working copy and encrypted file and no example; .gitignore keeps the
# working copy out of git and the encrypted file in; and any encrypted file
# present is encrypted. sops itself is not in Debian 12, so no round trip
# runs here (docs/kubernetes.md says why).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use YAML::XS ();
use PP qw(slurp);

my $root = $PP::ROOT;
sub build { grep { ref $_ eq 'HASH' } YAML::XS::Load(scalar qx{kubectl kustomize $root/manifests/$_[0] 2>&1}) }
my @objs = (build('ping-pong'), build('ha'), build('pgbouncer'), build('ha/pgbouncer'));
ok(@objs > 20, scalar(@objs) . ' objects from manifests/ping-pong, manifests/ha and both PgBouncers');

# What the manifests need: Secret name => { key => where }.
my %need;
for my $o (@objs) {
	my $ps = $o->{spec}{template}{spec};
	if ($ps) {
		for my $c (@{ $ps->{containers} }, @{ $ps->{initContainers} || [] }) {
			for my $e (@{ $c->{env} || [] }) {
				my $r = $e->{valueFrom}{secretKeyRef} or next;
				$need{ $r->{name} }{ $r->{key} } = "$o->{metadata}{name}/$c->{name}";
			}
		}
		for my $v (@{ $ps->{volumes} || [] }) {
			my $sv = $v->{secret} or next;
			$need{ $sv->{secretName} }{ $_->{key} } = "$o->{metadata}{name} volume" for @{ $sv->{items} };
		}
	}
	if ($o->{kind} eq 'Cluster') {
		$need{ $_->{password}{name} }{ $_->{password}{key} } = "Cluster externalClusters $_->{name}"
		    for grep { $_->{password} } @{ $o->{spec}{externalClusters} || [] };
		for my $r (grep { $_->{passwordSecret} } @{ $o->{spec}{managed}{roles} || [] }) {
			$need{ $r->{passwordSecret}{name} }{$_} = "Cluster role $r->{name}" for qw(username password);
		}
	}
}
ok(exists $need{$_}, "the manifests use Secret $_") for qw(ping-pong-app-secret postgres-secret postgres-owner-secret pgbouncer-auth pingpong-db-login);

# The examples, by Secret name.
my %example;
for my $f (glob("$root/manifests/*/*.example.yaml")) {
	my ($s) = YAML::XS::LoadFile($f);
	(my $rel = $f) =~ s{^\Q$root/\E}{};
	$example{ $s->{metadata}{name} } = { file => $rel, secret => $s };
}
my $flux = YAML::XS::LoadFile("$root/manifests/secrets/kustomization.yaml");
my ($ksops) = YAML::XS::LoadFile("$root/manifests/secrets/ksops/secret-generator.yaml");
my %flux = map { $_ => 1 } @{ $flux->{resources} };
my %ksops = map { s{^\.\./}{}r => 1 } @{ $ksops->{files} };
is_deeply(\%flux, \%ksops, 'Flux and KSOPS decrypt the same files');
my $sops = YAML::XS::LoadFile("$root/.sops.yaml");
my @rules = @{ $sops->{creation_rules} };
is(scalar @rules, 1, 'one SOPS creation rule');
is($rules[0]{encrypted_regex}, '^(data|stringData)$', 'it encrypts the Secrets\' values only');
like($rules[0]{age} // '', qr/^age1/, 'for an age recipient');

my %listed;
for my $name (sort keys %need) {
	my $ex = $example{$name};
	ok($ex, "Secret $name has an example") or next;
	my %keys = (%{ $ex->{secret}{stringData} || {} }, %{ $ex->{secret}{data} || {} });
	ok(exists $keys{$_}, "$ex->{file} has key $_ ($need{$name}{$_})") for sort keys %{ $need{$name} };
	my @secretish = grep { /PASSWORD|password|userlist/ } keys %keys;
	ok(!grep({ $keys{$_} !~ /CHANGE-ME/ } @secretish), "$ex->{file}: placeholders only (CHANGE-ME)");
	(my $base = $ex->{file}) =~ s{^.*/([^/]+)\.example\.yaml$}{$1};
	my ($enc, $dec) = ("manifests/secrets/$base.enc.yaml", "manifests/secrets/$base.dec.yaml");
	$listed{"$base.enc.yaml"} = 1;
	ok($flux{"$base.enc.yaml"}, "$enc is in manifests/secrets/kustomization.yaml (Flux)");
	ok($ksops{"$base.enc.yaml"}, "and in the KSOPS generator");
	ok($enc =~ /$rules[0]{path_regex}/ && $dec =~ /$rules[0]{path_regex}/, "the SOPS rule takes $dec and $enc");
	ok($ex->{file} !~ /$rules[0]{path_regex}/, "and not $ex->{file}");
	system("cd $root && git check-ignore -q $dec");
	is($? >> 8, 0, "git ignores the working copy $dec");
	my $kept = qx{cd $root && git check-ignore $enc $ex->{file}};
	is($kept, '', "and neither $enc nor the example");
}
is_deeply(\%listed, \%flux, 'nothing listed that no manifest uses');

# An encrypted file present (a user's) is encrypted: SOPS metadata, no value in clear.
for my $f (glob("$root/manifests/secrets/*.enc.yaml")) {
	my ($d) = YAML::XS::LoadFile($f);
	my @clear = grep { !/^ENC\[/ } values %{ $d->{stringData} || {} }, values %{ $d->{data} || {} };
	ok($d->{sops} && !@clear, "$f is encrypted");
}

# docs/kubernetes.md says why no round trip runs here.
like(slurp("$root/docs/kubernetes.md"), qr/`sops` is not packaged in\s+Debian 12/, 'docs/kubernetes.md says why make test runs no SOPS round trip');

done_testing;
