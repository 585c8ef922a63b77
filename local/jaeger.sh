#!/usr/bin/env bash
# Local trace backend for ShopMesh: Jaeger v2 (github.com/jaegertracing/jaeger
# v1.75.0, the local/jaeger module, built into .local/bin/jaeger by
# `go tool task build:jaeger`) with observability/jaeger/config.yaml. Every
# app and every daprd sends its spans here over OTLP; traces are kept in
# memory (gone on stop).
#
# Ports (env to change them): OTLP/HTTP 127.0.0.1:14318
# (SHOPMESH_JAEGER_OTLP_HTTP_PORT; what dapr/dapr.yaml and
# dapr/config.yaml point at), OTLP/gRPC 14317, query API 16687
# (SHOPMESH_JAEGER_QUERY_PORT: /api/services, /api/traces/<id>), query gRPC
# 16688, health 13134.
#
# Browser view: the query port also serves ShopMesh's trace viewer,
# observability/ui/traces (plain HTML/CSS/JS: trace search and a checkout's
# waterfall with its sidecar spans), as Jaeger's UI assets (ui.assets_path
# in the config, from SHOPMESH_JAEGER_UI_DIR, an absolute path). The real
# Jaeger UI cannot be built here: its assets are not in the Go module (they
# are an npm build of a separate repository, not published), so without
# this the query port would answer the API and a placeholder page. Jaeger
# reads the viewer's index.html once at start: restart it after changing
# that file (the files under static/ are read on every request).
#
#   local/jaeger.sh start    start, wait until healthy, print the viewer's and the query API's URLs
#   local/jaeger.sh stop     stop the jaeger started by 'start' (no-op if none)
#   local/jaeger.sh status   print running/stopped; exit 0 when running, 3 when not
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export SHOPMESH_JAEGER_OTLP_HTTP_PORT="${SHOPMESH_JAEGER_OTLP_HTTP_PORT:-14318}"
export SHOPMESH_JAEGER_OTLP_GRPC_PORT="${SHOPMESH_JAEGER_OTLP_GRPC_PORT:-14317}"
export SHOPMESH_JAEGER_QUERY_PORT="${SHOPMESH_JAEGER_QUERY_PORT:-16687}"
export SHOPMESH_JAEGER_QUERY_GRPC_PORT="${SHOPMESH_JAEGER_QUERY_GRPC_PORT:-16688}"
export SHOPMESH_JAEGER_HEALTH_PORT="${SHOPMESH_JAEGER_HEALTH_PORT:-13134}"
export SHOPMESH_JAEGER_UI_DIR="${SHOPMESH_JAEGER_UI_DIR:-$SHOPMESH_ROOT/observability/ui/traces}"
PORTS=("$SHOPMESH_JAEGER_OTLP_HTTP_PORT" "$SHOPMESH_JAEGER_OTLP_GRPC_PORT" "$SHOPMESH_JAEGER_QUERY_PORT" "$SHOPMESH_JAEGER_QUERY_GRPC_PORT" "$SHOPMESH_JAEGER_HEALTH_PORT")
JAEGER_BIN="$SHOPMESH_LOCAL/bin/jaeger"
JAEGER_CONFIG="$SHOPMESH_ROOT/observability/jaeger/config.yaml"
# One instance per query port: a jaeger started on other ports (the
# SHOPMESH_JAEGER_*_PORT variables, e.g. beside a running stack) keeps pid
# and log files of its own, so it never passes for the stack's, nor the
# stack's for it.
JAEGER_INSTANCE=jaeger
[ "$SHOPMESH_JAEGER_QUERY_PORT" = 16687 ] || JAEGER_INSTANCE="jaeger-$SHOPMESH_JAEGER_QUERY_PORT"
JAEGER_LOG="$SHOPMESH_LOGS/$JAEGER_INSTANCE.log"
JAEGER_PID="$SHOPMESH_RUN/$JAEGER_INSTANCE.pid"
START_TIMEOUT="${SHOPMESH_START_TIMEOUT:-30}"
for port in "${PORTS[@]}"; do check_port "$port"; done

