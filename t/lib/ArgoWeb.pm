# ArgoWeb.pm: what Argo Rollouts (v1.9) does with a web metric of an
# AnalysisTemplate, for the contract tests (Argo Rollouts' docs/analysis/web.md,
# metricproviders/webmetric/webmetric.go and utils/evaluate/evaluate.go):
# resolve {{args.*}} through the whole metric (the template's defaults, then
# the values the Rollout passes), send the method, headers and body, and
# judge the answer the way metricproviders/webmetric and utils/evaluate do:
#   - a transport failure or timeout, a status outside 200-299, a jsonPath
#     that finds nothing (an empty result, an index past the end), or a
#     condition that cannot be evaluated (asFloat of "abc"): Error;
#   - a 2xx body that is not JSON: Successful without any condition (what
#     v1.8-v1.9.1 do; later versions evaluate the raw string);
#   - both conditions set: failure true -> Failed, else success true ->
#     Successful, else Inconclusive (NaN makes every comparison false); only
#     one set: the other outcome when it is false.
# Phases as Argo names them: Successful, Failed, Inconclusive, Error.
# What it does not do: the whole kubectl JSONPath and expr languages (only
# {$.a.b[0].c[1]}, and conditions over asFloat/asInt(result), isNaN, isInf,
# numbers, comparisons, !, && and ||), count/interval/initialDelay/limits
# (t/13 checks those fields in the template and waits itself), OAuth2.
package ArgoWeb;

use strict;
use warnings;
use HTTP::Tiny;
use JSON::PP;

my $INF = 9**9**9;
my $NAN = $INF - $INF;

# The metric $name of $template (a loaded AnalysisTemplate) with its args
# resolved: $given (name => value, as the Rollout passes them) wins over the
# template's default; an argument left without a value dies, as Argo refuses
# to create the AnalysisRun.
sub metric {
	my ($template, $name, $given) = @_;
	my ($m) = grep { $_->{name} eq $name } @{ $template->{spec}{metrics} } or die "no metric $name";
	my %args;
	for my $a (@{ $template->{spec}{args} || [] }) {
		my $v = exists $given->{ $a->{name} } ? $given->{ $a->{name} } : $a->{value};
		die "args.$a->{name} was not resolved" unless defined $v;
		$args{ $a->{name} } = $v;
	}
	my $json = JSON::PP->new->canonical;
	my $s = $json->encode($m);
	$s =~ s/\{\{\s*args\.([\w-]+)\s*\}\}/exists $args{$1} ? $args{$1} : die "args.$1 was not resolved"/ge;
	return $json->decode($s);
}

