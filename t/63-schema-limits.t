# The counter table's schema (docs/reliability.md: Who owns the table; docs/operations.md: Coming from the
# Python service): on the original's INTEGER column the count stops at
# 2147483647 with a clear error, never wrapping nor repeating a number,
# until the explicit widening, which a running stack goes on through;
# updated_at is kept as the original keeps it; an application role that
# owns nothing serves on a ready schema, and says once what is missing
# when it is not ready.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep);
use PP qw(slurp wait_until);

my $ORIGINAL_TABLE = q{CREATE TABLE ping_counter (id SERIAL PRIMARY KEY,
    counter_value INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT NOW())};
my $LIMIT = 2147483647;
my $TYPE = q{SELECT data_type FROM information_schema.columns WHERE table_name = 'ping_counter' AND column_name = 'counter_value'};

sub widen {
	my ($pp, %env) = @_;
	local $ENV{PING_PONG_DB_HOST} = $pp->pgdir;
	local @ENV{keys %env} = values %env;
	my $out = qx{$PP::ROOT/$PP::BUILD/pingpong-worker --migrate widen 2>&1};
	return ($? >> 8, $out);
}

# The widening on a database without the table: refused, naming it, and
# nothing made (its connection used to run the start-up schema first, make
# a BIGINT table, then say "bigint already; nothing to do").
{
	my $pp = PP->new(start => 0);
	my ($rc, $out) = widen($pp);
	is($rc, 1, 'migrate widen without the table: exit 1') or diag($out);
	like($out, qr/migrate widen: .*no table ping_counter in database \S+ \(schema public\): nothing to widen.*nothing changed/,
	    'naming the table it did not find');
	is($pp->psql(q{SELECT to_regclass('ping_counter') IS NULL}), 't', 'and made nothing');
	$pp->teardown;
}