query_url() { printf 'http://127.0.0.1:%s/' "$SHOPMESH_JAEGER_QUERY_PORT"; }

# print_url: the trace viewer's and the query API's addresses, on stdout
# (messages go to stderr).
print_url() {
	printf 'jaeger traces: %s\n' "$(query_url)"
	printf 'jaeger query API: %sapi/traces/<trace id>\n' "$(query_url)"
}

# our_pid: the pid of the jaeger we started, if it is still running.
our_pid() {
	local pid
	pid="$(read_pidfile "$JAEGER_PID")"
	if [ -n "$pid" ] && pid_alive "$pid" && grep -q jaeger "/proc/$pid/comm" 2>/dev/null; then
		printf '%s\n' "$pid"
	fi
}

# ready: healthy, and both the OTLP receiver and the query API listen.
ready() {
	curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$SHOPMESH_JAEGER_HEALTH_PORT/status" &&
		port_open "$SHOPMESH_JAEGER_OTLP_HTTP_PORT" &&
		curl -fsS -o /dev/null --max-time 2 "$(query_url)api/services"
}

cmd_start() {
	local pid
	pid="$(our_pid)"
	if [ -n "$pid" ]; then
		log "already running (pid $pid, OTLP http://127.0.0.1:$SHOPMESH_JAEGER_OTLP_HTTP_PORT)"
		print_url
		return 0
	fi
	[ -x "$JAEGER_BIN" ] || die "no $JAEGER_BIN: run go tool task build:jaeger"
	# Jaeger resolves a relative assets_path against its own working
	# directory, and fails to start without an index.html there.
	case "$SHOPMESH_JAEGER_UI_DIR" in
	/*) ;;
	*) die "SHOPMESH_JAEGER_UI_DIR must be an absolute path, not $SHOPMESH_JAEGER_UI_DIR" ;;
	esac
	[ -f "$SHOPMESH_JAEGER_UI_DIR/index.html" ] || die "no trace viewer at $SHOPMESH_JAEGER_UI_DIR/index.html"
	command -v curl >/dev/null 2>&1 || apt_install curl
	local port
	for port in "${PORTS[@]}"; do
		if port_open "$port"; then
			die "port $port on 127.0.0.1 is already in use by another process (not ours); stop it or set the SHOPMESH_JAEGER_*_PORT variables"
		fi
	done
	mkdir -p "$SHOPMESH_LOGS" "$SHOPMESH_RUN"
	rm -f "$JAEGER_PID"
	# No daemon mode: its own session, detached from this shell.
	setsid "$JAEGER_BIN" --config "$JAEGER_CONFIG" </dev/null >>"$JAEGER_LOG" 2>&1 &
	pid=$!
	printf '%s\n' "$pid" >"$JAEGER_PID"
	await_started jaeger "$pid" "$JAEGER_PID" "$JAEGER_LOG" "$(query_url)" "" ready
	log "started (pid $pid, OTLP http://127.0.0.1:$SHOPMESH_JAEGER_OTLP_HTTP_PORT, log $JAEGER_LOG)"
	print_url
}

cmd_stop() {
	stop_started jaeger "$(our_pid)" "$JAEGER_PID" "$JAEGER_LOG"
}

cmd_status() {
	local pid
	pid="$(our_pid)"
	if [ -n "$pid" ]; then
		echo "jaeger: running (pid $pid, OTLP http://127.0.0.1:$SHOPMESH_JAEGER_OTLP_HTTP_PORT, traces and query API $(query_url))"
		return 0
	fi
	echo "jaeger: stopped (OTLP port $SHOPMESH_JAEGER_OTLP_HTTP_PORT, query port $SHOPMESH_JAEGER_QUERY_PORT)"
	return 3
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
*) usage_exit "$0" ;;
esac
