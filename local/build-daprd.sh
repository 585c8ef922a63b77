#!/usr/bin/env bash
# Builds .local/bin/daprd (Dapr 1.14.0, from the local/daprd module) only when
# its inputs changed: local/daprd/go.mod, go.sum and *.go, the build command
# below and `go version`. Their hash is kept beside the binary in
# .local/bin/daprd.inputs, written only after a build whose `daprd --version`
# printed the expected version.
#
#   local/build-daprd.sh          build if needed
#   local/build-daprd.sh --check  exit 0 if up to date, 1 if a build is needed
#
# The first build downloads and compiles dapr's large dependency graph: it
# takes many minutes. Later ones use Go's build cache.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
SRC="$ROOT/local/daprd"
BIN_DIR="$ROOT/.local/bin"
OUT="$BIN_DIR/daprd"
STAMP="$OUT.inputs"
VERSION="1.14.0"
# As dapr's Makefile: the version for --version and for the logs' ver field.
BUILD=(go build -tags stablecomponents -ldflags "-X github.com/dapr/dapr/pkg/buildinfo.version=$VERSION -X github.com/dapr/kit/logger.DaprVersion=$VERSION")

log() { printf '[build-daprd] %s\n' "$*" >&2; }

# inputs_hash: one hash over everything the binary depends on.
inputs_hash() {
	(
		cd "$SRC"
		go version
		printf 'build: %s\n' "${BUILD[*]}"
		local f
		for f in go.mod go.sum $(LC_ALL=C ls -- *.go); do
			printf '== %s\n' "$f"
			cat -- "$f"
		done
	) | sha256sum | cut -d' ' -f1
}

up_to_date() {
	[ -x "$OUT" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$1" ]
}

mkdir -p "$BIN_DIR"
want="$(inputs_hash)"

if [ "${1:-}" = "--check" ]; then
	up_to_date "$want"
	exit
fi
[ $# -eq 0 ] || {
	echo "usage: $0 [--check]" >&2
	exit 2
}

# One build at a time (two `task up` at once, or the Taskfile and a human).
if command -v flock >/dev/null 2>&1; then
	exec 9>"$BIN_DIR/daprd.lock"
	flock 9
fi

if up_to_date "$want"; then
	log "up to date: $OUT ($VERSION)"
	exit 0
fi

log "building $OUT from local/daprd (Dapr $VERSION; the first build takes many minutes)"
start=$SECONDS
tmp="$OUT.tmp.$$"
trap 'rm -f "$tmp"' EXIT
(cd "$SRC" && "${BUILD[@]}" -o "$tmp" .)

got="$("$tmp" --version 2>&1 | tr -d '\r' | tail -n 1)"
if [ "$got" != "$VERSION" ]; then
	log "error: built daprd reports version '$got', want $VERSION"
	exit 1
fi
mv -f "$tmp" "$OUT"
printf '%s\n' "$want" >"$STAMP"
log "built $OUT ($VERSION) in $((SECONDS - start))s"
