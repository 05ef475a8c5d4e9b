# PgBouncer as manifests/pgbouncer builds it: Debian's pgbouncer with the
# Deployment's command line and the generated ConfigMap's ini files,
# the mounts as read-only directories (the Secret's userlist made here),
# the whole root read-only (a private mount namespace, as the container's
# readOnlyRootFilesystem), as a non-root user; a real stack counts through
# it. What differs from the cluster, and only that: the mount paths sit
# under a scratch directory, the listen address and port are loopback's and
# a free one, the database is the test's PostgreSQL, and on a PgBouncer
# older than 1.21 (Debian 12's 1.18) the max_prepared_statements line is
# left out (1.18 refuses it; the worker's unnamed-statement fallback covers
# it, t/30).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use File::Path qw(make_path);
use File::Temp ();
use IO::Socket::INET;
use POSIX qw(setsid :sys_wait_h);
use YAML::XS ();
use PP qw(free_port wait_until slurp);

# A private mount namespace (unshare -m, mount) and runuser need root, as
# the suite runs (make test, CI).
plan skip_all => 'needs root (unshare -m, runuser)' if $> != 0;
my $root = $PP::ROOT;
my $bin = '/usr/sbin/pgbouncer';
ok(-x $bin, "Debian's PgBouncer is installed (tools/deps)") or BAIL_OUT("no $bin");
my ($have) = qx{$bin -V} =~ /PgBouncer (\d+\.\d+)/;
ok($have, "PgBouncer $have");

