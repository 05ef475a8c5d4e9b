# Logs a collector can parse: every line the stack writes (the programs',
# the launcher's, nginx's error log rewritten by the launcher, nginx's access
# log) has one shape and one timestamp format (RFC 3339, UTC, milliseconds),
# in text or JSON; successful probes stay out of the access log; the start
# says where it listens and that the database is connected.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use PP qw(wait_until slurp);

my $stamp = qr/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/;
my $text = qr/^$stamp (?:DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w-]+\[\d+\] request_id=\S+ /;

# Some traffic on every port, then a stop; returns the stack's lines.
sub exercise {
	my ($pp) = @_;
	$pp->get('/pingpong') for 1 .. 3;
	$pp->get('/health');
	$pp->get('/metrics');
	$pp->get('/nothing-here');
	$pp->request('GET', $pp->auth_url('/health/live'));
	$pp->request('GET', $pp->log_url('/'));
	ok(wait_until(5, sub { $pp->log =~ /database: connected to / }), 'the database connection is logged');
	# log-output's first line comes from its ticker, which looks for nginx's
	# pid file every 50 ms: the requests above can all be answered before
	# it looks, and a stop then would leave it no line to write.
	ok(wait_until(5, sub { $pp->log =~ m{Ping / Pongs: } }), "log-output's count is logged");
	$pp->stop;
	is($pp->{last_exit} >> 8, 0, 'stopped with status 0');
	return grep { /\S/ } split /\n/, $pp->log;
}

{
	my $pp = PP->new(role => 'all', env => { PING_PONG_ACCESS_LOG => 'on' });
	my @lines = exercise($pp);
	my @odd = grep { !/$text/ } @lines;
	is(scalar @odd, 0, 'text: all ' . scalar(@lines) . ' lines have one shape') or diag join "\n", @odd[0 .. 9];
	my @listen = grep { /INFO launcher\[\d+\] request_id=- listening on http:\/\/127\.0\.0\.1:\d+ / } @lines;
	is(scalar @listen, 3, 'one "listening on" line per listener');
	like($pp->log, qr/^$stamp INFO worker\[\d+\] request_id=- database: connected to \S+ \(PostgreSQL [\d.]+\); durability: increments commit with synchronous_commit=\w+/m,
	    'one line when the database is connected: where, the server version, the durability');
	like($pp->log, qr/^$stamp INFO nginx\[\d+\] request_id=[0-9a-f]{32} 127\.0\.0\.1 "GET \/pingpong HTTP\/1\.1" 200 /m, 'the access log, same shape, with the request id');
	like($pp->log, qr{"GET /nothing-here HTTP/1.1" 404}, 'a 404 is logged');
	unlike($pp->log, qr{"GET /(?:health|metrics|health/live) HTTP}, 'successful probes and scrapes are not');
	$pp->teardown;
}

{
	my $pp = PP->new(role => 'all', env => { PING_PONG_ACCESS_LOG => 'on', PING_PONG_LOG_FORMAT => 'json',
	    PING_PONG_ACCESS_LOG_PROBES => 'on' });
	my @lines = exercise($pp);
	my (@bad, %components);
	for my $l (@lines) {
		my $j = eval { decode_json($l) };
		if (!$j || ref $j ne 'HASH' || ($j->{time} // '') !~ /^$stamp$/ || ($j->{level} // '') !~ /^(?:DEBUG|INFO|WARNING|ERROR|CRITICAL)$/
		    || !defined $j->{component} || ($j->{pid} // '') !~ /^\d+$/ || !exists $j->{request_id} || !defined $j->{msg}) {
			push @bad, $l;
			next;
		}
		$components{$j->{component}}++;
	}
	is(scalar @bad, 0, 'json: all ' . scalar(@lines) . ' lines are JSON objects with time, level, component, pid, request_id, msg')
	    or diag join "\n", @bad[0 .. 9];
	ok($components{$_}, "lines of $_") for qw(launcher worker nginx log-output authproxy);
	my ($access) = grep { /"uri":"\/pingpong"/ } @lines;
	my $a = decode_json($access // '{}');
	is($a->{status}, 200, 'an access log line is JSON with its status');
	like($a->{request_id} // '', qr/^[0-9a-f]{32}$/, 'and the request id');
	ok((grep { /"uri":"\/health"/ } @lines), 'PING_PONG_ACCESS_LOG_PROBES=on: probes are logged too');
	$pp->teardown;
}

# libpq's notices (the server's DEBUG to WARNING messages) are lines of
# the log format from the worker, never raw text on its stderr.
{
	my $pp = PP->new(role => 'app', env => { PGOPTIONS => '-c client_min_messages=debug5' });
	$pp->get('/pingpong') for 1 .. 2;
	$pp->stop;
	my @lines = grep { /\S/ } split /\n/, $pp->log;
	ok((grep { /^$stamp INFO worker\[\d+\] request_id=- database: DEBUG: / } @lines), 'a notice is a line of the worker, in the log format');
	my @raw = grep { /DEBUG:/ && !/ worker\[\d+\] request_id=- database: DEBUG: / } @lines;
	is(scalar @raw, 0, 'and none is relayed raw') or diag join "\n", @raw[0 .. 4];
	$pp->teardown;
}

done_testing;
