#!/usr/bin/env bash
# Local Prometheus for ShopMesh (3.16, tools of the local/prometheus module,
# built into .local/bin/prometheus and promtool by `go tool task
# build:prometheus`). It scrapes every app's /metrics (job apps) and every
# daprd's metrics port (job daprd), each target labelled app="<app id>", every
# 5s, and evaluates the alert rules of observability/prometheus/rules (there
# is no Alertmanager: see the alerts at /api/v1/alerts). Listens on
# 127.0.0.1:19090 (env SHOPMESH_PROMETHEUS_PORT); data in
# .local/data/prometheus, kept 2 days (env SHOPMESH_PROMETHEUS_RETENTION).
#
# Only the HTTP API works, not the web UI: its pages are a React app that
# needs an npm build, which a build from the Go module proxy does not run, so
# they are not compiled in. Ask the API instead, e.g.
#   curl -s 'http://127.0.0.1:19090/api/v1/query?query=up'
#   curl -s http://127.0.0.1:19090/api/v1/targets    (or /api/v1/rules, /api/v1/alerts)
#
# The config is observability/prometheus/prometheus.yml, as it is in git; the
# targets come from dapr/dapr.yaml (app ids and ports): start writes them to
# .local/run/prometheus-targets.json with `.local/bin/runner
# prometheus-targets`, also when Prometheus already runs (it watches the file).
#
#   local/prometheus.sh start    start, wait until /-/ready answers, print the URL
#   local/prometheus.sh stop     stop the Prometheus started by 'start' (no-op if none)
#   local/prometheus.sh status   print running/stopped; exit 0 when running, 3 when not
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT="${SHOPMESH_PROMETHEUS_PORT:-19090}"
RETENTION="${SHOPMESH_PROMETHEUS_RETENTION:-2d}"
PROMETHEUS_BIN="$SHOPMESH_LOCAL/bin/prometheus"
RUNNER_BIN="$SHOPMESH_LOCAL/bin/runner"
PROMETHEUS_CONFIG="$SHOPMESH_ROOT/observability/prometheus/prometheus.yml"
# Where prometheus.yml's file_sd_configs look (relative to prometheus.yml).
PROMETHEUS_TARGETS="$SHOPMESH_RUN/prometheus-targets.json"
PROMETHEUS_DIR="$SHOPMESH_DATA/prometheus"
PROMETHEUS_LOG="$SHOPMESH_LOGS/prometheus.log"
PROMETHEUS_PID="$SHOPMESH_RUN/prometheus.pid"
START_TIMEOUT="${SHOPMESH_START_TIMEOUT:-30}"
check_port "$PORT"

url() { printf 'http://127.0.0.1:%s/' "$PORT"; }

# print_url: the server's address, on stdout (messages go to stderr).
print_url() { printf 'prometheus: %s\n' "$(url)"; }

# our_pid: the pid of the Prometheus we started, if it is still running.
our_pid() {
	local pid
	pid="$(read_pidfile "$PROMETHEUS_PID")"
	if [ -n "$pid" ] && pid_alive "$pid" && grep -qx prometheus "/proc/$pid/comm" 2>/dev/null; then
		printf '%s\n' "$pid"
	fi
}

# ready: the TSDB is open and the HTTP API serves queries.
ready() {
	curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/-/ready"
}

# write_targets: the scrape targets of every app and daprd of dapr/dapr.yaml.
write_targets() {
	[ -x "$RUNNER_BIN" ] || die "no $RUNNER_BIN: run go build -o .local/bin/runner ./local/runner"
	mkdir -p "$SHOPMESH_RUN"
	"$RUNNER_BIN" prometheus-targets -root "$SHOPMESH_ROOT" -o "$PROMETHEUS_TARGETS" ||
		die "could not write the scrape targets to $PROMETHEUS_TARGETS"
}

cmd_start() {
	local pid
	pid="$(our_pid)"
	if [ -n "$pid" ]; then
		write_targets
		log "already running (pid $pid), targets refreshed"
		print_url
		return 0
	fi
	[ -x "$PROMETHEUS_BIN" ] || die "no $PROMETHEUS_BIN: run go tool task build:prometheus"
	command -v curl >/dev/null 2>&1 || apt_install curl
	if port_open "$PORT"; then
		die "port $PORT on 127.0.0.1 is already in use by another process (not ours); stop it or set SHOPMESH_PROMETHEUS_PORT"
	fi
	write_targets
	mkdir -p "$PROMETHEUS_DIR" "$SHOPMESH_LOGS"
	rm -f "$PROMETHEUS_PID"
	# Prometheus has no daemon mode: run it in its own session, detached
	# from this shell, and remember its pid (setsid exec, so $! is
	# Prometheus'). A bad config or rule file makes it exit at once.
	setsid "$PROMETHEUS_BIN" \
		--config.file="$PROMETHEUS_CONFIG" \
		--web.listen-address="127.0.0.1:$PORT" \
		--storage.tsdb.path="$PROMETHEUS_DIR" \
		--storage.tsdb.retention.time="$RETENTION" \
		</dev/null >>"$PROMETHEUS_LOG" 2>&1 &
	pid=$!
	printf '%s\n' "$pid" >"$PROMETHEUS_PID"
	await_started prometheus "$pid" "$PROMETHEUS_PID" "$PROMETHEUS_LOG" "http://127.0.0.1:$PORT/-/ready" \
		"a bad config or rule file? check with .local/bin/promtool check config $PROMETHEUS_CONFIG" ready
	log "started (pid $pid, data $PROMETHEUS_DIR, log $PROMETHEUS_LOG); HTTP API only, no web UI in this build"
	print_url
}

cmd_stop() {
	# Prometheus closes its TSDB on SIGTERM.
	stop_started prometheus "$(our_pid)" "$PROMETHEUS_PID" "$PROMETHEUS_LOG"
}

cmd_status() {
	local pid
	pid="$(our_pid)"
	if [ -n "$pid" ]; then
		echo "prometheus: running (pid $pid, $(url), data $PROMETHEUS_DIR)"
		return 0
	fi
	echo "prometheus: stopped (port $PORT)"
	return 3
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
*) usage_exit "$0" ;;
esac
