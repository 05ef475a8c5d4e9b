# The bearer token never leaves nginx on 8080: an upstream that answers
# X-Accel-Redirect (to /_token, /%5Ftoken, /_token?x=1) or any other
# X-Accel-* header is not obeyed, X-Access-Token is hidden on every answer,
# and /_token is reachable only as the auth_request subrequest.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PP qw(wait_until);
use AuthStack;

my ($pp, $aad, $prom) = AuthStack::start();
ok(wait_until(5, sub { $pp->auth_get('/health')->{status} == 200 }), 'a token is held');

my $end = "Host: x\r\nConnection: close\r\n\r\n";
my $query = "GET /api/v1/query?query=up HTTP/1.1\r\n$end";

# No token the fake issued, nor the header's name, anywhere in the answer.
sub no_token {
	my ($what, $r) = @_;
	my @tokens = $aad->tokens_issued;
	ok(@tokens, "$what: the issuer handed out a token to look for");
	ok(!exists $r->{headers}{'x-access-token'}, "$what: no X-Access-Token header");
	my @leak = grep { index($r->{raw}, $_) >= 0 } @tokens;
	ok(!@leak, "$what: no token in any header or body") or diag $r->{raw};
}

for my $to ('/_token', '/%5Ftoken', '/_token?x=1', '/%5ftoken?x=1') {
	$prom->set_prom("header X-Accel-Redirect: $to");
	my $r = PP::raw_http($pp->auth_port, $query);
	is($r->{status}, 200, "X-Accel-Redirect: $to: the upstream's own answer, not a redirect");
	no_token("X-Accel-Redirect: $to", $r);
}

# The other X-Accel-* headers are not obeyed either (nginx honours them from
# a proxied upstream by default): a rate limit of 1 byte/s would stall the answer.
$prom->set_prom('header X-Accel-Limit-Rate: 1');
my $r = PP::raw_http($pp->auth_port, $query, 10);
is($r->{status}, 200, 'X-Accel-Limit-Rate from the upstream: answered');
like($r->{content}, qr/"status":"success".*\}\s*$/s, 'X-Accel-Limit-Rate: the whole body came at once');

# An upstream that sends X-Access-Token itself: hidden.
$prom->set_prom('header X-Access-Token: upstream-made-this');
$r = PP::raw_http($pp->auth_port, $query);
is($r->{status}, 200, 'an upstream X-Access-Token: answered');
ok(!exists $r->{headers}{'x-access-token'}, 'an upstream X-Access-Token: hidden');

# From outside, /_token in any spelling is not found.
for my $path ('/_token', '/%5Ftoken', '/_token?x=1', '/%5ftoken') {
	$r = PP::raw_http($pp->auth_port, "GET $path HTTP/1.1\r\n$end");
	is($r->{status}, 404, "GET $path from outside: 404");
	no_token("GET $path from outside", $r);
}
for my $path ('/health', '/metrics', '/health/live') {
	$r = PP::raw_http($pp->auth_port, "GET $path HTTP/1.1\r\n$end");
	is($r->{status}, 200, "GET $path: 200");
	no_token("GET $path", $r);
}

# Normal service still carries the token to the upstream.
$prom->set_prom('value 0.5');
$r = PP::raw_http($pp->auth_port, $query);
is($r->{status}, 200, 'a plain query: 200');
my ($last) = grep { $_->{kind} eq 'prom' } reverse $prom->requests;
like($last->{headers}{authorization} // '', qr/^Bearer fake-token-/, 'the upstream still gets the bearer token');

$_->stop for $prom, $aad;
done_testing;
