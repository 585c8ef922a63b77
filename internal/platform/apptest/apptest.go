// Package apptest builds an app's real fx modules in a unit test, without a
// sidecar, and reads the routes its API.md documents, so that a test can hold
// the two equal.
package apptest

import (
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"go.uber.org/fx"
)

// ClosedPort returns a loopback port nothing listens on.
func ClosedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return strconv.Itoa(port)
}

// Env sets what every app needs to build: its id, quiet logs, an app API
// token, and sidecar ports where nothing listens.
func Env(t *testing.T, appID string) {
	t.Helper()
	t.Setenv("APP_ID", appID)
	t.Setenv("LOG_LEVEL", "error")
	t.Setenv("APP_API_TOKEN", "sidecar-only")
	t.Setenv("DAPR_HTTP_PORT", ClosedPort(t))
	t.Setenv("DAPR_GRPC_PORT", ClosedPort(t))
}

// kit are the routes every app serves (health and metrics).
var kit = []string{"GET /healthz", "GET /readyz", "GET /metrics"}

// Routes builds modules and returns the routes the app serves as
// "METHOD /path", sorted, without the kit's health and metrics routes.
func Routes(t *testing.T, modules fx.Option) []string {
	t.Helper()
	var engine *gin.Engine
	app := fx.New(modules, fx.NopLogger, fx.Populate(&engine))
	if err := app.Err(); err != nil {
		t.Fatalf("building the app: %v", err)
	}
	var served []string
	for _, r := range engine.Routes() {
		if route := r.Method + " " + r.Path; !slices.Contains(kit, route) {
			served = append(served, route)
		}
	}
	slices.Sort(served)
	return served
}

// documentedRoute is a table row of API.md that starts with a route:
// | `GET /path` | ...
var documentedRoute = regexp.MustCompile("(?m)^\\| `([A-Z]+ /[^`]*)` \\|")

// Documented returns the routes the tables of the API.md at path list, sorted.
func Documented(t *testing.T, path string) []string {
	t.Helper()
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range documentedRoute.FindAllSubmatch(doc, -1) {
		out = append(out, string(m[1]))
	}
	slices.Sort(out)
	return out
}

// Split separates the event deliveries of an app's subscriptions (POST
// /events/...) from its other routes.
func Split(routes []string) (own, deliveries []string) {
	for _, r := range routes {
		if strings.HasPrefix(r, "POST /events/") {
			deliveries = append(deliveries, r)
		} else {
			own = append(own, r)
		}
	}
	return own, deliveries
}