# The original's INTEGER column near its limit.  The app role alone, one
# worker: "once" is once per worker and outage, and a successful read (the
# log-output's /pings each second) ends an outage, so it would say it again.
{
	my $pp = PP->new(role => 'app', start => 0, env => { PING_PONG_WORKERS => 1 });
	$pp->psql($ORIGINAL_TABLE);
	$pp->psql(q{INSERT INTO ping_counter (counter_value, updated_at) VALUES (2147483600, '2000-01-01')});
	$pp->start;

	# Many clients at once, their pongs in batches, across the limit:
	# none past it, none twice.
	my @res = $pp->load(clients => 8, requests => 10);
	my ($n, $other) = PP->pongs(@res);
	my %seen;
	is(scalar(grep { $seen{$_}++ } @$n), 0, 'under load: no number twice');
	is(scalar(grep { $_ > $LIMIT - 1 || $_ < 2147483600 } @$n), 0, 'none past the limit, none wrapped');
	is(scalar(grep { $_->[0] != 200 && $_->[0] != 503 } @res), 0, 'every other answer is a 503');
	cmp_ok($other, '>=', 80 - 47, 'the 503s past it');
	like($pp->log, qr/WARNING worker.*the counter reached the largest value its column holds/, 'said in the log');
	is($pp->counter, 2147483600 + @$n, 'the counter equals the answers given (' . scalar(@$n) . ')');
	is($pp->psql(q{SELECT updated_at > now() - interval '1 minute' FROM ping_counter}), 't',
	    'updated_at is set by the increments, as the original sets it');

	# One at a time: the last numbers, then a 503 each time.
	$pp->psql('UPDATE ping_counter SET counter_value = 2147483645');	# a restart: the guard forgets
	$pp->stop;
	my $from = length $pp->log;
	$pp->start;
	is($pp->get('/pingpong')->{content}, "pong 2147483645\n", 'counts on the original\'s INTEGER column');
	is($pp->get('/pingpong')->{content}, "pong 2147483646\n", 'up to its largest value');
	my @after = map { $pp->get('/pingpong') } 1 .. 3;
	is_deeply([map { $_->{status} } @after], [503, 503, 503], 'then 503, never a wrapped number');
	is($pp->counter, $LIMIT, 'the counter stays at 2147483647');
	ok(wait_until(5, sub { $pp->get('/pings')->{content} eq qq({"pings": $LIMIT}\n) }), '/pings answers it');
	my @lines = grep { /WARNING worker/ } split /\n/, substr($pp->log, $from);
	is(scalar(grep { /reached the largest value its column holds \(2147483647 for the original's INTEGER\).*pingpong-worker --migrate widen/ } @lines),
	    1, 'one clear line says so and names the step') or diag($pp->log);

	# The explicit step, under the running stack: it goes on at once.
	my ($rc, $out) = widen($pp);
	is($rc, 0, 'pingpong-worker --migrate widen succeeds') or diag($out);
	is($pp->psql($TYPE), 'bigint', 'the column is bigint');
	my $c = $pp->counter;
	# Its prepared statements survive the type change: no 503 on the way.
	is($pp->get('/pingpong')->{content}, "pong $c\n", 'the running stack counts past 2147483647 at once');
	is($pp->get('/pingpong')->{content}, 'pong ' . ($c + 1) . "\n", 'and on');
	($rc, $out) = widen($pp);
	like($out, qr/bigint already; nothing to do/, 'a second run changes nothing');
	$pp->teardown;
}

# Least privilege: the owner role owns the table, the application role
# may only SELECT, INSERT and UPDATE it (docs/reliability.md: Who owns the table).
{
	my $pp = PP->new(start => 0, env => { PING_PONG_WORKERS => 1, PING_PONG_DB_USER => 'pingpong',
	    PING_PONG_DB_RETRY_INTERVAL => 100 });
	$pp->psql(q{CREATE ROLE pingpong_owner LOGIN; CREATE ROLE pingpong LOGIN;
	    GRANT CREATE ON SCHEMA public TO pingpong_owner});
	my $as_owner = sub {
		$pp->psql("SET ROLE pingpong_owner; $_[0]");
	};
	# One transaction, as the manifests' init SQL: a worker never sees
	# the table before its GRANT.
	(my $bootstrap = slurp("$PP::ROOT/sql/schema.sql")) =~
	    s/^COMMIT;$/GRANT SELECT, INSERT, UPDATE ON ping_counter TO pingpong;\nCOMMIT;/m
	    or die 'sql/schema.sql ends its transaction otherwise';

	# Nothing there: not ready, one line naming what is missing and the right.
	$pp->start;
	my @st = map { sleep 0.2; $pp->get('/pingpong')->{status} } 1 .. 8;
	is_deeply(\@st, [(503) x 8], 'no table and no right to make it: 503');
	is($pp->get('/health/ready')->{status}, 503, 'and not ready');
	my @said = grep { /not ready/ } split /\n/, $pp->log;
	is(scalar @said, 1, 'said once, through many attempts') or diag($pp->log);
	like($said[0] // '', qr/ping_counter is not ready: the table ping_counter missing, and role pingpong may not add it \(permission denied for schema public\)/,
	    'naming what is missing, the role and the right it lacks');

	# The bootstrap, as the owner: the worker serves without a restart.
	$as_owner->($bootstrap);
	ok(wait_until(10, sub { $pp->get('/health/ready')->{status} == 200 }), 'ready once the owner made it');
	is($pp->get('/pingpong')->{content}, "pong 0\n", 'and counts');
	is($pp->psql(q{SELECT tableowner FROM pg_tables WHERE tablename = 'ping_counter'}), 'pingpong_owner',
	    'the table is the owner\'s');
	unlike($pp->log, qr/(ERROR|WARNING) worker(?!.*not ready)/, 'nothing else went wrong');

	# A right revoked under the running worker: one clear line naming the
	# role and the right, 503 and not ready; granted back, it serves.
	for my $right (qw(UPDATE SELECT)) {
		my $from = length $pp->log;
		$as_owner->("REVOKE $right ON ping_counter FROM pingpong");
		my @st = map { sleep 0.2; $pp->get('/pingpong')->{status} } 1 .. 5;
		is_deeply(\@st, [(503) x 5], "$right revoked: 503");
		is($pp->get('/health/ready')->{status}, 503, 'and not ready');
		my @lines = grep { /WARNING worker/ } split /\n/, substr($pp->log, $from);
		is(scalar @lines, 1, 'said once') or diag(substr($pp->log, $from));
		like($lines[0] // '', qr/ping_counter is not ready: role pingpong lacks $right on table ping_counter; grant it as the table's owner/,
		    'naming the role and the right it lacks');
		$as_owner->("GRANT $right ON ping_counter TO pingpong");
		ok(wait_until(10, sub { $pp->get('/health/ready')->{status} == 200 }), 'ready once granted back, no restart');
		like($pp->get('/pingpong')->{content}, qr/^pong \d+\n\z/, 'and counts');
	}
	# Two reasons taking turns in one outage: each said once, not once a turn.
	{
		my $from = length $pp->log;
		my $lines = sub { [grep { /WARNING worker/ } split /\n/, substr($pp->log, $from)] };
		my $turn = sub {
			my ($sql, $re) = @_;
			$as_owner->($sql);
			return wait_until(10, sub { $pp->get('/pingpong'); grep { /$re/ } @{ $lines->() } });
		};
		ok($turn->('REVOKE UPDATE ON ping_counter FROM pingpong', qr/lacks UPDATE on/), 'UPDATE revoked: said');
		ok($turn->('REVOKE SELECT ON ping_counter FROM pingpong', qr/lacks SELECT and UPDATE on/), 'SELECT too: said');
		$as_owner->('GRANT SELECT ON ping_counter TO pingpong');
		my @st = map { sleep 0.2; $pp->get('/pingpong')->{status} } 1 .. 5;
		is_deeply(\@st, [(503) x 5], 'SELECT granted back, UPDATE still missing: 503');
		is(scalar @{ $lines->() }, 2, 'the first reason, back in the same outage, is not said again')
		    or diag(substr($pp->log, $from));
		$as_owner->('GRANT UPDATE ON ping_counter TO pingpong');
		ok(wait_until(10, sub { $pp->get('/health/ready')->{status} == 200 }), 'ready once both are back');
	}
	$pp->stop;

	# A column of the original missing (a table made before they were added).
	$as_owner->('ALTER TABLE ping_counter DROP COLUMN updated_at');
	my $from = length $pp->log;
	$pp->start;
	is($pp->get('/pingpong')->{status}, 503, 'a column missing and no right to add it: 503');
	sleep 0.5;
	$pp->get('/pingpong');
	@said = grep { /WARNING worker/ } split /\n/, substr($pp->log, $from);
	is(scalar @said, 1, 'said once') or diag(substr($pp->log, $from));
	like($said[0] // '', qr/its column updated_at missing, and role pingpong may not add it \(must be owner of table ping_counter\)/,
	    'naming the column and the owner\'s right');
	$as_owner->($bootstrap);
	ok(wait_until(10, sub { $pp->get('/health/ready')->{status} == 200 }), 'ready once the owner added it');
	like($pp->get('/pingpong')->{content}, qr/^pong \d+\n\z/, 'and the count goes on');

	# The widening needs the owner's credentials: the application role is refused, clearly.
	$as_owner->('ALTER TABLE ping_counter ALTER COLUMN counter_value TYPE integer');
	my ($rc, $out) = widen($pp, PING_PONG_DB_USER => 'pingpong');
	is($rc, 1, 'the application role may not widen');
	like($out, qr/migrate widen: .*must be owner of table ping_counter.*nothing changed/, 'and is told why');
	($rc, $out) = widen($pp, PING_PONG_DB_USER => 'pingpong_owner');
	is($rc, 0, 'the owner may') or diag($out);
	$pp->teardown;
}

done_testing;
