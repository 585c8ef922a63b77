package auth

import (
	"encoding/base64"
	"strings"
)

// CanonicalJWS reports whether token is a compact JWS of three non-empty
// segments, each base64url exactly as RFC 7515 writes it. JWT libraries
// (jwx) decode leniently (padding, the standard alphabet, line breaks, set
// spare bits after the last byte), which gives one token many spellings
// that all verify; only one re-encodes to itself. Both the issuer and the
// gateway refuse the others, so a client cannot mint variants of a token it
// holds, each a new key to whatever is keyed by the token string.
func CanonicalJWS(token string) bool {
	segs := strings.Split(token, ".")
	if len(segs) != 3 {
		return false
	}
	for _, seg := range segs {
		b, err := base64.RawURLEncoding.DecodeString(seg)
		if err != nil || len(b) == 0 || base64.RawURLEncoding.EncodeToString(b) != seg {
			return false
		}
	}
	return true
}
