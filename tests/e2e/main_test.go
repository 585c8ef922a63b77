// Package e2e drives the running platform over HTTP as a client would. It
// reuses a stack that is already up, or starts one with `go tool task up`.
// The tests run only with SHOPMESH_INTEGRATION=1 (`go tool task test` sets it).
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var gateway = envOr("SHOPMESH_GATEWAY_URL", "http://127.0.0.1:8080")

// redisAddr is the stack's Redis, which the tests read behind the services'
// backs (streams, state) and give to an extra catalog instance.
var redisAddr = envOr("SHOPMESH_REDIS_ADDR", "127.0.0.1:16379")

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func TestMain(m *testing.M) {
	if os.Getenv("SHOPMESH_INTEGRATION") == "" {
		fmt.Println("e2e: skipped; set SHOPMESH_INTEGRATION=1 (go tool task test does)")
		os.Exit(m.Run())
	}
	if !ready(gateway) {
		cmd := exec.Command("go", "tool", "task", "up")
		cmd.Dir = repoRoot()
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: go tool task up:", err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

func requireStack(t *testing.T) {
	t.Helper()
	if os.Getenv("SHOPMESH_INTEGRATION") == "" {
		t.Skip("e2e: set SHOPMESH_INTEGRATION=1")
	}
}

func repoRoot() string {
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "dapr", "dapr.yaml")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			panic("e2e: repository root not found")
		}
		dir = parent
	}
}

func ready(base string) bool {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(base + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// response is a read HTTP answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), "body: %s", r.Body)
}

var client = &http.Client{Timeout: 15 * time.Second}

// call sends a request; body may be nil, a string, []byte or a value to
// JSON-encode. It comes from 127.0.0.1, the address that the suite's admin
// and anonymous traffic shares, so a loop of reads can outrun the gateway's
// per-client limit (50/s). Like a well-behaved client, call then waits out
// Retry-After and sends again: the limiter refused the request before
// anything handled it. The limits themselves are tested from addresses of
// their own (newShopper) and with raw bursts.
func call(t *testing.T, method, url string, body any, header ...string) response {
	t.Helper()
	for attempt := 1; ; attempt++ {
		r := callWith(t, client, method, url, body, header...)
		if attempt == 10 || !clientRateLimited(r) {
			return r
		}
		wait, err := strconv.Atoi(r.Header.Get("Retry-After"))
		if err != nil || wait < 1 {
			wait = 1
		}
		time.Sleep(time.Duration(wait) * time.Second)
	}
}

// clientRateLimited reports the gateway's general per-client limit, not the
// stricter sign-in limit nor an account's lock-out.
func clientRateLimited(r response) bool {
	if r.Status != http.StatusTooManyRequests {
		return false
	}
	var p problem
	return json.Unmarshal(r.Body, &p) == nil && strings.HasPrefix(p.Detail, "too many requests from this client")
}

// callWith is call through the HTTP client c.
func callWith(t *testing.T, c *http.Client, method, url string, body any, header ...string) response {
	t.Helper()
	r, err := send(c, method, url, body, header...)
	require.NoError(t, err)
	return r
}

// send is callWith without a *testing.T, for goroutines that may not fail
// the test.
func send(c *http.Client, method, url string, body any, header ...string) (response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return response{}, err
		}
		rd = bytes.NewReader(data)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return response{}, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// problem is what every error answer must be.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Field  string `json:"field"`
		Detail string `json:"detail"`
	} `json:"errors"`
}

func requireProblem(t *testing.T, r response, status int) problem {
	t.Helper()
	require.Equal(t, status, r.Status, "body: %s", r.Body)
	require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
	var p problem
	r.decode(t, &p)
	require.Equal(t, status, p.Status)
	require.NotEmpty(t, p.Type)
	require.NotEmpty(t, p.Title)
	return p
}

// localSecrets is the local secret store's file (.local/secrets.json), which
// go tool task up creates.
func localSecrets(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(), ".local", "secrets.json"))
	require.NoError(t, err, "the stack's secrets (go tool task up creates them)")
	var secrets map[string]string
	require.NoError(t, json.Unmarshal(raw, &secrets))
	return secrets
}

// eventually polls f until it holds or timeout passes; explain, if given,
// says what was seen last when it fails.
func eventually(t *testing.T, timeout time.Duration, what string, f func() bool, explain ...func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !f() {
		if time.Now().After(deadline) {
			for _, e := range explain {
				t.Log(e())
			}
			require.Fail(t, "timed out waiting: "+what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
