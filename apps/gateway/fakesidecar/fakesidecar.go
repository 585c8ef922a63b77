// Package fakesidecar stands in for the gateway's Dapr sidecar in tests:
// it records every service invocation exactly as the gateway sends it —
// app, method, path, query, headers, body — and answers from a function
// the test supplies. Under outbound.Invoker and the real service clients
// it lets REST and GraphQL tests check what reaches a service, identity
// headers included, without a daprd.
package fakesidecar

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// Invocation is one call that reached the sidecar.
type Invocation struct {
	App, Method, Path string
	Query             url.Values
	Header            http.Header
	Body              string
}

// Sidecar implements outbound.Caller.
type Sidecar struct {
	// answer answers each call; nil makes every call fail like a sidecar
	// that is down.
	answer func(Invocation) *http.Response

	mu    sync.Mutex
	calls []Invocation
}

// New returns a sidecar that answers with answer.
func New(answer func(Invocation) *http.Response) *Sidecar { return &Sidecar{answer: answer} }

// Call records the invocation and answers it.
func (s *Sidecar) Call(_ context.Context, app, method, path string, query url.Values, body io.Reader, header http.Header) (*http.Response, error) {
	var b []byte
	if body != nil {
		b, _ = io.ReadAll(body)
	}
	inv := Invocation{App: app, Method: method, Path: path, Query: query, Header: header.Clone(), Body: string(b)}
	s.mu.Lock()
	s.calls = append(s.calls, inv)
	s.mu.Unlock()
	if s.answer == nil {
		return nil, errors.New("dial tcp 127.0.0.1:3600: connect: connection refused")
	}
	return s.answer(inv), nil
}

// Calls returns the calls received so far.
func (s *Sidecar) Calls() []Invocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Invocation(nil), s.calls...)
}

// Reset forgets the calls received so far.
func (s *Sidecar) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

// Reply is an answer with a status, a Content-Type (none when empty), a
// body and further headers as name, value pairs.
func Reply(status int, contentType, body string, hdr ...string) *http.Response {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		h.Set(hdr[i], hdr[i+1])
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body))}
}

// JSON is an answer with v as its JSON body.
func JSON(status int, v any) *http.Response {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return Reply(status, "application/json; charset=utf-8", string(b))
}

// Problem is a problem+json answer as the services write them.
func Problem(p *problem.Problem) *http.Response {
	return Reply(p.Status, problem.ContentType, ProblemBody(p))
}

// ProblemBody is p as JSON.
func ProblemBody(p *problem.Problem) string {
	b, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	return string(b)
}
