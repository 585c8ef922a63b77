package shop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Answer is what one request of a shopper got.
type Answer struct {
	Method, Path string
	Status       int           // 0: no answer (see Err)
	Latency      time.Duration // from sending until the whole body was read
	Body         []byte        // at most maxAnswer bytes
	Err          error         // why there was no answer: a timeout, a connection error
}

// maxAnswer bounds the body an Answer keeps: an order history is the
// longest answer a shopper reads.
const maxAnswer = 4 << 20

// ID is the shopper's number in its pool.
func (s *Shopper) ID() int { return s.id }

// Do sends one request as s, from its address with its access token, and
// body as JSON unless nil: for scenarios that choose their own requests
// (tests/load/soak). Only the goroutine that holds s may call it.
func (s *Shopper) Do(ctx context.Context, gateway, method, path string, body any, header http.Header) Answer {
	a := Answer{Method: method, Path: path}
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			a.Err = fmt.Errorf("%s %s: %w", method, path, err)
			return a
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, gateway+path, rd)
	if err != nil {
		a.Err = fmt.Errorf("%s %s: %w", method, path, err)
		return a
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	started := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		a.Err, a.Latency = err, time.Since(started)
		return a
	}
	defer resp.Body.Close()
	a.Body, err = io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	a.Latency = time.Since(started)
	if err != nil {
		a.Err = err // the status came, the body did not: no answer
		return a
	}
	a.Status = resp.StatusCode
	return a
}

// Renew renews s's tokens when they expire before until: with its refresh
// token, or failing that by signing in again. It returns the requests'
// answers (none when the tokens last). Only the goroutine that holds s may
// call it.
func (s *Shopper) Renew(ctx context.Context, gateway string, until time.Time) []Answer {
	if !s.expires.Before(until) {
		return nil
	}
	var answers []Answer
	try := func(path string, body any) bool {
		started := time.Now()
		token := s.token
		s.token = "" // auth endpoints take no bearer token
		a := s.Do(ctx, gateway, http.MethodPost, path, body, nil)
		s.token = token
		answers = append(answers, a)
		var tok tokenAnswer
		if a.Status != http.StatusOK || json.Unmarshal(a.Body, &tok) != nil || tok.AccessToken == "" {
			return false
		}
		s.token, s.refresh = tok.AccessToken, tok.RefreshToken
		s.expires = started.Add(time.Duration(tok.ExpiresIn) * time.Second)
		return true
	}
	if s.refresh != "" && try("/api/v1/auth/refresh", map[string]string{"refresh_token": s.refresh}) {
		return answers
	}
	if ctx.Err() == nil {
		try("/api/v1/auth/login", map[string]string{"email": s.email, "password": s.password})
	}
	return answers
}
