# Moving the counter to another database (manifests/ping-pong's single
# PostgreSQL to manifests/ha's CloudNativePG cluster), replayed with two
# local PostgreSQL servers under load: the old one, bootstrapped by the
# StatefulSet's own script (postgres-initdb.yaml), serving a stable stack;
# then new stacks with the settings the overlay changes (taken from
# `kubectl kustomize manifests/ha`, so the test follows the overlay):
#   - on a fresh database (the cluster made without the import): every pong
#     and /health/ready answer 503, one line says why, nothing is counted;
#   - after the write freeze (manifests/ha/handover.sql) on the old database,
#     on a copy made the way CloudNativePG's microservice import makes it
#     (pg_dump -Fc, pg_restore --no-acl --no-owner as the owner, then the
#     Cluster's postImportApplicationSQL): it continues where the old one
#     stopped.
# No N is handed out twice over the old, the fresh and the new stacks.
# The workers log in as the application role pingpong, as deployed (DML
# on the counter only): they serve on the schema the bootstrap made.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use YAML::XS ();
use PP qw(wait_until slurp);

my $root = $PP::ROOT;
my $bin = (sort glob('/usr/lib/postgresql/*/bin'))[-1];
my @as = $> == 0 ? ('runuser', '-u', 'postgres', '--') : ();

