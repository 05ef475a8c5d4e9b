# PP.pm: the test harness: a throwaway PostgreSQL, the launcher (nginx +
# worker pool + token helper) on free loopback ports, HTTP helpers, a load
# driver, and teardown that also runs when a test dies.  KEEP_TMP=1 keeps
# the directory with every log; PP_TIMEOUT_MULT stretches waits (sanitizers).
package PP;

use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(remove_tree);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Select;
use IO::Socket::INET;
use POSIX qw(:sys_wait_h setsid);
use Time::HiRes qw(time sleep);
use Exporter ();

our @ISA = ('Exporter');
our @EXPORT_OK = qw(free_port wait_until slurp user_dir checkout_copy start_make_run);

our $ROOT = abs_path(dirname(__FILE__) . '/../..');
our $MULT = $ENV{PP_TIMEOUT_MULT} || 1;
our $BUILD = $ENV{PP_BUILD} || 'build';
# The names of the settings' variables, cleared for a run that must see only its own.
our $SETTINGS_ENV = qr/^(PING_PONG_|AUTH_PROXY_|LOG_APP_|AZURE_|PP_CONFIG_|PP_SETTINGS_)/;
my @LIVE;	# every stack made, torn down at END
my $http = HTTP::Tiny->new(timeout => 15 * $MULT, keep_alive => 0);

# The watchdog: prove has no timeout, and a hung test file would hang the
# suite (CI) for ever.  A test file (a .t, not tools/bench) that uses PP
# gets PP_WATCHDOG seconds (default 900, times PP_TIMEOUT_MULT); then it
# prints its processes and dies, so the teardown runs and the file fails.
# Should the teardown hang too, 2 minutes later it kills what it started
# and exits.  An alarm is the process's own: fork children have none.
our $WATCHDOG = ($ENV{PP_WATCHDOG} || 900) * $MULT;
my ($armed, $fired) = (0, 0);

sub import {
	my $class = shift;
	if ($0 =~ /\.t\z/ && $armed != $$) {
		$armed = $$;
		$SIG{ALRM} = \&watchdog;
		alarm $WATCHDOG;
	}
	$class->export_to_level(1, $class, @_);
}

sub watchdog {
	return if $armed != $$;	# a fork child of the test that armed it
	$fired++;
	my $ps = join '', map { "#   $_\n" } family_ps();
	print STDERR "# watchdog: $0 still running after $WATCHDOG s; its processes:\n$ps";
	if ($fired == 1) {
		alarm 120 * $MULT;
		die "watchdog: $0 did not finish within $WATCHDOG s\n";
	}
	print STDERR "# watchdog: the teardown hangs too: killing what it started\n";
	kill_family();
	POSIX::_exit(255);
}

sub kill_family {
	for my $line (family_ps()) {
		my ($pid) = $line =~ /^\s*(\d+)/ or next;
		kill 'KILL', $pid if $pid != $$;
	}
}

# ps lines of this test's descendants and of its stacks' sessions.
sub family_ps {
	my %sid = map { $_->{pid} ? ($_->{pid} => 1) : () } @LIVE;
	my (%parent, %text, %line);
	for (split /\n/, qx{ps -e -o pid=,ppid=,sid=,pgid=,stat=,etimes=,wchan:20=,args=}) {
		my ($pid, $ppid, $sid) = /^\s*(\d+)\s+(\d+)\s+(\d+)/ or next;
		next if / ps -e -o pid=/;	# this listing's own ps
		($parent{$pid}, $text{$pid}) = ($ppid, $_);
		$line{$pid} = $_ if $sid{$sid};
	}
	for my $pid (keys %parent) {
		my ($p, $n) = ($pid, 0);
		$p = $parent{$p} while defined $p && $p != $$ && $n++ < 64;
		$line{$pid} = $text{$pid} if defined $p && $p == $$ && $pid != $$;
	}
	return ("   PID   PPID    SID   PGID STAT ETIME WCHAN                ARGS", map { $line{$_} } sort { $a <=> $b } keys %line);
}

# A port nothing listens on now (the kernel's pick for port 0).
# The validator's node modules, installed once: t/20 and t/21 run side by
# side under prove -j2, and two `npm ci` in one folder at once break each
# other (ENOTEMPTY), so the install is serialised with flock(1).
sub k8s_validate_deps {
	my ($tools) = @_;
	return system("cd $tools && flock package.json sh -c "
	    . "'npm ls --depth=0 >/dev/null 2>&1 || npm ci --no-audit --no-fund --loglevel=error' >/dev/null") == 0;
}

