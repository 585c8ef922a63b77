package authn_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/gateway/authtest"
)

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// sameBytesVariant returns seg with its last character swapped for another
// one that decodes to the same bytes (it differs only in the bits padding
// the last group), or false when seg has no such bits.
func sameBytesVariant(t *testing.T, seg string) (string, bool) {
	t.Helper()
	want, err := base64.RawURLEncoding.DecodeString(seg)
	require.NoError(t, err)
	last := seg[len(seg)-1]
	for i := range len(base64URLAlphabet) {
		c := base64URLAlphabet[i]
		if c == last {
			continue
		}
		alt := seg[:len(seg)-1] + string(c)
		if got, err := base64.RawURLEncoding.DecodeString(alt); err == nil && string(got) == string(want) {
			return alt, true
		}
	}
	return "", false
}

// segmentWithSpareBits encodes v as JSON, padded with trailing spaces (still
// the same JSON) until its base64url form ends in a partial group, so that
// the encoding has bits a forger could flip.
func segmentWithSpareBits(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	for len(b)%3 == 0 {
		b = append(b, ' ')
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// A token is verified only in the one encoding its issuer could have sent:
// a segment whose unused low bits are set decodes to the same bytes, so
// accepting it would let anyone holding a token mint other spellings of it,
// each a new token to whatever is keyed by the token string (a revocation
// list, a cache).
func TestNonCanonicalBase64IsRejected(t *testing.T) {
	f := newFixture(t, authtest.Config(t))
	header := segmentWithSpareBits(t, map[string]any{"alg": "ES256", "typ": "JWT", "kid": f.iss.KID()})
	payload := segmentWithSpareBits(t, authtest.ValidClaims())
	signed := func(h, p string) string {
		in := h + "." + p
		return in + "." + base64.RawURLEncoding.EncodeToString(f.iss.Sign(t, []byte(in)))
	}

	// The canonical token verifies: what is refused below is only the encoding.
	valid := signed(header, payload)
	_, err := f.verify(t, valid)
	require.NoError(t, err)

	parts := strings.Split(valid, ".")
	sig, ok := sameBytesVariant(t, parts[2])
	require.True(t, ok, "a 64-byte signature leaves 4 bits spare")
	altHeader, ok := sameBytesVariant(t, header)
	require.True(t, ok)
	altPayload, ok := sameBytesVariant(t, payload)
	require.True(t, ok)

	for name, tok := range map[string]string{
		// The same signature bytes: the signature still checks out.
		"signature bits": header + "." + payload + "." + sig,
		// The issuer's signature, over the canonical spelling.
		"header bits, signature kept":  altHeader + "." + payload + "." + parts[2],
		"payload bits, signature kept": header + "." + altPayload + "." + parts[2],
		// Signed as sent: only the encoding is wrong.
		"header bits, signed as sent":  signed(altHeader, payload),
		"payload bits, signed as sent": signed(header, altPayload),
		"padded signature":             valid + "==",
		"line break":                   header + "." + payload + "." + parts[2][:10] + "\n" + parts[2][10:],
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.verify(t, tok)
			requireRejected(t, err)
		})
	}
}
