# The HTTP contract of port 3000: pong sequence, JSON, /pings, probes, methods, paths.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PP;

my $pp = PP->new;

my $r = $pp->get('/pingpong');
is($r->{status}, 200, 'first /pingpong is 200');
is($r->{content}, "pong 0\n", 'a fresh database answers pong 0');
is($r->{headers}{'content-type'}, 'text/plain; charset=utf-8', 'text/plain, utf-8');
is($pp->get('/pingpong')->{content}, "pong 1\n", 'then pong 1');
is($pp->get('/')->{content}, "pong 2\n", '/ shares the counter');
is($pp->get('/pingpong?x=1&y=../../etc')->{content}, "pong 3\n", 'query strings are ignored');

$r = $pp->get('/pingpong', Accept => 'application/json');
is($r->{content}, qq({"message": "pong 4"}\n), 'Accept: application/json gets the JSON form');
is($r->{headers}{'content-type'}, 'application/json', 'as application/json');
my %accept = (
	'text/plain' => 0,
	'*/*' => 0,
	'application/json;q=0.5, text/plain' => 0,
	'text/plain;q=0.2, application/json' => 1,
	'application/json, */*' => 1,
	'text/html, application/*;q=0.9' => 1,
	'application/json;q=0' => 0,
	'application/json, text/plain' => 0,
);
my $n = 5;
for my $a (sort keys %accept) {
	my $body = $pp->get('/pingpong', Accept => $a)->{content};
	my $want = $accept{$a} ? qq({"message": "pong $n"}\n) : "pong $n\n";
	is($body, $want, "Accept: $a -> " . ($accept{$a} ? 'JSON' : 'text'));
	$n++;
}

$r = $pp->get('/pings');
is($r->{status}, 200, '/pings 200');
is($r->{content}, qq({"pings": $n}\n), '/pings shows the count');
is($pp->get('/pings')->{content}, qq({"pings": $n}\n), '/pings does not increment');

$r = $pp->get('/health');
is($r->{status}, 200, '/health 200');
is($r->{content}, qq({"status": "ok"}\n), '/health body');
$r = $pp->get('/health/ready');
is($r->{status}, 200, '/health/ready 200 with the database up');
is($r->{content}, qq({"status": "ready", "database": "connected"}\n), 'ready body');
for my $p ('/health', '/health/ready', '/pings') {
	$r = $pp->request('HEAD', $p);
	is($r->{status}, 200, "HEAD $p 200");
	is($r->{content} // '', '', "HEAD $p has no body");
	is($r->{headers}{'content-length'}, length $pp->get($p)->{content}, "HEAD $p: the length of GET's body");
}
# Every answer says its length (nginx then sends it as it is, not chunked).
for my $p ('/pingpong', '/pings', '/health', '/metrics', '/nope') {
	$r = $pp->get($p);
	is($r->{headers}{'content-length'}, length $r->{content}, "GET $p ($r->{status}): Content-Length is the body's");
	is($r->{headers}{'transfer-encoding'}, undef, "GET $p: not chunked");
	$n++ if $p eq '/pingpong';
}

# Refused methods: 405 with Allow, and never an increment.
for my $case (['POST', '/pingpong', 'GET'], ['HEAD', '/pingpong', 'GET'],
    ['PUT', '/', 'GET'], ['DELETE', '/pingpong', 'GET'], ['POST', '/health', 'GET, HEAD'],
    ['PATCH', '/health/ready', 'GET, HEAD'], ['POST', '/pings', 'GET, HEAD']) {
	my ($m, $p, $allow) = @$case;
	$r = $pp->request($m, $p, content => 'x=1');
	is($r->{status}, 405, "$m $p is 405");
	is($r->{headers}{allow}, $allow, "$m $p Allow: $allow");
}
for my $p ('/nope', '/pingpong/', '/health/', '/pingpongx', '/PINGPONG', '/health/ready/x') {
	$r = $pp->get($p);
	is($r->{status}, 404, "GET $p is 404");
	like($r->{content}, qr/"error"/, "$p: JSON error body");
}
is($pp->counter, $n, 'refused requests did not increment the stored counter');
is($pp->get('/pingpong')->{content}, "pong $n\n", 'the sequence goes on unbroken');

done_testing;
