// Package servicecall is the gateway's one way of calling a service through
// its Dapr sidecar and keeping the answer as it is — status, headers, body —
// for REST to pass on and GraphQL to decode. The per-service clients
// (catalogclient, usersclient, ordersclient, …) name the routes; this
// package does the call.
package servicecall

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/gateway/outbound"

	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// Invoker is Dapr HTTP service invocation (*outbound.Invoker).
type Invoker interface {
	Call(ctx context.Context, app, method, path string, query url.Values, body io.Reader, header http.Header) (*http.Response, error)
}

// Config tunes the calls to one service.
type Config struct {
	// Timeout bounds one call, so a hung service costs a client a 503
	// rather than a connection held until the sidecar gives up.
	Timeout time.Duration
	// MaxResponseBytes caps a buffered answer.
	MaxResponseBytes int64
}

// LoadConfig reads <PREFIX>_TIMEOUT (default 10s) and
// <PREFIX>_MAX_RESPONSE_BYTES (default maxBytes) through lookup.
func LoadConfig(lookup func(string) (string, bool), prefix string, maxBytes int) (Config, error) {
	l := config.NewLoader(lookup)
	cfg := Config{
		Timeout:          l.Duration(prefix+"_TIMEOUT", 10*time.Second),
		MaxResponseBytes: int64(l.Int(prefix+"_MAX_RESPONSE_BYTES", maxBytes)),
	}
	errs := []error{l.Err()}
	if cfg.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("config %s_TIMEOUT: must be positive", prefix))
	}
	if cfg.MaxResponseBytes <= 0 {
		errs = append(errs, fmt.Errorf("config %s_MAX_RESPONSE_BYTES: must be positive", prefix))
	}
	return cfg, errors.Join(errs...)
}

// Provide provides the client that build makes over the gateway's
// identity-forwarding invoker, with a Config that LoadConfig reads from the
// environment. The Config is read here rather than provided: every
// client's Config is a Config, one type the graph can hold only once.
func Provide[C any](prefix string, maxBytes int, build func(Invoker, Config) C) fx.Option {
	return fx.Provide(func(inv *outbound.Invoker) (C, error) {
		cfg, err := LoadConfig(os.LookupEnv, prefix, maxBytes)
		if err != nil {
			var none C
			return none, err
		}
		return build(inv, cfg), nil
	})
}

// Answer is a service's answer, read in full.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// Caller calls one app.
type Caller struct {
	app         string
	inv         Invoker
	cfg         Config
	unavailable error
}

// New returns a Caller of app. Every failure to reach it wraps unavailable
// (the client package's ErrUnavailable, which clients see as a 503).
func New(app string, inv Invoker, cfg Config, unavailable error) Caller {
	return Caller{app: app, inv: inv, cfg: cfg, unavailable: unavailable}
}

// Do sends method p?query with an optional JSON body.
func (c Caller) Do(ctx context.Context, method, p string, query url.Values, body []byte) (Answer, error) {
	return c.DoWith(ctx, method, p, query, body, nil)
}

// DoWith is Do with extra request headers (such as Idempotency-Key); the
// Accept and Content-Type it sets itself win over extra's.
func (c Caller) DoWith(ctx context.Context, method, p string, query url.Values, body []byte, extra http.Header) (Answer, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	header := extra.Clone()
	if header == nil {
		header = http.Header{}
	}
	header.Set("Accept", "application/json, "+problem.ContentType)
	var rd io.Reader
	if body != nil {
		header.Set("Content-Type", "application/json")
		rd = bytes.NewReader(body)
	}
	resp, err := c.inv.Call(ctx, c.app, method, p, query, rd, header)
	if err != nil {
		return Answer{}, fmt.Errorf("%s %s /%s: %w: %w", c.app, method, p, c.unavailable, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxResponseBytes+1))
	if err != nil {
		return Answer{}, fmt.Errorf("%s %s /%s: reading the answer: %w: %w", c.app, method, p, c.unavailable, err)
	}
	if int64(len(data)) > c.cfg.MaxResponseBytes {
		return Answer{}, fmt.Errorf("%s %s /%s: answer exceeds %d bytes: %w", c.app, method, p, c.cfg.MaxResponseBytes, c.unavailable)
	}
	// Our services answer every error as problem+json. Any other error came
	// from the sidecar or the mesh (no healthy instance, circuit open,
	// access denied) and means only that the service was not reached —
	// except a request line or headers too large for the sidecar, which only
	// a client's query string can make (the gateway's own headers are
	// small): that is the client's to shorten.
	if (resp.StatusCode == http.StatusRequestURITooLong || resp.StatusCode == http.StatusRequestHeaderFieldsTooLarge) &&
		!IsProblem(resp.Header.Get("Content-Type")) {
		return queryTooLong()
	}
	// Our services answer 200 with a JSON body. A bare 200 is daprd's own:
	// its HTTP app channel can answer so for a call that failed when other
	// calls ran at the same moment (docs/dapr-1.17.md); the service may not
	// have been reached.
	if resp.StatusCode == http.StatusOK && len(data) == 0 && resp.Header.Get("Content-Type") == "" {
		return Answer{}, fmt.Errorf("%s %s /%s: sidecar answered 200 without a body: %w", c.app, method, p, c.unavailable)
	}
	if resp.StatusCode >= 400 && !IsProblem(resp.Header.Get("Content-Type")) {
		return Answer{}, fmt.Errorf("%s %s /%s: sidecar answered %s: %s: %w",
			c.app, method, p, resp.Status, snippet(data), c.unavailable)
	}
	return Answer{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// queryTooLong is the answer to a request the sidecar refused as too large.
func queryTooLong() (Answer, error) {
	body, err := json.Marshal(problem.Malformed("the query string is too long"))
	if err != nil {
		return Answer{}, fmt.Errorf("encoding a problem: %w", err)
	}
	return Answer{
		Status: http.StatusBadRequest,
		Header: http.Header{"Content-Type": {problem.ContentType}},
		Body:   body,
	}, nil
}

// ContentType is the answer's Content-Type.
func (a Answer) ContentType() string { return a.Header.Get("Content-Type") }

// Problem decodes an error answer; ok is false when it is not problem+json.
func (a Answer) Problem() (p problem.Problem, ok bool) {
	return DecodeProblem(a.ContentType(), a.Body)
}

// Decode unmarshals a successful (2xx) answer of app into T.
func Decode[T any](app string, a Answer) (T, error) {
	var v T
	if a.Status < 200 || a.Status > 299 {
		return v, fmt.Errorf("decoding the answer of %s: status %d, want 2xx", app, a.Status)
	}
	if err := json.Unmarshal(a.Body, &v); err != nil {
		return v, fmt.Errorf("decoding the answer of %s: %w", app, err)
	}
	return v, nil
}

// IsProblem reports whether a Content-Type is application/problem+json.
func IsProblem(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == problem.ContentType
}

// DecodeProblem decodes a problem+json body; ok is false for anything else.
func DecodeProblem(contentType string, body []byte) (p problem.Problem, ok bool) {
	if !IsProblem(contentType) || json.Unmarshal(body, &p) != nil {
		return problem.Problem{}, false
	}
	return p, true
}

func snippet(b []byte) string {
	const max = 200
	if len(b) > max {
		return strconv.Quote(string(b[:max])) + "…"
	}
	return strconv.Quote(string(b))
}
