# Patroni.pm: a highly available PostgreSQL for tests: one etcd (Debian's
# etcd-server 3.4, the v3 API that Patroni's `etcd3:` section speaks) and
# two or three Patroni 3.0 members running PostgreSQL 15, every one on free
# loopback ports in a private directory, stopped at the end (also when a
# test dies). PostgreSQL refuses root, so as root the members run as the
# postgres user (setpriv, which execs: the pid we hold is Patroni's own).
#
# Timings are short so a failover takes seconds, not the production
# defaults' half minute: ttl 8, loop_wait 1, retry_timeout 3 (Patroni's
# defaults, and what docs/ha.md recommends for
# production, are ttl 30, loop_wait 10, retry_timeout 10).
#
# Patroni->new(members => 2, sync => 1, max_lag => bytes) starts it all and waits for a leader
# (and, with sync, a synchronous standby); ->hosts and ->ports give the
# PING_PONG_DB_HOST and PING_PONG_DB_PORT lists (->stack starts a service
# with them); ->leader names the
# member that leads now; ->psql runs SQL on it.
package Patroni;

use strict;
use warnings;
use File::Temp qw(tempdir);
use HTTP::Tiny;
use JSON::PP ();
use POSIX qw(:sys_wait_h setsid);
use Time::HiRes qw(time sleep);
use PP qw(free_port wait_until slurp);

our $PGBIN = '/usr/lib/postgresql/15/bin';
our %TIMING = (ttl => 8, loop_wait => 1, retry_timeout => 3);
my $http = HTTP::Tiny->new(timeout => 5 * $PP::MULT, keep_alive => 0);
my @AS = $> == 0 ? ('setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', '--') : ();

sub new {
	my ($class, %o) = @_;
	my $dir = tempdir('pingpong-patroni-XXXXXX', TMPDIR => 1, CLEANUP => 0);
	chmod 0755, $dir;
	my $self = bless {
		dir	=> $dir,
		owner	=> $$,
		sync	=> $o{sync} // 1,
		max_lag	=> $o{max_lag} // 1048576,	# Patroni's default, bytes
		scope	=> 'pp' . int(rand 1e6),
		etcd_port => free_port(),
		etcd_peer => free_port(),
		members	=> [],
	}, $class;
	PP::teardown_at_end($self);
	for my $i (1 .. ($o{members} || 2)) {
		push @{ $self->{members} }, { name => "m$i", pg_port => free_port(), api_port => free_port(),
		    dir => "$dir/m$i" };
	}
	$self->etcd_start;
	$self->member_start($_) for @{ $self->{members} };
	$self->wait_healthy(60) or die "Patroni: no leader with a healthy cluster within 60 s\n" . $self->logs;
	$self->psql('CREATE DATABASE pingpong', 'postgres');
	return $self;
}

sub dir { $_[0]{dir} }
sub members { @{ $_[0]{members} } }
sub member { my ($self, $name) = @_; (grep { $_->{name} eq $name } $self->members)[0] }
# The members in host-list order, member $first (a name) first if given.
sub ordered {
	my ($self, $first) = @_;
	my @m = $self->members;
	return @m unless defined $first;
	return ((grep { $_->{name} eq $first } @m), grep { $_->{name} ne $first } @m);
}
sub hosts { my ($self, $first) = @_; join ',', map { '127.0.0.1' } $self->ordered($first) }
sub ports { my ($self, $first) = @_; join ',', map { $_->{pg_port} } $self->ordered($first) }

# A PP stack (role app) pointed at every member, as a user would configure
# it; with first => NAME, that member heads the host list.
sub stack {
	my ($self, %env) = @_;
	my $first = delete $env{first};
	return PP->new(role => 'app', db => 0, psql => sub { $self->psql(@_) },
	    env => { PING_PONG_DB_HOST => $self->hosts($first), PING_PONG_DB_PORT => $self->ports($first), %env });
}

# Runs $cmd (a list) in its own session, output to $log; returns the pid.
sub spawn {
	my ($log, @cmd) = @_;
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		setsid();
		open STDIN, '<', '/dev/null';
		open STDOUT, '>>', $log;
		open STDERR, '>&', \*STDOUT;
		exec @cmd or POSIX::_exit(127);
	}
	return $pid;
}

