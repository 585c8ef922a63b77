package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/segment"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Sort orders results.
type Sort string

// Sort orders. Relevance without query text lists newest first.
const (
	SortRelevance Sort = "relevance"
	SortPriceAsc  Sort = "price_asc"
	SortPriceDesc Sort = "price_desc"
	SortNewest    Sort = "newest"
)

// Sorts lists the valid orders.
func Sorts() []Sort { return []Sort{SortRelevance, SortPriceAsc, SortPriceDesc, SortNewest} }

// Query is one search. Terms (from Plan) is what adapters match; no terms
// matches every product. Filters narrow the match; facets count it.
type Query struct {
	Terms    []Term
	Category string
	MinPrice *int64 // inclusive, minor units
	MaxPrice *int64 // inclusive, minor units
	InStock  *bool
	Sort     Sort
	Offset   int
	Limit    int
}

// Result is one page of matches, the total and the facets of the whole match.
type Result struct {
	Items []Product
	Total int
	// Categories counts matches per category id (categories with none are left out).
	Categories map[string]int
	// PriceBands counts matches per band of Bands (every band present).
	PriceBands map[string]int
}

// Band is a price range [Min, Max) in minor units; Max 0 has no upper bound.
type Band struct {
	Key      string
	Min, Max int64
}

// Bands are the price facet's bands.
func Bands() []Band {
	return []Band{
		{Key: "under_25", Min: 0, Max: 2500},
		{Key: "25_to_50", Min: 2500, Max: 5000},
		{Key: "50_to_100", Min: 5000, Max: 10000},
		{Key: "100_to_200", Min: 10000, Max: 20000},
		{Key: "200_and_over", Min: 20000},
	}
}

// BandOf returns the key of the band holding amount.
func BandOf(amount int64) string {
	for _, b := range Bands() {
		if amount >= b.Min && (b.Max == 0 || amount < b.Max) {
			return b.Key
		}
	}
	return Bands()[0].Key // negative amounts do not occur; count them in the lowest band
}

// TextField is a searched field and its weight: the name counts most.
type TextField struct {
	Name  string
	Boost float64
}

// TextFields are the fields query terms are matched against, in every adapter.
func TextFields() []TextField {
	return []TextField{{"name", 3}, {"description", 1}, {"category_text", 1}}
}

// Weights of the looser matches relative to an exact term match.
const (
	FuzzyWeight  = 0.5
	PrefixWeight = 0.75
)

// Limits that keep hostile input cheap: later terms are ignored, and very
// long terms are matched exactly only.
const (
	MaxTerms     = 16
	MaxTermRunes = 64
	// FuzzyMinRunes: shorter terms get no typo tolerance ("cat" must not match "hat").
	FuzzyMinRunes = 4
)

// Term is one query term. A product matches it if one of its text fields
// holds the term, or (Fuzzy) a term one edit away (an insertion, deletion,
// substitution or transposition of adjacent letters), or (Prefix) a term
// starting with it. A product must match every Required term; the others
// (stop words) only raise its score.
type Term struct {
	Text     string
	Fuzzy    bool
	Prefix   bool
	Required bool
}

// Plan turns query text into terms: the text's tokens (Tokenize) in order,
// each once, at most MaxTerms. Terms of at least FuzzyMinRunes letters are
// typo tolerant; the last term also matches as a prefix (search as you
// type) unless the text was cut. Stop words are optional unless the text
// has nothing else. Query syntax means nothing here: every character is text.
func Plan(text string) []Term {
	seen := map[string]bool{}
	var toks []string
	cut := false
	for _, t := range Tokenize(text) {
		if seen[t] {
			continue
		}
		if len(toks) == MaxTerms {
			cut = true
			break
		}
		seen[t] = true
		toks = append(toks, t)
	}
	onlyStop := true
	for _, t := range toks {
		if !stopWords[t] {
			onlyStop = false
		}
	}
	terms := make([]Term, len(toks))
	for i, t := range toks {
		n := utf8.RuneCountInString(t)
		terms[i] = Term{
			Text:     t,
			Fuzzy:    n >= FuzzyMinRunes && n <= MaxTermRunes,
			Prefix:   i == len(toks)-1 && !cut && n <= MaxTermRunes,
			Required: onlyStop || !stopWords[t],
		}
	}
	return terms
}

// Tokenize splits text into words by the Unicode word-boundary rules (UAX
// #29, as Lucene's standard tokenizer does) and normalises each. Index
// adapters analyse product text the same way.
func Tokenize(text string) []string {
	var out []string
	seg := segment.NewWordSegmenterDirect([]byte(text))
	for seg.Segment() {
		if seg.Type() == segment.None {
			continue
		}
		if t := Normalize(string(seg.Bytes())); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// Normalize lower-cases a token and folds it to plain letters where it can:
// accents go (café → cafe), typographic apostrophes become ', and a few
// letters without a decomposition are spelled out (ß → ss).
func Normalize(token string) string {
	t := strings.ToLower(token)
	if isASCII(t) {
		return t
	}
	folded, _, err := transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), t)
	if err == nil {
		t = folded
	}
	return foldReplacer.Replace(t)
}

var foldReplacer = strings.NewReplacer(
	"’", "'", "‘", "'", "ß", "ss", "æ", "ae", "œ", "oe", "ø", "o", "đ", "d", "ð", "d", "ł", "l", "þ", "th", "ı", "i",
)

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// stopWords are Lucene's English stop words: optional in queries.
var stopWords = map[string]bool{
	"a": true, "an": true, "and": true, "are": true, "as": true, "at": true, "be": true, "but": true, "by": true,
	"for": true, "if": true, "in": true, "into": true, "is": true, "it": true, "no": true, "not": true, "of": true,
	"on": true, "or": true, "such": true, "that": true, "the": true, "their": true, "then": true, "there": true,
	"these": true, "they": true, "this": true, "to": true, "was": true, "will": true, "with": true,
}
