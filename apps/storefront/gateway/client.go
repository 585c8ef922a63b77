// Package gateway is the storefront's client of ShopMesh's public REST API:
// plain HTTP to the gateway, as any third-party client calls it, with the
// shopper's access token as a Bearer token. It never reaches Dapr or another
// service. Calls continue the page's trace (an otelhttp transport) and carry
// its request id and the shopper's address (X-Forwarded-For), which the
// gateway believes when it lists the storefront in TRUSTED_PROXIES.
package gateway

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
	"strings"
	"time"

	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/logging"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
	"github.com/shopmesh/shopmesh/internal/platform/telemetry"
)

// Module provides the Client configured from the environment.
var Module = fx.Provide(
	func() (Config, error) { return LoadConfig(os.LookupEnv) },
	func(cfg Config, tr telemetry.Tracing) *Client { return New(cfg, Traced(http.DefaultTransport, tr)) },
)

// Config says where the gateway is and how long to wait for it.
type Config struct {
	BaseURL string        // GATEWAY_URL
	Timeout time.Duration // GATEWAY_TIMEOUT: one call, so a hung gateway costs a page, not a connection
}

// LoadConfig reads Config through lookup (os.LookupEnv in production).
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	l := config.NewLoader(lookup)
	cfg := Config{
		BaseURL: strings.TrimSuffix(l.String("GATEWAY_URL", "http://127.0.0.1:8080"), "/"),
		Timeout: l.Duration("GATEWAY_TIMEOUT", 10*time.Second),
	}
	errs := []error{l.Err()}
	if u, err := url.Parse(cfg.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("config GATEWAY_URL: %q is not an http(s) URL", cfg.BaseURL))
	}
	if cfg.Timeout <= 0 {
		errs = append(errs, errors.New("config GATEWAY_TIMEOUT: must be positive"))
	}
	return cfg, errors.Join(errs...)
}

// Traced wraps base so that every call is a client span of the caller's
// trace ("GET gateway") and sends its traceparent.
func Traced(base http.RoundTripper, tr telemetry.Tracing) http.RoundTripper {
	return tr.Transport(base, func(_ string, r *http.Request) string { return r.Method + " gateway" })
}

// ErrUnreachable: the gateway did not answer (refused, reset, timed out).
var ErrUnreachable = errors.New("the gateway cannot be reached")

// Error is an answer of the gateway other than a success: its status, the
// problem document (when it sent one) and Retry-After.
type Error struct {
	Status     int
	Problem    problem.Problem
	RetryAfter time.Duration // zero when the answer had none
}

func (e *Error) Error() string {
	return fmt.Sprintf("gateway answered %d: %s", e.Status, e.Problem.Detail)
}

// StatusOf returns the status of the gateway's answer err carries, or 0.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// maxResponseBytes caps what one answer may hold; the largest, a page of
// 100 products, is far below.
const maxResponseBytes = 4 << 20

// Client calls the public API.
type Client struct {
	base string
	http *http.Client
}

// New returns a Client of the gateway at cfg.BaseURL over transport.
func New(cfg Config, transport http.RoundTripper) *Client {
	return &Client{base: cfg.BaseURL, http: &http.Client{
		Transport: transport,
		Timeout:   cfg.Timeout,
		// The API answers; it does not send clients elsewhere. Following a
		// redirect would re-send the Bearer token to wherever it points.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type forwardedKey struct{}

// WithForwardedFor returns ctx whose calls tell the gateway they are made
// for the shopper at ip, so its rate limits count shoppers, not the storefront.
func WithForwardedFor(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, forwardedKey{}, ip)
}

// call is one request: token is the shopper's access token ("" for the
// public routes, where an expired token would be refused though none is
// needed), in is JSON-encoded when not nil, and a 2xx answer is decoded
// into out when out is not nil.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, token string, header http.Header, in, out any) error {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encoding %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if id := logging.RequestID(ctx); id != "" {
		req.Header.Set(httpserver.RequestIDHeader, id)
	}
	if ip, _ := ctx.Value(forwardedKey{}).(string); ip != "" {
		req.Header.Set("X-Forwarded-For", ip)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w: %w", method, path, ErrUnreachable, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w: %w", method, path, ErrUnreachable, err)
	}
	if len(data) > maxResponseBytes {
		return fmt.Errorf("%s %s: the answer exceeds %d bytes", method, path, maxResponseBytes)
	}
	if resp.StatusCode/100 != 2 {
		return answerError(resp, data)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decoding the answer: %w", method, path, err)
	}
	return nil
}

// answerError reads a failed answer. The gateway sends problem+json; an
// answer without one (a proxy's error page) keeps its status only.
func answerError(resp *http.Response, data []byte) *Error {
	e := &Error{Status: resp.StatusCode, RetryAfter: retryAfter(resp.Header.Get("Retry-After"))}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == problem.ContentType || mt == "application/json" {
		_ = json.Unmarshal(data, &e.Problem)
	}
	if e.Problem.Status == 0 {
		e.Problem.Status = resp.StatusCode
	}
	return e
}

// retryAfter reads Retry-After in seconds (the API's form) or as an HTTP
// date; what does not parse counts as none.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, time.Until(t))
	}
	return 0
}
