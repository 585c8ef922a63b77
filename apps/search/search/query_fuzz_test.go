package search_test

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/shopmesh/shopmesh/apps/search/search"
)

// FuzzPlan holds Plan to its documentation for any text: the terms are the
// text's tokens in order, each once, at most MaxTerms; typo tolerance and
// prefix matching only within their length limits, the prefix only on the
// last term of an uncut text; some term is required. Tokens are normalised
// to a fixed point, so that a shopper typing a token the index holds finds it.
func FuzzPlan(f *testing.F) {
	for _, text := range []string{
		"Stainless Steel Kettle", "Chef's knife, 8-inch blade!", "Chef’s Crème Brûlée", "1.7 litre USB-C",
		"Straße Ærø Łódź", `+name:(kettle) AND "x" ~ * ? \`, "   ", "!!!", "stainles kettel", "cst pan",
		"kettle for the kettle the", "The", strings.Repeat("a", search.MaxTermRunes+1), `"(){}[]^~*?:\/`,
		strings.Repeat("word ", 40), "\x00", "\xff\xfe", "日本語", "ke\u0301ttle", "İstanbul",
	} {
		f.Add(text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		toks := search.Tokenize(text)
		for _, tok := range toks {
			if tok == "" || search.Normalize(tok) != tok {
				t.Fatalf("token %q normalises to %q", tok, search.Normalize(tok))
			}
		}
		var want []string
		for _, tok := range toks {
			if !slices.Contains(want, tok) {
				want = append(want, tok)
			}
		}
		cut := len(want) > search.MaxTerms
		want = want[:min(len(want), search.MaxTerms)]

		terms := search.Plan(text)
		if len(terms) != len(want) {
			t.Fatalf("%d terms, want %d (%q)", len(terms), len(want), want)
		}
		required := false
		for i, term := range terms {
			n := utf8.RuneCountInString(term.Text)
			last := i == len(terms)-1
			switch {
			case term.Text != want[i]:
				t.Fatalf("term %d is %q, want %q", i, term.Text, want[i])
			case term.Fuzzy != (n >= search.FuzzyMinRunes && n <= search.MaxTermRunes):
				t.Fatalf("term %q of %d runes: fuzzy %v", term.Text, n, term.Fuzzy)
			case term.Prefix != (last && !cut && n <= search.MaxTermRunes):
				t.Fatalf("term %q (last %v, cut %v): prefix %v", term.Text, last, cut, term.Prefix)
			}
			required = required || term.Required
		}
		if len(terms) > 0 && !required {
			t.Fatalf("no term of %q is required", text)
		}
	})
}
