// Package usersclient calls the users app through the Dapr sidecar, with the
// caller's verified identity (see package outbound). Like the catalog
// client it hands back the answers as they are — status, content type,
// body, Retry-After — for REST to pass on, and decodes them for GraphQL.
package usersclient

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
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// Module provides the Client over the identity-forwarding invoker.
var Module = fx.Provide(
	func() (Config, error) { return LoadConfig(os.LookupEnv) },
	func(inv *outbound.Invoker, cfg Config) *Client { return New(inv, cfg) },
)

// ErrUnavailable means the users app could not be reached or did not
// answer. Clients see a 503.
var ErrUnavailable = errors.New("the users service is unavailable")

// Invoker is Dapr HTTP service invocation (*outbound.Invoker).
type Invoker interface {
	Call(ctx context.Context, app, method, path string, query url.Values, body io.Reader, header http.Header) (*http.Response, error)
}

// Config tunes the calls.
type Config struct {
	Timeout          time.Duration
	MaxResponseBytes int64
}

// LoadConfig reads Config through lookup (os.LookupEnv in production).
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	l := config.NewLoader(lookup)
	cfg := Config{
		Timeout:          l.Duration("USERS_TIMEOUT", 10*time.Second),
		MaxResponseBytes: int64(l.Int("USERS_MAX_RESPONSE_BYTES", 1<<20)),
	}
	errs := []error{l.Err()}
	if cfg.Timeout <= 0 {
		errs = append(errs, errors.New("config USERS_TIMEOUT: must be positive"))
	}
	if cfg.MaxResponseBytes <= 0 {
		errs = append(errs, errors.New("config USERS_MAX_RESPONSE_BYTES: must be positive"))
	}
	return cfg, errors.Join(errs...)
}

// Response is one answer of the users app.
type Response struct {
	Status      int
	ContentType string
	Body        []byte
	// RetryAfter is the users app's Retry-After header (a locked account).
	RetryAfter string
	// Location is the users app's Location header on a 201: the public
	// path of what was created (/api/v1/me, /api/v1/me/addresses/{id}).
	Location string
}

// Problem decodes an error answer; ok is false when it is not problem+json.
func (r Response) Problem() (p problem.Problem, ok bool) {
	if !isProblem(r.ContentType) || json.Unmarshal(r.Body, &p) != nil {
		return problem.Problem{}, false
	}
	return p, true
}

// Client calls the users app.
type Client struct {
	inv Invoker
	cfg Config
}

// New returns a Client that calls through inv.
func New(inv Invoker, cfg Config) *Client { return &Client{inv: inv, cfg: cfg} }

// Register creates an account from a JSON {email, password, name}.
func (c *Client) Register(ctx context.Context, body []byte) (Response, error) {
	return c.do(ctx, http.MethodPost, "auth/register", body)
}

// Login exchanges a JSON {email, password} for tokens.
func (c *Client) Login(ctx context.Context, body []byte) (Response, error) {
	return c.do(ctx, http.MethodPost, "auth/login", body)
}

// Refresh exchanges a JSON {refresh_token} for new tokens.
func (c *Client) Refresh(ctx context.Context, body []byte) (Response, error) {
	return c.do(ctx, http.MethodPost, "auth/refresh", body)
}

// Logout revokes the refresh token of a JSON {refresh_token}.
func (c *Client) Logout(ctx context.Context, body []byte) (Response, error) {
	return c.do(ctx, http.MethodPost, "auth/logout", body)
}

// Me fetches the caller's profile.
func (c *Client) Me(ctx context.Context) (Response, error) {
	return c.do(ctx, http.MethodGet, "me", nil)
}

// Addresses fetches the caller's address book.
func (c *Client) Addresses(ctx context.Context) (Response, error) {
	return c.do(ctx, http.MethodGet, "me/addresses", nil)
}

// AddAddress adds a JSON address to the caller's address book.
func (c *Client) AddAddress(ctx context.Context, body []byte) (Response, error) {
	return c.do(ctx, http.MethodPost, "me/addresses", body)
}

// DeleteAddress removes address id from the caller's address book.
func (c *Client) DeleteAddress(ctx context.Context, id string) (Response, error) {
	return c.do(ctx, http.MethodDelete, "me/addresses/"+url.PathEscape(id), nil)
}

// JWKS fetches the keys that verify access tokens.
func (c *Client) JWKS(ctx context.Context) (Response, error) {
	return c.do(ctx, http.MethodGet, ".well-known/jwks.json", nil)
}

func (c *Client) do(ctx context.Context, method, p string, body []byte) (Response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	header := http.Header{"Accept": {"application/json, " + problem.ContentType}}
	var rd io.Reader
	if body != nil {
		header.Set("Content-Type", "application/json")
		rd = bytes.NewReader(body)
	}
	resp, err := c.inv.Call(ctx, contracts.AppUsers, method, p, nil, rd, header)
	if err != nil {
		return Response{}, fmt.Errorf("users %s /%s: %w: %w", method, p, ErrUnavailable, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxResponseBytes+1))
	if err != nil {
		return Response{}, fmt.Errorf("users %s /%s: reading the answer: %w: %w", method, p, ErrUnavailable, err)
	}
	if int64(len(data)) > c.cfg.MaxResponseBytes {
		return Response{}, fmt.Errorf("users %s /%s: answer exceeds %d bytes: %w", method, p, c.cfg.MaxResponseBytes, ErrUnavailable)
	}
	ct := resp.Header.Get("Content-Type")
	// The users app answers every error as problem+json; any other error
	// came from the sidecar or the mesh and means it was not reached.
	if resp.StatusCode >= 400 && !isProblem(ct) {
		return Response{}, fmt.Errorf("users %s /%s: sidecar answered %s: %s: %w",
			method, p, resp.Status, snippet(data), ErrUnavailable)
	}
	out := Response{Status: resp.StatusCode, ContentType: ct, Body: data, RetryAfter: resp.Header.Get("Retry-After")}
	if resp.StatusCode == http.StatusCreated {
		out.Location = resp.Header.Get("Location")
	}
	return out, nil
}

func isProblem(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == problem.ContentType
}

func snippet(b []byte) string {
	const max = 200
	if len(b) > max {
		return strconv.Quote(string(b[:max])) + "…"
	}
	return strconv.Quote(string(b))
}

// Me is the caller's profile as the users app serves it.
type Me struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Roles     []string  `json:"roles"`
	Addresses []Address `json:"addresses"`
}

// Address is a postal address; Country is ISO 3166-1 alpha-2.
type Address struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
}

// Decode unmarshals a 200 answer into T.
func Decode[T any](r Response) (T, error) {
	var v T
	if r.Status != http.StatusOK {
		return v, fmt.Errorf("decoding the users service's answer: status %d, want 200", r.Status)
	}
	if err := json.Unmarshal(r.Body, &v); err != nil {
		return v, fmt.Errorf("decoding the users service's answer: %w", err)
	}
	return v, nil
}
