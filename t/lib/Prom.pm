# Prom.pm: a real Prometheus (Debian's /usr/bin/prometheus) for tests, on a
# free loopback port with its own data directory, scraping every second,
# stopped at the end (also when a test dies); promtool checks; and a tiny
# scrape target playing the kubelet's cAdvisor.
#
# Pods are scraped the way a cluster scrapes them: the targets carry the
# __meta_kubernetes_* labels Kubernetes service discovery (role: pod) would
# give the Rollout's pod template (its annotations, labels, containers and
# named ports; one target per declared port; the rollouts-pod-template-hash
# label Argo adds to every pod of a Rollout), and go through one of two
# relabellings, chosen by Prom->new(scraper => ...):
#   project (default): manifests/monitoring/scrape-config.yml, the
#     project's own job: pod labels, kubernetes_namespace,
#     kubernetes_pod_name, and namespace, pod, container;
#   azure: Azure Monitor's managed Prometheus' own pod-annotation job,
#     verbatim (t/data/azure-kubernetes-pods.yml says from where): pod
#     labels, kubernetes_namespace, kubernetes_pod_name only.
# Only the addresses are the test's: a containerPort (3000, 8080) maps to
# the port the test's stack listens on.
#
# What it does not do: Kubernetes itself (targets come from a file_sd file
# the test writes), remote write, TLS.
package Prom;

use strict;
use warnings;
use File::Path qw(remove_tree);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(setsid);
use YAML::XS ();
use Time::HiRes qw(time sleep);
use PP qw(free_port wait_until slurp);

my @LIVE;
my $http = HTTP::Tiny->new(timeout => 10 * $PP::MULT, keep_alive => 0);

