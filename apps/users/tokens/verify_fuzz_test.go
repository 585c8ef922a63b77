package tokens_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopmesh/shopmesh/apps/users/secrets"
	"github.com/shopmesh/shopmesh/apps/users/tokens"
)

// FuzzVerifyEdit changes one byte of an issued token: any change but the
// identity is refused, also one that decodes to the same bytes; the tokens
// as issued verify as their subject.
func FuzzVerifyEdit(f *testing.F) {
	fx := fuzzFixture(f)
	subjects := map[string]string{}
	for _, sub := range []string{"u-1", "u-2", "admin-1"} {
		tok, err := fx.issuer.Issue(tokens.Claims{Subject: sub, Roles: []string{"customer"}})
		if err != nil {
			f.Fatal(err)
		}
		subjects[tok] = sub
	}
	toks := make([]string, 0, len(subjects))
	for tok := range subjects {
		toks = append(toks, tok)
	}
	slices.Sort(toks)
	f.Add(uint8(0), uint16(0), byte('x'))
	f.Add(uint8(1), uint16(len(toks[1])-1), byte('A'))
	f.Add(uint8(2), uint16(strings.Index(toks[2], ".")), byte('='))
	f.Fuzz(func(t *testing.T, which uint8, at uint16, b byte) {
		tok := []byte(toks[int(which)%len(toks)])
		tok[int(at)%len(tok)] = b
		c, err := fx.verify(string(tok))
		if err != nil {
			if !errors.Is(err, tokens.ErrInvalid) {
				t.Fatalf("%q: %v is not an invalid token", tok, err)
			}
			return
		}
		sub, ok := subjects[string(tok)]
		if !ok || c.Subject != sub {
			t.Fatalf("%q verified as %q, but it was never issued", tok, c.Subject)
		}
	})
}

// fuzzFixture is newFixture for a fuzz test.
func fuzzFixture(f *testing.F) *fixture {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		f.Fatal(err)
	}
	fx := &fixture{
		secrets: secrets.Map{
			secrets.SigningKey:   string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
			secrets.SigningKeyID: "kid-1",
		},
		clock: &clock{t: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)},
	}
	fx.keys = tokens.NewKeyringWithClock(fx.secrets, cfg.AccessTTL, fx.clock.now)
	if err := fx.keys.Load(f.Context()); err != nil {
		f.Fatal(err)
	}
	fx.issuer = tokens.NewIssuer(fx.keys, cfg).WithClock(fx.clock.now)
	return fx
}