sub etcd_start {
	my ($self) = @_;
	my ($c, $p) = ("http://127.0.0.1:$self->{etcd_port}", "http://127.0.0.1:$self->{etcd_peer}");
	$self->{etcd_pid} = spawn("$self->{dir}/etcd.log", '/usr/bin/etcd', '--name', 'pp',
	    '--data-dir', "$self->{dir}/etcd", '--listen-client-urls', $c, '--advertise-client-urls', $c,
	    '--listen-peer-urls', $p, '--initial-advertise-peer-urls', $p, '--initial-cluster', "pp=$p",
	    '--initial-cluster-state', 'new');
	wait_until(20, sub { ($http->get("$c/health")->{content} // '') =~ /"health":\s*"true"/ })
	    or die "etcd did not come up:\n" . slurp("$self->{dir}/etcd.log");
}

# The member's patroni.yml: everything on 127.0.0.1, trust on loopback
# (a throwaway cluster), synchronous_mode as asked.
sub config {
	my ($self, $m) = @_;
	my $sync = $self->{sync} ? 'true' : 'false';
	return <<"YML";
scope: $self->{scope}
namespace: /pingpong-test/
name: $m->{name}
log:
  level: INFO
restapi:
  listen: 127.0.0.1:$m->{api_port}
  connect_address: 127.0.0.1:$m->{api_port}
etcd3:
  hosts: 127.0.0.1:$self->{etcd_port}
bootstrap:
  dcs:
    ttl: $TIMING{ttl}
    loop_wait: $TIMING{loop_wait}
    retry_timeout: $TIMING{retry_timeout}
    maximum_lag_on_failover: $self->{max_lag}
    synchronous_mode: $sync
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        wal_level: replica
        hot_standby: "on"
        wal_log_hints: "on"
        max_wal_senders: 5
        max_replication_slots: 5
        fsync: "on"
  initdb:
    - encoding: UTF8
    - auth: trust
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 trust
    - host replication all 127.0.0.1/32 trust
postgresql:
  listen: 127.0.0.1:$m->{pg_port}
  connect_address: 127.0.0.1:$m->{pg_port}
  data_dir: $m->{dir}/data
  bin_dir: $PGBIN
  pgpass: $m->{dir}/pgpass
  authentication:
    superuser:
      username: postgres
      password: postgres
    replication:
      username: postgres
      password: postgres
    rewind:
      username: postgres
      password: postgres
  parameters:
    unix_socket_directories: $m->{dir}
    logging_collector: "off"
YML
}

sub member_start {
	my ($self, $m) = @_;
	mkdir $m->{dir}, 0700;
	open my $fh, '>', "$m->{dir}/patroni.yml" or die;
	print $fh $self->config($m);
	close $fh;
	system('chown', '-R', 'postgres:', $m->{dir}) if $> == 0;
	chmod 0700, $m->{dir};
	$m->{pid} = spawn("$self->{dir}/$m->{name}.log", @AS, '/usr/bin/patroni', "$m->{dir}/patroni.yml");
}

# GET on a member's REST API, decoded; undef when it does not answer.
sub api {
	my ($self, $m, $path) = @_;
	my $r = $http->get("http://127.0.0.1:$m->{api_port}$path");
	return undef unless $r->{success} && $r->{content} =~ /^\{/;
	return eval { JSON::PP::decode_json($r->{content}) };
}

# The cluster as one live member sees it: { leader => name, sync => name, running => n }.
sub cluster {
	my ($self) = @_;
	for my $m ($self->members) {
		next if $m->{killed};
		my $c = $self->api($m, '/cluster') or next;
		my %s = (running => 0);
		for (@{ $c->{members} || [] }) {
			my $up = ($_->{state} // '') =~ /^(running|streaming)$/;
			$s{running}++ if $up;
			$s{leader} = $_->{name} if $_->{role} eq 'leader' && $up;
			$s{sync} = $_->{name} if $_->{role} eq 'sync_standby' && $up;
		}
		return \%s;
	}
	return {};
}

sub leader { $_[0]->cluster->{leader} }

# Waits until a leader runs and, in sync mode, a synchronous standby does
# too (in async mode: every live member runs).
sub wait_healthy {
	my ($self, $secs) = @_;
	my $live = grep { !$_->{killed} } $self->members;
	return wait_until($secs, sub {
		my $c = $self->cluster;
		return 0 unless $c->{leader} && $self->leader_writable($c->{leader});
		return $self->{sync} ? $c->{sync} : $c->{running} == $live;
	});
}

# Whether the member accepts writes (Patroni may say leader a moment before).
sub leader_writable {
	my ($self, $name) = @_;
	my $r = $http->get('http://127.0.0.1:' . $self->member($name)->{api_port} . '/primary');
	return $r->{status} == 200;
}

# psql on the leader (or on $opts{member}); returns its unaligned output, trimmed.
sub psql {
	my ($self, $sql, $db, %o) = @_;
	my $name = $o{member} // $self->leader // die "Patroni: no leader\n";
	my $m = $self->member($name);
	open my $fh, '-|', @AS, "$PGBIN/psql", '-X', '-h', '127.0.0.1', '-p', $m->{pg_port}, '-U', 'postgres',
	    '-Atq', '-v', 'ON_ERROR_STOP=1', '-c', $sql, $db // 'pingpong' or die "psql: $!";
	local $/;
	my $out = <$fh>;
	close $fh;
	die "psql on $name failed ($?): $sql\n" if $?;
	$out //= '';
	$out =~ s/\s+\z//;
	return $out;
}

# patronictl with this cluster's configuration; returns (status, output).
sub ctl {
	my ($self, @args) = @_;
	my $cfg = $self->member((grep { !$_->{killed} } $self->members)[0]{name})->{dir} . '/patroni.yml';
	my $out = qx{@AS patronictl -c $cfg @args 2>&1};
	return ($? >> 8, $out);
}

# Planned: the leader hands over to $to (the synchronous standby by
# default); returns when the new leader accepts writes.
sub switchover {
	my ($self, $to) = @_;
	my $c = $self->cluster;
	$to //= $c->{sync} // (grep { $_->{name} ne $c->{leader} && !$_->{killed} } $self->members)[0]{name};
	my ($rc, $out) = $self->ctl('switchover', '--leader', $c->{leader}, '--candidate', $to, '--force', $self->{scope});
	die "patronictl switchover failed: $out" if $rc;
	wait_until(30, sub { ($self->leader // '') eq $to && $self->leader_writable($to) })
	    or die "switchover to $to did not complete:\n$out";
	return $to;
}

# Waits until a member other than $old leads and takes writes; its name or undef.
sub wait_new_leader {
	my ($self, $old, $secs) = @_;
	my $new;
	wait_until($secs, sub { $new = $self->leader; $new && $new ne $old && $self->leader_writable($new) })
	    or return undef;
	return $new;
}

# Starts again every member that was killed (it rejoins as a standby,
# rewound if need be) and waits for a healthy cluster.
sub heal {
	my ($self) = @_;
	for my $m (grep { $_->{killed} } $self->members) {
		delete $m->{killed};
		$self->member_start($m);
	}
	$self->wait_healthy(60) or die "Patroni: the cluster did not heal within 60 s\n" . $self->logs;
}

# How long a failover may take at most: the leader key expires within ttl,
# a standby notices within loop_wait and retries within retry_timeout; a
# few seconds more for promotion on a loaded machine.
sub failover_bound { $TIMING{ttl} + $TIMING{loop_wait} + $TIMING{retry_timeout} + 5 }

# The faults for Faults::under_load (t/48, make soak): each causes one and
# returns when a new leader takes writes.
our %SCENARIO = (
	'patroni switchover' => sub { $_[0]->switchover },
	'patroni failover' => sub {
		my ($self) = @_;
		my $old = $self->leader;
		$self->kill_member($old);
		$self->wait_new_leader($old, failover_bound())
		    or die "Patroni: no new leader within @{[ failover_bound() ]} s of killing $old\n" . $self->logs;
	},
);

# The postmaster and its children of member $m.
sub pg_pids {
	my ($self, $m) = @_;
	my ($pm) = slurp("$m->{dir}/data/postmaster.pid") =~ /^(\d+)/ or return ();
	my @all = ($pm);
	for (split /\n/, qx{ps -e -o pid=,ppid=}) {
		my ($p, $pp) = /(\d+)\s+(\d+)/ or next;
		push @all, $p if $pp == $pm;
	}
	return grep { kill 0, $_ } @all;
}

# The pids of a member's PostgreSQL processes whose title names $what
# (walsender on a primary, walreceiver on a standby).
sub pg_pids_of {
	my ($self, $m, $what) = @_;
	my @pids = $self->pg_pids($m) or return ();
	return map { /^\s*(\d+)\s+postgres: .*\b$what\b/ ? $1 : () }
	    split /\n/, qx{ps -o pid=,args= -p @{[ join ',', @pids ]}};
}

# Unplanned: the member's Patroni and PostgreSQL die at once (SIGKILL).
sub kill_member {
	my ($self, $name) = @_;
	my $m = $self->member($name);
	my @pids = ($m->{pid}, $self->pg_pids($m));
	kill 'KILL', @pids;
	$m->{killed} = 1;
	waitpid($m->{pid}, 0);
	wait_until(10, sub { !grep { kill 0, $_ } @pids });
}

sub logs {
	my ($self) = @_;
	return join '', map { "--- $_\n" . slurp("$self->{dir}/$_") } 'etcd.log', map { "$_->{name}.log" } $self->members;
}

# Waits up to $secs for child $pid to end, then kills it.
sub reap {
	my ($pid, $secs) = @_;
	return if wait_until($secs, sub { waitpid($pid, WNOHANG) == $pid });
	kill 'KILL', $pid;
	waitpid($pid, 0);
}

sub teardown {
	my ($self) = @_;
	return if $self->{owner} != $$ || $self->{down}++;
	for my $m ($self->members) {
		next if $m->{killed};
		kill 'TERM', $m->{pid};
	}
	for my $m ($self->members) {
		next if $m->{killed};
		reap($m->{pid}, 20);
		# A PostgreSQL left behind by a Patroni that did not stop it.
		kill 'KILL', $self->pg_pids($m);
	}
	kill 'TERM', $self->{etcd_pid};
	reap($self->{etcd_pid}, 10);
	PP::discard_dir($self->{dir});
}

1;
