# shellcheck shell=bash
# Shared helpers for the local/*.sh scripts. Source it, do not run it:
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Everything the local servers write lives under <repo>/.local (git-ignored):
#   .local/data/<name>   server data
#   .local/logs/<name>.log
#   .local/run/          pid files, sockets, generated configs

# The repo root is the directory above local/, resolved from this file's
# path so the scripts work from any working directory.
SHOPMESH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
SHOPMESH_LOCAL="$SHOPMESH_ROOT/.local"
SHOPMESH_DATA="$SHOPMESH_LOCAL/data"
SHOPMESH_LOGS="$SHOPMESH_LOCAL/logs"
SHOPMESH_RUN="$SHOPMESH_LOCAL/run"
export SHOPMESH_ROOT SHOPMESH_LOCAL SHOPMESH_DATA SHOPMESH_LOGS SHOPMESH_RUN

# Name used as the prefix of every message, e.g. "redis".
SHOPMESH_LOG_TAG="${SHOPMESH_LOG_TAG:-$(basename "$0" .sh)}"

log() { printf '[%s] %s\n' "$SHOPMESH_LOG_TAG" "$*" >&2; }
die() {
	printf '[%s] error: %s\n' "$SHOPMESH_LOG_TAG" "$*" >&2
	exit 1
}

# timed WHAT CMD...: run CMD, saying when it starts, every 15 s while it runs
# (a first build takes minutes) and when it ends, with the seconds it took.
timed() {
	local what=$1 start=$SECONDS beat rc=0
	shift
	log "$what ..."
	(
		# Stopped with the command, its sleep goes too (an orphan would hold
		# the caller's stderr open).
		trap 'kill "$nap" 2>/dev/null; exit 0' TERM
		while :; do
			sleep 15 &
			nap=$!
			wait "$nap"
			log "$what: still running, $((SECONDS - start))s"
		done
	) &
	beat=$!
	"$@" || rc=$?
	kill "$beat" 2>/dev/null
	wait "$beat" 2>/dev/null || true
	if [ "$rc" -ne 0 ]; then
		log "$what: failed after $((SECONDS - start))s"
		return "$rc"
	fi
	log "$what: done in $((SECONDS - start))s"
}

# as_root CMD...: run CMD as root, through sudo only when we are not root.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root (or sudo) to run: $*"
	fi
}

# apt_install PKG...: install Debian packages that are not installed yet.
# 'apt-get update' runs at most once per script run, and only when something
# is actually missing, so a machine that has everything never touches apt.
_SHOPMESH_APT_UPDATED=0
apt_install() {
	local missing=() pkg
	for pkg in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
			missing+=("$pkg")
		fi
	done
	[ "${#missing[@]}" -eq 0 ] && return 0
	command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get to install it"
	log "installing ${missing[*]} (Debian packages)"
	if [ "$_SHOPMESH_APT_UPDATED" -eq 0 ]; then
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null ||
			die "apt-get update failed"
		_SHOPMESH_APT_UPDATED=1
	fi
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
		die "apt-get install ${missing[*]} failed"
}

# port_open PORT: true when something accepts TCP connections on
# 127.0.0.1:PORT. Uses bash's /dev/tcp so no extra tool is needed; a server
# bound to 0.0.0.0 also answers here, which is what we want to detect.
port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# check_port VALUE: die unless VALUE is a usable TCP port number.
check_port() {
	case "$1" in
	'' | *[!0-9]*) die "invalid port '$1'" ;;
	esac
	if [ "$1" -lt 1 ] || [ "$1" -gt 65535 ]; then
		die "invalid port '$1'"
	fi
}

# pid_alive PID: true when PID is a running process (not a zombie).
pid_alive() {
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
	local state
	# Field 3 of /proc/PID/stat, after the ")" that closes the command name.
	state="$(sed -n 's/^.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null || true)"
	[ "$state" != "Z" ]
}

# pid_gone PID: true when PID no longer runs (exited or a zombie).
pid_gone() { ! pid_alive "$1"; }

# read_pidfile FILE: print the pid stored in FILE, or nothing.
read_pidfile() {
	local pid=""
	if [ -r "$1" ]; then
		read -r pid <"$1" || true
	fi
	case "$pid" in
	'' | *[!0-9]*) return 0 ;;
	esac
	printf '%s\n' "$pid"
}

# wait_for SECONDS CMD...: run CMD every 0.2s until it succeeds; false on timeout.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}

# await_started NAME PID PIDFILE LOG WHERE HINT READY...: after starting
# PID in the background, wait up to the caller's START_TIMEOUT seconds until
# READY succeeds, giving up at once when PID exits (a port taken meanwhile,
# a broken data folder). On either failure the pid file goes, a process
# still running is stopped, and the script dies naming LOG; HINT, when not
# empty, is the likely cause of an exit.
await_started() {
	local name=$1 pid=$2 pidfile=$3 logfile=$4 where=$5 hint=$6
	shift 6
	wait_for "$START_TIMEOUT" _ready_or_gone "$pid" "$@" || true
	if pid_gone "$pid"; then
		rm -f "$pidfile"
		die "$name exited while starting${hint:+ ($hint)}; see $logfile"
	fi
	if ! "$@" >/dev/null 2>&1; then
		kill -TERM "$pid" 2>/dev/null || true
		rm -f "$pidfile"
		die "$name did not answer on $where within ${START_TIMEOUT}s; see $logfile"
	fi
}

# _ready_or_gone PID READY...: READY succeeds, or PID has exited.
_ready_or_gone() {
	local pid=$1
	shift
	"$@" || pid_gone "$pid"
}

# stop_started NAME PID PIDFILE LOG: SIGTERM PID, wait up to the caller's
# START_TIMEOUT seconds until it is gone, then drop its pid file. An empty
# PID (none of ours runs) only drops the pid file.
stop_started() {
	local name=$1 pid=$2 pidfile=$3 logfile=$4
	if [ -z "$pid" ]; then
		rm -f "$pidfile"
		log "not running"
		return 0
	fi
	kill -TERM "$pid"
	if ! wait_for "$START_TIMEOUT" pid_gone "$pid"; then
		die "$name (pid $pid) did not stop within ${START_TIMEOUT}s; see $logfile"
	fi
	rm -f "$pidfile"
	log "stopped (pid $pid)"
}

# node_script_pid PIDFILE SCRIPT: the pid in PIDFILE when it is a running
# node with SCRIPT on its command line (one of our npm stand-ins).
node_script_pid() {
	local pid
	pid="$(read_pidfile "$1")"
	if [ -n "$pid" ] && pid_alive "$pid" && grep -q node "/proc/$pid/comm" 2>/dev/null &&
		tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF "$2"; then
		printf '%s\n' "$pid"
	fi
}

# usage_exit NAME: the common usage message for start|stop|status scripts.
usage_exit() {
	printf 'usage: %s start|stop|status|pid  (pid: the running server'\''s, or nothing)\n' "$1" >&2
	exit 2
}
