# AuthStack.pm: an auth-proxy-only stack (PP, role authproxy) wired to
# FakeAzure instances: one playing Entra ID and IMDS, one Prometheus.
package AuthStack;

use strict;
use warnings;
use PP;
use FakeAzure;

# AuthStack::start(cred => 'client_secret'|'workload_identity'|'managed_identity'|'none', env => {...},
#     role => 'authproxy' (default) or 'all' (then with a database), prometheus => a real one's URL,
#     token_mode => FakeAzure's, assertion => the federated token file's content)
# Returns ($pp, $aad, $prom).
sub start {
	my (%o) = @_;
	my $role = $o{role} || 'authproxy';
	my $pp = PP->new(db => $role ne 'authproxy', role => $role, start => 0);
	my $aad = FakeAzure->new($pp->dir . '/fake-aad');
	my $prom = FakeAzure->new($pp->dir . '/fake-prom');
	$aad->set_token($o{token_mode}) if $o{token_mode};
	my %env = (
		AZURE_AUTHORITY_HOST => $aad->url . '/',
		AUTH_PROXY_IMDS_ENDPOINT => $aad->url . '/metadata/identity/oauth2/token',
		AUTH_PROXY_PROMETHEUS_URL => $o{prometheus} || $prom->url,
		AUTH_PROXY_RETRY_MIN_MS => 200,
		AUTH_PROXY_RETRY_MAX_MS => 2000,
		AUTH_PROXY_TOKEN_TIMEOUT => 2,
		PING_PONG_ACCESS_LOG => 'on',
	);
	my $cred = $o{cred} || 'client_secret';
	if ($cred eq 'client_secret') {
		%env = (%env, AZURE_TENANT_ID => 'tenant-1', AZURE_CLIENT_ID => 'client-1',
		    AZURE_CLIENT_SECRET => 'secret-' . int(rand 1e9));
	} elsif ($cred eq 'workload_identity') {
		my $file = $pp->dir . '/azure-identity-token';
		FakeAzure::write_file($file, $o{assertion} // "jwt-one.part2.part3\n");
		%env = (%env, AZURE_TENANT_ID => 'tenant-1', AZURE_CLIENT_ID => 'client-1',
		    AZURE_FEDERATED_TOKEN_FILE => $file);
	} elsif ($cred eq 'managed_identity') {
		%env = (%env, AZURE_CLIENT_ID => 'mi-client-1');
	} else {
		delete $env{AUTH_PROXY_IMDS_ENDPOINT};
	}
	$pp->{env} = { %env, %{ $o{env} || {} } };
	# The fakes live as long as the stack: freed at a block's end while the
	# stack (torn down at END) still retried, a fake's port could be bound
	# by the next one, which then counted another stack's token requests.
	$pp->{companions} = [$aad, $prom];
	$pp->start;
	return ($pp, $aad, $prom);
}

1;
