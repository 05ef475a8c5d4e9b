# FakeAzure.pm: the Azure cloud on loopback, for tests: an Entra ID token
# endpoint (/<tenant>/oauth2/v2.0/token), IMDS (/metadata/identity/oauth2/token)
# and a managed Prometheus query API (/api/v1/...), in one forking HTTP/1.0
# server.  It records every request (one JSON line each) and answers as its
# mode files say; tests change a mode by writing the file.
#
# What it does not do: TLS, keep-alive, chunked bodies, JWT checks, real
# PromQL.  A token mode line is one of:
#   ok <lifetime> [size <bytes>]   200 v2 body (expires_in a number) or, on
#                        the IMDS path, the IMDS body (all strings); the
#                        token padded to <bytes>
#   body <json>          200 with this body, TOKEN replaced by a fresh token
#   status <code> [retry-after <s>]   an error body {error, error_description}
#   hang                 accept and never answer
#   garbage              200 with a body that is not JSON
# A prometheus mode line: value <v> | empty | status <code> | hang |
#   header <Name: value>  (200 value 1 with this header added: a hostile
#                        upstream's X-Accel-Redirect, say).
package FakeAzure;

use strict;
use warnings;
use IO::Socket::INET;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(time sleep);

sub new {
	my ($class, $dir) = @_;
	mkdir $dir;
	my $self = bless { dir => $dir, owner => $$ }, $class;
	$self->set_token('ok 3600');
	$self->set_prom('value 0.25');
	my $sock = IO::Socket::INET->new(Listen => 64, LocalAddr => '127.0.0.1',
	    LocalPort => 0, Proto => 'tcp', ReuseAddr => 1) or die "fake: $!";
	$self->{port} = $sock->sockport;
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		setpgrp(0, 0);	# the server and its hanging children die together
		$SIG{CHLD} = 'IGNORE';
		while (1) {
			my $c = $sock->accept or next;
			my $kid = fork;
			if (defined $kid && $kid == 0) {
				$self->serve($c);
				POSIX::_exit(0);
			}
			close $c;
		}
	}
	# The parent makes the group too (as supervise.c does for its guardian):
	# were it the child's alone, a stop before the child first ran (a
	# loaded machine) would signal no group, and wait for ever.
	setpgrp($pid, $pid);
	close $sock;
	$self->{pid} = $pid;
	return $self;
}

sub port { $_[0]{port} }
sub url { "http://127.0.0.1:$_[0]{port}" }

sub write_file {
	my ($path, $s) = @_;
	open my $fh, '>', "$path.tmp" or die;
	print $fh $s;
	close $fh;
	rename "$path.tmp", $path;
}
sub set_token { write_file("$_[0]{dir}/token.mode", $_[1]) }
sub set_prom { write_file("$_[0]{dir}/prom.mode", $_[1]) }

sub mode {
	my ($self, $which) = @_;
	open my $fh, '<', "$self->{dir}/$which.mode" or return '';
	my $m = <$fh> // '';
	chomp $m;
	return $m;
}

# Every request so far, oldest first: {t, method, path, query, headers, body, answer}.
sub requests {
	my ($self, $kind) = @_;
	open my $fh, '<', "$self->{dir}/requests.log" or return ();
	flock $fh, 1;	# shared: record() writes a long line in several writes, under its lock
	my @r = map { decode_json($_) } <$fh>;
	return $kind ? grep { $_->{kind} eq $kind } @r : @r;
}

sub tokens_issued {
	my ($self) = @_;
	return map { $_->{answer} } grep { defined $_->{answer} } $self->requests;
}

# Only in the process that made it (not a forked test child that exits).
sub stop {
	my ($self) = @_;
	return if $self->{owner} != $$;
	my $pid = delete $self->{pid} or return;
	kill 'KILL', -$pid, $pid;
	waitpid($pid, 0);
}
sub DESTROY { $_[0]->stop }

sub form_decode {
	my ($s) = @_;
	my %f;
	for (split /&/, $s // '') {
		my ($k, $v) = split /=/, $_, 2;
		for ($k, $v) { next unless defined; tr/+/ /; s/%([0-9A-Fa-f]{2})/chr hex $1/ge }
		$f{$k} = $v;
	}
	return \%f;
}

