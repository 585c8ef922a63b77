#!/usr/bin/env bash
# Local PostgreSQL 15 for ShopMesh: a private cluster on 127.0.0.1:15432 (env
# SHOPMESH_PG_PORT) with its data under .local/data/postgres. It is run with
# the PostgreSQL binaries directly (not pg_ctlcluster), so it never uses or
# touches the system cluster.
#
#   local/postgres.sh start    install postgresql-15 if missing, initdb on first
#                              run, start, wait until it accepts connections
#   local/postgres.sh stop     fast shutdown of our cluster (no-op if not running)
#   local/postgres.sh status   print running/stopped; exit 0 when running, 3 when not
#
# The superuser is 'postgres', with the password stored under the key
# postgres-password in the local secrets file (local/secrets.sh); host
# connections use scram-sha-256, socket connections peer auth (OS user postgres).
#
# PostgreSQL refuses to run as root, so the server runs as the OS user
# 'postgres' that the Debian package creates. That user must be able to
# traverse every parent directory of .local/: when one (say a 0700 mktemp dir
# or home directory) blocks it, 'start' grants the postgres user search (x)
# permission on just that directory (an ACL when setfacl exists, else o+x) and
# says so.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_VERSION=15
PG_BIN="/usr/lib/postgresql/$PG_VERSION/bin"
PG_OS_USER=postgres
PG_PORT="${SHOPMESH_PG_PORT:-15432}"
PG_DATA="$SHOPMESH_DATA/postgres"
# Socket directory and pid file: a postgres-owned folder inside .local/run, as
# the server (not root) writes both.
PG_SOCK="$SHOPMESH_RUN/postgres"
PG_PIDFILE="$PG_SOCK/postgres.pid"
PG_LOG="$SHOPMESH_LOGS/postgres.log"
START_TIMEOUT="${SHOPMESH_START_TIMEOUT:-60}"
SECRETS_SH="$SHOPMESH_ROOT/local/secrets.sh"
check_port "$PG_PORT"

# as_pg CMD...: run CMD as the postgres OS user, from / so a working
# directory that user cannot read does not upset initdb or pg_ctl.
as_pg() {
	(cd / && as_root runuser -u "$PG_OS_USER" -- "$@")
}

# sql_literal VALUE: VALUE as a single-quoted SQL string literal.
sql_literal() {
	printf "'%s'" "${1//\'/\'\'}"
}

# our_pid: pid of the postmaster of our data dir, if running. postmaster.pid
# is authoritative (the server writes and removes it); the comm check guards
# against a stale file whose pid was reused by an unrelated process.
our_pid() {
	local pid
	pid="$(read_pidfile "$PG_DATA/postmaster.pid" 2>/dev/null || true)"
	if [ -n "$pid" ] && pid_alive "$pid" && grep -qx 'postgres' "/proc/$pid/comm" 2>/dev/null; then
		printf '%s\n' "$pid"
	fi
}

# running_port: the port our running server listens on (line 4 of postmaster.pid).
running_port() {
	sed -n 4p "$PG_DATA/postmaster.pid" 2>/dev/null || true
}

