# A database made by the original service (INTEGER counter, some count)
# continues its count; the start-up adds the original's columns it lacks
# and leaves the column's type alone; the explicit step widens it to 64
# bits; many workers applying the schema at once on a fresh database is safe.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PP;

my $pp = PP->new(start => 0, env => { PING_PONG_WORKERS => 2 });
$pp->psql(q{CREATE TABLE ping_counter (id SERIAL PRIMARY KEY, counter_value INTEGER NOT NULL DEFAULT 0);
    INSERT INTO ping_counter (counter_value) VALUES (41), (7)});
$pp->start;
is($pp->get('/pingpong')->{content}, "pong 41\n", 'the original count continues from the lowest id row');
my $type = q{SELECT data_type FROM information_schema.columns WHERE table_name = 'ping_counter' AND column_name = 'counter_value'};
is($pp->psql($type), 'integer', 'the start-up leaves the column\'s type alone');
is($pp->psql(q{SELECT string_agg(column_name, ',' ORDER BY column_name) FROM information_schema.columns WHERE table_name = 'ping_counter'}),
    'counter_value,created_at,id,updated_at', 'and adds the original\'s columns');
{
	local $ENV{PING_PONG_DB_HOST} = $pp->pgdir;
	my $out = qx{$PP::ROOT/$PP::BUILD/pingpong-worker --migrate widen 2>&1};
	is($?, 0, 'pingpong-worker --migrate widen succeeds') or diag($out);
}
is($pp->psql($type), 'bigint', 'and widens the column to bigint');
is($pp->psql('SELECT count(*) FROM ping_counter'), 2, 'no row added');
is($pp->psql('SELECT counter_value FROM ping_counter WHERE id = 2'), 7, 'other rows untouched');
$pp->psql('UPDATE ping_counter SET counter_value = 4294967296 WHERE id = 1');
is($pp->get('/pingpong')->{content}, "pong 4294967296\n", 'counts beyond 32 bits');
is($pp->get('/pings')->{content}, qq({"pings": 4294967297}\n), '/pings too');
$pp->teardown;

my $fresh = PP->new(env => { PING_PONG_WORKERS => 8 });
my @res = $fresh->load(clients => 8, requests => 5);
my ($n, $other) = PP->pongs(@res);
is($other, 0, '8 workers creating the schema at once: every request succeeds');
is($fresh->psql('SELECT count(*) FROM ping_counter'), 1, 'exactly one counter row');
unlike($fresh->log, qr/(ERROR|WARNING) worker/, 'and nothing went wrong in the log');

done_testing;