sub build {
	my ($dir) = @_;
	my $out = qx{kubectl kustomize $root/manifests/$dir 2>&1};
	die "kubectl kustomize manifests/$dir: $out" if $?;
	return grep { ref $_ eq 'HASH' } YAML::XS::Load($out);
}
sub app_env {
	my ($ro) = grep { $_->{kind} eq 'Rollout' } @_;
	my ($c) = grep { $_->{name} eq 'ping-pong' } @{ $ro->{spec}{template}{spec}{containers} };
	return map { $_->{name} => $_ } @{ $c->{env} };
}
my @base = build('ping-pong');
my @ha = build('ha');
my (%base_env, %ha_env);
%base_env = app_env(@base);
%ha_env = app_env(@ha);
# What the overlay changes in the app's settings, literal values only: where
# the database is and who logs in, the test sets itself (its own servers).
my %switch = map { $_ => $ha_env{$_}{value} }
    grep { defined $ha_env{$_}{value} && !/^PING_PONG_DB_(HOST|PORT|USER|PASSWORD)/
	&& ($base_env{$_}{value} // '') ne $ha_env{$_}{value} } keys %ha_env;
note 'the overlay changes: ' . join(' ', map { "$_=$switch{$_}" } sort keys %switch);
my ($cluster) = grep { $_->{kind} eq 'Cluster' } @ha;
my $import = $cluster->{spec}{bootstrap}{initdb}{import} || {};

my %app = (PING_PONG_DB_USER => 'pingpong', PING_PONG_WORKERS => 2);

# A database bootstrapped as the StatefulSet's first start does it: the
# image's entrypoint runs 10-roles.sh as the superuser.
sub bootstrap {
	my ($pp) = @_;
	my ($cm) = grep { $_->{kind} eq 'ConfigMap' && $_->{metadata}{name} eq 'postgres-initdb' } @base;
	die 'no ConfigMap postgres-initdb in manifests/ping-pong' unless $cm;
	my $dir = $pp->dir;
	for my $f ('10-roles.sh', 'schema.sql') {
		open my $fh, '>:encoding(UTF-8)', "$dir/$f" or die "$dir/$f: $!";
		print $fh $cm->{data}{$f};
		close $fh;
		chmod 0755, "$dir/$f";
	}
	my $out = qx{@as env PATH=$bin:/usr/bin:/bin PGHOST=@{[$pp->pgdir]} PGPORT=@{[$pp->pg_port]} POSTGRES_USER=postgres POSTGRES_DB=pingpong PINGPONG_OWNER_PASSWORD=owner-pw PINGPONG_APP_PASSWORD=app-pw PINGPONG_SCHEMA_FILE=$dir/schema.sql $dir/10-roles.sh 2>&1};
	is($?, 0, 'the StatefulSet\'s 10-roles.sh bootstraps the database') or diag $out;
}

# Runs a file with psql as the superuser (psql variables such as DBNAME work).
sub psql_file {
	my ($pp, $file) = @_;
	my $out = qx{@as $bin/psql -X -h @{[$pp->pgdir]} -p @{[$pp->pg_port]} -U postgres -Atq -v ON_ERROR_STOP=1 -d pingpong -f $file 2>&1};
	is($?, 0, "psql -f $file") or diag $out;
	return $out;
}

my $rights = "SET ROLE pingpong; SELECT has_table_privilege('ping_counter', 'SELECT, INSERT, UPDATE') "
    . "|| ' ' || has_table_privilege('ping_counter', 'DELETE') || ' ' || has_schema_privilege('public', 'CREATE') "
    . "|| ' ' || has_database_privilege(current_database(), 'TEMP') || ' ' || (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)";

# 1. The old database and its stack, under load.
my $old = PP->new(start => 0, env => {%app});
bootstrap($old);
is(eval { $old->psql($rights) } // "fails: $@", 'true false false false false',
    'old: pingpong may SELECT, INSERT, UPDATE the counter; no DELETE, no CREATE, no TEMP, not superuser');
$old->start;
my $old_load = $old->load_start(clients => 2);
ok(wait_until(60, sub { $old->counter >= 50 }), 'the old stack counts under load');

# 2. A fresh database (the cluster made without the import), with the
# overlay's settings: refused, never served from 0.
my $fresh = PP->new(start => 0, env => {%app, %switch});
bootstrap($fresh);
$fresh->start;
my @f = $fresh->load(clients => 2, requests => 15);
my ($fresh_n) = PP->pongs(@f);
is(scalar(grep { $_->[0] == 503 } @f), scalar @f, 'fresh database: every pong answers 503')
    or diag explain [@f[0 .. 4]];
is($fresh->get('/health/ready')->{status}, 503, 'fresh database: /health/ready answers 503 (the canary never becomes ready)');
my @lines = $fresh->log =~ /^(.*refused: .*has no ping_counter_handover table.*)$/mg;
ok(@lines >= 1 && @lines <= 2, 'one line per worker says why') or diag $fresh->log;
like($lines[0] // '', qr/not the database the counter was handed over to.*PING_PONG_DB_REQUIRE_HANDOVER=on/,
    'naming the mark it lacks and the setting');
is($fresh->counter, 0, 'fresh database: nothing counted');
$fresh->teardown;

# 3. The write freeze on the old database, then the import into the new one.
ok($old->counter > 50, 'the old stack kept counting meanwhile');
my $freeze = psql_file($old, "$root/manifests/ha/handover.sql");
my ($handed) = $freeze =~ /^(\d+)\|/m;
ok(defined $handed, "handover.sql froze the old database at $handed");
ok(wait_until(10, sub { $old->get('/pingpong')->{status} == 503 }), 'the old stack answers 503 after the freeze');
is($old->counter, $handed, 'and counts nothing more');

my $new = PP->new(start => 0, env => {%app, %switch});
$new->psql('CREATE ROLE pingpong_owner LOGIN; ALTER DATABASE pingpong OWNER TO pingpong_owner', 'postgres');
my $dump = $new->dir . '/pingpong.dump';
chmod 0777, $new->dir;
my $out = qx{@as $bin/pg_dump -Fc -h @{[$old->pgdir]} -p @{[$old->pg_port]} -U postgres -d pingpong -f $dump 2>&1};
is($?, 0, 'pg_dump -Fc of the frozen database') or diag $out;
$out = qx{@as $bin/pg_restore --no-acl --no-owner --role=pingpong_owner -h @{[$new->pgdir]} -p @{[$new->pg_port]} -U postgres -d pingpong $dump 2>&1};
is($?, 0, 'pg_restore --no-acl --no-owner as the owner') or diag $out;
$new->psql($_) for @{ $import->{postImportApplicationSQL} || [] };
is(eval { $new->psql($rights) } // "fails: $@", 'true false false false false', 'new: the Cluster\'s postImportApplicationSQL gives pingpong the same rights');
is($new->counter, $handed, 'the copy holds the handed-over count');
$new->start;
my $new_load = $new->load_start(clients => 2);
ok(wait_until(60, sub { $new->counter >= $handed + 50 }), 'the new stack counts under load');

my @o = PP::load_finish($old_load);
my @n = PP::load_finish($new_load);
my ($on) = PP->pongs(@o);
my ($nn, $nother) = PP->pongs(@n);
ok(@$on >= 50, scalar(@$on) . ' pongs from the old database');
ok(!grep({ $_ >= $handed } @$on), "each below $handed, where it was frozen");
ok(scalar(grep { $_->[0] == 503 } @o) >= 1, 'and 503s after the freeze');
ok(@$nn >= 50, scalar(@$nn) . " pongs from the new database ($nother others)");
is((sort { $a <=> $b } @$nn)[0], $handed, "the first is $handed: it continues where the old one stopped");
my %seen;
my @twice = grep { $seen{$_}++ } (@$fresh_n, @$on, @$nn);
is(scalar @twice, 0, 'no N handed out twice over the three databases') or diag "twice: @twice[0 .. ($#twice < 9 ? $#twice : 9)]";
is($old->counter, $handed, 'the old database stayed frozen');

done_testing;
