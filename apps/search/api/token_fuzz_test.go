package api

import (
	"encoding/base64"
	"strings"
	"testing"
)

const seedFingerprint = "0123456789abcdef"

// FuzzPageToken holds page tokens to their rule: a token is accepted only
// for its search and only as encodeToken writes it (one page, one token),
// its offset is within the results a search may page through, and every
// token the search issues is accepted.
func FuzzPageToken(f *testing.F) {
	for _, s := range []struct {
		tok, fingerprint string
		offset           int
	}{
		{encodeToken(10, seedFingerprint), seedFingerprint, 10},
		{encodeToken(10, seedFingerprint), "fedcba9876543210", 20},
		{encodeToken(MaxResults-1, seedFingerprint), seedFingerprint, MaxResults - 1},
		{"garbage", seedFingerprint, 1},
		{"djF8MTB8YWJj", "abc", 0},
		{"", "", -1},
	} {
		f.Add(s.tok, s.fingerprint, s.offset)
	}
	f.Fuzz(func(t *testing.T, tok, fingerprint string, offset int) {
		got, ok := decodeToken(tok, fingerprint)
		if ok {
			if got < 1 || got >= MaxResults {
				t.Fatalf("accepted offset %d", got)
			}
			if again := encodeToken(got, fingerprint); again != tok {
				t.Fatalf("accepted %q, which is written %q", tok, again)
			}
		}

		// Fingerprints are hex; one holding the separator is never issued.
		if offset < 1 || offset >= MaxResults || strings.Contains(fingerprint, "|") {
			return
		}
		issued := encodeToken(offset, fingerprint)
		if back, ok := decodeToken(issued, fingerprint); !ok || back != offset {
			t.Fatalf("issued token %q for offset %d decodes to %d, %v", issued, offset, back, ok)
		}
	})
}

// Each spelling of a page token other than the issued one is refused (the
// rule FuzzPageToken checks; these spellings were accepted before).
func TestPageTokenHasOneSpelling(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	issued := encodeToken(10, seedFingerprint)
	for name, tok := range map[string]string{
		"plus sign":    enc([]byte("v1|+10|" + seedFingerprint)),
		"leading zero": enc([]byte("v1|010|" + seedFingerprint)),
		"spare bits":   sameBytes(t, issued),
	} {
		if _, ok := decodeToken(tok, seedFingerprint); ok {
			t.Errorf("%s: %q was accepted", name, tok)
		}
	}
	if got, ok := decodeToken(issued, seedFingerprint); !ok || got != 10 {
		t.Fatalf("the issued token: %d %v", got, ok)
	}
}

// sameBytes returns tok with another last character that decodes to the
// same bytes.
func sameBytes(t *testing.T, tok string) string {
	t.Helper()
	want, _ := base64.RawURLEncoding.DecodeString(tok)
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" {
		alt := tok[:len(tok)-1] + string(c)
		if got, err := base64.RawURLEncoding.DecodeString(alt); alt != tok && err == nil && string(got) == string(want) {
			return alt
		}
	}
	t.Fatalf("%q has no spare bits", tok)
	return ""
}
