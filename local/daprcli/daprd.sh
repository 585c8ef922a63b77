#!/usr/bin/env bash
# The daprd the Dapr CLI finds under $DAPR_RUNTIME_PATH/.dapr/bin, installed
# there by `go tool task dapr:init` (a slim init that downloads nothing): it
# runs the daprd built from local/daprd (.local/bin/daprd, Dapr 1.17.5,
# unmodified) with the CLI's arguments, but with the scheduler switched off.
#
# Why: ShopMesh uses no jobs, actors or workflows and runs no scheduler (nor
# does local/runner). A run file's `schedulerHostAddress: ""` should say so,
# but CLI 1.16.5 replaces an empty value with localhost:50006
# (cmd/run.go, validateSchedulerHostAddress), and a sidecar that cannot reach
# a scheduler never reports ready. daprd reads an empty address as "no
# scheduler". Every other argument is passed through unchanged.
#
# The CLI gives daprd its own environment only (a run file's `env` reaches
# the apps), so SHOPMESH_SECRETS_FILE, the local secret store's file
# (components/*/secretstore.yaml), defaults to this checkout's, the one
# `go tool task infra:up` creates.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
daprd="$here/../../../bin/daprd" # .local/dapr/.dapr/bin -> .local/bin
export SHOPMESH_SECRETS_FILE="${SHOPMESH_SECRETS_FILE:-$(cd "$here/../../.." && pwd -P)/secrets.json}"

args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--scheduler-host-address)
		args+=("$1" "")
		shift
		[ $# -gt 0 ] && shift
		;;
	--scheduler-host-address=*) args+=("--scheduler-host-address=") && shift ;;
	*) args+=("$1") && shift ;;
	esac
done
exec "$daprd" "${args[@]}"
