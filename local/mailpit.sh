#!/usr/bin/env bash
# Local mail sink for ShopMesh: mailpit (github.com/axllent/mailpit, a tool of
# tools/go.mod, built into .local/bin/mailpit by `go tool task build:mailpit`)
# catches every e-mail the notifications app sends through the `email`
# binding. SMTP on 127.0.0.1:11025 (env SHOPMESH_MAILPIT_SMTP_PORT; what
# components/local/email.yaml points at), web UI and API on 127.0.0.1:18025
# (env SHOPMESH_MAILPIT_UI_PORT). Messages are kept in .local/data/mailpit.
#
#   local/mailpit.sh start    start, wait until SMTP and the API answer, print the web UI URL
#   local/mailpit.sh stop     stop the mailpit started by 'start' (no-op if none)
#   local/mailpit.sh status   print running/stopped; exit 0 when running, 3 when not
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SMTP_PORT="${SHOPMESH_MAILPIT_SMTP_PORT:-11025}"
UI_PORT="${SHOPMESH_MAILPIT_UI_PORT:-18025}"
MAILPIT_BIN="$SHOPMESH_LOCAL/bin/mailpit"
MAILPIT_DIR="$SHOPMESH_DATA/mailpit"
MAILPIT_LOG="$SHOPMESH_LOGS/mailpit.log"
MAILPIT_PID="$SHOPMESH_RUN/mailpit.pid"
# Enough for the e2e and load scenarios; older messages are pruned.
MAILPIT_MAX_MESSAGES="${SHOPMESH_MAILPIT_MAX_MESSAGES:-20000}"
START_TIMEOUT="${SHOPMESH_START_TIMEOUT:-30}"
check_port "$SMTP_PORT"
check_port "$UI_PORT"
[ "$SMTP_PORT" != "$UI_PORT" ] || die "the SMTP and the web UI port must differ ($SMTP_PORT)"

ui_url() { printf 'http://127.0.0.1:%s/' "$UI_PORT"; }

# print_ui: the web UI's address, on stdout (messages go to stderr).
print_ui() { printf 'mailpit web UI: %s\n' "$(ui_url)"; }

# our_pid: the pid of the mailpit we started, if it is still running.
our_pid() {
	local pid
	pid="$(read_pidfile "$MAILPIT_PID")"
	if [ -n "$pid" ] && pid_alive "$pid" && grep -q mailpit "/proc/$pid/comm" 2>/dev/null; then
		printf '%s\n' "$pid"
	fi
}

# ready: the API answers /readyz (database open, HTTP up) and SMTP accepts.
ready() {
	curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$UI_PORT/readyz" && port_open "$SMTP_PORT"
}

cmd_start() {
	local pid
	pid="$(our_pid)"
	if [ -n "$pid" ]; then
		log "already running (pid $pid, SMTP 127.0.0.1:$SMTP_PORT)"
		print_ui
		return 0
	fi
	[ -x "$MAILPIT_BIN" ] || die "no $MAILPIT_BIN: run go tool task build:mailpit"
	command -v curl >/dev/null 2>&1 || apt_install curl
	local port
	for port in "$SMTP_PORT" "$UI_PORT"; do
		if port_open "$port"; then
			die "port $port on 127.0.0.1 is already in use by another process (not ours); stop it or set SHOPMESH_MAILPIT_SMTP_PORT / SHOPMESH_MAILPIT_UI_PORT"
		fi
	done
	mkdir -p "$MAILPIT_DIR" "$SHOPMESH_LOGS" "$SHOPMESH_RUN"
	rm -f "$MAILPIT_PID"
	# MP_* variables of the caller's environment would configure mailpit
	# too; clear them so only the flags below do.
	local name unset_mp=()
	for name in $(compgen -e); do
		case "$name" in MP_*) unset_mp+=(-u "$name") ;; esac
	done
	# mailpit has no daemon mode: run it in its own session, detached from
	# this shell, and remember its pid (setsid and env exec, so $! is
	# mailpit's). No version check (it would call GitHub), no reverse-DNS
	# lookups of SMTP clients.
	setsid env "${unset_mp[@]}" \
		"$MAILPIT_BIN" \
		--smtp "127.0.0.1:$SMTP_PORT" \
		--listen "127.0.0.1:$UI_PORT" \
		--database "$MAILPIT_DIR/mailpit.db" \
		--max "$MAILPIT_MAX_MESSAGES" \
		--disable-version-check \
		--smtp-disable-rdns \
		</dev/null >>"$MAILPIT_LOG" 2>&1 &
	pid=$!
	printf '%s\n' "$pid" >"$MAILPIT_PID"
	await_started mailpit "$pid" "$MAILPIT_PID" "$MAILPIT_LOG" "SMTP 127.0.0.1:$SMTP_PORT and http://127.0.0.1:$UI_PORT" "" ready
	log "started (pid $pid, SMTP 127.0.0.1:$SMTP_PORT, data $MAILPIT_DIR, log $MAILPIT_LOG)"
	print_ui
}

cmd_stop() {
	# mailpit closes its database on SIGTERM.
	stop_started mailpit "$(our_pid)" "$MAILPIT_PID" "$MAILPIT_LOG"
}

cmd_status() {
	local pid
	pid="$(our_pid)"
	if [ -n "$pid" ]; then
		echo "mailpit: running (pid $pid, SMTP 127.0.0.1:$SMTP_PORT, web UI $(ui_url), data $MAILPIT_DIR)"
		return 0
	fi
	echo "mailpit: stopped (SMTP port $SMTP_PORT, web UI port $UI_PORT)"
	return 3
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
*) usage_exit "$0" ;;
esac
