package api

import (
	"encoding/base64"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// categoryID is what a category id may look like (the "code" rule products
// are validated with): a listing of any other category is empty and issues
// no token.
var categoryID = regexp.MustCompile(`^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?)?$`)

const seedID = "0193f2a4-1111-7000-8000-000000000001"

// FuzzPageToken holds page tokens to their rule: a token is accepted only
// for its listing and only as encodeToken writes it (one page, one token:
// the gateway caches listings by token), it yields a product id in
// canonical form, and every token the catalog issues is accepted.
func FuzzPageToken(f *testing.F) {
	for _, s := range []struct{ tok, category string }{
		{encodeToken(seedID, ""), ""},
		{encodeToken(seedID, "kitchen"), "kitchen"},
		{encodeToken(seedID, "kitchen"), "audio"},
		{base64.RawURLEncoding.EncodeToString([]byte("v1||' OR 1=1")), ""},
		{"djF8fA", ""},
		{"%%%", ""},
		{"", "kitchen"},
	} {
		f.Add(s.tok, s.category, seedID)
	}
	f.Fuzz(func(t *testing.T, tok, category, cursor string) {
		got, errs := decodeToken(tok, category)
		switch {
		case tok == "" && (got != "" || errs != nil):
			t.Fatalf("no token is the first page, got %q %v", got, errs)
		case len(errs) > 0 && got != "":
			t.Fatalf("a refused token yielded cursor %q", got)
		case tok != "" && len(errs) == 0:
			if again := encodeToken(got, category); again != tok {
				t.Fatalf("accepted %q, which is written %q", tok, again)
			}
			if u, err := uuid.Parse(got); err != nil || u.String() != got {
				t.Fatalf("accepted cursor %q is not a product id in canonical form", got)
			}
		}

		u, err := uuid.Parse(cursor)
		if err != nil || !categoryID.MatchString(category) {
			return
		}
		issued := encodeToken(u.String(), category)
		if back, errs := decodeToken(issued, category); len(errs) > 0 || back != u.String() {
			t.Fatalf("issued token %q for %q decodes to %q %v", issued, category, back, errs)
		}
	})
}

// Each spelling of a page token other than the issued one is refused (the
// rule FuzzPageToken checks; these spellings were accepted before).
func TestPageTokenHasOneSpelling(t *testing.T) {
	issued := encodeToken(seedID, "kitchen")
	for name, tok := range map[string]string{
		"upper-case id": base64.RawURLEncoding.EncodeToString([]byte("v1|kitchen|" + strings.ToUpper(seedID))),
		"braced id":     base64.RawURLEncoding.EncodeToString([]byte("v1|kitchen|{" + seedID + "}")),
		"urn id":        base64.RawURLEncoding.EncodeToString([]byte("v1|kitchen|urn:uuid:" + seedID)),
		"spare bits":    issued[:len(issued)-1] + string(issued[len(issued)-1]+1),
	} {
		if _, errs := decodeToken(tok, "kitchen"); len(errs) == 0 {
			t.Errorf("%s: %q was accepted", name, tok)
		}
	}
	if got, errs := decodeToken(issued, "kitchen"); len(errs) > 0 || got != seedID {
		t.Fatalf("the issued token: %q %v", got, errs)
	}
}
