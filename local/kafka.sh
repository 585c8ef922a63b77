#!/usr/bin/env bash
# Local stand-in for Amazon MSK (aws-emulated profile): `kafka serve`
# (tools/cmd/kafka, franz-go's in-process kfake; built into .local/bin/kafka
# from the tools module) on 127.0.0.1:19092 (env SHOPMESH_KAFKA_PORT), with
# SASL/SCRAM-SHA-512 over TLS like MSK's port 9096. Topics are created on
# first use with 32 partitions; topics, records and committed offsets are kept
# in .local/data/kafka across restarts.
#
# Why 32: Dapr's Kafka consumer (pubsub.kafka without bulk subscribe) hands
# the app one message of a partition at a time, so a topic's partition count
# bounds how many of its events an app handles at once. The apps key their
# events by aggregate (order id, product id, ...; partitionKey), so they
# spread over the partitions while each aggregate's events stay in order.
#
# On first start it writes a self-signed CA and a server certificate for
# 127.0.0.1/localhost into .local/kafka-tls (`kafka gencert`; renewed when
# near expiry) and adds to the git-ignored .local/secrets.json:
#   kafka-scram-password  random SCRAM password of the user "shopmesh" (kept)
#   kafka-ca-cert         the CA's PEM, for the components' caCert (follows the CA)
#
#   local/kafka.sh start    build if needed, start, wait until the port answers
#   local/kafka.sh stop     stop the broker started by 'start' (no-op if none)
#   local/kafka.sh status   print running/stopped; exit 0 when running, 3 when not
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_PORT="${SHOPMESH_KAFKA_PORT:-19092}"
KAFKA_USER=shopmesh
KAFKA_BIN="$SHOPMESH_LOCAL/bin/kafka"
KAFKA_TLS="$SHOPMESH_LOCAL/kafka-tls"
KAFKA_DIR="$SHOPMESH_DATA/kafka"
KAFKA_LOG="$SHOPMESH_LOGS/kafka.log"
KAFKA_PID="$SHOPMESH_RUN/kafka.pid"
SECRETS_FILE="$SHOPMESH_LOCAL/secrets.json"
TOOLS_DIR="$SHOPMESH_ROOT/tools"
START_TIMEOUT="${SHOPMESH_START_TIMEOUT:-30}"
check_port "$KAFKA_PORT"

# our_pid: the pid of the broker we started, if it is still running.
our_pid() {
	local pid
	pid="$(read_pidfile "$KAFKA_PID")"
	if [ -n "$pid" ] && pid_alive "$pid" && grep -qx kafka "/proc/$pid/comm" 2>/dev/null; then
		printf '%s\n' "$pid"
	fi
}

