package authn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// ErrUnknownKey means no key of the JWKS has the token's kid, even after
// the keys were fetched again (or may not be fetched again yet).
var ErrUnknownKey = errors.New("no key with this kid")

// ErrKeysUnavailable means there are no keys to verify with: they were
// never fetched because their source does not answer.
var ErrKeysUnavailable = errors.New("the token signing keys are unavailable")

// maxJWKSBytes caps a JWKS answer; real ones hold a handful of keys.
const maxJWKSBytes = 1 << 20

// Source fetches the current JWKS.
type Source interface {
	Fetch(ctx context.Context) (jwk.Set, error)
	// String names the source in logs.
	String() string
}

// Invoker is Dapr HTTP service invocation (*daprx.Invoker).
type Invoker interface {
	Call(ctx context.Context, app, method, path string, query url.Values, body io.Reader, header http.Header) (*http.Response, error)
}

// AppSource fetches the JWKS an app serves at /.well-known/jwks.json,
// through Dapr service invocation (the users service locally).
type AppSource struct {
	Invoker Invoker
	App     string
}

// Fetch implements Source.
func (s AppSource) Fetch(ctx context.Context) (jwk.Set, error) {
	resp, err := s.Invoker.Call(ctx, s.App, http.MethodGet, ".well-known/jwks.json", nil, nil,
		http.Header{"Accept": {"application/jwk-set+json, application/json"}})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s, err)
	}
	return readSet(s.String(), resp)
}

func (s AppSource) String() string { return "app " + s.App + " /.well-known/jwks.json" }

// URLSource fetches a JWKS from a URL (Cognito's on AWS).
type URLSource struct {
	Client *http.Client
	URL    string
}

// Fetch implements Source.
func (s URLSource) Fetch(ctx context.Context) (jwk.Set, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s, err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	c := s.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s, err)
	}
	return readSet(s.String(), resp)
}

func (s URLSource) String() string { return s.URL }

// readSet reads a JWKS answer and keeps its public signing keys with a kid:
// a token names its key, and a key meant for encryption never verifies.
func readSet(src string, resp *http.Response) (jwk.Set, error) {
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: reading the JWKS: %w", src, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: answered %s", src, resp.Status)
	}
	if len(data) > maxJWKSBytes {
		return nil, fmt.Errorf("%s: the JWKS exceeds %d bytes", src, maxJWKSBytes)
	}
	set, err := jwk.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: parsing the JWKS: %w", src, err)
	}
	pub, err := jwk.PublicSetOf(set)
	if err != nil {
		return nil, fmt.Errorf("%s: public keys of the JWKS: %w", src, err)
	}
	out := jwk.NewSet()
	for i := range pub.Len() {
		key, _ := pub.Key(i)
		if kid, ok := key.KeyID(); !ok || kid == "" {
			continue
		}
		if use, ok := key.KeyUsage(); ok && use != "" && use != string(jwk.ForSignature) {
			continue
		}
		if err := out.AddKey(key); err != nil {
			return nil, fmt.Errorf("%s: %w", src, err)
		}
	}
	if out.Len() == 0 {
		return nil, fmt.Errorf("%s: the JWKS holds no signing key with a kid", src)
	}
	return out, nil
}

// Keys caches a JWKS. It fetches the keys when started and then every
// RefreshInterval, and again when a token names a kid it does not hold —
// at most once per MinRefreshInterval, so tokens with made-up kids cannot
// make it hammer the source. A failed fetch keeps the keys it had.
type Keys struct {
	src         Source
	interval    time.Duration
	minInterval time.Duration
	timeout     time.Duration
	log         *slog.Logger
	now         func() time.Time

	set atomic.Pointer[jwk.Set]

	mu           sync.Mutex // serialises fetches
	lastOnDemand time.Time
	fetches      atomic.Int64
	stop         chan struct{}
	done         chan struct{}
}

// NewKeys returns a cache over src, tuned by cfg's refresh settings.
func NewKeys(src Source, cfg Config, log *slog.Logger) *Keys {
	return &Keys{
		src:         src,
		interval:    cfg.RefreshInterval,
		minInterval: cfg.MinRefreshInterval,
		timeout:     cfg.FetchTimeout,
		log:         log,
		now:         time.Now,
	}
}

// Start fetches the keys in the background, now and then periodically,
// until Stop. The gateway starts even when the source does not answer yet
// (the users service may start after it); tokens are then answered with
// 503 until the keys arrive.
func (k *Keys) Start() {
	k.stop, k.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(k.done)
		t := time.NewTicker(k.interval)
		defer t.Stop()
		k.refresh(context.Background(), "start")
		for {
			select {
			case <-k.stop:
				return
			case <-t.C:
				k.refresh(context.Background(), "periodic")
			}
		}
	}()
}

// Stop ends the periodic refresh.
func (k *Keys) Stop() {
	if k.stop == nil {
		return
	}
	close(k.stop)
	<-k.done
}

// Fetches counts the fetches made so far (tests and metrics).
func (k *Keys) Fetches() int64 { return k.fetches.Load() }

// Lookup returns the key with kid. An unknown kid makes it fetch the keys
// again, unless that happened on demand less than MinRefreshInterval ago.
func (k *Keys) Lookup(ctx context.Context, kid string) (jwk.Key, error) {
	if key, ok := k.cached(kid); ok {
		return key, nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	// Another request may have fetched them while this one waited.
	if key, ok := k.cached(kid); ok {
		return key, nil
	}
	now := k.now()
	if k.lastOnDemand.IsZero() || now.Sub(k.lastOnDemand) >= k.minInterval {
		k.lastOnDemand = now
		// A client hanging up must not cut short a fetch others wait for.
		k.refreshLocked(context.WithoutCancel(ctx), "unknown kid")
		if key, ok := k.cached(kid); ok {
			return key, nil
		}
	}
	if k.set.Load() == nil {
		return nil, ErrKeysUnavailable
	}
	return nil, ErrUnknownKey
}

func (k *Keys) cached(kid string) (jwk.Key, bool) {
	set := k.set.Load()
	if set == nil {
		return nil, false
	}
	return (*set).LookupKeyID(kid)
}

func (k *Keys) refresh(ctx context.Context, why string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.refreshLocked(ctx, why)
}

func (k *Keys) refreshLocked(ctx context.Context, why string) {
	ctx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	k.fetches.Add(1)
	set, err := k.src.Fetch(ctx)
	if err != nil {
		// At start the source is often not up yet (the sidecar waits for
		// this app): a warning. Later, having no keys at all is an error.
		level := slog.LevelWarn
		if k.set.Load() == nil && why != "start" {
			level = slog.LevelError
		}
		k.log.Log(ctx, level, "fetching the token signing keys failed; keeping the keys held", "source", k.src.String(), "reason", why, "err", err)
		return
	}
	old := k.set.Load()
	k.set.Store(&set)
	if old == nil || !sameKids(*old, set) {
		k.log.Info("token signing keys loaded", "source", k.src.String(), "reason", why, "kids", kids(set))
	}
}

func kids(s jwk.Set) []string {
	out := make([]string, 0, s.Len())
	for i := range s.Len() {
		key, _ := s.Key(i)
		kid, _ := key.KeyID()
		out = append(out, kid)
	}
	return out
}

func sameKids(a, b jwk.Set) bool {
	ka, kb := kids(a), kids(b)
	if len(ka) != len(kb) {
		return false
	}
	for i := range ka {
		if ka[i] != kb[i] {
			return false
		}
	}
	return true
}
