// Package session keeps a shopper signed in to the storefront without
// letting the browser's JavaScript near the access token, and guards every
// form against cross-site request forgery.
//
// Why it is built this way:
//
//   - The session lives in the shopper's browser, not on the server, so any
//     storefront instance serves any request. It is sealed with AES-256-GCM
//     under a key from the secret store: the browser can neither read the
//     access token nor change a role, and a cookie that fails to open (edited,
//     sealed under another key, or for another purpose) counts as no session.
//   - The cookie is __Host- prefixed, HttpOnly, Secure, SameSite=Lax, Path=/:
//     scripts cannot read it, it never travels over plain HTTP or to another
//     host, sub-domains cannot plant one, and other sites' POSTs leave it
//     behind. It expires with the access token it carries, so a stolen copy is
//     worth no more than the token.
//   - Every POST form carries a token that is an HMAC of a random secret kept
//     in the sealed cookie; another site can make the browser send the cookie
//     but cannot read the page, so it cannot know the token. Before sign-in
//     the secret sits in a short-lived sealed pre-session cookie, so the
//     sign-in and sign-up forms are guarded too (login CSRF). Signing in makes
//     a new secret.
package session

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Cookie names. __Host- makes browsers insist on Secure, Path=/ and no
// Domain, so no other host can set or read them.
const (
	CookieName    = "__Host-shopmesh_session"
	PreCookieName = "__Host-shopmesh_presession"
)

// PreSessionTTL is how long a sign-in or sign-up form stays usable.
const PreSessionTTL = 2 * time.Hour

// expiryMargin ends a session a little before its token expires, so a page
// is not refused half-way through by a token that expired in flight.
const expiryMargin = 10 * time.Second

// RoleAdmin is the role of administrators in the access token and /me.
const RoleAdmin = "admin"

// Session is what the sealed cookie of a signed-in shopper holds.
type Session struct {
	AccessToken string    `json:"tok"`
	Expires     time.Time `json:"exp"` // when the access token expires
	UserID      string    `json:"uid"`
	Name        string    `json:"name"`
	Email       string    `json:"email"`
	Roles       []string  `json:"roles"`
	CSRFSecret  []byte    `json:"csrf"`
}

// IsAdmin reports whether the shopper is an administrator.
func (s *Session) IsAdmin() bool { return s != nil && slices.Contains(s.Roles, RoleAdmin) }

// preSession is what the pre-session cookie holds.
type preSession struct {
	CSRFSecret []byte    `json:"csrf"`
	Expires    time.Time `json:"exp"`
}

// Key is the 32-byte AES-256 key that seals the cookies.
type Key [32]byte

// ParseKey reads a key written as 64 hex characters. Errors never quote it.
func ParseKey(s string) (Key, error) {
	var k Key
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != len(k) {
		return k, errors.New("the session key must be 64 hex characters (32 random bytes)")
	}
	copy(k[:], b)
	return k, nil
}

// ErrInvalid: a cookie is there but does not open, or it has expired.
var ErrInvalid = errors.New("session cookie is invalid or expired")

// strictBase64 refuses text whose unused trailing bits are set, so no two
// cookie texts open to the same value.
var strictBase64 = base64.RawURLEncoding.Strict()

// sealVersion starts every sealed value, so the format can change later.
const sealVersion = 1

// Sealer seals values into cookie text and opens them again.
type Sealer struct{ aead cipher.AEAD }

// NewSealer returns a Sealer under k.
func NewSealer(k Key) (*Sealer, error) {
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, fmt.Errorf("session cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("session cipher: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts v's JSON under a random nonce. purpose (the cookie's name)
// is authenticated with it, so a value sealed for one cookie does not open
// as another.
func (s *Sealer) Seal(purpose string, v any) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encoding %s: %w", purpose, err)
	}
	out := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return "", fmt.Errorf("nonce for %s: %w", purpose, err)
	}
	out = s.aead.Seal(out, out[1:], plain, []byte(purpose))
	return base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts what Seal made for purpose into v.