# build: (re)build .local/bin/kafka when missing or older than the tools
# module's go.mod/go.sum or the command's sources (the mailpit rule of
# Taskfile.yml, plus the sources: the command is ours).
build() {
	local stale=0 f
	if [ ! -x "$KAFKA_BIN" ]; then
		stale=1
	else
		for f in "$TOOLS_DIR/go.mod" "$TOOLS_DIR/go.sum" "$TOOLS_DIR"/cmd/kafka/*.go; do
			if [ "$f" -nt "$KAFKA_BIN" ]; then
				stale=1
				break
			fi
		done
	fi
	[ "$stale" -eq 1 ] || return 0
	command -v go >/dev/null 2>&1 || die "no go on PATH to build $KAFKA_BIN"
	log "building $KAFKA_BIN (tools/cmd/kafka)"
	mkdir -p "$(dirname "$KAFKA_BIN")"
	local tmp="$KAFKA_BIN.tmp.$$"
	(cd "$TOOLS_DIR" && go build -o "$tmp" ./cmd/kafka) || {
		rm -f "$tmp"
		die "building tools/cmd/kafka failed"
	}
	mv -f "$tmp" "$KAFKA_BIN"
}

# ensure_secrets: the SCRAM password (created once, never changed) and the
# current CA PEM in .local/secrets.json, written the way local/secrets.sh
# writes it: a private copy, jq -S, mode 0600, replaced by a rename and only
# when something changed.
ensure_secrets() {
	command -v jq >/dev/null 2>&1 || apt_install jq
	mkdir -p "$SHOPMESH_LOCAL"
	umask 077
	local work ca
	work="$(mktemp "$SHOPMESH_LOCAL/.secrets.XXXXXX")"
	trap 'rm -f "$work" "$work.next"' EXIT
	if [ -e "$SECRETS_FILE" ]; then
		jq -e 'type == "object"' "$SECRETS_FILE" >/dev/null 2>&1 ||
			die "$SECRETS_FILE is not a JSON object; fix or remove it (it is never overwritten)"
		cat "$SECRETS_FILE" >"$work"
	else
		echo '{}' >"$work"
	fi
	ca="$(cat "$KAFKA_TLS/ca.pem")"
	jq -S --arg pw "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" --arg ca "$ca" \
		'(if has("kafka-scram-password") then . else . + {"kafka-scram-password": $pw} end) | .["kafka-ca-cert"] = $ca' \
		"$work" >"$work.next"
	if [ ! -e "$SECRETS_FILE" ] || ! jq -e --slurpfile new "$work.next" '. == $new[0]' "$SECRETS_FILE" >/dev/null; then
		chmod 600 "$work.next"
		mv "$work.next" "$SECRETS_FILE"
		log "updated kafka-scram-password / kafka-ca-cert in $SECRETS_FILE"
	fi
	rm -f "$work" "$work.next"
	trap - EXIT
}

cmd_start() {
	local pid
	pid="$(our_pid)"
	if [ -n "$pid" ]; then
		log "already running (pid $pid, 127.0.0.1:$KAFKA_PORT)"
		return 0
	fi
	if port_open "$KAFKA_PORT"; then
		die "port $KAFKA_PORT on 127.0.0.1 is already in use by another process (not ours); stop it or set SHOPMESH_KAFKA_PORT"
	fi
	build
	"$KAFKA_BIN" gencert -dir "$KAFKA_TLS" -hosts 127.0.0.1,localhost
	ensure_secrets
	local password
	password="$(jq -r '."kafka-scram-password"' "$SECRETS_FILE")"
	mkdir -p "$KAFKA_DIR" "$SHOPMESH_LOGS" "$SHOPMESH_RUN"
	rm -f "$KAFKA_PID"
	# No daemon mode: its own session, detached from this shell (setsid and
	# env exec, so $! is the broker's pid). The password goes by environment,
	# not argv, so it stays out of the process list.
	setsid env KAFKA_SASL_PASSWORD="$password" \
		"$KAFKA_BIN" serve \
		-listen "127.0.0.1:$KAFKA_PORT" \
		-sasl-user "$KAFKA_USER" \
		-tls-cert "$KAFKA_TLS/server.pem" -tls-key "$KAFKA_TLS/server-key.pem" \
		-data-dir "$KAFKA_DIR" \
		-partitions 32 \
		</dev/null >>"$KAFKA_LOG" 2>&1 &
	pid=$!
	printf '%s\n' "$pid" >"$KAFKA_PID"
	await_started kafka "$pid" "$KAFKA_PID" "$KAFKA_LOG" "127.0.0.1:$KAFKA_PORT" "" port_open "$KAFKA_PORT"
	log "started (pid $pid, SASL_SSL 127.0.0.1:$KAFKA_PORT, user $KAFKA_USER, CA $KAFKA_TLS/ca.pem, data $KAFKA_DIR, log $KAFKA_LOG)"
}

cmd_stop() {
	# It writes its state to the data folder, then exits.
	stop_started kafka "$(our_pid)" "$KAFKA_PID" "$KAFKA_LOG"
}

cmd_status() {
	local pid
	pid="$(our_pid)"
	if [ -n "$pid" ]; then
		echo "kafka: running (pid $pid, SASL_SSL 127.0.0.1:$KAFKA_PORT, data $KAFKA_DIR)"
		return 0
	fi
	echo "kafka: stopped (port $KAFKA_PORT)"
	return 3
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
pid) our_pid ;;
*) usage_exit "$0" ;;
esac
