# nginx's access log is written in 4 KiB batches (bin/pingpong): at a stop
# nothing it held is lost, and every line arrives whole, even with two
# nginx workers writing to the same stdout.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PP;

my $pp = PP->new(role => 'app', env => { PING_PONG_ACCESS_LOG => 'on', PING_PONG_NGINX_WORKERS => 2 });
my @res = $pp->load(clients => 4, requests => 50, seconds => 30, keep_alive => 0);
my ($n, $other) = PP->pongs(@res);
is($other, 0, '200 pongs, each on a connection of its own (either nginx worker may take it)');
$pp->stop;

my $port = $pp->app_port;
my @lines = grep { m{"GET /pingpong HTTP/1\.1"} } split /\n/, $pp->log;
is(scalar @lines, scalar @res, 'after a stop, one access line per request: nothing held in a buffer was lost');
my @whole = grep { /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO nginx\[\d+\] request_id=[0-9a-f]{32} 127\.0\.0\.1 "GET \/pingpong HTTP\/1\.1" 200 \d+ [\d.]+ port=\Q$port\E$/ } @lines;
is(scalar @whole, scalar @lines, 'and every line is whole');

$pp->teardown;
done_testing;
