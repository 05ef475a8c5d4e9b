# log-output, the companion: its id, its periodic log lines, / with the
# count from ping-pong's /pings or from the shared file, and the readiness
# cascade database -> ping-pong -> log-output.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use PP qw(wait_until slurp);
use HTTP::Tiny;

my $pp = PP->new;	# role all: app, auth proxy and log-output
my $ua = HTTP::Tiny->new(timeout => 10);
$pp->get('/pingpong') for 1 .. 3;
my $r = $ua->get($pp->log_url('/'));
is($r->{status}, 200, 'GET / 200');
my $j = decode_json($r->{content});
is($j->{ping_pong_count}, 3, 'ping_pong_count from ping-pong\'s /pings');
like($j->{string}, qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'string is a UUID v4');
like($j->{timestamp}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'timestamp in RFC 3339');
is($j->{status}, 'ok', 'status ok');
is($ua->get($pp->log_url('/'))->{content} =~ /"string":"\Q$j->{string}\E"/ ? 1 : 0, 1, 'the id stays the same');
is($ua->get($pp->log_url('/health'))->{status}, 200, '/health 200');
is($ua->get($pp->log_url('/health/ready'))->{status}, 200, '/health/ready 200 while ping-pong answers');
ok(wait_until(3, sub { $pp->log =~ /INFO log-output\[\d+\] request_id=- \d{4}-\d\d-\d\dT[\d:.]+Z: \Q$j->{string}\E/ }), 'logs "<timestamp>: <id>"');
ok(wait_until(3, sub { $pp->log =~ /Ping \/ Pongs: 3/ }), 'and "Ping / Pongs: N"');
is($ua->request('POST', $pp->log_url('/'))->{status}, 405, 'POST / 405');
is($ua->get($pp->log_url('/nope'))->{status}, 404, 'unknown path 404');

# The cascade: the database goes, ping-pong turns unready and /pings fails,
# so log-output turns unready too.
$pp->pg_stop('immediate');
ok(wait_until(3, sub { $ua->get($pp->log_url('/health/ready'))->{status} == 503 }), 'database down: log-output not ready');
is($ua->get($pp->log_url('/health'))->{status}, 200, 'but live');
$j = decode_json($ua->get($pp->log_url('/'))->{content});
is($j->{ping_pong_count}, undef, 'count null while unknown');
$pp->pg_start;
ok(wait_until(4, sub { $ua->get($pp->log_url('/health/ready'))->{status} == 200 }), 'database back: ready again');
$pp->teardown;

# Shared-volume mode: the count comes from ping_pong_counter.txt.
my $lo = PP->new(db => 0, role => 'log-output', start => 0);
mkdir $lo->dir . '/shared';
$lo->{env}{LOG_APP_SHARED_VOLUME_PATH} = $lo->dir . '/shared';
$lo->start;
is($ua->get($lo->log_url('/health/ready'))->{status}, 503, 'no counter file yet: not ready');
open my $fh, '>', $lo->dir . '/shared/ping_pong_counter.txt' or die;
print $fh "42\n";
close $fh;
$j = decode_json($ua->get($lo->log_url('/'))->{content});
is($j->{ping_pong_count}, 42, 'count read from the shared file');
is($ua->get($lo->log_url('/health/ready'))->{status}, 200, 'ready with the file');

done_testing;
