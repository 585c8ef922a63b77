package ordersclient_test

import (
	"strings"
	"testing"

	"github.com/shopmesh/shopmesh/apps/gateway/ordersclient"
)

// FuzzIdempotencyKeyProblem holds the gateway's Idempotency-Key check to
// its documented rule, in both directions: a key is sent on exactly when it
// is 1 to 255 bytes of printable ASCII, not all blank; a refusal names the
// header and says why.
func FuzzIdempotencyKeyProblem(f *testing.F) {
	for _, key := range []string{
		"k", "0193a7b2-4c1d-7e8f-9a0b-1c2d3e4f5a6b", "two words", strings.Repeat("k", 255),
		"", "   ", strings.Repeat("k", 256), "schlüssel", "a\tb", "a\nb", "\x7f", " k ",
	} {
		f.Add(key)
	}
	f.Fuzz(func(t *testing.T, key string) {
		fe := ordersclient.IdempotencyKeyProblem(key)
		if want := followsRule(key); (fe == nil) != want {
			t.Fatalf("key %q: problem %v, but the rule says valid=%v", key, fe, want)
		}
		if fe != nil && (fe.Field != ordersclient.IdempotencyKeyHeader || fe.Detail == "") {
			t.Fatalf("key %q: the refusal %+v does not name the header and why", key, fe)
		}
	})
}

// followsRule is the rule as the API documents it, written independently.
func followsRule(key string) bool {
	if len(key) < 1 || len(key) > 255 || strings.Trim(key, " ") == "" {
		return false
	}
	for _, r := range []byte(key) {
		if r < ' ' || r > '~' {
			return false
		}
	}
	return true
}
