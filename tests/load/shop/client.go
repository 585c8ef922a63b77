package shop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// requestTimeout bounds every request the scenarios make.
const requestTimeout = 30 * time.Second

// newClient returns a client whose connections leave from src (the
// system's choice when src is nil).
func newClient(src net.IP) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	if src != nil {
		dialer.LocalAddr = &net.TCPAddr{IP: src}
	}
	return &http.Client{
		Timeout: requestTimeout,
		Transport: &http.Transport{
			DialContext:         dialer.DialContext,
			MaxIdleConnsPerHost: 4,
			// Shoppers idle between steps; a bound keeps a long run from
			// hoarding sockets on the gateway.
			IdleConnTimeout:     2 * time.Minute,
			TLSHandshakeTimeout: 10 * time.Second,
		},
	}
}

// statusError is an answer with a status the caller did not want.
type statusError struct {
	method, url string
	status      int
	retryAfter  time.Duration
	body        string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.method, e.url, e.status, e.body)
}

// call sends body as JSON and decodes the answer into out when its status
// is want.
func call(ctx context.Context, c *http.Client, method, url, token string, body, out any, want int) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, url, err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
	}
	if resp.StatusCode != want {
		e := &statusError{method: method, url: url, status: resp.StatusCode, body: string(bytes.TrimSpace(data))}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
			e.retryAfter = time.Duration(s) * time.Second
		}
		return e
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decoding the answer: %w", method, url, err)
		}
	}
	return nil
}

// callSetup is call for the set-up around a measurement (sign-ups,
// products): a 429 or 503 is waited out a few times, as a client would,
// since a set-up that fails on the first busy answer wastes the run.
func callSetup(ctx context.Context, c *http.Client, method, url, token string, body, out any, want int) error {
	const attempts = 4
	for i := 1; ; i++ {
		err := call(ctx, c, method, url, token, body, out, want)
		var se *statusError
		if i == attempts || !errors.As(err, &se) || (se.status != http.StatusTooManyRequests && se.status != http.StatusServiceUnavailable) {
			return err
		}
		wait := min(max(se.retryAfter, time.Second), 10*time.Second)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// Ready checks that the gateway answers its readiness probe, so a run
// against a stack that is not up fails at once and says so.
func Ready(ctx context.Context, gateway string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c := newClient(nil)
	defer c.CloseIdleConnections()
	if err := call(ctx, c, http.MethodGet, gateway+"/readyz", "", nil, nil, http.StatusOK); err != nil {
		return fmt.Errorf("the gateway is not ready (is the stack up? go tool task up): %w", err)
	}
	return nil
}
