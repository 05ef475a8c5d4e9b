# The Python original and this service on one database, as a migration
# runs it (docs/operations.md: Upgrades: coming from the Python service): the original's own
# database layer, verbatim (PROTOCOLS.md §K: its CREATE TABLE, its UPDATE in
# a transaction, asyncpg's pool of 10 and its statement cache), under load
# beside the stack, in both orders (the original first: a canary beside
# it; the stack first on an empty database: a fresh environment), then the
# rollback (stack stopped, original alone), then the explicit widening
# with no original left, under load, then the original alone once more (a
# rollback after the widening).  The original never errs where it
# is meant to run, the stack never errs, every N is handed out once across
# both, and the counter equals the answers given.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);
use PP qw(slurp wait_until);

my $PY = '/usr/bin/python3';	# Debian's, which has python3-asyncpg (tools/deps test)
plan skip_all => 'python3-asyncpg is not installed (tools/deps test)'
    unless system($PY, '-c', 'import asyncpg') == 0;

# The original's database layer (ping-pong/database.py, PROTOCOLS.md §K),
# driven by $clients loops; one line per pong: "<phase> ok <N>" or
# "<phase> err <exception>: <message>", the phase read from a file the
# test writes.  Stops when the stop file exists (or after 300 s).
my $ORIGINAL = <<'PY';
import asyncio, os, sys, time
import asyncpg

host, port, phase_file, stop_file, clients = sys.argv[1:6]

CREATE = """CREATE TABLE IF NOT EXISTS ping_counter (
    id SERIAL PRIMARY KEY,
    counter_value INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT NOW()
)"""
INCREMENT = """UPDATE ping_counter SET counter_value = counter_value + 1, updated_at = NOW()
WHERE id = (SELECT id FROM ping_counter ORDER BY id LIMIT 1) RETURNING counter_value"""

pool = None
pools = []
building = asyncio.Lock()

async def get_pool():
    global pool
    async with building:
        if pool is None:
            p = await asyncpg.create_pool(host=host, port=int(port), user="postgres",
                                          database="pingpong", min_size=1, max_size=10,
                                          command_timeout=60)
            pools.append(p)
            async with p.acquire() as conn:
                await conn.execute(CREATE)
                if await conn.fetchval("SELECT COUNT(*) FROM ping_counter") == 0:
                    await conn.execute("INSERT INTO ping_counter (counter_value) VALUES (0)")
            pool = p
        return pool

async def pong():
    global pool
    try:
        p = await get_pool()
        async with p.acquire() as conn:
            async with conn.transaction():
                value = await conn.fetchval(INCREMENT)
        return "ok %d" % (value - 1)
    except Exception as e:
        pool = None		# as the original: a new pool on the next request
        return "err %s: %s" % (type(e).__name__, str(e).replace("\n", " "))

def phase():
    with open(phase_file) as f:
        return f.read().strip()

async def client(out, end):
    while not os.path.exists(stop_file) and time.time() < end:
        ph = phase()
        out.write("%s %s\n" % (ph, await pong()))
        out.flush()
        await asyncio.sleep(0.005)

async def main():
    await get_pool()
    print("ready", flush=True)
    end = time.time() + 300
    await asyncio.gather(*(client(sys.stdout, end) for _ in range(int(clients))))
    for p in pools:
        p.terminate()

asyncio.run(main())
PY

# One run of the original beside a PP stack's database.
package Original {
	our $runs = 0;
	sub new {
		my ($class, $pp, $first_phase) = @_;
		my $dir = $pp->dir;
		my $n = ++$Original::runs;	# each run its own output
		my $self = bless { dir => $dir, out => "$dir/original.$n.out",
		    stop => "$dir/original.stop", phase => "$dir/original.phase" }, $class;
		unlink $self->{stop};
		$self->phase($first_phase);
		open my $fh, '>', "$dir/original.py" or die;
		print $fh $ORIGINAL;
		close $fh;
		my $pid = fork // die "fork: $!";
		if ($pid == 0) {
			open STDOUT, '>', $self->{out} or POSIX::_exit(1);
			open STDERR, '>>', "$dir/original.err";
			exec $PY, "$dir/original.py", $pp->pgdir, $pp->pg_port, $self->{phase},
			    $self->{stop}, 4 or POSIX::_exit(1);
		}
		$self->{pid} = $pid;
		PP::wait_until(30, sub { PP::slurp($self->{out}) =~ /^ready$/m || waitpid($pid, POSIX::WNOHANG()) == $pid })
		    && PP::slurp($self->{out}) =~ /^ready$/m
		    or die "the original did not start: " . PP::slurp("$dir/original.err");
		return $self;
	}
	sub phase {
		my ($self, $name) = @_;
		open my $fh, '>', "$self->{phase}.tmp" or die;
		print $fh "$name\n";
		close $fh;
		rename "$self->{phase}.tmp", $self->{phase} or die;
	}
	# Answers given in $phase so far.
	sub count {
		my ($self, $phase) = @_;
		return scalar(() = PP::slurp($self->{out}) =~ /^\Q$phase\E /mg);
	}
	sub stop {
		my ($self) = @_;
		my $pid = delete $self->{pid} or return;
		open my $fh, '>', $self->{stop} or die;
		close $fh;
		PP::wait_until(30, sub { waitpid($pid, POSIX::WNOHANG()) == $pid }) or kill 'KILL', $pid;
	}
	# { phase => [ok N...] }, { phase => [error lines] }
	sub results {
		my ($self) = @_;
		my (%ok, %err);
		for (split /\n/, PP::slurp($self->{out})) {
			my ($phase, $what, $rest) = split / /, $_, 3;
			next unless defined $rest;
			push @{ ($what eq 'ok' ? \%ok : \%err)->{$phase} }, $rest;
		}
		return (\%ok, \%err);
	}
	sub DESTROY { $_[0]->stop }
}

