package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestGroupsCoverTheStack(t *testing.T) {
	g := groupOf()
	for _, name := range []string{"gateway", "users", "catalog", "inventory", "orders", "payments", "notifications", "search"} {
		assert.Equal(t, "apps", g[name], name)
	}
	assert.Equal(t, "sidecars", g["daprd"])
	for _, name := range []string{"redis-server", "postgres", "mailpit", "kafka", "node"} {
		assert.Equal(t, "servers", g[name], name)
	}
	for _, name := range []string{"jaeger", "prometheus"} {
		assert.Equal(t, "telemetry", g[name], name)
	}
	for _, name := range g {
		assert.Contains(t, groups, name)
	}
}

func TestLabel(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want string
		ok   bool
	}{
		{"daprd", []string{"/x/.local/bin/daprd", "--app-id", "orders", "--app-port", "8083"}, "daprd:orders", true},
		{"daprd", []string{"daprd", "-app-id=gateway"}, "daprd:gateway", true},
		{"daprd", []string{"daprd", "app-id", "orders"}, "daprd", true}, // not a flag
		{"daprd", []string{"daprd", "--app-id"}, "daprd", true},         // no value
		{"node", []string{"node", "/x/.local/aws-emulators/node_modules/dynalite/cli.js", "--port", "14567"}, "node:dynalite", true},
		{"node", []string{"node", "/x/local/aws-emulators/fauxqs-server.mjs", "14566"}, "node:fauxqs", true},
		{"node", []string{"node", "/home/dev/.vscode-server/server-main.js"}, "", false},
		{"postgres", []string{"postgres: checkpointer"}, "postgres", true},
	} {
		got, ok := label(c.name, c.args)
		assert.Equal(t, c.ok, ok, "%v", c.args)
		assert.Equal(t, c.want, got, "%v", c.args)
	}
}
