# shellcheck shell=bash
# Installs the npm packages pinned in this folder (dynalite, fauxqs) into
# .local/aws-emulators, so the source tree stays clean. Sourced by
# local/dynalite.sh and local/fauxqs.sh after local/lib.sh:
#
#   source "$SHOPMESH_ROOT/local/aws-emulators/install.sh"
#   aws_emulators_install     # no-op while the lock file and Node are unchanged
#
# Sets AWS_EMULATORS_DIR (the install folder, with node_modules/).

AWS_EMULATORS_SRC="$SHOPMESH_ROOT/local/aws-emulators"
AWS_EMULATORS_DIR="$SHOPMESH_LOCAL/aws-emulators"
AWS_EMULATORS_NODE_MIN=20

# aws_emulators_check_node: die unless node >= 20 and npm are on PATH.
aws_emulators_check_node() {
	local hint="install Node.js >= $AWS_EMULATORS_NODE_MIN with npm (apt-get install nodejs npm; Debian 12's own nodejs is 18, too old: use a Node.js $AWS_EMULATORS_NODE_MIN+ build such as the one this machine image ships)"
	command -v node >/dev/null 2>&1 || die "node not found: $hint"
	command -v npm >/dev/null 2>&1 || die "npm not found: $hint"
	local major
	major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || true)"
	case "$major" in
	'' | *[!0-9]*) die "cannot tell the Node.js version of $(command -v node): $hint" ;;
	esac
	[ "$major" -ge "$AWS_EMULATORS_NODE_MIN" ] || die "node $(node --version) is too old: $hint"
}

# aws_emulators_stamp: what the installed tree depends on. The native LevelDB
# binding under dynalite is built for one Node ABI, so a Node upgrade
# reinstalls too.
aws_emulators_stamp() {
	{
		cat "$AWS_EMULATORS_SRC/package.json" "$AWS_EMULATORS_SRC/package-lock.json"
		node -p 'process.version + " " + process.versions.modules + " " + process.arch'
	} | sha256sum | cut -d' ' -f1
}

aws_emulators_install() {
	aws_emulators_check_node
	mkdir -p "$AWS_EMULATORS_DIR" "$SHOPMESH_RUN" "$SHOPMESH_LOGS"
	# Both scripts may start at once: one installs, the other waits for it.
	local lock_fd
	exec {lock_fd}>"$SHOPMESH_RUN/aws-emulators.install.lock"
	flock "$lock_fd"
	local want have=""
	want="$(aws_emulators_stamp)"
	[ -r "$AWS_EMULATORS_DIR/.stamp" ] && read -r have <"$AWS_EMULATORS_DIR/.stamp"
	# Our helper scripts change without the lock: copy them every time.
	cp "$AWS_EMULATORS_SRC"/*.mjs "$AWS_EMULATORS_DIR/"
	if [ "$want" = "$have" ] && [ -d "$AWS_EMULATORS_DIR/node_modules" ]; then
		exec {lock_fd}>&-
		return 0
	fi
	log "installing dynalite and fauxqs (npm ci) into $AWS_EMULATORS_DIR"
	rm -f "$AWS_EMULATORS_DIR/.stamp"
	cp "$AWS_EMULATORS_SRC/package.json" "$AWS_EMULATORS_SRC/package-lock.json" "$AWS_EMULATORS_DIR/"
	if ! (cd "$AWS_EMULATORS_DIR" && npm ci --no-audit --no-fund --loglevel=error) >"$SHOPMESH_LOGS/aws-emulators-install.log" 2>&1; then
		exec {lock_fd}>&-
		die "npm ci failed in $AWS_EMULATORS_DIR; see $SHOPMESH_LOGS/aws-emulators-install.log"
	fi
	printf '%s\n' "$want" >"$AWS_EMULATORS_DIR/.stamp"
	exec {lock_fd}>&-
}