ensure_installed() {
	if [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_ctl" ]; then
		apt_install "postgresql-$PG_VERSION"
	fi
	[ -x "$PG_BIN/pg_ctl" ] || die "$PG_BIN/pg_ctl not found after installing postgresql-$PG_VERSION"
	id -u "$PG_OS_USER" >/dev/null 2>&1 || die "OS user '$PG_OS_USER' missing (the postgresql-$PG_VERSION package creates it)"
}

# grant_traverse PATH...: make sure the postgres OS user can reach each PATH,
# fixing only the ancestor directories that block it, top-down (a directory
# can only be checked once its parent is searchable).
grant_traverse() {
	local target d i
	for target in "$@"; do
		local chain=()
		d="$target"
		while [ "$d" != "/" ]; do
			d="$(dirname "$d")"
			chain=("$d" "${chain[@]}")
		done
		for ((i = 0; i < ${#chain[@]}; i++)); do
			d="${chain[i]}"
			as_pg test -x "$d" && continue
			if command -v setfacl >/dev/null 2>&1; then
				as_root setfacl -m "u:$PG_OS_USER:x" "$d"
				log "granted the '$PG_OS_USER' OS user search permission on $d (ACL u:$PG_OS_USER:x) so it can reach $target"
			else
				as_root chmod o+x "$d"
				log "added o+x (search only, no listing) to $d so the '$PG_OS_USER' OS user can reach $target"
			fi
			as_pg test -x "$d" || die "the '$PG_OS_USER' OS user still cannot traverse $d"
		done
	done
}

prepare_dirs() {
	mkdir -p "$SHOPMESH_DATA" "$SHOPMESH_LOGS" "$SHOPMESH_RUN"
	as_root install -d -o "$PG_OS_USER" -g "$PG_OS_USER" -m 0700 "$PG_DATA"
	as_root install -d -o "$PG_OS_USER" -g "$PG_OS_USER" -m 0755 "$PG_SOCK"
	# PostgreSQL insists on an owned 0700 data dir; repair drift (e.g. a copy).
	as_root chown "$PG_OS_USER:$PG_OS_USER" "$PG_DATA"
	as_root chmod 0700 "$PG_DATA"
	[ -e "$PG_LOG" ] || as_root touch "$PG_LOG"
	as_root chown "$PG_OS_USER:$PG_OS_USER" "$PG_LOG"
	as_root chmod 0640 "$PG_LOG"
	grant_traverse "$PG_DATA" "$PG_SOCK" "$PG_LOG"

	local sock="$PG_SOCK/.s.PGSQL.$PG_PORT"
	if [ "${#sock}" -gt 100 ]; then
		die "socket path $sock is too long for a Unix socket (max ~100 bytes); move the repo to a shorter path"
	fi
}

# init_cluster PASSWORD: initdb once, when the data dir has no cluster yet.
init_cluster() {
	if [ -f "$PG_DATA/PG_VERSION" ]; then
		local have
		have="$(cat "$PG_DATA/PG_VERSION")"
		[ "$have" = "$PG_VERSION" ] ||
			die "$PG_DATA holds a PostgreSQL $have cluster, this script runs $PG_VERSION; move it away to start fresh"
		return 0
	fi
	if [ -n "$(ls -A "$PG_DATA")" ]; then
		die "$PG_DATA is not empty but holds no cluster; move it away to start fresh"
	fi
	log "initializing a new cluster in $PG_DATA"
	# initdb reads the superuser password from a file the postgres user can
	# read; keep it in the postgres-owned run dir and remove it right after.
	local pwfile
	pwfile="$(as_pg mktemp "$PG_SOCK/.pwfile.XXXXXX")"
	printf '%s\n' "$1" | as_pg tee "$pwfile" >/dev/null
	if ! as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --pwfile="$pwfile" \
		--auth-host=scram-sha-256 --auth-local=peer \
		--encoding=UTF8 --locale=C.UTF-8 >>"$PG_LOG" 2>&1; then
		as_root rm -f "$pwfile"
		die "initdb failed; see $PG_LOG"
	fi
	as_root rm -f "$pwfile"
	# Our settings live in a separate file rewritten on each start; initdb's
	# postgresql.conf only gains the include line.
	printf "\n# Added by local/postgres.sh: settings regenerated on each start.\ninclude_if_exists = 'shopmesh.conf'\n" |
		as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
}

write_config() {
	as_pg tee "$PG_DATA/shopmesh.conf" >/dev/null <<EOF
# Generated by local/postgres.sh on each start; edits are overwritten.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = $(sql_literal "$PG_SOCK")
external_pid_file = $(sql_literal "$PG_PIDFILE")
max_connections = 200
password_encryption = 'scram-sha-256'
EOF
}

# sync_superuser_password PASSWORD: keep the superuser password equal to the
# secrets file even if that file was recreated after initdb. Peer auth over
# our socket needs no password; the statement goes through stdin so the
# password never shows in a process listing.
sync_superuser_password() {
	printf 'ALTER ROLE postgres WITH PASSWORD %s;\n' "$(sql_literal "$1")" |
		as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -d postgres >/dev/null ||
		die "could not set the postgres superuser password; see $PG_LOG"
}

cmd_start() {
	local pid
	pid="$(our_pid)"
	if [ -n "$pid" ]; then
		log "already running (pid $pid, port $(running_port))"
		return 0
	fi
	if port_open "$PG_PORT"; then
		die "port $PG_PORT on 127.0.0.1 is already in use by another process (not ours); stop it or set SHOPMESH_PG_PORT"
	fi
	ensure_installed
	bash "$SECRETS_SH" ensure
	local password
	password="$(bash "$SECRETS_SH" get postgres-password)"

	prepare_dirs
	init_cluster "$password"
	write_config
	if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t "$START_TIMEOUT" start >/dev/null; then
		die "PostgreSQL failed to start on port $PG_PORT; see $PG_LOG"
	fi
	if ! wait_for "$START_TIMEOUT" "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
		die "PostgreSQL does not accept connections on 127.0.0.1:$PG_PORT within ${START_TIMEOUT}s; see $PG_LOG"
	fi
	sync_superuser_password "$password"
	log "started (pid $(our_pid), 127.0.0.1:$PG_PORT, data $PG_DATA, log $PG_LOG)"
}

cmd_stop() {
	local pid
	pid="$(our_pid)"
	if [ -z "$pid" ]; then
		log "not running"
		return 0
	fi
	# pg_ctl -D targets exactly our cluster; fast mode rolls back open
	# transactions and shuts down cleanly (no crash recovery next start).
	if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t "$START_TIMEOUT" stop >/dev/null; then
		die "PostgreSQL (pid $pid) did not stop within ${START_TIMEOUT}s; see $PG_LOG"
	fi
	log "stopped (pid $pid, port $PG_PORT)"
}

cmd_status() {
	local pid
	pid="$(our_pid)"
	if [ -n "$pid" ]; then
		echo "postgres: running (pid $pid, port $(running_port), data $PG_DATA)"
		return 0
	fi
	echo "postgres: stopped (port $PG_PORT)"
	return 3
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
pid) our_pid ;;
*) usage_exit "$0" ;;
esac