func (s *Sealer) Open(purpose, text string, v any) error {
	raw, err := strictBase64.DecodeString(text) // any changed character fails
	n := s.aead.NonceSize()
	if err != nil || len(raw) < 1+n+s.aead.Overhead() || raw[0] != sealVersion {
		return ErrInvalid
	}
	plain, err := s.aead.Open(nil, raw[1:1+n], raw[1+n:], []byte(purpose))
	if err != nil {
		return ErrInvalid
	}
	if err := json.Unmarshal(plain, v); err != nil {
		return ErrInvalid
	}
	return nil
}

// Cookies reads and writes the session and pre-session cookies.
type Cookies struct {
	sealer *Sealer
	now    func() time.Time
}

// NewCookies returns Cookies sealed by s on the clock now.
func NewCookies(s *Sealer, now func() time.Time) Cookies { return Cookies{sealer: s, now: now} }

// Read returns the shopper's session: (nil, nil) without a cookie,
// ErrInvalid when the cookie does not open or has expired (clear it).
func (c Cookies) Read(r *http.Request) (*Session, error) {
	ck, err := r.Cookie(CookieName)
	if err != nil {
		return nil, nil
	}
	var s Session
	if err := c.sealer.Open(CookieName, ck.Value, &s); err != nil {
		return nil, err
	}
	if !c.now().Add(expiryMargin).Before(s.Expires) || s.AccessToken == "" || len(s.CSRFSecret) == 0 {
		return nil, ErrInvalid
	}
	return &s, nil
}

// New starts a session for a shopper who just signed in, with a new CSRF secret.
func New(token string, expires time.Time, userID, name, email string, roles []string) (*Session, error) {
	secret, err := newSecret()
	if err != nil {
		return nil, err
	}
	return &Session{AccessToken: token, Expires: expires, UserID: userID, Name: name, Email: email, Roles: roles, CSRFSecret: secret}, nil
}

// Write sets the session cookie; it expires with the access token.
func (c Cookies) Write(w http.ResponseWriter, s *Session) error {
	v, err := c.sealer.Seal(CookieName, s)
	if err != nil {
		return err
	}
	http.SetCookie(w, cookie(CookieName, v, s.Expires.Sub(c.now())))
	return nil
}

// Clear removes the session cookie.
func (c Cookies) Clear(w http.ResponseWriter) { http.SetCookie(w, cookie(CookieName, "", -1)) }

// PreSecret returns the CSRF secret of the pre-session cookie, or nil when
// there is none that opens and is current.
func (c Cookies) PreSecret(r *http.Request) []byte {
	ck, err := r.Cookie(PreCookieName)
	if err != nil {
		return nil
	}
	var p preSession
	if c.sealer.Open(PreCookieName, ck.Value, &p) != nil || !c.now().Before(p.Expires) {
		return nil
	}
	return p.CSRFSecret
}

// StartPre sets a new pre-session cookie and returns its CSRF secret.
func (c Cookies) StartPre(w http.ResponseWriter) ([]byte, error) {
	secret, err := newSecret()
	if err != nil {
		return nil, err
	}
	v, err := c.sealer.Seal(PreCookieName, preSession{CSRFSecret: secret, Expires: c.now().Add(PreSessionTTL)})
	if err != nil {
		return nil, err
	}
	http.SetCookie(w, cookie(PreCookieName, v, PreSessionTTL))
	return secret, nil
}

// ClearPre removes the pre-session cookie (once signed in).
func (c Cookies) ClearPre(w http.ResponseWriter) { http.SetCookie(w, cookie(PreCookieName, "", -1)) }

// cookie is a cookie with the attributes both cookies share; a negative
// ttl deletes it.
func cookie(name, value string, ttl time.Duration) *http.Cookie {
	maxAge := int(ttl / time.Second)
	if ttl < 0 || maxAge == 0 {
		maxAge = -1
	}
	return &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode,
	}
}

func newSecret() ([]byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("csrf secret: %w", err)
	}
	return b, nil
}

// csrfLabel separates CSRF tokens from anything else the secret might sign.
const csrfLabel = "shopmesh storefront csrf v1"

// CSRFToken is the token forms carry for secret.
func CSRFToken(secret []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(csrfLabel))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// ValidCSRF reports whether token is secret's token, in constant time.
func ValidCSRF(secret []byte, token string) bool {
	if len(secret) == 0 || token == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(CSRFToken(secret)), []byte(token)) == 1
}
