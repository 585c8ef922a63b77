// Package usersclient calls the users app through the Dapr sidecar, with the
// caller's verified identity (see package outbound). Like the catalog
// client it hands back the answers as they are — status, content type,
// body, Retry-After — for REST to pass on, and decodes them for GraphQL.
package usersclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/shopmesh/shopmesh/apps/gateway/servicecall"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// ErrUnavailable means the users app could not be reached or did not
// answer. Clients see a 503.
var ErrUnavailable = errors.New("the users service is unavailable")

// Invoker is Dapr HTTP service invocation (*outbound.Invoker).
type Invoker = servicecall.Invoker

// Config tunes the calls.
type Config = servicecall.Config

// Module provides the Client over the identity-forwarding invoker, its
// calls tuned by USERS_TIMEOUT and USERS_MAX_RESPONSE_BYTES.
var Module = servicecall.Provide("USERS", 1<<20, New)

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
	return servicecall.DecodeProblem(r.ContentType, r.Body)
}

// Client calls the users app.
type Client struct{ call servicecall.Caller }

// New returns a Client that calls through inv.
func New(inv Invoker, cfg Config) *Client {
	return &Client{call: servicecall.New(contracts.AppUsers, inv, cfg, ErrUnavailable)}
}

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
	a, err := c.call.Do(ctx, method, p, nil, body)
	if err != nil {
		return Response{}, err
	}
	out := Response{Status: a.Status, ContentType: a.Header.Get("Content-Type"), Body: a.Body, RetryAfter: a.Header.Get("Retry-After")}
	if a.Status == http.StatusCreated {
		out.Location = a.Header.Get("Location")
	}
	return out, nil
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
