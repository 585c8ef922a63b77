#!/usr/bin/env bash
# Builds the deployment tools into .local/bin from the Go module proxy, each
# only when its inputs changed: the go.mod/go.sum of its module, the Go files of
# its own package (for the commands written here), the build command and
# `go version`. Their hash is kept beside the binary in <tool>.inputs and
# written only after a successful build (the same pattern as
# local/build-daprd.sh).
#
#   tools/build.sh TOOL...           build the tools that are out of date
#   tools/build.sh --check TOOL...   exit 0 if all are up to date, 1 if not
#
# Tools (module → package):
#   helm            tools      helm.sh/helm/v3/cmd/helm (assumes Kubernetes 1.34)
#   tflint          tools      github.com/terraform-linters/tflint
#   hclfmt          tools      ./cmd/hclfmt (Terraform formatting check)
#   kube-apiserver  tools/kube k8s.io/kubernetes/cmd/kube-apiserver (v1.34)
#   etcd            tools/kube go.etcd.io/etcd/server/v3
#   kubecheck       tools/kube ./cmd/kubecheck (server-side dry-run of manifests)
#
# First builds download and compile large dependency graphs (kube-apiserver
# takes many minutes on two cores); later ones use Go's build cache.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
BIN_DIR="$ROOT/.local/bin"

# The Kubernetes minor version helm assumes without --kube-version (it
# defaults to 1.20 otherwise) and the version of the kube-apiserver built here.
K8S_MAJOR=1
K8S_MINOR=34

log() { printf '[tools/build] %s\n' "$*" >&2; }

# spec TOOL: sets MOD (module dir, relative to ROOT), PKG, SRC (a package dir
# whose *.go files are inputs, or "") and LDFLAGS.
spec() {
	SRC="" LDFLAGS="-s -w"
	case "$1" in
	helm)
		MOD=tools PKG=helm.sh/helm/v3/cmd/helm
		local v
		v="$(cd "$ROOT/$MOD" && go list -m -f '{{.Version}}' helm.sh/helm/v3)"
		LDFLAGS+=" -X helm.sh/helm/v3/internal/version.version=$v"
		LDFLAGS+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=$K8S_MAJOR -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$K8S_MINOR"
		LDFLAGS+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=$K8S_MAJOR -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$K8S_MINOR"
		;;
	tflint) MOD=tools PKG=github.com/terraform-linters/tflint ;;
	hclfmt) MOD=tools PKG=./cmd/hclfmt SRC=tools/cmd/hclfmt ;;
	kube-apiserver)
		MOD=tools/kube PKG=k8s.io/kubernetes/cmd/kube-apiserver
		local v
		v="$(cd "$ROOT/$MOD" && go list -m -f '{{.Version}}' k8s.io/kubernetes)"
		LDFLAGS="-X k8s.io/component-base/version.gitVersion=$v -X k8s.io/component-base/version.gitMajor=$K8S_MAJOR -X k8s.io/component-base/version.gitMinor=$K8S_MINOR"
		;;
	etcd) MOD=tools/kube PKG=go.etcd.io/etcd/server/v3 ;;
	kubecheck) MOD=tools/kube PKG=./cmd/kubecheck SRC=tools/kube/cmd/kubecheck ;;
	*)
		echo "unknown tool: $1 (helm tflint hclfmt kube-apiserver etcd kubecheck)" >&2
		exit 2
		;;
	esac
}

inputs_hash() {
	(
		cd "$ROOT"
		go version
		printf 'build: %s %s %s\n' "$MOD" "$PKG" "$LDFLAGS"
		cat "$MOD/go.mod" "$MOD/go.sum"
		if [ -n "$SRC" ]; then
			local f
			for f in $(LC_ALL=C ls "$SRC"/*.go); do
				printf '== %s\n' "$f"
				cat -- "$f"
			done
		fi
	) | sha256sum | cut -d' ' -f1
}

up_to_date() { # TOOL HASH
	[ -x "$BIN_DIR/$1" ] && [ -f "$BIN_DIR/$1.inputs" ] && [ "$(cat "$BIN_DIR/$1.inputs")" = "$2" ]
}

check=0
if [ "${1:-}" = "--check" ]; then
	check=1
	shift
fi
[ $# -gt 0 ] || {
	echo "usage: $0 [--check] TOOL..." >&2
	exit 2
}
mkdir -p "$BIN_DIR"

status=0
for tool in "$@"; do
	spec "$tool"
	want="$(inputs_hash)"
	if [ $check = 1 ]; then
		up_to_date "$tool" "$want" || status=1
		continue
	fi
	# One build of a tool at a time (two tasks at once, or a task and a human).
	exec 9>"$BIN_DIR/$tool.lock"
	flock 9
	if up_to_date "$tool" "$want"; then
		log "up to date: $tool"
		exec 9>&-
		continue
	fi
	log "building $tool ($PKG in $MOD)"
	start=$SECONDS
	tmp="$BIN_DIR/$tool.tmp.$$"
	trap 'rm -f "$tmp"' EXIT
	(cd "$ROOT/$MOD" && go build -ldflags "$LDFLAGS" -o "$tmp" "$PKG")
	mv -f "$tmp" "$BIN_DIR/$tool"
	printf '%s\n' "$want" >"$BIN_DIR/$tool.inputs"
	log "built $tool in $((SECONDS - start))s"
	exec 9>&-
done
exit $status