# Lets $secs pass while the loads run, but at least until the original has
# given $min answers in $phase.
sub run_for {
	my ($orig, $phase, $secs, $min) = @_;
	my $t0 = time;
	wait_until($secs + 30, sub { time - $t0 >= $secs && (!$orig || $orig->count($phase) >= $min) });
}

my $widen = sub {
	my ($pp) = @_;
	local $ENV{PING_PONG_DB_HOST} = $pp->pgdir;
	local $ENV{PING_PONG_DB_PORT} = $pp->pg_port;
	my $out = qx{$PP::ROOT/$PP::BUILD/pingpong-worker --migrate widen 2>&1};
	return ($? >> 8, $out);
};

# With no original left: the stack started, the widening run under its
# load, the stack stopped, the original alone again (a rollback after the
# widening).  Returns that original's run and the stack's answers.
sub widening {
	my ($name, $pp, $said) = @_;
	$pp->start;
	my $l = $pp->load_start(clients => 4, seconds => 120);
	run_for(undef, '', 1, 0);
	my ($rc, $out) = $widen->($pp);
	is($rc, 0, "$name: the widening step succeeds") or diag($out);
	like($out, $said, 'and says what it did');
	run_for(undef, '', 1, 0);
	my @stack = PP::load_finish($l);
	is($pp->psql(q{SELECT data_type FROM information_schema.columns WHERE table_name = 'ping_counter' AND column_name = 'counter_value'}),
	    'bigint', "$name: bigint after the widening");
	$pp->stop;
	my $again = Original->new($pp, 'after-widening');
	run_for($again, 'after-widening', 1, 50);
	$again->stop;
	return ($again, @stack);
}

sub check_order {
	my ($name, $pp, $origs, @stack) = @_;
	my (%ok, %err);
	for my $o (@$origs) {
		my ($ok, $err) = $o->results;
		push @{ $ok{$_} }, @{ $ok->{$_} } for keys %$ok;
		push @{ $err{$_} }, @{ $err->{$_} } for keys %$err;
	}
	my ($ok, $err) = (\%ok, \%err);
	for my $phase (qw(alone beside rollback after-widening)) {
		next unless $ok->{$phase} || $err->{$phase};
		my @e = @{ $err->{$phase} || [] };
		is(scalar @e, 0, "$name, $phase: 0 errors of the original in "
		    . (@e + @{ $ok->{$phase} || [] }) . ' answers')
		    or diag(join "\n", (@e)[0 .. ($#e < 4 ? $#e : 4)]);
	}
	my ($n, $other) = PP->pongs(@stack);
	is($other, 0, "$name: 0 errors of the stack in " . scalar(@stack) . ' answers')
	    or diag(join "\n", map { "$_->[0] $_->[1]" } (grep { $_->[0] != 200 } @stack)[0 .. 4]);
	my @all = (@$n, map { @$_ } values %$ok);
	my %seen;
	my @dup = grep { $seen{$_}++ } @all;
	is(scalar @dup, 0, "$name: every N unique across both versions (" . scalar(@all) . ' answers)')
	    or diag("repeated: @dup[0 .. ($#dup < 9 ? $#dup : 9)]");
	is($pp->counter, scalar @all, "$name: the counter equals the answers given");
}

# Order 1: the original first (its INTEGER table), the stack as a canary
# beside it, the rollback, then the widening with the original gone, then
# the original back.
{
	my $pp = PP->new(start => 0, pg_tcp => 1);
	my $orig = Original->new($pp, 'alone');
	run_for($orig, 'alone', 1, 20);
	$orig->phase('beside');
	$pp->start;
	my @stack = $pp->load(clients => 4, requests => 60);
	run_for($orig, 'beside', 0, 50);
	$orig->phase('rollback');
	$pp->stop;
	run_for($orig, 'rollback', 1, 50);
	$orig->stop;
	is($pp->psql(q{SELECT data_type FROM information_schema.columns WHERE table_name = 'ping_counter' AND column_name = 'counter_value'}),
	    'integer', 'original first: the original\'s INTEGER column is left as it is until the widening');
	my ($again, @after) = widening('original first', $pp, qr/widened from integer to bigint/);
	push @stack, @after;
	check_order('original first', $pp, [$orig, $again], @stack);
	unlike($pp->log, qr/(ERROR|WARNING) worker/, 'original first: nothing went wrong in the stack\'s log');
	$pp->teardown;
}

# Order 2: the stack first on an empty database, the original beside it,
# the rollback to the original alone, then the widening (nothing to do:
# the stack made the table), then the original back.
{
	my $pp = PP->new(pg_tcp => 1);
	my @stack = $pp->load(clients => 4, requests => 20);
	my $orig = Original->new($pp, 'beside');
	push @stack, $pp->load(clients => 4, requests => 60);
	run_for($orig, 'beside', 0, 50);
	$orig->phase('rollback');
	$pp->stop;
	run_for($orig, 'rollback', 1, 50);
	$orig->stop;
	my ($again, @after) = widening('stack first', $pp, qr/bigint already; nothing to do/);
	push @stack, @after;
	check_order('stack first', $pp, [$orig, $again], @stack);
	unlike($pp->log, qr/(ERROR|WARNING) worker/, 'stack first: nothing went wrong in the stack\'s log');
	$pp->teardown;
}

done_testing;
