package stack

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// The test binary doubles as a fake daprd and a fake app, so that the
// process tests need neither the real daprd nor the apps. A copy of it (see
// installFakes) is run with STACK_FAKE_PROCESS=1 in its environment (set via
// the template's common.env); it acts as daprd when given --app-id.
//
// Controls, also through the template's env:
//
//	FAKE_RECORD_DIR    write <dir>/<name>.json with argv, cwd and env
//	FAKE_EXIT=1        the app exits at once with status 3
//	FAKE_IGNORE_TERM=1 ignore SIGTERM
func TestMain(m *testing.M) {
	if os.Getenv("STACK_FAKE_PROCESS") == "1" {
		os.Exit(fakeMain())
	}
	os.Exit(m.Run())
}

type fakeRecord struct {
	Args []string          `json:"args"`
	Dir  string            `json:"dir"`
	Env  map[string]string `json:"env"`
}

func fakeMain() int {
	sig := make(chan os.Signal, 1)
	if os.Getenv("FAKE_IGNORE_TERM") == "1" {
		signal.Ignore(syscall.SIGTERM)
	} else {
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	}
	flags := map[string]string{}
	for i := 1; i+1 < len(os.Args); i++ {
		if strings.HasPrefix(os.Args[i], "--") && !strings.Contains(os.Args[i], "=") {
			flags[os.Args[i]] = os.Args[i+1]
		}
	}
	daprd := flags["--app-id"] != ""
	name := os.Getenv("APP_ID")
	if daprd {
		name = flags["--app-id"] + "-daprd"
	}
	if dir := os.Getenv("FAKE_RECORD_DIR"); dir != "" {
		wd, _ := os.Getwd()
		rec := fakeRecord{Args: os.Args[1:], Dir: wd, Env: map[string]string{}}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			rec.Env[k] = v
		}
		data, _ := json.Marshal(rec)
		// Name the record after the port, unique even for two instances of an app.
		port := os.Getenv("APP_PORT")
		if daprd {
			port = flags["--dapr-http-port"]
		}
		_ = os.WriteFile(filepath.Join(dir, name+"-"+port+".json"), data, 0o644)
	}
	fmt.Printf("fake %s started\n", name)
	if !daprd && os.Getenv("FAKE_EXIT") == "1" {
		fmt.Println("fake app: exiting as told")
		return 3
	}
	var ports []string
	if daprd {
		ports = []string{flags["--dapr-http-port"], flags["--dapr-grpc-port"], flags["--dapr-internal-grpc-port"], flags["--metrics-port"]}
	} else {
		ports = []string{os.Getenv("APP_PORT")}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("/v1.0/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	for _, p := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:"+p)
		if err != nil {
			fmt.Println("fake:", err)
			return 1
		}
		go func() { _ = http.Serve(ln, mux) }()
	}
	<-sig
	fmt.Printf("fake %s stopping\n", name)
	return 0
}

// installFakes puts the fake (a link to, or copy of, the test binary) at each path.
func installFakes(t *testing.T, paths ...string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(self, p); err == nil {
			continue
		}
		src, err := os.Open(self)
		if err != nil {
			t.Fatal(err)
		}
		dst, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(dst, src); err != nil {
			t.Fatal(err)
		}
		src.Close()
		if err := dst.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func readRecord(t *testing.T, path string) fakeRecord {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("record: %v", err)
	}
	var r fakeRecord
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return r
}
