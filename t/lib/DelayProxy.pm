# DelayProxy.pm: latency in front of a PostgreSQL reached over its Unix
# socket. It listens on <dir>/.s.PGSQL.<port> (so a client is pointed at it
# with host=<dir>) and relays each connection to the server's socket; while
# armed, everything the client sends waits $delay seconds before it is
# forwarded: each query's round trip gets that much longer, as over a slow
# network. Arming and disarming take effect for new and open connections.
# What it does not do: TCP, TLS, anything of the protocol itself.
package DelayProxy;

use strict;
use warnings;
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::UNIX;
use POSIX ();
use Time::HiRes qw(sleep);
use PP qw(wait_until);

# DelayProxy->new(to => the server's socket directory, port => 5432, delay => seconds)
sub new {
	my ($class, %o) = @_;
	my $port = $o{port} || 5432;
	my $dir = tempdir('delay-t-XXXXXX', TMPDIR => 1, CLEANUP => 1);
	chmod 0755, $dir;
	my $listen = IO::Socket::UNIX->new(Type => IO::Socket::UNIX::SOCK_STREAM(), Local => "$dir/.s.PGSQL.$port", Listen => 64)
	    or die "DelayProxy: $!";
	chmod 0777, "$dir/.s.PGSQL.$port";
	my $self = bless { dir => $dir, flag => "$dir/armed", owner => $$ }, $class;
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		POSIX::setsid();	# its relays share its group: stop() ends them all
		$SIG{CHLD} = 'IGNORE';
		while (my $c = $listen->accept) {
			my $k = fork // next;
			if ($k == 0) {
				relay($self, $c, "$o{to}/.s.PGSQL.$port", $o{delay});
				POSIX::_exit(0);
			}
			close $c;
		}
		POSIX::_exit(0);
	}
	$self->{pid} = $pid;
	close $listen;
	return $self;
}

sub relay {
	my ($self, $c, $to, $delay) = @_;
	my $s = IO::Socket::UNIX->new(Type => IO::Socket::UNIX::SOCK_STREAM(), Peer => $to) or return;
	my $sel = IO::Select->new($c, $s);
	while (1) {
		for my $fh ($sel->can_read) {
			my $n = sysread($fh, my $buf, 65536);
			return unless $n;
			my $peer = $fh == $c ? $s : $c;
			sleep $delay if $fh == $c && -e $self->{flag};
			defined syswrite($peer, $buf) or return;
		}
	}
}

sub dir { $_[0]{dir} }
sub arm { open my $fh, '>', $_[0]{flag} or die; close $fh }
sub disarm { unlink $_[0]{flag} }

sub stop {
	my ($self) = @_;
	my $pid = delete $self->{pid} or return;
	return if $self->{owner} != $$;
	kill 'TERM', -$pid;
	waitpid($pid, 0);
}

sub DESTROY { $_[0]->stop }

1;
