# Every error nginx makes itself on 8080 is a Prometheus API error body in
# JSON, never nginx's HTML page: bad request lines and URIs (400), bodies
# over the limit (413), URIs and headers too long (414, 494 -> 400), the
# token helper gone (500 -> 503), the upstream down or slow (502, 504).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use PP qw(wait_until);
use AuthStack;

my ($pp, $aad, $prom) = AuthStack::start(env => { AUTH_PROXY_TIMEOUT => 1 });
ok(wait_until(5, sub { $pp->auth_get('/health')->{status} == 200 }), 'a token is held');

# One raw request; returns (status, content type, body).
sub raw {
	my $r = PP::raw_http($pp->auth_port, $_[0]);
	return ($r->{status}, $r->{headers}{'content-type'} // '', $r->{content});
}

sub is_prom_error {
	my ($what, $want, $st, $ct, $body, $type) = @_;
	is($st, $want, "$what: $want");
	is($ct, 'application/json', "$what: JSON");
	my $j = eval { decode_json($body) } // {};
	ok($j->{status} eq 'error' && $j->{errorType} && $j->{error}, "$what: a Prometheus error body") or diag $body;
	is($j->{errorType}, $type, "$what: errorType $type") if $type;
}

my $end = "Host: x\r\nConnection: close\r\n\r\n";
is_prom_error('%00 in the path', 400, raw("GET /api/v1/label/%00/values HTTP/1.1\r\n$end"), 'bad_data');
is_prom_error('a request line that is not HTTP', 400, raw("GARBAGE\r\n\r\n"), 'bad_data');
is_prom_error('two Host headers', 400, raw("GET /api/v1/query?query=up HTTP/1.1\r\nHost: y\r\n$end"), 'bad_data');
is_prom_error('a body over the limit', 413,
    raw("POST /api/v1/query HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 2000000\r\n$end"), 'bad_data');
is_prom_error('a 9000-byte URI', 414, raw('GET /api/v1/query?query=' . ('u' x 9000) . " HTTP/1.1\r\n$end"), 'bad_data');
is_prom_error('a 9000-byte header', 400, raw("GET /api/v1/query?query=up HTTP/1.1\r\nX-Big: " . ('h' x 9000) . "\r\n$end"), 'bad_data');
is_prom_error('a 405', 405, raw("PUT /api/v1/query HTTP/1.1\r\n$end"), 'bad_data');
is_prom_error('/health with PUT', 405, raw("PUT /health HTTP/1.1\r\n$end"), 'bad_data');
is_prom_error('the internal error page from outside', 404, raw("GET /_error/400 HTTP/1.1\r\n$end"), 'not_found');

# The token helper unreachable: its socket moved away for a moment.
my $sock = $pp->dir . '/run/auth.sock';
rename $sock, "$sock.away" or die "rename: $!";
is_prom_error('token helper gone: a query (auth_request 500)', 503, raw("GET /api/v1/query?query=up HTTP/1.1\r\n$end"), 'unavailable');
my @r = raw("GET /health HTTP/1.1\r\n$end");
is_prom_error('token helper gone: /health (502 from FastCGI)', 503, @r, 'unavailable');
like($r[2], qr/token helper unavailable/, 'which says the helper, not Prometheus');
rename "$sock.away", $sock or die "rename: $!";
is((raw("GET /health HTTP/1.1\r\n$end"))[0], 200, 'the helper back: /health 200');

# The upstream slow, then down.
$prom->set_prom('hang');
is_prom_error('upstream timeout', 504, raw("GET /api/v1/query?query=up HTTP/1.1\r\n$end"), 'timeout');
$prom->stop;
is_prom_error('upstream down', 502, raw("GET /api/v1/query?query=up HTTP/1.1\r\n$end"), 'unavailable');

unlike($pp->log, qr/empty URI in redirect/, 'no error page failed to redirect');

done_testing;
