#!/usr/bin/env bash
# Runs a command and says when it starts, every 15 s while it runs and when it
# ends, with the seconds it took (the Taskfile's long build steps):
#
#   SHOPMESH_LOG_TAG=build local/timed.sh "what it does" CMD [ARG...]
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ $# -ge 2 ] || die "usage: $0 WHAT CMD [ARG...]"
timed "$@"
