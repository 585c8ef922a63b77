package authn_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/shopmesh/shopmesh/apps/gateway/authn"
	"github.com/shopmesh/shopmesh/apps/gateway/authtest"
	"github.com/shopmesh/shopmesh/internal/platform/auth"
)

// FuzzVerify sends any string as an access token. Only the tokens the
// issuer signed verify, byte for byte, each as the identity it was issued
// for; everything else is an invalid token (401), never a panic or another
// kind of error.
func FuzzVerify(f *testing.F) {
	iss, v, signed := fuzzFixture(f)
	kid := iss.KID()
	for tok := range signed {
		parts := strings.Split(tok, ".")
		f.Add(tok)
		f.Add(parts[0] + "." + parts[1] + "." + strings.ToUpper(parts[2]))
		f.Add(parts[0] + "." + parts[1])
		f.Add(`{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`)
	}
	f.Add(authtest.Forge(map[string]any{"alg": "none", "kid": kid}, authtest.ValidClaims(), func([]byte) []byte { return []byte("x") }))
	f.Add(authtest.Forge(map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid}, authtest.ValidClaims(), func(in []byte) []byte {
		m := hmac.New(sha256.New, iss.JWKS(f))
		m.Write(in)
		return m.Sum(nil)
	}))
	f.Add(authtest.Forge(map[string]any{"alg": "ES256"}, authtest.ValidClaims(), func([]byte) []byte { return make([]byte, 64) }))
	f.Add("not.a.token")
	f.Add("")

	f.Fuzz(func(t *testing.T, raw string) { checkVerified(t, v, signed, raw) })
}

// FuzzVerifyEdit changes one byte of a signed token, where FuzzVerify's
// mutations of whole strings seldom land: any change but the identity is
// refused, also one that decodes to the same bytes.
func FuzzVerifyEdit(f *testing.F) {
	_, v, signed := fuzzFixture(f)
	toks := slices.Sorted(maps.Keys(signed))
	f.Add(uint8(0), uint16(0), byte('x'))
	f.Add(uint8(1), uint16(len(toks[1])-1), byte('A'))
	f.Add(uint8(2), uint16(strings.Index(toks[2], ".")), byte('.'))
	f.Fuzz(func(t *testing.T, which uint8, at uint16, b byte) {
		tok := []byte(toks[int(which)%len(toks)])
		tok[int(at)%len(tok)] = b
		checkVerified(t, v, signed, string(tok))
	})
}

// fuzzFixture returns an issuer, a verifier of its tokens, and tokens it
// signed with the identities they carry.
func fuzzFixture(f *testing.F) (*authtest.Issuer, *authn.Verifier, map[string]auth.Identity) {
	iss := authtest.NewIssuer(f)
	// A fixed set: authtest.Source would call f's methods from inside the target.
	cfg := authtest.Config(f)
	v := authn.NewVerifier(cfg, authn.NewKeys(&setSource{set: iss.Set(f)}, cfg, authtest.Discard()))
	signed := map[string]auth.Identity{
		iss.Customer(f): {UserID: "customer-1", Email: "customer@example.com", Roles: []string{auth.RoleCustomer}},
		iss.Admin(f):    {UserID: "admin-1", Email: "admin@example.com", Roles: []string{auth.RoleCustomer, auth.RoleAdmin}},
		iss.Token(f, authtest.Claims{"roles": []string{"x,admin", "support"}, "email": "a\r\nb"}): {
			UserID: "user-1", Roles: []string{auth.RoleCustomer, "support"},
		},
	}
	return iss, v, signed
}

// checkVerified requires raw to be refused as an invalid token, or to be a
// token in signed, verified as the identity it was issued for.
func checkVerified(t *testing.T, v *authn.Verifier, signed map[string]auth.Identity, raw string) {
	t.Helper()
	id, err := v.Verify(t.Context(), raw)
	if err != nil {
		if !errors.Is(err, authn.ErrInvalidToken) {
			t.Fatalf("%q: %v is not an invalid token", raw, err)
		}
		return
	}
	want, ok := signed[raw]
	if !ok {
		t.Fatalf("%q verified as %+v, but the issuer never signed it", raw, id)
	}
	if id.UserID != want.UserID || id.Email != want.Email || !slices.Equal(id.Roles, want.Roles) {
		t.Fatalf("%q verified as %+v, want %+v", raw, id, want)
	}
}
