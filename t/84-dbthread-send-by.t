# The database thread's rule (fcgi/dbthread.h): a statement is sent for a
# job only while a whole statement timeout is left before its deadline,
# and a reconnect can outlast that.  t/c/dbthread-check runs the real
# thread (fcgi/dbthread.c) with the database played: a connect that takes
# 900 ms, for jobs with 300 ms left to their send-by.  Reads, like pongs,
# are then answered 503 with no statement sent: a read sent after a slow
# reconnect ran past its deadline (and nginx's, then a 504).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PP;

my $bin = "$PP::ROOT/$PP::BUILD/t/dbthread-check";
ok(-x $bin, "$bin is built (make test builds it)") or BAIL_OUT('no dbthread-check');
my $out = qx{PING_PONG_DB_STATEMENT_TIMEOUT=1000 timeout 30 $bin 2>&1};
is($?, 0, 'exit status 0') or diag $out;

my %got = map { /^(.+?): status (\d+), n (-?\d+), statements (\d+)$/ ? ($1 => [$2, $3, $4]) : () } split /\n/, $out;
is_deeply($got{'read in time'}, [0, 7, 1], 'a read in time: sent, the count answered');
is_deeply($got{'pong in time'}, [0, 100, 1], 'a pong in time: sent, its number answered');
is($got{'read late after a slow connect'}[2], 0, 'a read whose send-by passed while connecting: no statement sent');
ok(($got{'read late after a slow connect'}[0] // 0) != 0, 'and it is answered as unavailable');
is($got{'pong late after a slow connect'}[2], 0, 'a pong whose send-by passed while connecting: no statement sent');
ok(($got{'pong late after a slow connect'}[0] // 0) != 0, 'and it is answered as unavailable');

done_testing;