# A copy of the checkout (its tracked files) with the build in it, in a new
# directory the postgres user can enter: for tests that run make targets
# (make run, make reset) as a user would, away from the tree under test.
sub checkout_copy {
	my ($name) = @_;
	my $copy = tempdir("pingpong-$name-XXXXXX", TMPDIR => 1, CLEANUP => !$ENV{KEEP_TMP});
	chmod 0755, $copy;
	# Times kept: with new ones, the copy's make could find a generated
	# file (build/sql.c) newer than the objects made from it, as cp -r
	# happened to write them, and rebuild those with other flags than the
	# build's own (a SAN=1 build relinked without the sanitizer fails).
	system("cd $ROOT && git ls-files -z | xargs -0 cp --preserve=timestamps --parents -t $copy") == 0 or die 'copy failed';
	system("mkdir -p $copy/$BUILD && cp -r --preserve=timestamps $ROOT/$BUILD/. $copy/$BUILD/") == 0 or die 'copy of the build failed';
	return $copy;
}

# make run's script (tools/run @args) in checkout $copy, in a session of
# its own (a SIGINT to -$pid is then a terminal's Ctrl-C), with the
# environment's settings cleared but %$env, its output appended to $log;
# returns its pid.
sub start_make_run {
	my ($copy, $env, $log, @args) = @_;
	my $pid = fork // die "fork: $!";
	return $pid if $pid;
	POSIX::setsid();
	chdir $copy or POSIX::_exit(1);
	delete @ENV{grep { $_ =~ $SETTINGS_ENV } keys %ENV};
	@ENV{keys %$env} = values %$env;
	open STDOUT, '>>', $log or POSIX::_exit(1);
	open STDERR, '>&', \*STDOUT;
	exec "$copy/tools/run", @args or POSIX::_exit(1);
}

# Never the same port twice in one process: the kernel may hand a port
# just closed out again, and a stack given one port for two listeners is
# refused (t/07 was, once: "expected a port of its own").
my %given;
sub free_port {
	for (1 .. 50) {
		my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
		    LocalPort => 0, Proto => 'tcp', ReuseAddr => 1) or die "free_port: $!";
		my $port = $s->sockport;
		close $s;
		return $port unless $given{$port}++;
	}
	die 'free_port: no port not given before in 50 tries';
}

# Polls $cond every 50 ms until it is true or $secs (times PP_TIMEOUT_MULT) pass.
sub wait_until {
	my ($secs, $cond) = @_;
	my $deadline = time + $secs * $MULT;
	while (time < $deadline) {
		my $v = $cond->();
		return $v if $v;
		sleep 0.05;
	}
	return $cond->();
}

