# FreezeProxy.pm: a TCP proxy on loopback between the workers and
# PostgreSQL that can freeze connections mid-reconnect.  While armed, a
# connection whose client sends the schema (sql/schema.sql, recognised by
# its advisory lock) has that forwarded, and from then on nothing more is
# forwarded either way while both sockets stay open: what a worker sees of
# a network partition or a frozen server.  The kernel still acknowledges
# what the worker sends, so no TCP timeout ends it: only the worker's own
# deadline can.  Frozen connections stay frozen until the proxy stops.
# It does not speak the protocol beyond that one match, nor TLS.
package FreezeProxy;

use strict;
use warnings;
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use PP qw(slurp);

sub new {
	my ($class, %o) = @_;
	my $listen = IO::Socket::INET->new(Listen => 64, LocalAddr => '127.0.0.1', LocalPort => 0,
	    Proto => 'tcp', ReuseAddr => 1) or die "FreezeProxy: $!";
	my $self = bless { port => $listen->sockport, flag => "$o{dir}/freeze.armed",
	    count => "$o{dir}/freeze.count" }, $class;
	unlink $self->{flag}, $self->{count};
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		serve($self, $listen, $o{to});
		POSIX::_exit(0);
	}
	close $listen;
	$self->{pid} = $pid;
	return $self;
}

sub port { $_[0]{port} }
sub arm { open my $fh, '>', $_[0]{flag} or die; close $fh }
sub disarm { unlink $_[0]{flag} }
# How many connections were frozen so far.
sub frozen { slurp($_[0]{count}) || 0 }

sub serve {
	my ($self, $listen, $to) = @_;
	my $sel = IO::Select->new($listen);
	my (%peer, %client, %frozen);
	my $n = 0;
	my $close = sub {
		my ($fh) = @_;
		my $other = delete $peer{$fh};
		delete $peer{$other} if $other;
		for ($fh, $other) {
			next unless $_;
			$sel->remove($_);
			delete $client{$_};
			close $_;
		}
	};
	for (;;) {
		for my $fh ($sel->can_read(1)) {
			if ($fh == $listen) {
				my $c = $listen->accept or next;
				my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $to, Proto => 'tcp');
				unless ($s) { close $c; next }
				$peer{$c} = $s;
				$peer{$s} = $c;
				$client{$c} = 1;
				$sel->add($c, $s);
				next;
			}
			my $got = sysread($fh, my $buf, 65536);
			unless ($got) { $close->($fh); next }
			my $to_fh = $peer{$fh} or next;
			syswrite($to_fh, $buf);
			if ($client{$fh} && -e $self->{flag} && $buf =~ /pg_advisory_xact_lock/) {
				# Kept open, never read or written again.
				$sel->remove($fh, $to_fh);
				$frozen{$fh} = $to_fh;
				open my $out, '>', $self->{count};
				print $out ++$n;
				close $out;
			}
		}
	}
}

sub stop {
	my ($self) = @_;
	my $pid = delete $self->{pid} or return;
	kill 'KILL', $pid;
	waitpid($pid, 0);
}

sub DESTROY { $_[0]->stop }

1;
