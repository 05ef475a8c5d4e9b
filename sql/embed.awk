# embed.awk: turns each sql/*.sql file into a C string named sql_<file>.
# Usage: awk -f sql/embed.awk sql/a.sql sql/b.sql > build/sql.c
FNR == 1 {
	if (NR > 1)
		print ";"
	name = FILENAME
	sub(/.*\//, "", name)
	sub(/\.sql$/, "", name)
	printf "const char sql_%s[] =\n", name
}
{
	gsub(/\\/, "\\\\")
	gsub(/"/, "\\\"")
	printf "    \"%s\\n\"\n", $0
}
END { print ";" }
