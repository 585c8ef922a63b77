#!/usr/bin/env bash
# Local SNS/SQS stand-in for the aws-emulated profile: fauxqs 1.9.2 (npm,
# pinned in local/aws-emulators/package-lock.json, installed into
# .local/aws-emulators; 2.x needs Node >= 22.5) on 127.0.0.1:14566 (env
# SHOPMESH_FAUXQS_PORT), run by local/aws-emulators/fauxqs-server.mjs so it
# listens on loopback only. SNS, SQS and STS share the one endpoint.
# fauxqs keeps topics, queues and messages in memory: a restart loses them
# (Dapr's pubsub.aws.snssqs creates its entities again when daprd starts,
# so restart the sidecars after fauxqs). Nothing goes to .local/data.
#
#   local/fauxqs.sh start    install if the lock changed, start, wait until /health answers
#   local/fauxqs.sh stop     stop the fauxqs started by 'start' (no-op if none)
#   local/fauxqs.sh status   print running/stopped; exit 0 when running, 3 when not
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=SCRIPTDIR/aws-emulators/install.sh
source "$SHOPMESH_ROOT/local/aws-emulators/install.sh"

FAUXQS_PORT="${SHOPMESH_FAUXQS_PORT:-14566}"
FAUXQS_LOG="$SHOPMESH_LOGS/fauxqs.log"
FAUXQS_PID="$SHOPMESH_RUN/fauxqs.pid"
FAUXQS_SERVER="$AWS_EMULATORS_DIR/fauxqs-server.mjs"
START_TIMEOUT="${SHOPMESH_START_TIMEOUT:-30}"
check_port "$FAUXQS_PORT"

# our_pid: the pid of the fauxqs we started, if it is still running (node,
# with our fauxqs-server.mjs on its command line).
our_pid() {
	node_script_pid "$FAUXQS_PID" "$FAUXQS_SERVER"
}

# ours_on_port PID: PID (ours) serves $FAUXQS_PORT (the argument after the
# server script on its command line).
ours_on_port() {
	tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | grep -A1 -xF -- "$FAUXQS_SERVER" | tail -n1 | grep -qxF "$FAUXQS_PORT"
}

ready() {
	curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$FAUXQS_PORT/health"
}

cmd_start() {
	local pid
	pid="$(our_pid)"
	if [ -n "$pid" ]; then
		ours_on_port "$pid" || die "already running (pid $pid) on another port than $FAUXQS_PORT; run local/fauxqs.sh stop first"
		log "already running (pid $pid, port $FAUXQS_PORT)"
		return 0
	fi
	command -v curl >/dev/null 2>&1 || apt_install curl
	if port_open "$FAUXQS_PORT"; then
		die "port $FAUXQS_PORT on 127.0.0.1 is already in use by another process (not ours); stop it or set SHOPMESH_FAUXQS_PORT"
	fi
	aws_emulators_install
	mkdir -p "$SHOPMESH_LOGS" "$SHOPMESH_RUN"
	rm -f "$FAUXQS_PID"
	# No daemon mode: run it in its own session, detached from this shell
	# (setsid exec, so $! is node's pid). FAUXQS_* variables of the caller's
	# environment are not read by our server script.
	setsid node "$FAUXQS_SERVER" "$FAUXQS_PORT" \
		</dev/null >>"$FAUXQS_LOG" 2>&1 &
	pid=$!
	printf '%s\n' "$pid" >"$FAUXQS_PID"
	await_started fauxqs "$pid" "$FAUXQS_PID" "$FAUXQS_LOG" "http://127.0.0.1:$FAUXQS_PORT/health" "" ready
	log "started (pid $pid, http://127.0.0.1:$FAUXQS_PORT, log $FAUXQS_LOG)"
}

cmd_stop() {
	stop_started fauxqs "$(our_pid)" "$FAUXQS_PID" "$FAUXQS_LOG"
}

cmd_status() {
	local pid
	pid="$(our_pid)"
	if [ -n "$pid" ]; then
		echo "fauxqs: running (pid $pid, http://127.0.0.1:$FAUXQS_PORT)"
		return 0
	fi
	echo "fauxqs: stopped (port $FAUXQS_PORT)"
	return 3
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
pid) our_pid ;;
*) usage_exit "$0" ;;
esac