my @docs = grep { ref $_ eq 'HASH' } YAML::XS::Load(scalar qx{kubectl kustomize $root/manifests/pgbouncer});
my ($dep) = grep { $_->{kind} eq 'Deployment' } @docs;
my $spec = $dep->{spec}{template}{spec};
my ($c) = @{ $spec->{containers} };
my @cmd = @{ $c->{command} || [] };
ok(@cmd && !$c->{args}, 'the container has a command: and no args: (' . join(' ', @cmd) . ')');
like($cmd[0] // '', qr{/pgbouncer$}, 'which runs pgbouncer itself');
my ($uid) = $spec->{securityContext}{runAsUser};
ok($uid && $spec->{securityContext}{runAsNonRoot}, "as a non-root user ($uid; here: postgres)");

# The mounts, under a scratch root: a ConfigMap's keys or a Secret's items
# as files, read-only.
my $tmp = File::Temp->newdir('pingpong-t67-XXXXXX', TMPDIR => 1);
chmod 0755, "$tmp";
my $fake = "$tmp/root";
my $password = join '', map { ('a' .. 'z', 0 .. 9)[rand 36] } 1 .. 24;
my %vol = map { $_->{name} => $_ } @{ $spec->{volumes} };
my @mounts = map { $_->{mountPath} } @{ $c->{volumeMounts} };
my %ini;	# the mounted path of each ini file => its text
for my $m (@{ $c->{volumeMounts} }) {
	my $v = $vol{ $m->{name} } or BAIL_OUT("volume $m->{name} is not declared");
	my $dir = "$fake$m->{mountPath}";
	make_path($dir);
	if (my $cm = $v->{configMap}) {
		my ($obj) = grep { $_->{kind} eq 'ConfigMap' && $_->{metadata}{name} eq $cm->{name} } @docs;
		ok($obj, "$m->{mountPath}: ConfigMap $cm->{name}, in the same build");
		for my $k (sort keys %{ $obj->{data} }) {
			$ini{"$m->{mountPath}/$k"} = $obj->{data}{$k} if $k =~ /\.ini$/;
			write_file("$dir/$k", $obj->{data}{$k});
		}
	} elsif (my $sec = $v->{secret}) {
		# The deployment's own userlist: the user the stack logs in as,
		# with its password (PgBouncer checks it with SCRAM).
		for my $it (@{ $sec->{items} }) {
			write_file("$dir/$it->{path}", qq("postgres" "$password"\n));
		}
		pass("$m->{mountPath}: Secret $sec->{secretName} ($_->{path})") for @{ $sec->{items} };
	} else {
		fail("$m->{mountPath}: a volume this test knows (configMap or secret)");
	}
}
my ($ini_key) = grep { /\.ini$/ } @cmd[1 .. $#cmd];
ok($ini_key && $ini{$ini_key}, "the ini the command line names is mounted: " . ($ini_key // '(none)'));
my $ini_text = $ini{$ini_key // ''} // '';
my @included = $ini_text =~ /^%include\s+(\S+)/mg;
ok(@included && !grep({ !$ini{$_} } @included), 'and each file it includes: ' . join(' ', @included));

sub write_file {
	my ($path, $text) = @_;
	open my $fh, '>', $path or die "$path: $!";
	print $fh $text;
	close $fh;
}

sub under_mount { my ($p) = @_; grep { index($p, "$_/") == 0 } @mounts }

# The database PgBouncer points at, on loopback TCP as postgres-svc is.
my $db = PP->new(start => 0, pg_tcp => 1);
my $port = free_port();

# The ini as the cluster has it, but for what only differs here.
sub ini_for_here {
	my ($text, %o) = @_;
	my (@out, @changed);
	for my $line (split /\n/, $text) {
		my $was = $line;
		if ($line =~ m{^%include\s+(/\S+)$}) {
			ok(under_mount($1), "%include $1 is under a mount") if !$o{quiet};
			$line = "%include $fake$1";
		} elsif ($line =~ /^\s*(\w+)\s*=\s*(.*?)\s*$/) {
			my ($k, $v) = ($1, $2);
			if ($k eq 'listen_addr') { $line = "listen_addr = 127.0.0.1" }
			elsif ($k eq 'listen_port') { $line = "listen_port = $port" }
			elsif ($k eq 'max_prepared_statements' && $have < 1.21) { push @changed, "left out: $was"; next }
			elsif ($v =~ m{^/}) {
				ok(under_mount($v), "$k = $v is under a mount") if !$o{quiet};
				$line = "$k = $fake$v";
			} elsif ($line =~ /\bhost=/) {
				$line =~ s/\bhost=\S+/host=127.0.0.1/;
				$line =~ s/\bport=\d+/port=@{[ $db->pg_port ]}/;
			}
		}
		next if $o{drop} && $line =~ $o{drop};
		push @changed, "$was -> $line" if $line ne $was;
		push @out, $line;
	}
	return (join("\n", @out) . "\n", \@changed);
}

my @bouncers;	# stopped at the end, whatever happens
END { stop_bouncer($_) for grep { kill 0, $_ } @bouncers }

# Starts pgbouncer as the manifest's command line says, the root read-only;
# returns its pid and its log file.
sub start_bouncer {
	my ($name) = @_;
	my @argv = map { m{^/} ? "$fake$_" : $_ } @cmd[1 .. $#cmd];
	ok(!grep({ m{^/} && !under_mount($_) } @cmd[1 .. $#cmd]), 'every path on the command line is under a mount') if $name eq 'manifest';
	system('chmod', '-R', 'a+rX,a-w', $fake) == 0 or die 'chmod';
	my $log = "$tmp/$name.log";
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		setsid();
		chdir '/';
		open STDIN, '<', '/dev/null';
		open STDOUT, '>', $log or die;
		open STDERR, '>&', \*STDOUT;
		# / and the scratch root (should TMPDIR be a mount of its own)
		# read-only, in this process's own mount namespace.
		exec 'unshare', '-m', '--propagation', 'private', 'sh', '-c',
		    'set -e; for m in / "$0"; do mount --bind "$m" "$m"; mount -o remount,bind,ro "$m"; done; exec runuser -u postgres -- "$@"',
		    $fake, $bin, @argv or die "exec: $!";
	}
	push @bouncers, $pid;
	my $up = wait_until(15, sub {
		IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 1) || waitpid($pid, WNOHANG) == $pid });
	return ($pid, $log, $up && kill(0, $pid));
}

sub stop_bouncer {
	my ($pid) = @_;
	kill 'TERM', -$pid, $pid;
	wait_until(10, sub { waitpid($pid, WNOHANG) != 0 }) or kill 'KILL', -$pid, $pid;
}

chmod 0755, $fake;
for my $path (sort keys %ini) {
	my ($ini, $changed) = ini_for_here($ini{$path});
	note("$path, changed for here: $_") for @$changed;
	write_file("$fake$path", $ini);
}
my ($pid, $log, $up) = start_bouncer('manifest');
ok($up, 'PgBouncer starts as the manifest says and listens') or diag slurp($log);
like(slurp($log), qr/listening on 127\.0\.0\.1:$port/, 'on the TCP port');
unlike(slurp($log), qr/unix:|Read-only file system|ERROR|FATAL/, 'no unix socket, nothing it wanted to write, no error');
ok(!-e "/tmp/.s.PGSQL.$port", 'no socket in /tmp');

# A real client: a stack whose database is PgBouncer, counting.
my $pwfile = "$tmp/db-password";
write_file($pwfile, $password);
chmod 0644, $pwfile;
my $pp = PP->new(db => 0, env => { PING_PONG_DB_HOST => '127.0.0.1', PING_PONG_DB_PORT => $port,
    PING_PONG_DB_USER => 'postgres', PING_PONG_DB_PASSWORD_FILE => $pwfile });
my @got = map { my $r = $pp->get('/pingpong'); $r->{status} == 200 && $r->{content} =~ /^pong (\d+)/ ? $1 : "$r->{status} $r->{content}" } 1 .. 20;
is_deeply(\@got, [0 .. 19], 'twenty pongs through PgBouncer: 0..19');
is($db->counter, 20, 'and PostgreSQL holds 20');
is($pp->get('/health/ready')->{status}, 200, 'the stack is ready through it');

# It really was PgBouncer that carried them: without it, no pong.
stop_bouncer($pid);
my $r;
wait_until(15, sub { ($r = $pp->get('/pingpong'))->{status} == 503 });
is($r->{status}, 503, 'with PgBouncer stopped the pongs answer 503');
is($db->counter, 20, 'and nothing more was counted');

# The harness' root is really read-only: the same ini without
# unix_socket_dir = makes PgBouncer try its default, /tmp, and fail there.
my ($ini) = ini_for_here($ini_text, drop => qr/^\s*unix_socket_dir\s*=/, quiet => 1);
system('chmod', '-R', 'u+w', $fake);
write_file("$fake$ini_key", $ini);
my ($pid2, $log2) = start_bouncer('control');
wait_until(10, sub { slurp($log2) =~ /unix:/ });
like(slurp($log2), qr{cannot listen on unix:/tmp/\.s\.PGSQL\.$port: bind\(\): Read-only file system},
    'control: without unix_socket_dir = its socket in /tmp meets the read-only root');
stop_bouncer($pid2);

$pp->teardown;
$db->teardown;
system('chmod', '-R', 'u+w', $fake);
done_testing;
