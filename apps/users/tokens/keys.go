// Package tokens issues the access tokens of the built-in identity provider:
// ES256 JWTs signed with the current key of a Keyring that reloads its keys
// from the secret store, and the JWKS that verifies them.
package tokens

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/shopmesh/shopmesh/apps/users/secrets"
)

// ErrNoKey: no signing key has been loaded yet.
var ErrNoKey = errors.New("tokens: no signing key loaded")

// published is a public key in the JWKS. until is zero while the secret
// store lists the key; once it no longer does, the key stays published
// until then, so tokens it signed keep verifying until they expire.
type published struct {
	key   jwk.Key
	until time.Time
}

// Keyring holds the current signing key and the public keys to publish.
// It is safe for concurrent use; Load replaces its content atomically.
type Keyring struct {
	src    secrets.Source
	retain time.Duration
	now    func() time.Time

	mu      sync.RWMutex
	current jwk.Key // private, with kid, alg and use
	public  map[string]published
}

// NewKeyring reads keys from src. retain is how long a key that left the
// secret store (rotated out twice, or overwritten) stays in the JWKS: the
// access-token lifetime.
func NewKeyring(src secrets.Source, retain time.Duration) *Keyring {
	return NewKeyringWithClock(src, retain, time.Now)
}

// NewKeyringWithClock is NewKeyring on another clock (tests).
func NewKeyringWithClock(src secrets.Source, retain time.Duration, now func() time.Time) *Keyring {
	return &Keyring{src: src, retain: retain, now: now, public: map[string]published{}}
}

// Load reads the current key and the optional previous one. On any error
// the keyring keeps what it had, so a flaky store never drops a key.
func (k *Keyring) Load(ctx context.Context) error {
	cur, err := k.read(ctx, secrets.SigningKey, secrets.SigningKeyID)
	if err != nil {
		return err
	}
	prev, err := k.read(ctx, secrets.PreviousSigningKey, secrets.PreviousKeyID)
	if errors.Is(err, secrets.ErrNotFound) {
		prev, err = nil, nil
	}
	if err != nil {
		return err
	}
	curID, _ := cur.KeyID()
	listed := []jwk.Key{cur}
	if prev != nil {
		if prevID, _ := prev.KeyID(); prevID == curID {
			return fmt.Errorf("%s and %s are both %q: a rotation must change the kid", secrets.SigningKeyID, secrets.PreviousKeyID, curID)
		}
		listed = append(listed, prev)
	}

	now := k.now()
	public := make(map[string]published, len(listed)+len(k.public))
	for _, key := range listed {
		pub, err := jwk.PublicKeyOf(key)
		if err != nil {
			return fmt.Errorf("public key: %w", err)
		}
		id, _ := key.KeyID()
		public[id] = published{key: pub}
	}

	k.mu.Lock()
	defer k.mu.Unlock()
	for id, old := range k.public {
		if _, ok := public[id]; ok {
			continue
		}
		if old.until.IsZero() {
			old.until = now.Add(k.retain)
		}
		if now.Before(old.until) {
			public[id] = old
		}
	}
	k.current, k.public = cur, public
	return nil
}

// read loads one key and its kid.
func (k *Keyring) read(ctx context.Context, keyName, idName string) (jwk.Key, error) {
	pemText, err := k.src.Secret(ctx, keyName)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", keyName, err)
	}
	kid, err := k.src.Secret(ctx, idName)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", idName, err)
	}
	key, err := ParsePrivateKey(pemText, strings.TrimSpace(kid))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyName, err)
	}
	return key, nil
}

// ParsePrivateKey reads a P-256 private key in PEM (PKCS#8, as openssl
// genpkey writes it, or SEC 1) into a JWK with kid, alg ES256 and use sig.
// Errors never quote the key.
func ParsePrivateKey(pemText, kid string) (jwk.Key, error) {
	if kid == "" || len(kid) > 128 || strings.ContainsFunc(kid, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		return nil, errors.New("the key id must be 1 to 128 printable ASCII characters")
	}
	block, _ := pem.Decode([]byte(strings.TrimSpace(pemText)))
	if block == nil {
		return nil, errors.New("not a PEM block")
	}
	var priv any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		priv, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		priv, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q, want PRIVATE KEY (PKCS#8)", block.Type)
	}
	if err != nil {
		return nil, errors.New("the PEM block does not hold a valid private key")
	}
	ec, ok := priv.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("want an ECDSA P-256 key (ES256)")
	}
	key, err := jwk.Import(ec)
	if err != nil {
		return nil, fmt.Errorf("importing the key: %w", err)
	}
	for name, v := range map[string]any{jwk.KeyIDKey: kid, jwk.AlgorithmKey: jwa.ES256(), jwk.KeyUsageKey: "sig"} {
		if err := key.Set(name, v); err != nil {
			return nil, fmt.Errorf("setting %s: %w", name, err)
		}
	}
	return key, nil
}

// Signer returns the current private key, or ErrNoKey before the first Load.
func (k *Keyring) Signer() (jwk.Key, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.current == nil {
		return nil, ErrNoKey
	}
	return k.current, nil
}

// CurrentKeyID returns the kid new tokens carry ("" before the first Load).
func (k *Keyring) CurrentKeyID() string {
	key, err := k.Signer()
	if err != nil {
		return ""
	}
	id, _ := key.KeyID()
	return id
}

// PublicSet returns the JWKS: the current key first, then the others by kid.
// Keys that were retired longer ago than the retention are left out.
func (k *Keyring) PublicSet() jwk.Set {
	k.mu.RLock()
	defer k.mu.RUnlock()
	curID := ""
	if k.current != nil {
		curID, _ = k.current.KeyID()
	}
	ids := make([]string, 0, len(k.public))
	now := k.now()
	for id, p := range k.public {
		if p.until.IsZero() || now.Before(p.until) {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b string) int {
		switch {
		case a == curID:
			return -1
		case b == curID:
			return 1
		}
		return strings.Compare(a, b)
	})
	set := jwk.NewSet()
	for _, id := range ids {
		_ = set.AddKey(k.public[id].key)
	}
	return set
}

// Ready reports whether a signing key is loaded.
func (k *Keyring) Ready(context.Context) error {
	_, err := k.Signer()
	return err
}

// Run loads the keys once wait (the sidecar being up) returns, then reloads
// them every interval until ctx ends. Until the first success it retries
// every second or two, so a missing secret shows in the log at once.
func (k *Keyring) Run(ctx context.Context, interval time.Duration, wait func(context.Context) error, log *slog.Logger) {
	if err := wait(ctx); err != nil {
		return
	}
	lastKID := ""
	for attempt := 1; ; attempt++ {
		delay := interval
		if err := k.Load(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Warn("loading the jwt signing keys failed", "err", err, "attempt", attempt)
			if k.CurrentKeyID() == "" {
				delay = min(time.Duration(attempt)*time.Second, interval)
			}
		} else if kid := k.CurrentKeyID(); kid != lastKID {
			log.Info("jwt signing key loaded", "kid", kid, "published_kids", k.PublicSet().Len())
			lastKID = kid
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}
