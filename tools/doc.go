// Package tools pins the developer tools ShopMesh builds from the Go module
// proxy: mailpit (the local SMTP sink), helm and tflint (tool directives of
// this module), hclfmt (./cmd/hclfmt, Terraform formatting), and in the
// module under kube/ the kube-apiserver and etcd that validate the charts
// server-side with kubecheck (kube/cmd/kubecheck). They live in modules of
// their own so their many dependencies never reach the services' go.mod.
// Build them with tools/build.sh, which rebuilds only what changed.
package tools
