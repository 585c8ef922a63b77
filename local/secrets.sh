#!/usr/bin/env bash
# Local secrets for ShopMesh: one flat JSON object of strings in
# <repo>/.local/secrets.json (mode 0600, git-ignored), made of random values.
#
#   local/secrets.sh ensure     create the file, or add the keys it lacks;
#                               existing values are never changed
#   local/secrets.sh path       print the file's absolute path
#   local/secrets.sh get KEY    print one value (error if the key is missing)
#
# Keys: admin-email, admin-password, postgres-password (superuser of the
# local cluster), and for each service in PG_SERVICES <svc>-db-password and
# <svc>-store-dsn (a ready libpq keyword/value DSN for that service's role).
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Services that own a PostgreSQL database. Adding a service is one word here
# (plus its migrate/sql/<svc>/ folder).
PG_SERVICES=(catalog)

SECRETS_FILE="$SHOPMESH_LOCAL/secrets.json"
# The DSNs are written once; a later change of SHOPMESH_PG_PORT does not
# rewrite existing ones (delete the key and rerun 'ensure' for that).
PG_PORT="${SHOPMESH_PG_PORT:-15432}"

# rand_hex BYTES: 2*BYTES random lowercase hex characters from the kernel.
rand_hex() {
	od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}

need_jq() {
	command -v jq >/dev/null 2>&1 || apt_install jq
}

# json_get FILE KEY: the string value of KEY, or nothing when absent.
json_get() {
	jq -r --arg k "$2" 'if has($k) then .[$k] | tostring else empty end' "$1"
}

# ensure_key KEY VALUE: set KEY in $WORK only when it is absent. VALUE is
# only a candidate: an existing value always wins.
ensure_key() {
	if [ "$(jq --arg k "$1" 'has($k)' "$WORK")" = "true" ]; then
		return 0
	fi
	jq --arg k "$1" --arg v "$2" '.[$k] = $v' "$WORK" >"$WORK.next"
	mv "$WORK.next" "$WORK"
	ADDED+=("$1")
}

cmd_ensure() {
	need_jq
	mkdir -p "$SHOPMESH_LOCAL"
	local created=0
	umask 077
	if [ ! -e "$SECRETS_FILE" ]; then
		created=1
	elif ! jq -e 'type == "object"' "$SECRETS_FILE" >/dev/null 2>&1; then
		die "$SECRETS_FILE is not a JSON object; fix or remove it (it is never overwritten)"
	fi

	# Work on a private copy and replace the file only if a key was added,
	# so a run that adds nothing leaves the file byte-for-byte unchanged.
	WORK="$(mktemp "$SHOPMESH_LOCAL/.secrets.XXXXXX")"
	trap 'rm -f "$WORK" "$WORK.next"' EXIT
	if [ "$created" -eq 1 ]; then
		echo '{}' >"$WORK"
	else
		cat "$SECRETS_FILE" >"$WORK"
	fi
	ADDED=()

	ensure_key admin-email "admin+$(rand_hex 4)@shopmesh.local"
	ensure_key admin-password "$(rand_hex 16)"
	ensure_key postgres-password "$(rand_hex 16)"
	local svc pw
	for svc in "${PG_SERVICES[@]}"; do
		ensure_key "$svc-db-password" "$(rand_hex 16)"
		pw="$(json_get "$WORK" "$svc-db-password")"
		ensure_key "$svc-store-dsn" "host=127.0.0.1 port=$PG_PORT user=$svc password=$pw dbname=$svc sslmode=disable"
	done

	if [ "${#ADDED[@]}" -gt 0 ]; then
		jq -S . "$WORK" >"$WORK.next" # stable key order, readable diffs
		chmod 600 "$WORK.next"
		mv "$WORK.next" "$SECRETS_FILE"
	fi
	chmod 600 "$SECRETS_FILE"

	if [ "$created" -eq 1 ]; then
		log "created $SECRETS_FILE; the admin credentials are its keys admin-email and admin-password"
	elif [ "${#ADDED[@]}" -gt 0 ]; then
		log "added ${ADDED[*]} to $SECRETS_FILE"
	fi
}

cmd_get() {
	[ -n "${1:-}" ] || die "usage: $0 get KEY"
	[ -r "$SECRETS_FILE" ] || die "$SECRETS_FILE does not exist; run: local/secrets.sh ensure"
	need_jq
	local value
	value="$(json_get "$SECRETS_FILE" "$1")"
	[ -n "$value" ] || die "key '$1' missing in $SECRETS_FILE; run: local/secrets.sh ensure"
	printf '%s\n' "$value"
}

case "${1:-}" in
ensure) cmd_ensure ;;
path) printf '%s\n' "$SECRETS_FILE" ;;
get) cmd_get "${2:-}" ;;
*)
	printf 'usage: %s ensure|path|get KEY\n' "$0" >&2
	exit 2
	;;
esac
