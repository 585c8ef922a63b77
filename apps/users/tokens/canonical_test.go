package tokens_test

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/users/tokens"
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
// the same JSON) until its base64url form ends in a partial group.
func segmentWithSpareBits(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	for len(b)%3 == 0 {
		b = append(b, ' ')
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// sign signs input as ES256 with the keyring's current key.
func (f *fixture) sign(t *testing.T, input string) string {
	t.Helper()
	key, err := f.keys.Signer()
	require.NoError(t, err)
	var priv ecdsa.PrivateKey
	require.NoError(t, jwk.Export(key, &priv))
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, &priv, sum[:])
	require.NoError(t, err)
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// Verify accepts a token only in the encoding Issue writes: jwx alone also
// takes spare bits set, padding and the standard alphabet, which give one
// token many spellings.
func TestVerifyRejectsNonCanonicalBase64(t *testing.T) {
	f := newFixture(t)
	now := f.clock.now()
	header := segmentWithSpareBits(t, map[string]any{"alg": "ES256", "typ": "JWT", "kid": "kid-1"})
	payload := segmentWithSpareBits(t, map[string]any{
		"iss": cfg.Issuer, "aud": []string{cfg.Audience}, "sub": "u-1", "roles": []string{},
		"iat": now.Unix(), "exp": now.Add(cfg.AccessTTL).Unix(),
	})
	valid := f.sign(t, header+"."+payload)
	_, err := f.verify(valid)
	require.NoError(t, err, "the canonical token verifies: what is refused below is only the encoding")

	parts := strings.Split(valid, ".")
	sig, ok := sameBytesVariant(t, parts[2])
	require.True(t, ok, "a 64-byte signature leaves 4 bits spare")
	altHeader, ok := sameBytesVariant(t, header)
	require.True(t, ok)
	altPayload, ok := sameBytesVariant(t, payload)
	require.True(t, ok)
	padded := base64.URLEncoding.EncodeToString(mustDecode(t, parts[2]))
	std := base64.RawStdEncoding.EncodeToString(mustDecode(t, parts[2]))

	for name, tok := range map[string]string{
		"signature bits": header + "." + payload + "." + sig,
		// jwx checks the signature over the segments re-encoded, so the
		// issuer's signature still fits a header or payload spelt otherwise.
		"header bits, signature kept":  altHeader + "." + payload + "." + parts[2],
		"payload bits, signature kept": header + "." + altPayload + "." + parts[2],
		"header bits, signed as sent":  f.sign(t, altHeader+"."+payload),
		"payload bits, signed as sent": f.sign(t, header+"."+altPayload),
		"padded signature":             header + "." + payload + "." + padded,
		"std alphabet":                 header + "." + payload + "." + std,
		"line break":                   header + "." + payload + "." + parts[2][:10] + "\n" + parts[2][10:],
	} {
		t.Run(name, func(t *testing.T) {
			if name == "std alphabet" && std == parts[2] {
				t.Skip("this signature has no byte that base64url spells differently")
			}
			_, err := f.verify(tok)
			require.ErrorIs(t, err, tokens.ErrInvalid)
			t.Log(err)
		})
	}
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	require.NoError(t, err)
	return b
}
