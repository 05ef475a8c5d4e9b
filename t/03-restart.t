# Durability across a full restart of the stack, and of PostgreSQL itself.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PP;

my $pp = PP->new;
is($pp->get('/pingpong')->{content}, "pong $_\n", "pong $_") for 0 .. 4;
ok($pp->stop, 'the launcher stops on SIGTERM');
is($pp->{last_exit} >> 8, 0, 'with status 0');
is_deeply($pp->{leftover}, [], 'leaving no process behind');
$pp->pg_stop('fast');
$pp->pg_start;
$pp->start;
is($pp->get('/pingpong')->{content}, "pong 5\n", 'the count survives a restart of everything');
is($pp->get('/pings')->{content}, qq({"pings": 6}\n), '/pings agrees');

done_testing;
