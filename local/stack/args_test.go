package stack

import (
	"reflect"
	"strings"
	"testing"
)

func TestDaprdArgsGolden(t *testing.T) {
	base := AppSpec{
		ID:                   "gateway",
		Dir:                  "/repo/apps/gateway",
		Ports:                Ports{App: 8080, DaprHTTP: 3600, DaprGRPC: 50600, DaprInternalGRPC: 50700, Metrics: 9600},
		AppProtocol:          "http",
		LogLevel:             "info",
		EnableAppHealthCheck: true,
		AppHealthCheckPath:   "/healthz",
		Config:               "/repo/dapr/config.yaml",
		ResourcesPaths:       []string{"/repo/components/local", "/repo/dapr/resources"},
	}
	cases := []struct {
		name   string
		change func(*AppSpec)
		want   []string
	}{
		{
			name:   "template app",
			change: func(*AppSpec) {},
			want: []string{
				"--app-id", "gateway",
				"--app-port", "8080",
				"--app-protocol", "http",
				"--app-channel-address", "127.0.0.1",
				"--dapr-http-port", "3600",
				"--dapr-grpc-port", "50600",
				"--dapr-internal-grpc-port", "50700",
				"--dapr-listen-addresses", "127.0.0.1",
				"--metrics-port", "9600",
				"--resources-path", "/repo/components/local",
				"--resources-path", "/repo/dapr/resources",
				"--config", "/repo/dapr/config.yaml",
				"--log-level", "info",
				"--enable-app-health-check=true",
				"--app-health-check-path", "/healthz",
			},
		},
		{
			name: "json logs, no health check, no config, one resources path, grpc",
			change: func(s *AppSpec) {
				s.ID = "catalog"
				s.Ports = Ports{App: 18082, DaprHTTP: 13602, DaprGRPC: 15602, DaprInternalGRPC: 15702, Metrics: 19602}
				s.AppProtocol = "grpc"
				s.LogLevel = "debug"
				s.LogAsJSON = true
				s.EnableAppHealthCheck = false
				s.AppHealthCheckPath = ""
				s.Config = ""
				s.ResourcesPaths = []string{"/tmp/res"}
			},
			want: []string{
				"--app-id", "catalog",
				"--app-port", "18082",
				"--app-protocol", "grpc",
				"--app-channel-address", "127.0.0.1",
				"--dapr-http-port", "13602",
				"--dapr-grpc-port", "15602",
				"--dapr-internal-grpc-port", "15702",
				"--dapr-listen-addresses", "127.0.0.1",
				"--metrics-port", "19602",
				"--resources-path", "/tmp/res",
				"--log-level", "debug",
				"--log-as-json=true",
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := base.Clone()
			c.change(&s)
			got := DaprdArgs(s)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("DaprdArgs:\n got %s\nwant %s", strings.Join(got, " "), strings.Join(c.want, " "))
			}
			for _, a := range got {
				if strings.Contains(a, "placement") {
					t.Errorf("no placement flag wanted, got %q", a)
				}
			}
		})
	}
}

func TestProcessEnv(t *testing.T) {
	s := AppSpec{
		ID:    "catalog",
		Ports: Ports{App: 8082, DaprHTTP: 3602, DaprGRPC: 50602, DaprInternalGRPC: 50702, Metrics: 9602},
		Env:   map[string]string{"SHOPMESH_ENV": "local", "REDIS_ADDR": "127.0.0.1:16379"},
	}
	l := Layout{SecretsFile: "/repo/.local/secrets.json"}
	tok := Tokens{AppAPIToken: "app-token", DaprAPIToken: "dapr-token"}

	wantDaprd := map[string]string{
		"SHOPMESH_ENV":          "local",
		"REDIS_ADDR":            "127.0.0.1:16379",
		"SHOPMESH_SECRETS_FILE": "/repo/.local/secrets.json",
		"APP_API_TOKEN":         "app-token",
		"DAPR_API_TOKEN":        "dapr-token",
	}
	if got := DaprdEnv(s, l, tok); !reflect.DeepEqual(got, wantDaprd) {
		t.Errorf("DaprdEnv:\n got %v\nwant %v", got, wantDaprd)
	}
	wantApp := map[string]string{
		"APP_ID":            "catalog",
		"APP_PORT":          "8082",
		"DAPR_HTTP_PORT":    "3602",
		"DAPR_GRPC_PORT":    "50602",
		"DAPR_METRICS_PORT": "9602",
	}
	for k, v := range wantDaprd {
		wantApp[k] = v
	}
	if got := AppEnv(s, l, tok); !reflect.DeepEqual(got, wantApp) {
		t.Errorf("AppEnv:\n got %v\nwant %v", got, wantApp)
	}

	// The runner's environment comes first; what the stack sets wins.
	base := []string{"PATH=/bin", "DAPR_API_TOKEN=stale", "APP_PORT=1", "HOME=/root"}
	got := mergeEnv(base, map[string]string{"DAPR_API_TOKEN": "new", "APP_PORT": "8082"})
	want := []string{"PATH=/bin", "HOME=/root", "APP_PORT=8082", "DAPR_API_TOKEN=new"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mergeEnv = %v, want %v", got, want)
	}
}

func TestNewTokens(t *testing.T) {
	a, err := NewTokens()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewTokens()
	if len(a.AppAPIToken) != 64 || a.AppAPIToken == a.DaprAPIToken || a == b {
		t.Fatalf("tokens must be random and distinct: %+v %+v", a, b)
	}
}