sub serve {
	my ($self, $c) = @_;
	local $/ = "\r\n";
	my $line = <$c> // return;
	my ($method, $target) = $line =~ /^(\S+) (\S+)/ or return;
	my %h;
	while (my $l = <$c>) {
		last if $l eq "\r\n";
		$l =~ s/\r\n$//;
		my ($k, $v) = split /:\s*/, $l, 2;
		$h{lc $k} = $v;
	}
	my $body = '';
	read($c, $body, $h{'content-length'}) if $h{'content-length'};
	my ($path, $query) = split /\?/, $target, 2;
	my $kind = $path =~ m{/oauth2/v2\.0/token$} ? 'aad' : $path =~ m{^/metadata/identity/oauth2/token} ? 'imds'
	    : $path =~ m{^/api/v1/} ? 'prom' : 'other';
	my $rec = { t => time, kind => $kind, method => $method, path => $path, query => $query // '',
	    headers => \%h, body => $body, form => form_decode($kind eq 'imds' ? $query : $body) };
	my ($status, $extra, $out) = (404, '', '{"error":"not_found"}');
	if ($kind eq 'aad' || $kind eq 'imds') {
		my $m = $self->mode('token');
		my $tok = "fake-token-" . int(rand 1e12) . "-" . $$;
		if ($m =~ /^ok (\d+)(?: size (\d+))?/) {
			$tok .= 'x' x ($2 - length $tok) if $2 && $2 > length $tok;
			$rec->{answer} = $tok;
			$status = 200;
			$out = $kind eq 'imds'
			    ? encode_json({ access_token => $tok, refresh_token => '', expires_in => "$1",
				expires_on => '' . int(time + $1), not_before => '' . int(time),
				resource => $rec->{form}{resource} // '', token_type => 'Bearer' })
			    : qq({"token_type":"Bearer","expires_in":$1,"ext_expires_in":$1,"access_token":"$tok"});
		} elsif ($m =~ /^body (.*)/) {
			($status, $out, $rec->{answer}) = (200, $1, $tok);
			$out =~ s/TOKEN/$tok/g;
		} elsif ($m =~ /^status (\d+)(?: retry-after (\d+))?/) {
			$status = $1;
			$extra = "Retry-After: $2\r\n" if defined $2;
			$out = qq({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Trace ID: x","error_codes":[7000215]});
			$out = '{"error":"temporarily_unavailable"}' if $status >= 429;
		} elsif ($m eq 'hang') {
			$self->record($rec);
			sleep 120;
			return;
		} elsif ($m eq 'garbage') {
			($status, $out) = (200, '<html>not json</html>');
		}
	} elsif ($kind eq 'prom') {
		my $m = $self->mode('prom');
		if ($m =~ /^value (\S+)/) {
			($status, $out) = (200, qq({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000.123,"$1"]}]}}));
		} elsif ($m eq 'empty') {
			($status, $out) = (200, '{"status":"success","data":{"resultType":"vector","result":[]}}');
		} elsif ($m =~ /^header (.+)/) {
			($status, $extra, $out) = (200, "$1\r\n", '{"status":"success","data":{"resultType":"vector","result":[]}}');
		} elsif ($m =~ /^status (\d+)/) {
			($status, $out) = ($1, '{"error":{"code":"Unauthorized","message":"fake upstream refusal"}}');
		} elsif ($m eq 'hang') {
			$self->record($rec);
			sleep 120;
			return;
		}
	}
	$self->record($rec);
	print $c "HTTP/1.0 $status X\r\nContent-Type: application/json\r\nContent-Length: " . length($out) .
	    "\r\n${extra}Connection: close\r\n\r\n$out";
	close $c;
}

sub record {
	my ($self, $rec) = @_;
	open my $fh, '>>', "$self->{dir}/requests.log" or return;
	flock $fh, 2;
	print $fh encode_json($rec) . "\n";
	close $fh;
}

1;
