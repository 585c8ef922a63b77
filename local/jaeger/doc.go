// Package jaeger pins the Jaeger build the local stack runs: Jaeger v2 (an
// OpenTelemetry Collector with Jaeger's storage and query), receiving OTLP
// from the apps and their sidecars and answering the trace query API.
// local/jaeger.sh starts it; `go tool task build:jaeger` builds it into
// .local/bin/jaeger.
package jaeger
