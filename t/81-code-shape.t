# The code's shape (issue 27), held so that it does not drift back: no C
# file over PP_FILE_MAX lines, no function over PP_FUNC_MAX, and every C
# file's first comment names it and says what it owns.  A function is
# counted as the house style writes it (STYLE.md, OpenBSD's style(9)): its
# body opens with "{" alone at column 0 and closes with "}" at column 0,
# both lines counted.  A function written otherwise would escape the
# count, so that is refused too: a line that ends a signature with "{".
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PP qw(slurp);

my $FILE_MAX = 400;
my $FUNC_MAX = 60;

# name => length for every function body in $text longer than $max.
sub long_functions {
	my ($text, $max) = @_;
	my (@long, $start, $name);
	my @lines = split /\n/, $text, -1;
	for my $i (0 .. $#lines) {
		if ($lines[$i] =~ /^\{\s*$/) {
			$start = $i;
			($name) = join("\n", @lines[($i > 3 ? $i - 3 : 0) .. $i - 1]) =~ /(\w+)\s*\([^()]*(?:\([^()]*\)[^()]*)*\)?\s*$/s;
		} elsif (defined $start && $lines[$i] =~ /^\}/) {
			my $n = $i - $start + 1;
			push @long, sprintf('%s (%d lines)', $name // "line $start", $n) if $n > $max;
			undef $start;
		}
	}
	return @long;
}

# The counter itself can fail: a body one line too long is found, one at the limit is not.
my $fn = sub { my $body = join '', map { "\tx($_);\n" } 1 .. shift; "static void\nf(void)\n{\n$body}\n" };
is_deeply([long_functions($fn->($FUNC_MAX - 2), $FUNC_MAX)], [], "a $FUNC_MAX-line function passes");
is_deeply([long_functions($fn->($FUNC_MAX - 1), $FUNC_MAX)], ['f (' . ($FUNC_MAX + 1) . ' lines)'],
    'a ' . ($FUNC_MAX + 1) . '-line function is found');

my @files = map { s{^\Q$PP::ROOT\E/}{}r }
    glob("$PP::ROOT/{common,fcgi,authproxy,logoutput,launcher,bench,fuzz,t/c}/*.[ch]");
ok(@files > 40, scalar(@files) . ' C files');
for my $f (@files) {
	my $text = slurp("$PP::ROOT/$f");
	my $lines = () = $text =~ /\n/g;
	my $base = $f =~ s{.*/}{}r;
	ok($lines <= $FILE_MAX, "$f: $lines lines (at most $FILE_MAX)");
	is_deeply([long_functions($text, $FUNC_MAX)], [], "$f: no function over $FUNC_MAX lines");
	my @kr = grep { /^[A-Za-z_][\w \t*]*\([^;=]*\)\s*\{\s*$/ } split /\n/, $text;
	is_deeply(\@kr, [], "$f: every function's body opens on a line of its own");
	like($text, qr/\A\/\*\s*(?:\n \* )?\Q$base\E: \S/, "$f: its first comment names it and what it owns");
}

done_testing;
