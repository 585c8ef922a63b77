package fuzz

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// requestTimeout is how long an answer may take; a request without one by
// then hangs.
const requestTimeout = 15 * time.Second

// request is one generated request.
type request struct {
	index    int
	kind     string // rest or graphql
	identity string // anonymous, customer or admin
	route    string // the operation, for the summary
	method   string
	path     string // escaped, as on the request line
	query    string // raw
	host     string // a Host header other than the gateway's
	header   http.Header
	body     []byte
	chunked  bool     // send the body without a Content-Length
	notes    []string // what was done to it
}

func newRequest(kind, identity, method, route string) *request {
	return &request{kind: kind, identity: identity, method: method, route: route, header: http.Header{}}
}

func (rq *request) note(format string, args ...any) {
	rq.notes = append(rq.notes, fmt.Sprintf(format, args...))
}

// target is the request line's target, shortened for a log.
func (rq *request) target() string {
	t := rq.path
	if rq.query != "" {
		t += "?" + rq.query
	}
	return excerpt([]byte(t), 160)
}

// answer is what came back.
type answer struct {
	status int
	header http.Header
	body   []byte
	took   time.Duration
	err    error
}

// peer is a client with a source address of its own: the gateway limits
// each address (per second, and per minute on the sign-in endpoints), so
// the run spreads over many, and waits out a peer's Retry-After before
// that peer sends again.
type peer struct {
	addr    string
	c       *http.Client
	blocked atomic.Int64 // unix nanoseconds until which the peer waits
}

func (p *peer) free(now time.Time) bool { return p.blocked.Load() <= now.UnixNano() }

func (p *peer) block(d time.Duration) {
	until := time.Now().Add(d).UnixNano()
	for {
		old := p.blocked.Load()
		if old >= until || p.blocked.CompareAndSwap(old, until) {
			return
		}
	}
}

// newPeers returns n peers on random 127/8 addresses when the gateway is on
// the loopback interface, else one peer with an ordinary client.
func newPeers(gateway *url.URL, n int, r *rand.Rand) []*peer {
	ip := net.ParseIP(gateway.Hostname())
	if ip == nil || !ip.IsLoopback() || ip.To4() == nil {
		return []*peer{{addr: "default", c: newClient(nil)}}
	}
	peers := make([]*peer, n)
	for i := range peers {
		addr := net.IPv4(127, byte(1+r.IntN(254)), byte(r.IntN(256)), byte(1+r.IntN(254)))
		peers[i] = &peer{addr: addr.String(), c: newClient(&net.TCPAddr{IP: addr})}
	}
	return peers
}

func newClient(local *net.TCPAddr) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if local != nil {
		d.LocalAddr = local
	}
	return &http.Client{
		Timeout: requestTimeout,
		Transport: &http.Transport{
			DialContext:         d.DialContext,
			MaxIdleConnsPerHost: 4,
			// Wait for the server's verdict before sending a large body
			// with Expect: 100-continue (see send).
			ExpectContinueTimeout: 3 * time.Second,
			IdleConnTimeout:       30 * time.Second,
			DisableCompression:    true, // see the answer as it was sent
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func (p *peer) close() { p.c.CloseIdleConnections() }

// send sends rq to the gateway at base.
func (p *peer) send(base *url.URL, rq *request) answer {
	var body io.Reader
	if rq.body != nil {
		body = bytes.NewReader(rq.body)
		if rq.chunked {
			body = struct{ io.Reader }{body} // a reader of unknown length
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, rq.method, base.String(), body)
	if err != nil {
		return answer{err: fmt.Errorf("building the request: %w", err)}
	}
	// Opaque is sent as it is: the generator escapes paths itself.
	req.URL.Opaque = rq.path
	req.URL.RawQuery = rq.query
	req.Header = rq.header.Clone()
	// A server may answer before it has read a large body (a 413, a 405)
	// and then close the connection, while the client still writes: the
	// answer is lost to a broken pipe. Asking first avoids the race.
	if len(rq.body) > 256<<10 && req.Header.Get("Expect") == "" {
		req.Header.Set("Expect", "100-continue")
	}
	if rq.host != "" {
		req.Host = rq.host
	}
	start := time.Now()
	resp, err := p.c.Do(req)
	if err != nil {
		return answer{err: err, took: time.Since(start)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	a := answer{status: resp.StatusCode, header: resp.Header, body: data, took: time.Since(start)}
	if err != nil {
		a.err = fmt.Errorf("reading the answer: %w", err)
	}
	return a
}

// hung reports whether err is a request that got no answer in time.
func hung(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// retryAfter is the Retry-After of h, if any.
func retryAfter(h http.Header) (time.Duration, bool) {
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(max(n, 1)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), time.Second), true
	}
	return time.Second, true
}

// excerpt is the start of b, printable, at most n bytes.
func excerpt(b []byte, n int) string {
	s := string(b)
	cut := len(s) > n
	if cut {
		s = s[:n]
	}
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if r < ' ' && r != '\t' || r == 0x7f {
			return '.'
		}
		return r
	}, s)
	if cut {
		s += fmt.Sprintf("… (%d bytes)", len(b))
	}
	return s
}
