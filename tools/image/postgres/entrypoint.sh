#!/bin/sh
# entrypoint.sh: initialise PGDATA on first start like the official image,
# then run postgres in the foreground as the postgres user.
set -eu
: "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}" "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}"
mkdir -p "$PGDATA" /run/postgresql
chown -R postgres:postgres "$PGDATA" /run/postgresql
chmod 0700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
	pw=$(mktemp)
	printf '%s\n' "$POSTGRES_PASSWORD" >"$pw"
	chown postgres "$pw"
	runuser -u postgres -- initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pw" -A scram-sha-256 >/dev/null
	rm -f "$pw"
	runuser -u postgres -- pg_ctl -D "$PGDATA" -o "-c listen_addresses= -p $PGPORT" -w start >/dev/null
	PGPASSWORD=$POSTGRES_PASSWORD runuser -u postgres -- psql -h /run/postgresql -p "$PGPORT" -U "$POSTGRES_USER" -d postgres \
		-c "CREATE DATABASE \"$POSTGRES_DB\"" >/dev/null 2>&1 || true
	runuser -u postgres -- pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
fi
exec runuser -u postgres -- postgres -D "$PGDATA" -c listen_addresses=127.0.0.1 -p "$PGPORT"
