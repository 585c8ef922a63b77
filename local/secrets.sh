#!/usr/bin/env bash
# Local secrets for ShopMesh: one flat JSON object of strings in
# <repo>/.local/secrets.json (mode 0600, git-ignored), made of random values.
#
#   local/secrets.sh ensure          create the file, or add the keys it lacks;
#                                    existing values are never changed
#   local/secrets.sh path            print the file's absolute path
#   local/secrets.sh get KEY         print one value (error if the key is missing)
#   local/secrets.sh rotate-jwt-key  make the JWT signing key the previous one
#                                    and create a new current key
#
# Keys: admin-email, admin-password, postgres-password (superuser of the
# local cluster), for each service in PG_SERVICES <svc>-db-password and
# <svc>-store-dsn (a ready libpq keyword/value DSN for that service's role),
# and the users service's access-token signing key: jwt-signing-key (PKCS#8
# PEM of a P-256 key, for ES256) with its key id jwt-signing-key-id, plus,
# after a rotation, jwt-previous-signing-key and jwt-previous-signing-key-id;
# and the storefront's session-cookie key storefront-session-key (64 hex).
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Services that own a PostgreSQL database. Adding a service is one word here
# (plus its migrate/sql/<svc>/ folder).
PG_SERVICES=(catalog users orders payments notifications)

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

need_openssl() {
	command -v openssl >/dev/null 2>&1 || apt_install openssl
}

# new_signing_key: a fresh P-256 private key, PKCS#8 PEM, on stdout.
new_signing_key() {
	local key
	key="$(openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null)" ||
		die "openssl could not generate a P-256 key"
	case "$key" in
	"-----BEGIN PRIVATE KEY-----"*) printf '%s\n' "$key" ;;
	*) die "openssl did not write a PKCS#8 private key" ;;
	esac
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

# set_key KEY VALUE: set KEY in $WORK, replacing any value it has.
set_key() {
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
	# A new signing key always comes with a new key id: a kid names one key.
	if [ "$(jq 'has("jwt-signing-key")' "$WORK")" != "true" ]; then
		need_openssl
		local key
		key="$(new_signing_key)"
		set_key jwt-signing-key "$key"
		set_key jwt-signing-key-id "$(rand_hex 8)"
	fi
	ensure_key jwt-signing-key-id "$(rand_hex 8)"
	# The storefront seals its session cookies with this AES-256 key.
	ensure_key storefront-session-key "$(rand_hex 32)"

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

# cmd_rotate_jwt_key: the current signing key and id become the previous
# ones (the users service keeps publishing the previous public key, so
# tokens it signed stay valid until they expire) and a new key with a new id
# becomes current. The file is replaced atomically (rename) and stays 0600.
cmd_rotate_jwt_key() {
	[ -r "$SECRETS_FILE" ] || die "$SECRETS_FILE does not exist; run: local/secrets.sh ensure"
	need_jq
	need_openssl
	umask 077
	WORK="$(mktemp "$SHOPMESH_LOCAL/.secrets.XXXXXX")"
	trap 'rm -f "$WORK" "$WORK.next"' EXIT
	cat "$SECRETS_FILE" >"$WORK"
	jq -e 'type == "object"' "$WORK" >/dev/null 2>&1 || die "$SECRETS_FILE is not a JSON object"

	local old_key old_kid new_key new_kid
	old_key="$(json_get "$WORK" jwt-signing-key)"
	old_kid="$(json_get "$WORK" jwt-signing-key-id)"
	if [ -z "$old_key" ] || [ -z "$old_kid" ]; then
		die "no jwt-signing-key to rotate; run: local/secrets.sh ensure"
	fi
	new_key="$(new_signing_key)"
	new_kid="$(rand_hex 8)"
	[ "$new_kid" != "$old_kid" ] || die "the new key id equals the old one; run the rotation again"

	jq -S --arg pk "$old_key" --arg pkid "$old_kid" --arg k "$new_key" --arg kid "$new_kid" \
		'. + {"jwt-previous-signing-key": $pk, "jwt-previous-signing-key-id": $pkid,
		      "jwt-signing-key": $k, "jwt-signing-key-id": $kid}' "$WORK" >"$WORK.next"
	chmod 600 "$WORK.next"
	mv "$WORK.next" "$SECRETS_FILE"
	log "rotated the JWT signing key: current kid $new_kid, previous kid $old_kid"
	log "the local file secret store reads $SECRETS_FILE only when daprd starts: restart the users sidecar (stop its daprd, then go tool task up)"
}

case "${1:-}" in
ensure) cmd_ensure ;;
path) printf '%s\n' "$SECRETS_FILE" ;;
get) cmd_get "${2:-}" ;;
rotate-jwt-key) cmd_rotate_jwt_key ;;
*)
	printf 'usage: %s ensure|path|get KEY|rotate-jwt-key\n' "$0" >&2
	exit 2
	;;
esac
