# make run asks for what running needs and nothing of the tests; make reset
# is refused while a stack started by make run uses ./var/pg, even one with
# a runtime directory of its own, and works once it stopped; so is a second
# make run, which leaves the first one's database alone, also when both
# start together.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use POSIX qw(:sys_wait_h);
use HTTP::Tiny;
use PP qw(checkout_copy free_port wait_until slurp start_make_run);

# The packages make run asks tools/deps for: its recipe, as make prints it.
my @recipe = grep { m{^tools/deps } } split /\n/, qx{make -C $PP::ROOT -n --no-print-directory run 2>/dev/null};
is(scalar @recipe, 1, 'make run asks tools/deps once') or diag explain \@recipe;
my ($sets) = ($recipe[0] // '') =~ m{^tools/deps (.*)$};
my %asked = map { $_ => 1 } split /\n/, qx{$PP::ROOT/tools/deps --list $sets};
ok($asked{$_}, "make run installs $_") for qw(gcc libpq-dev nginx spawn-fcgi multiwatch postgresql util-linux);
my @tests = grep { $asked{$_} } qw(perl procps iproute2 libyaml-libyaml-perl pgbouncer prometheus patroni python3-etcd
    etcd-server etcd-client nodejs npm kubernetes-client wrk valgrind clang podman);
is_deeply(\@tests, [], 'and nothing only the tests, bench or image need');

# make migrate-widen with a bad setting: one line saying so (the settings
# were checked twice, by the target's own reading and by the worker's).
{
	local %ENV = %ENV;
	delete @ENV{grep { /^(PING_PONG_|AUTH_PROXY_|LOG_APP_|AZURE_|PP_CONFIG_)/ } keys %ENV};
	$ENV{PING_PONG_DB_PORT} = 'abc';
	my $out = qx{make -C $PP::ROOT --no-print-directory -s BUILD=$PP::BUILD migrate-widen 2>&1};
	isnt($? >> 8, 0, 'make migrate-widen with a bad setting: refused');
	my @said = grep { /CRITICAL/ } split /\n/, $out;
	is(scalar @said, 1, 'one line saying why') or diag $out;
	like($said[0] // '', qr/PING_PONG_DB_PORT=abc is invalid/, 'naming the setting');
}

# make reset under a running make run whose runtime directory is elsewhere.
my $copy = checkout_copy('reset');
my $port = free_port();
my $ua = HTTP::Tiny->new(timeout => 10);
my $pid = start_make_run($copy, { PING_PONG_APP_PORT => $port, PING_PONG_LISTEN_ADDRESS => '127.0.0.1',
    AUTH_PROXY_PORT => free_port(), LOG_APP_PORT => free_port(), LOG_APP_PING_PONG_SERVICE_HOST => '127.0.0.1',
    PING_PONG_RUNTIME_DIR => "$copy/elsewhere" }, "$copy/run.log");
ok(wait_until(40, sub { $ua->get("http://127.0.0.1:$port/health/ready")->{status} == 200 }), 'make run serves')
    or diag slurp("$copy/run.log");
is($ua->get("http://127.0.0.1:$port/pingpong")->{content}, "pong 0\n", 'pong 0');
my $out = qx{make -C $copy --no-print-directory reset 2>&1};
isnt($? >> 8, 0, 'make reset under it: refused');
like($out, qr{make reset: a stack started by make run uses \./var/pg: stop it first}, 'saying why');
ok(-f "$copy/var/pg/data/PG_VERSION", 'the database is still there');
is($ua->get("http://127.0.0.1:$port/pingpong")->{content}, "pong 1\n", 'and the stack still counts on it');

# A second make run in the same checkout (other ports, a runtime directory
# of its own) while the first serves: refused at once, naming why, and the
# first one's database is left running (it used to fail in pg_ctl with
# "another server might be running ... Examine the log output").
{
	my $port2 = free_port();
	local %ENV = %ENV;
	delete @ENV{grep { /^(PING_PONG_|AUTH_PROXY_|LOG_APP_|AZURE_|PP_CONFIG_)/ } keys %ENV};
	@ENV{qw(PING_PONG_APP_PORT PING_PONG_LISTEN_ADDRESS AUTH_PROXY_PORT LOG_APP_PORT PING_PONG_RUNTIME_DIR)} =
	    ($port2, '127.0.0.1', free_port(), free_port(), "$copy/second");
	$out = qx{cd $copy && timeout 60 tools/run 2>&1 </dev/null};
	is($? >> 8, 1, 'a second make run beside it: exit 1');
	like($out, qr{ERROR launcher\[\d+\] .*make run: another make run's stack uses \./var/pg: stop it first}, 'one line saying why')
	    or diag $out;
	unlike($out, qr{pg_ctl}, 'not pg_ctl\'s guess');
	ok(!-e "$copy/second", 'it started nothing');
}
is($ua->get("http://127.0.0.1:$port/pingpong")->{content}, "pong 2\n", 'and the first stack still counts on its database');
kill 'INT', -$pid;
ok(wait_until(30, sub { waitpid($pid, WNOHANG) == $pid }), 'make run stops');
$out = qx{cd $copy && env -u PING_PONG_DB_HOST make --no-print-directory -s BUILD=$PP::BUILD migrate-widen 2>&1};
isnt($? >> 8, 0, 'make migrate-widen without make run\'s database running: refused');
like($out, qr{ERROR launcher\[\d+\] .*make migrate-widen: make run's database \(\./var/pg\) is not running: start make run, or set PING_PONG_DB_HOST},
    'saying so, not libpq\'s "No such file or directory"') or diag $out;
$out = qx{make -C $copy --no-print-directory reset 2>&1};
is($?, 0, 'then make reset works') or diag $out;
ok(!-e "$copy/var/pg", 'and removes the database');

# Two make runs started together on a fresh checkout (no ./var/pg yet):
# one serves, the other is refused at once, and its exit leaves the
# first one's database running.  A check and then a lock let both through
# while the first made its database, and the second's exit stopped it.
my %kid;
END { kill 'INT', -$_ for grep { $_ && kill 0, $_ } values %kid }	# a failed check leaves no stack running
{
	my %port = map { $_ => free_port() } 1, 2;
	$kid{$_} = start_make_run($copy, { PING_PONG_APP_PORT => $port{$_}, PING_PONG_LISTEN_ADDRESS => '127.0.0.1',
	    AUTH_PROXY_PORT => free_port(), LOG_APP_PORT => free_port(), PING_PONG_RUNTIME_DIR => "$copy/together-$_" },
	    "$copy/together-$_.log") for 1, 2;
	my %rc;
	ok(wait_until(60, sub {
		for my $n (grep { !exists $rc{$_} } 1, 2) {
			$rc{$n} = $? >> 8 if waitpid($kid{$n}, WNOHANG) == $kid{$n};
		}
		keys %rc >= 1 }), 'one of two make runs started together ends');
	my ($lost) = keys %rc;
	$lost //= 2;
	my $won = $lost == 1 ? 2 : 1;
	is($rc{$lost}, 1, 'refused: exit 1');
	like(slurp("$copy/together-$lost.log"), qr{make run: another make run's stack uses \./var/pg: stop it first},
	    'saying why') or diag slurp("$copy/together-$lost.log");
	ok(wait_until(40, sub { $ua->get("http://127.0.0.1:$port{$won}/health/ready")->{status} == 200 }), 'the other serves')
	    or diag slurp("$copy/together-$won.log");
	is($ua->get("http://127.0.0.1:$port{$won}/pingpong")->{content}, "pong 0\n", 'on its database, still running')
	    or diag slurp("$copy/together-$won.log");
	kill 'INT', -$kid{$won};
	ok(wait_until(30, sub { waitpid($kid{$won}, WNOHANG) == $kid{$won} }), 'and stops');
}

done_testing;
