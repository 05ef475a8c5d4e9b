# ArgoWeb.pm: what Argo Rollouts' web metric provider does with a metric of
# an AnalysisTemplate, for the contract tests: send its method, headers and
# body, require a 2xx JSON answer, apply its jsonPath, evaluate its
# conditions.  Phases as Argo names them: Successful, Failed, Inconclusive,
# Error.  What it does not do: the full kubectl JSONPath and expr languages,
# only the forms our templates use ({$.a.b[0].c[1]}, asFloat(result) <op> n
# joined by && or ||).
package ArgoWeb;

use strict;
use warnings;
use HTTP::Tiny;
use JSON::PP;

sub jsonpath {
	my ($data, $path) = @_;
	$path =~ s/^\{\s*\$//;
	$path =~ s/\s*\}$//;
	for my $step ($path =~ /\.(\w+)|\[(\d+)\]/g) {
		next unless defined $step;
		if ($step =~ /^\d+$/ && ref $data eq 'ARRAY') { $data = $data->[$step] }
		elsif (ref $data eq 'HASH') { $data = $data->{$step} }
		else { return undef }
		return undef unless defined $data;
	}
	return $data;
}

sub condition {
	my ($expr, $value) = @_;
	return undef unless defined $expr && length $expr;
	my $v = 0 + $value;
	(my $e = $expr) =~ s/asFloat\(result\)/$v/g;
	die "unsupported condition: $expr" unless $e =~ /^[\d.\se+\-<>=!&|()]+$/;
	my $r = eval $e;
	die "bad condition $expr: $@" if $@;
	return $r ? 1 : 0;
}

# Argo's {{args.name}} substitution.
sub expand {
	my ($s, $args) = @_;
	$s =~ s/\{\{args\.([\w-]+)\}\}/$args->{$1} \/\/ die "no arg $1"/ge;
	return $s;
}

# measure($metric, $url_rewrite) -> (phase, value or error message)
sub measure {
	my ($metric, $base, $args) = @_;
	my $web = $metric->{provider}{web};
	my $body = $web->{body};
	$body = expand($body, $args) if defined $body;
	(my $url = $web->{url}) =~ s{^https?://[^/]+}{$base};
	my %h = map { $_->{key} => $_->{value} } @{ $web->{headers} || [] };
	my $ua = HTTP::Tiny->new(timeout => $web->{timeoutSeconds} || 10);
	my $r = $ua->request($web->{method} || 'GET', $url, { headers => \%h,
	    defined $body ? (content => $body) : () });
	return ('Error', "received non 2xx response code: $r->{status}") if $r->{status} !~ /^2/;
	my $data = eval { decode_json($r->{content}) };
	return ('Error', 'could not parse JSON body') unless $data;
	my $value = jsonpath($data, $web->{jsonPath});
	return ('Error', 'jsonPath found no value') unless defined $value && !ref $value;
	return ('Error', "not a number: $value") unless $value =~ /^-?[\d.]+(?:e[+-]?\d+)?$/i;
	my $fail = condition($metric->{failureCondition}, $value);
	my $ok = condition($metric->{successCondition}, $value);
	return ('Failed', $value) if $fail;
	return ('Successful', $value) if $ok;
	return ('Failed', $value) if defined $ok && !defined $fail;
	return ('Inconclusive', $value);
}

1;