# Go's strconv.ParseFloat, as asFloat uses it; dies on what it refuses.
sub as_float {
	my ($s) = @_;
	die "asFloat: not a number: " . (defined $s ? $s : 'nil') . "\n" unless defined $s && !ref $s;
	return $NAN if $s =~ /^[+-]?nan$/i;
	return ($1 // '') eq '-' ? -$INF : $INF if $s =~ /^([+-])?inf(?:inity)?$/i;
	die "asFloat: strconv.ParseFloat: parsing \"$s\": invalid syntax\n"
	    unless $s =~ /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
	return 0 + $s;
}

sub _isnan { $_[0] != $_[0] }
sub _isinf { $_[0] == $INF || $_[0] == -$INF }

# Evaluates an expr condition against result; dies when it cannot.
sub condition {
	my ($expr, $result) = @_;
	my $perl = '';
	my $e = $expr;
	while (length $e) {
		if ($e =~ s/^\s+//) { $perl .= ' ' }
		elsif ($e =~ s/^asFloat\(\s*result\s*\)//) { $perl .= 'as_float($result)' }
		elsif ($e =~ s/^asInt\(\s*result\s*\)//) { $perl .= 'int(as_float($result))' }
		elsif ($e =~ s/^isNaN\(//) { $perl .= '_isnan(' }
		elsif ($e =~ s/^isInf\(//) { $perl .= '_isinf(' }
		elsif ($e =~ s/^(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)//) { $perl .= $1 }
		elsif ($e =~ s/^(<=|>=|==|!=|<|>|&&|\|\||!|\(|\)|-)//) { $perl .= $1 }
		else { die "unsupported condition: $expr\n" }
	}
	my $r = eval $perl;
	die $@ if $@;
	return $r ? 1 : 0;
}

# The value at a {$.a.b[0].c[1]} path, or dies as Argo's lookup fails.
sub jsonpath {
	my ($data, $path) = @_;
	$path = '{$}' unless defined $path && length $path;
	$path =~ s/^\{\s*\$//;
	$path =~ s/\s*\}$//;
	(my $rest = $path) =~ s/\.(\w+)|\[(\d+)\]//g;
	die "unsupported jsonPath: $path\n" if length $rest;
	while ($path =~ /\.(\w+)|\[(\d+)\]/g) {
		my ($key, $idx) = ($1, $2);
		if (defined $idx) {
			die "Could not find JSONPath in body: array index out of bounds: index $idx, length "
			    . (ref $data eq 'ARRAY' ? scalar @$data : 0) . "\n" unless ref $data eq 'ARRAY' && $idx < @$data;
			$data = $data->[$idx];
		} else {
			die "Could not find JSONPath in body: $key is not found\n" unless ref $data eq 'HASH' && exists $data->{$key};
			$data = $data->{$key};
		}
	}
	return ref $data ? JSON::PP->new->canonical->encode($data) : $data;
}

# measure($metric resolved by metric(), $base) -> (phase, value or message).
# $base (http://host:port) replaces the scheme and host of the metric's url.
sub measure {
	my ($metric, $base) = @_;
	my $web = $metric->{provider}{web} or die 'not a web metric';
	my $method = $web->{method} || 'GET';
	my $body = $web->{body};
	return ('Error', 'body can only be used with POST or PUT') if defined $body && $method !~ /^(POST|PUT)$/;
	(my $url = $web->{url}) =~ s{^https?://[^/]+}{$base};
	my %h = map { $_->{key} => $_->{value} } @{ $web->{headers} || [] };
	my $timeout = ($web->{timeoutSeconds} || 0) > 0 ? $web->{timeoutSeconds} : 10;
	my $r = HTTP::Tiny->new(timeout => $timeout, keep_alive => 0)->request($method, $url,
	    { headers => \%h, defined $body ? (content => $body) : () });
	return ('Error', "transport: $r->{content}") if $r->{status} == 599;
	return ('Error', "received non 2xx response code: $r->{status}") if $r->{status} < 200 || $r->{status} >= 300;
	my $data = eval { JSON::PP->new->allow_nonref->decode($r->{content}) };
	return ('Successful', 'a body that is not JSON: v1.9.1 evaluates no condition') unless defined $data;
	my $value = eval { jsonpath($data, $web->{jsonPath}) };
	if ($@) { chomp(my $e = $@); return ('Error', $e) }
	return ('Error', 'the jsonPath matched no value') unless defined $value;
	my ($fail, $ok) = (0, 0);
	for ([failureCondition => \$fail], [successCondition => \$ok]) {
		my ($k, $ref) = @$_;
		next unless defined $metric->{$k} && length $metric->{$k};
		$$ref = eval { condition($metric->{$k}, $value) };
		if ($@) { chomp(my $e = $@); return ('Error', "$k: $e") }
	}
	my ($has_ok, $has_fail) = map { defined $metric->{$_} && length $metric->{$_} } qw(successCondition failureCondition);
	return ('Successful', $value) if !$has_ok && !$has_fail;
	return ($ok ? 'Successful' : 'Failed', $value) if $has_ok && !$has_fail;
	return ($fail ? 'Failed' : 'Successful', $value) if !$has_ok && $has_fail;
	return ('Failed', $value) if $fail;
	return ('Successful', $value) if $ok;
	return ('Inconclusive', $value);
}

1;
