# The docs hold together: the README fits a screen or two, every relative
# link in README.md and docs/*.md reaches a file (and, with #anchor, a
# heading of it), and every repository file, test or C function they name
# in backticks exists. A file or function renamed or split without its
# citations fails here, naming the doc and the name.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PP qw(slurp);

my $root = $PP::ROOT;
my @docs = ('README.md', map { s{^\Q$root\E/}{}r } sort glob("$root/docs/*.md"));
ok(@docs >= 9, scalar(@docs) . ' docs: ' . join(' ', @docs));

my @readme = split /\n/, slurp("$root/README.md"), -1;
pop @readme if @readme && $readme[-1] eq '';
ok(@readme <= 300, 'README.md has at most 300 lines (' . scalar(@readme) . ')');

# A doc's text outside fenced code blocks (``` ... ```): a "# comment" in a
# shell block is no heading, and a command there is no citation.
sub prose {
	my ($text) = @_;
	my ($in, @out) = (0);
	for (split /\n/, $text) {
		if (/^\s*```/) { $in = !$in; next; }
		push @out, $in ? '' : $_;
	}
	return join "\n", @out;
}

# GitHub's anchors: the heading's text lowercased, inline markup (` * _ of
# emphasis) and every character that is not a letter, a digit, a space, a
# hyphen or an underscore dropped, spaces turned into hyphens; a repeated
# slug gets -1, -2, ...
sub anchors {
	my ($text) = @_;
	my (%seen, %a);
	for (prose($text) =~ /^#{1,6}[ \t]+(.+?)[ \t#]*$/mg) {
		(my $s = lc $_) =~ s/\[([^\]]*)\]\([^)]*\)/$1/g;	# a link: its text
		$s =~ s/[^\w\- ]//g;
		$s =~ tr/ /-/;
		my $n = $seen{$s}++;
		$a{$n ? "$s-$n" : $s} = 1;
	}
	return \%a;
}

my %text = map { $_ => slurp("$root/$_") } @docs;
my %anchors = map { $_ => anchors($text{$_}) } @docs;

# 1. Links: [text](target) and ![alt](target), relative ones only (a scheme
# such as https: or mailto: is the web's, not checked here).
my $links = 0;
for my $doc (@docs) {
	(my $dir = $doc) =~ s{[^/]*$}{};
	for my $t (prose($text{$doc}) =~ /!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g) {
		next if $t =~ /^[a-z][a-z0-9+.-]*:/i;
		$links++;
		my ($path, $frag) = $t =~ /^([^#]*)(?:#(.*))?$/;
		my $file = $path eq '' ? $doc : $dir . $path;
		1 while $file =~ s{(^|/)(?!\.\./)[^/]+/\.\./}{$1};	# docs/../x -> x
		if (!-e "$root/$file") {
			fail("$doc: the link $t reaches nothing ($file does not exist)");
			next;
		}
		next unless defined $frag;
		my $a = $file =~ /\.md$/ ? ($anchors{$file} //= anchors(slurp("$root/$file"))) : {};
		ok($a->{$frag}, "$doc: the link $t reaches a heading of $file")
		    or diag "its anchors: " . join(' ', sort keys %$a);
	}
}
ok($links > 50, "$links relative links checked");

# 2. Names in backticks. A word of an inline code span is a repository path
# when its first component is a top-level directory of the checkout
# (common/, fcgi/, t/, manifests/, sql/, tools/, docs/, nginx/, ...): then it
# must exist. Not checked, by decision: what the stack, make or the user make
# (var/ and build/, which .gitignore keeps out of the repository;
# manifests/secrets/*.enc.yaml and *.dec.yaml, which the user encrypts, as
# t/20 skips them), absolute paths (/etc/..., /run/pingpong: the host's or
# the container's), ./var/run and other words starting with ./ or ../ whose
# rest is not a repository path, placeholders (<name>, $s, ${...}, ...), and
# bare file names without a directory (nginx.conf is rendered, not kept).
# A glob (*) must match at least one file. A test is named in full
# (t/22-launcher.t) or by its number (t/22): either must exist.
my %top = map { m{([^/]+)$} ? ($1 => 1) : () } grep { -d } glob("$root/*");
delete @top{qw(var build)};	# made by make and make run, never committed
my ($names, %missing) = (0);
for my $doc (@docs) {
	for my $span (prose($text{$doc}) =~ /(?<!`)`([^`\n]+)`(?!`)/g) {
		for my $w (split /[\s=,;()'"]+/, $span) {
			$w =~ s/#.*//;			# docs/runbook.md#section: the file
			$w =~ s/[.:,;)]+$//;
			$w =~ s{^\./}{};
			next if $w =~ m{[<>\$\{\}]|\.\.\.};
			if ($w =~ m{^t/(\d\d)$}) {
				$names++;
				my @t = glob("$root/t/$1-*.t");
				$missing{"$doc: $w"} = 1 unless @t;
				next;
			}
			my ($first) = $w =~ m{^([\w.-]+)/};
			next unless defined $first && $top{$first};
			next if $w =~ m{^manifests/secrets/.*\.(?:enc|dec)\.yaml$};
			$names++;
			if ($w =~ /\*/) {
				my @g = glob("$root/$w");
				$missing{"$doc: $w (matches nothing)"} = 1 unless @g;
			} elsif (!-e "$root/$w") {
				$missing{"$doc: $w"} = 1;
			}
		}
	}
}
ok($names > 100, "$names names of files and tests checked");

# A function named in backticks (`routes_serve()`) is one of the C sources'
# (a function renamed without its citation fails here too).
my $c = join "\n", map { slurp($_) } glob("$root/{common,fcgi,authproxy,logoutput,launcher,bench}/*.[ch]");
my %code_words = map { $_ => 1 } $c =~ /\b([A-Za-z_]\w*)\s*\(/g;
my $funcs = 0;
for my $doc (@docs) {
	for my $f (prose($text{$doc}) =~ /`([A-Za-z_]\w*)\(\)`/g) {
		$funcs++;
		$missing{"$doc: $f()"} = 1 unless $code_words{$f};
	}
}
ok($funcs > 10, "$funcs function names checked");
is_deeply([sort keys %missing], [], 'every file and test named in the docs exists')
    or diag join "\n", 'missing:', sort keys %missing;

# 3. The README's short table of settings says what docs/configuration.md
# says (t/09 keeps that one equal to the code), and the README links every
# page of docs/.
my %conf;
for (split /\n/, $text{'docs/configuration.md'}) {
	$conf{$1} = $2 if /^\| `([A-Z_]+)` \| (`[^`]*`|unset) \|/;
}
my $short = 0;
for (split /\n/, $text{'README.md'}) {
	next unless /^\| `([A-Z_]+)` \| (`[^`]*`|unset) \|/;
	$short++;
	is($2, $conf{$1}, "README.md: $1's default is docs/configuration.md's");
}
ok($short >= 5 && $short <= 12, "the README's table names the settings people change ($short)");
my %linked = map { $_ => 1 } $text{'README.md'} =~ /\]\((docs\/[\w.-]+\.md)(?:#[^)]*)?\)/g;
is_deeply([grep { !$linked{$_} } grep { m{^docs/} } @docs], [], 'the README links every page of docs/');

done_testing;
