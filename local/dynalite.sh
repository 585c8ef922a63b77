#!/usr/bin/env bash
# Local DynamoDB stand-in for the aws-emulated profile: dynalite 4.0.0 (npm,
# pinned in local/aws-emulators/package-lock.json, installed into
# .local/aws-emulators, run by local/aws-emulators/dynalite-server.mjs so a
# client hanging up mid-request cannot bring it down) on 127.0.0.1:18000 (env
# SHOPMESH_DYNALITE_PORT), with
# its LevelDB data under .local/data/dynalite so stock survives a restart.
# `start` also creates the inventory table (env SHOPMESH_DYNAMO_TABLE, default
# shopmesh-local-inventory: partition key "key" (S), on-demand) when missing.
# dynalite checks that requests are SigV4-signed but not the signature, and
# has no TTL and no TransactWriteItems.
#
#   local/dynalite.sh start    install if the lock changed, start, wait until it answers, create the table
#   local/dynalite.sh stop     stop the dynalite started by 'start' (no-op if none)
#   local/dynalite.sh status   print running/stopped; exit 0 when running, 3 when not
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=SCRIPTDIR/aws-emulators/install.sh
source "$SHOPMESH_ROOT/local/aws-emulators/install.sh"

DYNALITE_PORT="${SHOPMESH_DYNALITE_PORT:-18000}"
DYNAMO_TABLE="${SHOPMESH_DYNAMO_TABLE:-shopmesh-local-inventory}"
DYNALITE_DIR="$SHOPMESH_DATA/dynalite"
DYNALITE_LOG="$SHOPMESH_LOGS/dynalite.log"
DYNALITE_PID="$SHOPMESH_RUN/dynalite.pid"
DYNALITE_SERVER="$AWS_EMULATORS_DIR/dynalite-server.mjs"
START_TIMEOUT="${SHOPMESH_START_TIMEOUT:-30}"
check_port "$DYNALITE_PORT"

# our_pid: the pid of the dynalite we started, if it is still running (node,
# with our dynalite-server.mjs on its command line).
our_pid() {
	node_script_pid "$DYNALITE_PID" "$DYNALITE_SERVER"
}

# dynamo ACTION JSON: one DynamoDB JSON API call, printing the response body;
# false on an HTTP error. curl signs it with SigV4 (dummy keys): dynalite
# insists on a well-formed Authorization header but checks no signature.
dynamo() {
	curl -sS --fail-with-body --max-time 5 \
		--aws-sigv4 "aws:amz:us-east-1:dynamodb" --user "local:local" \
		-H "Content-Type: application/x-amz-json-1.0" \
		-H "X-Amz-Target: DynamoDB_20120810.$1" \
		--data-binary "$2" \
		"http://127.0.0.1:$DYNALITE_PORT/"
}

# ours_on_port PID: PID (ours) was started with --port $DYNALITE_PORT.
ours_on_port() {
	tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | grep -A1 -xF -- --port | tail -n1 | grep -qxF "$DYNALITE_PORT"
}

ready() { dynamo ListTables '{}' >/dev/null 2>&1; }

table_active() {
	dynamo DescribeTable "{\"TableName\":\"$DYNAMO_TABLE\"}" 2>/dev/null | grep -q '"TableStatus":"ACTIVE"'
}

# ensure_table: create the inventory table unless it exists, then wait until
# it is ACTIVE (dynalite keeps a new table CREATING for --createTableMs).
ensure_table() {
	local out
	if out="$(dynamo DescribeTable "{\"TableName\":\"$DYNAMO_TABLE\"}" 2>&1)"; then
		:
	elif printf '%s' "$out" | grep -q ResourceNotFoundException; then
		dynamo CreateTable "$(
			cat <<EOF
{"TableName":"$DYNAMO_TABLE",
 "AttributeDefinitions":[{"AttributeName":"key","AttributeType":"S"}],
 "KeySchema":[{"AttributeName":"key","KeyType":"HASH"}],
 "BillingMode":"PAY_PER_REQUEST"}
EOF
		)" >/dev/null || die "could not create table $DYNAMO_TABLE; see $DYNALITE_LOG"
		log "created table $DYNAMO_TABLE (partition key \"key\" (S), PAY_PER_REQUEST)"
	else
		die "DescribeTable $DYNAMO_TABLE failed: $out"
	fi
	wait_for "$START_TIMEOUT" table_active || die "table $DYNAMO_TABLE did not become ACTIVE within ${START_TIMEOUT}s"
}

cmd_start() {
	local pid
	pid="$(our_pid)"
	if [ -n "$pid" ]; then
		ours_on_port "$pid" || die "already running (pid $pid) on another port than $DYNALITE_PORT; run local/dynalite.sh stop first"
		log "already running (pid $pid, port $DYNALITE_PORT)"
		ensure_table
		return 0
	fi
	command -v curl >/dev/null 2>&1 || apt_install curl
	if port_open "$DYNALITE_PORT"; then
		die "port $DYNALITE_PORT on 127.0.0.1 is already in use by another process (not ours); stop it or set SHOPMESH_DYNALITE_PORT"
	fi
	aws_emulators_install
	mkdir -p "$DYNALITE_DIR" "$SHOPMESH_LOGS" "$SHOPMESH_RUN"
	rm -f "$DYNALITE_PID"
	# No daemon mode: run it in its own session, detached from this shell
	# (setsid exec, so $! is node's pid).
	setsid node "$DYNALITE_SERVER" \
		--host 127.0.0.1 \
		--port "$DYNALITE_PORT" \
		--path "$DYNALITE_DIR" \
		--createTableMs 50 --deleteTableMs 50 --updateTableMs 50 \
		</dev/null >>"$DYNALITE_LOG" 2>&1 &
	pid=$!
	printf '%s\n' "$pid" >"$DYNALITE_PID"
	await_started dynalite "$pid" "$DYNALITE_PID" "$DYNALITE_LOG" "127.0.0.1:$DYNALITE_PORT" \
		"LevelDB in $DYNALITE_DIR locked by another process?" ready
	ensure_table
	log "started (pid $pid, http://127.0.0.1:$DYNALITE_PORT, table $DYNAMO_TABLE, data $DYNALITE_DIR, log $DYNALITE_LOG)"
}

cmd_stop() {
	# LevelDB writes are on disk once acknowledged.
	stop_started dynalite "$(our_pid)" "$DYNALITE_PID" "$DYNALITE_LOG"
}

cmd_status() {
	local pid
	pid="$(our_pid)"
	if [ -n "$pid" ]; then
		echo "dynalite: running (pid $pid, http://127.0.0.1:$DYNALITE_PORT, table $DYNAMO_TABLE, data $DYNALITE_DIR)"
		return 0
	fi
	echo "dynalite: stopped (port $DYNALITE_PORT)"
	return 3
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
pid) our_pid ;;
*) usage_exit "$0" ;;
esac