# The release version, from common/version.h.
sub version { (slurp("$PP::ROOT/common/version.h") =~ /#define PP_VERSION\s+"([^"]+)"/)[0] }

# promtool with @args (and $stdin if given); returns (exit status, output).
sub promtool {
	my ($stdin, @args) = @_;
	my $dir = tempdir('prom-tool-XXXXXX', TMPDIR => 1, CLEANUP => 1);
	open my $in, '>', "$dir/in" or die;
	print $in $stdin // '';
	close $in;
	my $out = qx{promtool @args <$dir/in 2>&1};
	return ($? >> 8, $out);
}

# promtool check metrics on an exposition text: '' when it has nothing to say.
sub check_metrics {
	my ($rc, $out) = promtool($_[0], 'check', 'metrics');
	return $rc == 0 && $out eq '' ? '' : "exit $rc: $out";
}

# The job the pods are scraped by, with Kubernetes discovery swapped for a
# file the test writes: the project's (manifests/monitoring/scrape-config.yml)
# or Azure's (t/data/azure-kubernetes-pods.yml).
sub pod_job {
	my ($dir, $scraper) = @_;
	my $job;
	if ($scraper eq 'azure') {
		local $YAML::XS::Boolean = 'JSON::PP';	# its `regex: true` stays true, not 1
		$job = YAML::XS::LoadFile("$PP::ROOT/t/data/azure-kubernetes-pods.yml");
	} elsif ($scraper eq 'project') {
		($job) = grep { $_->{job_name} eq 'kubernetes-pods' }
		    @{ YAML::XS::LoadFile("$PP::ROOT/manifests/monitoring/scrape-config.yml")->{scrape_configs} };
		delete $job->{kubernetes_sd_configs} or die 'scrape-config.yml: kubernetes-pods has no kubernetes_sd_configs';
	} else {
		die "Prom: no scraper $scraper";
	}
	$job->{file_sd_configs} = [{ files => ["$dir/pods.json"] }];
	return $job;
}

# Prom->new(rules => [files], scraper => 'project'|'azure'): starts
# Prometheus and waits until it is ready.
sub new {
	my ($class, %o) = @_;
	my $dir = tempdir('prom-t-XXXXXX', TMPDIR => 1, CLEANUP => 0);
	my $self = bless { dir => $dir, port => free_port(), owner => $$, scraper => $o{scraper} || 'project' }, $class;
	push @LIVE, $self;
	$self->write_json('pods.json', []);
	$self->write_json('cadvisor.json', []);
	my $cfg = {
		global => { scrape_interval => '1s', scrape_timeout => '1s', evaluation_interval => '1s' },
		rule_files => $o{rules} || [],
		scrape_configs => [
			pod_job($dir, $self->{scraper}),
			# The kubelet's cAdvisor: its series carry namespace, pod and container themselves.
			{ job_name => 'kubelet-cadvisor', honor_labels => JSON::PP::true, metrics_path => '/metrics/cadvisor',
			  file_sd_configs => [{ files => ["$dir/cadvisor.json"] }] },
		],
	};
	$self->write_json('prometheus.yml', $cfg);	# JSON is YAML
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		setsid();
		open STDIN, '<', '/dev/null';
		open STDOUT, '>', "$dir/prometheus.log";
		open STDERR, '>&', \*STDOUT;
		exec 'prometheus', "--config.file=$dir/prometheus.yml", "--storage.tsdb.path=$dir/data",
		    "--web.listen-address=127.0.0.1:$self->{port}", '--log.level=warn' or die "exec: $!";
	}
	$self->{pid} = $pid;
	wait_until(30, sub { ($http->get($self->url('/-/ready'))->{status} // 0) == 200 })
	    or die "prometheus did not start:\n" . slurp("$dir/prometheus.log");
	return $self;
}

sub dir { $_[0]{dir} }
sub scraper { $_[0]{scraper} }
sub port { $_[0]{port} }
sub url { "http://127.0.0.1:$_[0]{port}" . ($_[1] // '') }

sub write_json {
	my ($self, $name, $data) = @_;
	open my $fh, '>', "$self->{dir}/$name.tmp" or die;
	print $fh JSON::PP->new->canonical->pretty->encode($data);
	close $fh;
	rename "$self->{dir}/$name.tmp", "$self->{dir}/$name" or die;
}

# Kubernetes-style label name of an annotation or label key.
sub sanitize { (my $s = $_[0]) =~ s/[^a-zA-Z0-9_]/_/g; $s }

# pods({ name, namespace, template (a pod template from a manifest), ports =>
# { containerPort => port on 127.0.0.1 }, hash => the pod-template hash
# (default: from the name, <rollout>-<hash>-<suffix>) }, ...): the scrape
# targets Kubernetes service discovery would make for these pods.
sub pods {
	my ($self, @pods) = @_;
	my @targets;
	for my $p (@pods) {
		my $tmpl = $p->{template};
		my %meta = (__meta_kubernetes_namespace => $p->{namespace}, __meta_kubernetes_pod_name => $p->{name},
		    __meta_kubernetes_pod_ip => '127.0.0.1', __meta_kubernetes_pod_phase => 'Running',
		    __meta_kubernetes_pod_ready => 'true');
		my $ann = $tmpl->{metadata}{annotations} || {};
		for my $k (keys %$ann) {
			my $v = $ann->{$k};
			$v = $p->{ports}{$v} // die "no test port for annotation $k=$v" if $k eq 'prometheus.io/port';
			$meta{ '__meta_kubernetes_pod_annotation_' . sanitize($k) } = $v;
			$meta{ '__meta_kubernetes_pod_annotationpresent_' . sanitize($k) } = 'true';
		}
		my $hash = $p->{hash} // ($p->{name} =~ /-([a-z0-9]+)-[a-z0-9]+$/)[0];
		my $lab = { %{ $tmpl->{metadata}{labels} || {} }, defined $hash ? ('rollouts-pod-template-hash' => $hash) : () };
		$meta{ '__meta_kubernetes_pod_label_' . sanitize($_) } = $lab->{$_} for keys %$lab;
		for my $c (@{ $tmpl->{spec}{containers} }) {
			for my $port (@{ $c->{ports} || [] }) {
				my $local = $p->{ports}{ $port->{containerPort} } // die "no test port for $port->{containerPort}";
				push @targets, { targets => ["127.0.0.1:$local"], labels => { %meta,
				    __meta_kubernetes_pod_container_name => $c->{name},
				    __meta_kubernetes_pod_container_port_name => $port->{name} // '',
				    __meta_kubernetes_pod_container_port_number => "$port->{containerPort}",
				    __meta_kubernetes_pod_container_port_protocol => 'TCP' } };
			}
		}
	}
	$self->write_json('pods.json', \@targets);
}

# cadvisor({ pod => cores, ... }, namespace => 'exercises'): serves cAdvisor's
# container_cpu_usage_seconds_total for each pod's ping-pong container (and
# its sidecar, and the pod's own cgroup, as the kubelet does), growing at
# the given rate; called again, it changes the rates from now on.
sub cadvisor {
	my ($self, $rates, %o) = @_;
	my $ns = $o{namespace} || 'exercises';
	$self->write_json('cpu.json', { namespace => $ns, rates => $rates });
	return if $self->{cadvisor_pid};
	my $sock = IO::Socket::INET->new(Listen => 16, LocalAddr => '127.0.0.1', LocalPort => 0,
	    Proto => 'tcp', ReuseAddr => 1) or die "cadvisor: $!";
	my $port = $sock->sockport;
	my $pid = fork // die;
	if ($pid == 0) {
		my (%acc, $last);
		while (my $c = $sock->accept) {
			local $/ = "\r\n";
			while (my $l = <$c>) { last if $l eq "\r\n" }
			my $cfg = eval { decode_json(slurp("$self->{dir}/cpu.json")) } || { rates => {} };
			my $now = time;
			my $dt = defined $last ? $now - $last : 0;
			$last = $now;
			my $out = "# HELP container_cpu_usage_seconds_total Cumulative cpu time consumed in seconds.\n"
			    . "# TYPE container_cpu_usage_seconds_total counter\n";
			for my $pod (sort keys %{ $cfg->{rates} }) {
				my %use = ('ping-pong' => $cfg->{rates}{$pod}, 'prometheus-auth-sidecar' => 0.01);
				$acc{$pod}{$_} += $use{$_} * $dt for keys %use;
				my $all = 0;
				for my $ctr (sort keys %use) {
					$all += $acc{$pod}{$ctr};
					$out .= sprintf(qq(container_cpu_usage_seconds_total{container="%s",cpu="total",namespace="%s",pod="%s"} %.6f\n),
					    $ctr, $cfg->{namespace}, $pod, $acc{$pod}{$ctr});
				}
				$out .= sprintf(qq(container_cpu_usage_seconds_total{container="",cpu="total",namespace="%s",pod="%s"} %.6f\n),
				    $cfg->{namespace}, $pod, $all);
			}
			print $c "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: "
			    . length($out) . "\r\nConnection: close\r\n\r\n$out";
			close $c;
		}
		POSIX::_exit(0);
	}
	close $sock;
	$self->{cadvisor_pid} = $pid;
	$self->write_json('cadvisor.json', [{ targets => ["127.0.0.1:$port"], labels => {} }]);
}

# The API's answer to an instant query (decoded), or undef.
sub query {
	my ($self, $expr) = @_;
	my $r = $http->post_form($self->url('/api/v1/query'), { query => $expr });
	return eval { decode_json($r->{content}) };
}

# The values of an instant query's vector, as strings (empty when none).
sub results {
	my ($self, $expr) = @_;
	my $d = $self->query($expr) or return ();
	return map { $_->{value}[1] } @{ $d->{data}{result} || [] };
}

# Waits until the query's first value satisfies $pred; returns it or undef.
sub wait_value {
	my ($self, $secs, $expr, $pred) = @_;
	my $v;
	return $v if wait_until($secs, sub { ($v) = $self->results($expr); defined $v && $pred->($v) });
	return undef;
}

sub log { slurp("$_[0]{dir}/prometheus.log") }

sub stop {
	my ($self) = @_;
	return if $self->{owner} != $$;
	for my $k (qw(cadvisor_pid pid)) {
		my $pid = delete $self->{$k} or next;
		kill 'TERM', $pid;
		wait_until(10, sub { waitpid($pid, POSIX::WNOHANG()) == $pid }) or do { kill 'KILL', $pid; waitpid($pid, 0) };
	}
}

sub teardown {
	my ($self) = @_;
	return if $self->{owner} != $$ || $self->{down}++;
	$self->stop;
	if ($ENV{KEEP_TMP}) { print STDERR "# kept $self->{dir}\n" } else { remove_tree($self->{dir}) }
}

END {
	my $rc = $?;
	$_->teardown for @LIVE;
	$? = $rc;
}

1;
