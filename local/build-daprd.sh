#!/usr/bin/env bash
# Builds .local/bin/daprd and .local/bin/sentry (Dapr 1.17.5: the runtime and
# the Sentry certificate authority, both from the local/daprd module), each
# only when its inputs changed: local/daprd/go.mod, go.sum and *.go, the build
# command below with the binary's package, and `go version`. Their hash is
# kept beside each binary in .local/bin/<name>.inputs, written only after a
# build whose binary carries the expected version.
#
# Sentry is only used by dapr/aws/acl_test.go: Dapr access control needs the
# mTLS identities Sentry issues. Its package lives in the dapr/dapr module
# daprd already requires, so local/daprd's go.sum covers it.
#
#   local/build-daprd.sh          build what is needed
#   local/build-daprd.sh --check  exit 0 if both are up to date, 1 if a build is needed
#
# The first build downloads and compiles dapr's large dependency graph: it
# takes many minutes. Later ones use Go's build cache.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
SRC="$ROOT/local/daprd"
BIN_DIR="$ROOT/.local/bin"
VERSION="1.17.5"
# As dapr's Makefile: the version for --version and for the logs' ver field.
BUILD=(go build -tags stablecomponents -ldflags "-X github.com/dapr/dapr/pkg/buildinfo.version=$VERSION -X github.com/dapr/kit/logger.DaprVersion=$VERSION")
# The binaries, in build order, and the Go package of each (run from $SRC).
NAMES=(daprd sentry)
declare -A PACKAGE=([daprd]=. [sentry]=github.com/dapr/dapr/cmd/sentry)

# shellcheck source=SCRIPTDIR/lib.sh
source "$ROOT/local/lib.sh" # log, timed

# inputs_hash NAME: one hash over everything NAME's binary depends on.
inputs_hash() {
	(
		cd "$SRC"
		go version
		printf 'build: %s %s\n' "${BUILD[*]}" "${PACKAGE[$1]}"
		local f
		for f in go.mod go.sum $(LC_ALL=C ls -- *.go); do
			printf '== %s\n' "$f"
			cat -- "$f"
		done
	) | sha256sum | cut -d' ' -f1
}

# up_to_date NAME HASH
up_to_date() {
	local out="$BIN_DIR/$1"
	[ -x "$out" ] && [ -f "$out.inputs" ] && [ "$(cat "$out.inputs")" = "$2" ]
}

# version_ok NAME FILE: the built binary is Dapr $VERSION. daprd prints its
# version; sentry has no such flag, so its build info must show the dapr/dapr
# module at v$VERSION and the version ldflag.
version_ok() {
	if [ "$1" = daprd ]; then
		local got
		got="$("$2" --version 2>&1 | tr -d '\r' | tail -n 1)"
		[ "$got" = "$VERSION" ] || {
			log "error: built daprd reports version '$got', want $VERSION"
			return 1
		}
		return 0
	fi
	local info
	info="$(go version -m "$2")"
	if ! grep -Eq "^[[:space:]]mod[[:space:]]+github\.com/dapr/dapr[[:space:]]+v${VERSION//./\\.}[[:space:]]" <<<"$info" ||
		! grep -Fq -- "-X github.com/dapr/dapr/pkg/buildinfo.version=$VERSION " <<<"$info"; then
		log "error: built $1 is not Dapr $VERSION; its build info:"
		printf '%s\n' "$info" | grep -E '^[[:space:]](path|mod|build[[:space:]]+-ldflags)' >&2
		return 1
	fi
}

mkdir -p "$BIN_DIR"
declare -A want
for name in "${NAMES[@]}"; do
	want[$name]="$(inputs_hash "$name")"
done

if [ "${1:-}" = "--check" ]; then
	for name in "${NAMES[@]}"; do
		up_to_date "$name" "${want[$name]}" || exit 1
	done
	exit 0
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

tmp=""
trap 'rm -f "$tmp"' EXIT
for name in "${NAMES[@]}"; do
	out="$BIN_DIR/$name"
	if up_to_date "$name" "${want[$name]}"; then
		log "up to date: $out ($VERSION)"
		continue
	fi
	log "building $out from local/daprd (Dapr $VERSION; the first build takes many minutes)"
	tmp="$out.tmp.$$"
	(cd "$SRC" && timed "go build $name" "${BUILD[@]}" -o "$tmp" "${PACKAGE[$name]}")
	version_ok "$name" "$tmp"
	mv -f "$tmp" "$out"
	printf '%s\n' "${want[$name]}" >"$out.inputs"
	log "built $out ($VERSION)"
done
