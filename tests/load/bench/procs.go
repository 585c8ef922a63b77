package main

import "strings"

// Process groups, in the order the table shows them.
var groups = []string{"apps", "sidecars", "servers", "telemetry"}

// groupOf maps the process names the bench measures to their group.
func groupOf() map[string]string {
	m := map[string]string{"daprd": "sidecars"}
	for _, app := range []string{"gateway", "users", "catalog", "inventory", "orders", "payments", "notifications", "search"} {
		m[app] = "apps"
	}
	// postgres counts every backend, as each connection is a process of
	// its own; node runs the AWS stand-ins (see label).
	for _, srv := range []string{"redis-server", "postgres", "mailpit", "kafka", "node"} {
		m[srv] = "servers"
	}
	// The trace backend and Prometheus: what seeing the stack costs.
	for _, srv := range []string{"jaeger", "prometheus"} {
		m[srv] = "telemetry"
	}
	return m
}

// label names a process for the split by process: a daprd by its app,
// node by the stand-in it runs. Other node processes (an editor's, say)
// are not the stack's and are left out.
func label(name string, args []string) (string, bool) {
	switch name {
	case "daprd":
		if id := flagValue(args, "app-id"); id != "" {
			return "daprd:" + id, true
		}
	case "node":
		for _, a := range args {
			for _, standIn := range []string{"dynalite", "fauxqs"} {
				if strings.Contains(a, standIn) {
					return "node:" + standIn, true
				}
			}
		}
		return "", false
	}
	return name, true
}

// flagValue returns the value of flag name in args ("--name v", "-name v",
// "--name=v" or "-name=v"); "" when absent.
func flagValue(args []string, name string) string {
	for i, a := range args {
		s := strings.TrimLeft(a, "-")
		if len(s) == len(a) {
			continue // not a flag
		}
		if v, ok := strings.CutPrefix(s, name+"="); ok {
			return v
		}
		if s == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}
