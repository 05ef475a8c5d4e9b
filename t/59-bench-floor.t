# make bench's floors (bench/, built by make all): each answers "pong 0"
# with Content-Length behind the launcher and the nginx config it renders,
# run as tools/bench runs them (PP_LIBEXEC at the floor's program
# directory, where it is pingpong-worker), so that the reference the bench
# reports the service against cannot break unnoticed.
use strict;
use warnings;
use lib 't/lib';
use File::Spec;
use Test::More;
use PP qw(slurp);

my $build = File::Spec->rel2abs($PP::BUILD, $PP::ROOT);
for ([floor => 'pingpong-floor'], ['floor-libfcgi' => 'pingpong-floor-libfcgi']) {
	my ($name, $prog) = @$_;
	my $dir = "$build/bench/$name";
	ok(-x "$dir/pingpong-worker", "$dir/pingpong-worker is built (make all)") or next;
	# No database: a pong that needed one would be a 503.
	my $pp = PP->new(db => 0, role => 'app', env => { PP_LIBEXEC => $dir, PING_PONG_WORKERS => 1 });
	like(slurp($pp->dir . '/run/nginx.conf'), qr/fastcgi_pass pp_workers;/, "$name: behind the rendered nginx config");
	my @pids = @{ $pp->worker_pids };
	is(scalar @pids, 1, "$name: one process runs as the stack's pingpong-worker");
	like(readlink("/proc/$pids[0]/exe") // '', qr{/\Q$prog\E\z}, "$name: and it is $prog") if @pids;
	my @bad;
	for my $i (1 .. 20) {	# on kept connections, reused
		my $r = $pp->get('/pingpong');
		my $what = "$r->{status} " . ($r->{headers}{'content-length'} // 'no Content-Length')
		    . ' ' . ($r->{headers}{'transfer-encoding'} // '') . " '$r->{content}'";
		push @bad, "request $i: $what" unless $what eq "200 7  'pong 0\n'";
	}
	is_deeply(\@bad, [], "$name: 20 pongs, each 200 'pong 0' with Content-Length: 7, not chunked");
	ok($pp->stop, "$name: the stack stops on SIGTERM");
	is($pp->{last_exit}, 0, "$name: with status 0");
	$pp->teardown;
}

done_testing;
