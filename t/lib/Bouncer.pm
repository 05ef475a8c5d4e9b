# Bouncer.pm: a stock PgBouncer in transaction pooling mode for tests, in
# front of a PP stack's PostgreSQL: PgBouncer's defaults but for what it
# needs to run here (a unix socket in its own directory, where port number
# 6432 names the socket; trust authentication). It refuses to run as root,
# so as root it runs as the postgres user.
package Bouncer;

use strict;
use warnings;
use PP qw(wait_until);

sub new {
	my ($class, $pp, %o) = @_;
	my $dir = $pp->dir . '/bouncer';
	mkdir $dir;
	my $self = bless { dir => $dir, port => 6432 }, $class;
	open my $fh, '>', "$dir/pgbouncer.ini" or die;
	my $pg = $pp->pgdir;
	print $fh <<"INI";
[databases]
pingpong = host=$pg port=5432 dbname=pingpong user=postgres

[pgbouncer]
listen_addr =
listen_port = 6432
unix_socket_dir = $dir
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
default_pool_size = @{[ $o{pool_size} || 4 ]}
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
	close $fh;
	open $fh, '>', "$dir/userlist.txt" or die;
	print $fh qq("postgres" ""\n);
	close $fh;
	system('chown', '-R', 'postgres:', $dir) if $> == 0;
	my @as = $> == 0 ? ('runuser', '-u', 'postgres', '--') : ();
	system(@as, '/usr/sbin/pgbouncer', '-d', "$dir/pgbouncer.ini") == 0 or die "pgbouncer did not start";
	wait_until(10, sub { -S "$dir/.s.PGSQL.6432" }) or die "pgbouncer socket missing";
	return $self;
}

sub dir { $_[0]{dir} }

sub stop {
	my ($self) = @_;
	my ($pid) = PP::slurp("$self->{dir}/pgbouncer.pid") =~ /(\d+)/ or return;
	kill 'TERM', $pid;
	wait_until(5, sub { !kill 0, $pid });
}

sub DESTROY { $_[0]->stop }

1;
