package stack

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// LoopbackAddress is where the app's channel and the Dapr APIs listen.
const LoopbackAddress = "127.0.0.1"

// daprdFlag maps one value of an AppSpec to a daprd flag (1.17.5 accepts them all). values returns
// the flag's values: none omits the flag, several repeat it.
type daprdFlag struct {
	name   string
	values func(AppSpec) []string
	// boolean flags are passed as --name=true (pflag would otherwise take a
	// separate "true" for a positional argument).
	boolean bool
}

func one(f func(AppSpec) string) func(AppSpec) []string {
	return func(s AppSpec) []string {
		if v := f(s); v != "" {
			return []string{v}
		}
		return nil
	}
}

func port(f func(AppSpec) int) func(AppSpec) []string {
	return func(s AppSpec) []string {
		if p := f(s); p > 0 {
			return []string{strconv.Itoa(p)}
		}
		return nil
	}
}

func flagIf(f func(AppSpec) bool) func(AppSpec) []string {
	return func(s AppSpec) []string {
		if f(s) {
			return []string{"true"}
		}
		return nil
	}
}

func constant(v string) func(AppSpec) []string { return func(AppSpec) []string { return []string{v} } }

// daprdFlags is the whole mapping from template to daprd command line, in
// argv order. No placement address is given: ShopMesh uses no actors.
var daprdFlags = []daprdFlag{
	{name: "--app-id", values: one(func(s AppSpec) string { return s.ID })},
	{name: "--app-port", values: port(func(s AppSpec) int { return s.App })},
	{name: "--app-protocol", values: one(func(s AppSpec) string { return s.AppProtocol })},
	{name: "--app-channel-address", values: constant(LoopbackAddress)},
	{name: "--dapr-http-port", values: port(func(s AppSpec) int { return s.DaprHTTP })},
	{name: "--dapr-grpc-port", values: port(func(s AppSpec) int { return s.DaprGRPC })},
	{name: "--dapr-internal-grpc-port", values: port(func(s AppSpec) int { return s.DaprInternalGRPC })},
	{name: "--dapr-listen-addresses", values: constant(LoopbackAddress)},
	{name: "--metrics-port", values: port(func(s AppSpec) int { return s.Metrics })},
	{name: "--resources-path", values: func(s AppSpec) []string { return s.ResourcesPaths }},
	{name: "--config", values: one(func(s AppSpec) string { return s.Config })},
	{name: "--log-level", values: one(func(s AppSpec) string { return s.LogLevel })},
	{name: "--log-as-json", values: flagIf(func(s AppSpec) bool { return s.LogAsJSON }), boolean: true},
	{name: "--enable-app-health-check", values: flagIf(func(s AppSpec) bool { return s.EnableAppHealthCheck }), boolean: true},
	{name: "--app-health-check-path", values: one(func(s AppSpec) string { return s.AppHealthCheckPath })},
}

// DaprdArgs returns daprd's arguments (without the program name) for spec.
func DaprdArgs(s AppSpec) []string {
	var args []string
	for _, f := range daprdFlags {
		for _, v := range f.values(s) {
			if f.boolean {
				args = append(args, f.name+"="+v)
			} else {
				args = append(args, f.name, v)
			}
		}
	}
	return args
}

// Tokens are the API tokens shared by an app and its daprd: daprd requires
// DAPR_API_TOKEN on calls to its API and sends APP_API_TOKEN to the app; the
// app does the reverse. New ones are made on each start.
type Tokens struct {
	AppAPIToken  string
	DaprAPIToken string
}

// NewTokens returns two random tokens.
func NewTokens() (Tokens, error) {
	gen := func() (string, error) {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return "", fmt.Errorf("random token: %w", err)
		}
		return hex.EncodeToString(b), nil
	}
	app, err := gen()
	if err != nil {
		return Tokens{}, err
	}
	dapr, err := gen()
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{AppAPIToken: app, DaprAPIToken: dapr}, nil
}

// Env variable names set by the stack.
const (
	EnvSecretsFile  = "SHOPMESH_SECRETS_FILE"
	EnvAppAPIToken  = "APP_API_TOKEN"
	EnvDaprAPIToken = "DAPR_API_TOKEN"
)

// DaprdEnv returns the variables daprd gets on top of the runner's own
// environment: common.env and the app's env, the secrets file and the tokens.
func DaprdEnv(s AppSpec, l Layout, t Tokens) map[string]string {
	env := make(map[string]string, len(s.Env)+3)
	for k, v := range s.Env {
		env[k] = v
	}
	env[EnvSecretsFile] = l.SecretsFile
	env[EnvAppAPIToken] = t.AppAPIToken
	env[EnvDaprAPIToken] = t.DaprAPIToken
	return env
}

// AppEnv returns the variables the app gets on top of the runner's own
// environment: those of DaprdEnv plus what the Dapr CLI gives an app.
func AppEnv(s AppSpec, l Layout, t Tokens) map[string]string {
	env := DaprdEnv(s, l, t)
	env["APP_ID"] = s.ID
	env["APP_PORT"] = strconv.Itoa(s.App)
	env["DAPR_HTTP_PORT"] = strconv.Itoa(s.DaprHTTP)
	env["DAPR_GRPC_PORT"] = strconv.Itoa(s.DaprGRPC)
	env["DAPR_METRICS_PORT"] = strconv.Itoa(s.Metrics)
	return env
}

// mergeEnv returns base (KEY=VALUE entries) with the overrides applied: an
// overridden key is dropped from base and the overrides follow, sorted.
func mergeEnv(base []string, overrides map[string]string) []string {
	out := make([]string, 0, len(base)+len(overrides))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := overrides[k]; ok {
			continue
		}
		out = append(out, kv)
	}
	keys := make([]string, 0, len(overrides))
	for k := range overrides {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+overrides[k])
	}
	return out
}

// processEnv is the full environment of a started process.
func processEnv(overrides map[string]string) []string {
	return mergeEnv(os.Environ(), overrides)
}