# Loads the stack (a few requests at a time) until $n workers hold a
# database connection: a worker connects at its first job, and one that
# got none yet has none.  True once they do, within 20 s.
sub workers_connected {
	my ($self, $n) = @_;
	return wait_until(20, sub { $self->load(clients => 8, requests => 10);
		$self->psql(q{SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pingpong'}) == $n });
}

# A limit of common/pp_limits.h, by name (PP_DB_CANCEL_WAIT_MS, ...), as
# the build wrote them to pp_limits.env.
my %LIMITS;
sub limit {
	my ($name) = @_;
	%LIMITS = map { /^(\w+)=(\d+)$/ ? ($1, $2) : () } split /\n/, slurp("$ROOT/$BUILD/pp_limits.env") unless %LIMITS;
	return $LIMITS{$name} // die "no limit $name in pp_limits.env";
}

# A directory the stack's programs may write, such as a shared volume's
# parent: started as root they run as PING_PONG_USER (www-data here).
sub user_dir {
	my ($path) = @_;
	mkdir $path or die "mkdir $path: $!";
	chown((getpwnam('www-data'))[2, 3], $path) if $> == 0;
	return $path;
}

sub slurp {
	my ($path) = @_;
	open my $fh, '<', $path or return '';
	local $/;
	my $s = <$fh>;
	return defined $s ? $s : '';
}

# PP->new(db => 1|0, env => {...}, start => 1|0, role => 'app',
#         psql => sub { ($sql, $db) ... })   (a database run elsewhere, e.g. Patroni)
sub new {
	my ($class, %o) = @_;
	my $dir = tempdir('pingpong-t-XXXXXX', TMPDIR => 1, CLEANUP => 0);
	chmod 0755, $dir;	# postgres and nginx's user must reach sockets in it
	my $self = bless {
		dir	=> $dir,
		db	=> exists $o{db} ? $o{db} : 1,
		role	=> $o{role} || 'all',
		app_port => free_port(),
		auth_port => free_port(),
		log_port => free_port(),
		env	=> $o{env} || {},
		owner	=> $$,
		pg_port	=> $o{pg_tcp} ? free_port() : 5432,	# pg_tcp: also on 127.0.0.1
		pg_tcp	=> $o{pg_tcp},
		psql_via => $o{psql},
		stdout	=> $o{stdout},
	}, $class;
	push @LIVE, $self;
	$self->pg_start if $self->{db};
	$self->start if !exists $o{start} || $o{start};
	return $self;
}

sub dir { $_[0]{dir} }
sub pgdir { "$_[0]{dir}/pg" }
sub pg_port { $_[0]{pg_port} }
sub app_port { $_[0]{app_port} }
sub auth_port { $_[0]{auth_port} }
sub log_port { $_[0]{log_port} }
sub log_url { my ($self, $path) = @_; "http://127.0.0.1:$self->{log_port}$path" }
sub url { my ($self, $path) = @_; "http://127.0.0.1:$self->{app_port}$path" }
sub auth_url { my ($self, $path) = @_; "http://127.0.0.1:$self->{auth_port}$path" }

sub run_tool {
	my ($self, @cmd) = @_;
	my $out = qx{@cmd 2>&1};
	die "@cmd failed: $out" if $?;
	return $out;
}

sub pg_start {
	my ($self) = @_;
	local $ENV{PG_PORT} = $self->{pg_port};
	local $ENV{PG_LISTEN} = $self->{pg_tcp} ? '127.0.0.1' : '';
	$self->run_tool("$ROOT/tools/pg", 'start', $self->pgdir);
	$self->{pg_running} = 1;
}

sub pg_stop {
	my ($self, $mode) = @_;
	$self->run_tool("$ROOT/tools/pg", 'stop', $self->pgdir, $mode || 'fast');
	$self->{pg_running} = 0;
}

# The postmaster's pid (for SIGKILL / SIGSTOP tests).
sub pg_pid {
	my ($self) = @_;
	my ($pid) = slurp($self->pgdir . '/data/postmaster.pid') =~ /^(\d+)/;
	return $pid;
}

# Runs SQL as the superuser; returns psql's unaligned output, trimmed.
sub psql {
	my ($self, $sql, $db) = @_;
	$db ||= 'pingpong';
	return $self->{psql_via}->($sql, $db) if $self->{psql_via};
	my $bin = (sort glob('/usr/lib/postgresql/*/bin'))[-1];
	my @as = $> == 0 ? ('runuser', '-u', 'postgres', '--') : ();
	open my $fh, '-|', @as, "$bin/psql", '-X', '-h', $self->pgdir, '-p', $self->{pg_port}, '-U',
	    'postgres', '-Atq', '-v', 'ON_ERROR_STOP=1', '-c', $sql, $db
	    or die "psql: $!";
	local $/;
	my $out = <$fh>;
	close $fh;
	die "psql failed ($?): $sql" if $?;
	$out = '' unless defined $out;
	$out =~ s/\s+\z//;
	return $out;
}

sub counter { $_[0]->psql('SELECT counter_value FROM ping_counter ORDER BY id LIMIT 1') }

# The environment the launcher gets: loopback, private dirs, test settings.
sub launch_env {
	my ($self) = @_;
	my %env = (
		PING_PONG_LISTEN_ADDRESS => '127.0.0.1',
		PING_PONG_APP_PORT	=> $self->{app_port},
		AUTH_PROXY_PORT		=> $self->{auth_port},
		LOG_APP_PORT		=> $self->{log_port},
		LOG_APP_PING_PONG_SERVICE_HOST => '127.0.0.1',
		LOG_APP_PING_PONG_SERVICE_PORT => $self->{app_port},
		LOG_APP_LOG_INTERVAL_SECONDS => 1,
		PING_PONG_RUNTIME_DIR	=> "$self->{dir}/run",
		PING_PONG_DB_HOST	=> $self->pgdir,
		PING_PONG_DB_PORT	=> $self->{pg_port},
		PING_PONG_WORKERS	=> 2,
		PING_PONG_ACCESS_LOG	=> 'off',
		PP_BUILD		=> $BUILD,
		%{ $self->{env} },
	);
	delete $env{$_} for grep { !defined $env{$_} } keys %env;
	return %env;
}

# Starts the launcher in its own session, cwd = the test dir (so no .env of
# the repository is read), output to launcher.log.  Returns its pid.
sub start {
	my ($self, %o) = @_;
	my %env = $self->launch_env;
	my $log = "$self->{dir}/launcher.log";
	my $from = -s $log || 0;	# where this start's lines begin
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		setsid();
		chdir $self->{dir};
		@ENV{keys %env} = values %env;
		delete $ENV{$_} for grep { !defined $env{$_} } keys %env;
		open STDIN, '<', '/dev/null';
		# stdout => '>' opens it as a shell's > does (no O_APPEND, t/65).
		open STDOUT, $self->{stdout} // '>>', $log;
		open STDERR, '>&', \*STDOUT;
		exec "$ROOT/bin/pingpong", $self->{role} or die "exec: $!";
	}
	$self->{pid} = $pid;
	return $pid if $o{nowait};
	my $probe = $self->{role} eq 'authproxy' ? $self->auth_url('/health/live')
	    : $self->{role} eq 'log-output' ? $self->log_url('/health') : $self->url('/health');
	# The answer counts once this stack's nginx wrote its pid file, which
	# it does only after binding every port: before that, another stack
	# holding one of our ports would answer the probe for us.
	my $rt = $env{PING_PONG_RUNTIME_DIR};
	my $pidfile = !defined $rt ? undef : ($rt =~ m{^/} ? $rt : "$self->{dir}/$rt") . '/nginx.pid';
	my $up;
	wait_until(20, sub { ($up = (!defined $pidfile || -s $pidfile) && $http->get($probe)->{status} == 200)
	    || waitpid($pid, WNOHANG) == $pid });
	# free_port's port can be taken before nginx binds it (by another
	# test's stack, or as a client's source port): new ports, another try.
	if (!$up && !kill(0, $pid) && substr($self->log, $from) =~ /Address already in use/ && ($o{tries} // 0) < 3) {
		delete $self->{pid};
		$self->{$_} = free_port() for qw(app_port auth_port log_port);
		return $self->start(%o, tries => ($o{tries} // 0) + 1);
	}
	die "stack did not come up; log:\n" . $self->log unless $up;
	return $pid;
}

# SIGTERM to the launcher; waits for it (and its session) to end.
sub stop {
	my ($self) = @_;
	my $pid = delete $self->{pid} or return;
	kill 'TERM', $pid;
	my $done = wait_until(20, sub { waitpid($pid, WNOHANG) == $pid });
	$self->{last_exit} = $?;
	unless ($done) {
		kill 'KILL', -$pid, $pid;
		wait_until(10, sub { waitpid($pid, WNOHANG) != 0 })
		    or print STDERR "# launcher $pid survived SIGKILL for 10 s\n";
	}
	# Anything of the session left behind (the parts are in the guardian's
	# group, in the same session) is a defect, but never leak it.
	$self->{leftover} = $self->session_pids($pid);
	for (1 .. 5) {
		my $left = $self->session_pids($pid);
		last unless @$left;
		kill 'KILL', @$left;
		sleep 0.1;
	}
	return $done;
}

# The pids still in the session (process group) of $sid.
sub session_pids {
	my ($self, $sid) = @_;
	my @p = grep { $_ != $sid } map { /^\s*(\d+)\s+(\d+)/ && $2 == $sid ? $1 : () }
	    split /\n/, qx{ps -e -o pid=,sid=};
	return \@p;
}

sub log { slurp("$_[0]{dir}/launcher.log") }

# The processes of this stack running program $prog (pingpong-worker, ...).
sub pids_of {
	my ($self, $prog) = @_;
	my $sid = $self->{pid} or return [];
	my @p;
	for (split /\n/, qx{ps -e -o pid=,sid=,args=}) {
		my ($pid, $s, $args) = /^\s*(\d+)\s+(\d+)\s+(.*)$/ or next;
		push @p, $pid if $s == $sid && $args =~ m{^\S*/\Q$prog\E$};
	}
	return \@p;
}

# The worker processes (children of multiwatch) of this stack.
sub worker_pids { $_[0]->pids_of('pingpong-worker') }

# CPU seconds (user + system) process $pid has used so far.
sub cpu_seconds {
	my ($class, $pid) = @_;
	my $stat = slurp("/proc/$pid/stat");
	$stat =~ s/^.*\) //s;	# past the command name, which may hold spaces
	my @f = split ' ', $stat;
	return ($f[11] + $f[12]) / POSIX::sysconf(POSIX::_SC_CLK_TCK());
}

sub get {
	my ($self, $path, %h) = @_;
	return $http->get($self->url($path), { headers => \%h });
}

sub request {
	my ($self, $method, $path, %o) = @_;
	return $http->request($method, $path =~ /^http/ ? $path : $self->url($path), \%o);
}

# GET on the auth proxy's port.
sub auth_get {
	my ($self, $path, %h) = @_;
	return $http->get($self->auth_url($path), { headers => \%h });
}

# One raw HTTP exchange with 127.0.0.1:$port, for what HTTP::Tiny would
# never send (bad request lines, huge headers): writes $bytes, reads until
# the server closes or $secs pass; $sent->() runs between the two.  Returns { status, headers (names in
# lower case), content, raw } like HTTP::Tiny, status 0 when nothing came.
sub raw_http {
	my ($port, $bytes, $secs, $sent) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 5)
	    or die "raw_http: connect to $port: $!";
	print $s $bytes;
	$sent->() if $sent;
	my $sel = IO::Select->new($s);
	my $raw = '';
	my $end = time + ($secs // 15) * $MULT;
	while (time < $end && $sel->can_read($end - time)) {
		sysread($s, my $buf, 65536) or last;
		$raw .= $buf;
	}
	close $s;
	my ($head, $body) = split /\r\n\r\n/, $raw, 2;
	my %h;
	$h{lc $1} = $2 while ($head // '') =~ /^([!-9;-~]+):[ \t]*([^\r\n]*)/mg;
	my ($st) = ($head // '') =~ m{^HTTP/1\.[01] (\d{3})};
	$body //= '';
	if (($h{'transfer-encoding'} // '') eq 'chunked') {
		my $whole = '';
		while ($body =~ s/\A([0-9a-fA-F]+)[^\r\n]*\r\n// && (my $n = hex $1) > 0) {
			$whole .= substr($body, 0, $n, '');
			$body =~ s/\A\r\n//;	# each chunk's own end
		}
		$body = $whole;
	}
	return { status => $st // 0, headers => \%h, content => $body, raw => $raw };
}

# Runs $clients processes, each making up to $n GETs of $path (stopping
# early after $secs, or once the file $o{stop_file} exists); returns a list
# of [status, body] for every request.
sub load {
	my ($self, %o) = @_;
	my ($clients, $n, $secs, $path) = ($o{clients} || 8, $o{requests} || 100,
	    $o{seconds} || 60, $o{path} || '/pingpong');
	my $url = $o{url} || $self->url($path);
	my @files;
	my @kids;
	for my $c (1 .. $clients) {
		my $file = "$self->{dir}/load.$$.$c." . int(rand 1e9);
		push @files, $file;
		my $pid = fork // die "fork: $!";
		if ($pid == 0) {
			my $ua = HTTP::Tiny->new(timeout => 15 * $MULT, keep_alive => $o{keep_alive} // 1);
			open my $out, '>', $file or POSIX::_exit(1);
			my $end = time + $secs;
			for (1 .. $n) {
				last if time > $end || (defined $o{stop_file} && -e $o{stop_file});
				my $t0 = time;
				my $r = $ua->get($url);
				my $body = $r->{content} // '';
				$body =~ s/\n/\\n/g;
				$body =~ s/\t/ /g;
				print $out $o{timed} ? sprintf("%s\t%s\t%.3f\t%.3f\n", $r->{status}, $body, time - $t0, time)
				    : "$r->{status}\t$body\n";
			}
			close $out;
			POSIX::_exit(0);
		}
		push @kids, $pid;
	}
	waitpid($_, 0) for @kids;
	my @res;
	for my $f (@files) {
		open my $fh, '<', $f or next;
		while (<$fh>) {
			chomp;
			my ($st, $body) = split /\t/, $_, 2;
			push @res, [$st, $body];
		}
		unlink $f;
	}
	return @res;
}

# load() in the background until load_finish($handle), which returns its
# results.  A test that dies first has its loads stopped at END: their
# clients hold the test's output open, so prove would wait for them.
my %BACKGROUND;	# stop file => pid, in the process that started them
sub load_start {
	my ($self, %o) = @_;
	my $stop = "$self->{dir}/load." . int(rand 1e9) . '.stop';
	my $file = "$stop.res";
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		my @res = $self->load(requests => 1_000_000, seconds => 300, %o, stop_file => $stop);
		open my $fh, '>', $file or POSIX::_exit(1);
		print $fh "$_->[0]\t$_->[1]\n" for @res;
		close $fh;
		POSIX::_exit(0);
	}
	$BACKGROUND{$stop} = $pid;
	return { pid => $pid, stop => $stop, file => $file };
}

sub load_finish {
	my ($l) = @_;
	if (open my $fh, '>', $l->{stop}) { close $fh }
	waitpid($l->{pid}, 0);
	delete $BACKGROUND{ $l->{stop} };
	return map { [split /\t/, $_, 2] } split /\n/, slurp($l->{file});
}

# From load results during a stop: the failures that are not at the door.
# A graceful stop still fails some requests before they reach a worker:
# refused once the listeners close; reset when the kernel drops the
# connections still queued, before or after the client wrote; closed when
# nginx closes a connection it accepted but has not read a request from
# (HTTP::Tiny retries a GET once, and a second such connection is its
# error).  What is left, a hang or a timeout, is a defect; a request cut
# off after a worker counted it shows in the counter instead (the tests
# compare it with the 200s).
sub cut_off {
	my ($class, @res) = @_;
	return grep { $_->[0] == 599 && $_->[1] !~ /Could not connect|Connection refused|Connection reset by peer|Unexpected end of stream while looking for line|Socket closed by remote server/ } @res;
}

# From load results: the N of every 200 "pong N", and how many were not 200.
sub pongs {
	my ($class, @res) = @_;
	my (@n, $other);
	for (@res) {
		if ($_->[0] == 200 && $_->[1] =~ /^pong (\d+)\\n$/) { push @n, $1 }
		else { $other++ }
	}
	return (\@n, $other || 0);
}

sub teardown {
	my ($self) = @_;
	return if $self->{owner} != $$ || $self->{down}++;
	$self->stop;
	$_->stop for @{ delete $self->{companions} || [] };	# fakes it used (AuthStack)
	# Sanitizer builds (make test SAN=1): any report in a log fails the test.
	my @reports = grep { /AddressSanitizer|LeakSanitizer|runtime error:/ } split /\n/, $self->log;
	if (@reports) {
		Test::More::diag(join "\n", @reports[0 .. ($#reports < 20 ? $#reports : 20)]);
		Test::More::fail('no sanitizer report in the logs');
	}
	eval { $self->pg_stop('immediate') } if -f $self->pgdir . '/data/postmaster.pid';
	discard_dir($self->{dir});
}

# A test's directory goes at the end, unless KEEP_TMP=1 keeps the evidence.
sub discard_dir {
	my ($dir) = @_;
	if ($ENV{KEEP_TMP}) {
		print STDERR "# kept $dir\n";
	} else {
		remove_tree($dir);
	}
}

# Other harnesses (Patroni.pm) have their ->teardown run at the end too,
# also when a test dies.
sub teardown_at_end { push @LIVE, $_[0] }

END {
	my $rc = $?;
	load_finish({ stop => $_, pid => $BACKGROUND{$_}, file => '/dev/null' }) for keys %BACKGROUND;
	# The last made first: stacks before the databases they use.  One that
	# fails (or the watchdog firing in it) does not keep the others up.
	for my $h (reverse @LIVE) {
		next if eval { $h->teardown; 1 };
		print STDERR "# teardown: $@";
		$rc ||= 255;
	}
	if ($fired && $armed == $$) {
		# The watchdog fired (maybe in a DESTROY, which only warns): what
		# hung is still running, and the file fails.
		kill_family();
		$rc ||= 255;
	}
	$? = $rc;
}

1;
