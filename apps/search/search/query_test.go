package search_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/shopmesh/shopmesh/apps/search/search"
)

func TestTokenize(t *testing.T) {
	cases := map[string][]string{
		"Stainless Steel Kettle":         {"stainless", "steel", "kettle"},
		"Chef's knife, 8-inch blade!":    {"chef's", "knife", "8", "inch", "blade"},
		"Chef’s Crème Brûlée":            {"chef's", "creme", "brulee"},
		"1.7 litre USB-C":                {"1.7", "litre", "usb", "c"},
		"Straße Ærø Łódź":                {"strasse", "aero", "lodz"},
		`+name:(kettle) AND "x" ~ * ? \`: {"name", "kettle", "and", "x"},
		"   ":                            nil,
		"!!!":                            nil,
	}
	for in, want := range cases {
		assert.Equal(t, want, search.Tokenize(in), "%q", in)
	}
}

func TestPlan(t *testing.T) {
	assert.Equal(t, []search.Term{
		{Text: "stainles", Fuzzy: true, Required: true},
		{Text: "kettel", Fuzzy: true, Prefix: true, Required: true},
	}, search.Plan("stainles kettel"), "typo tolerance from 4 letters; the last term is a prefix too")

	assert.Equal(t, []search.Term{
		{Text: "cst", Required: true},
		{Text: "pan", Prefix: true, Required: true},
	}, search.Plan("cst pan"), "short terms are exact")

	assert.Equal(t, []search.Term{
		{Text: "kettle", Fuzzy: true, Required: true},
		{Text: "for"},
		{Text: "the", Prefix: true},
	}, search.Plan("kettle for the kettle the"), "repeats count once; stop words are optional")

	assert.Equal(t, []search.Term{{Text: "the", Prefix: true, Required: true}}, search.Plan("The"),
		"a query of stop words only needs them")

	long := strings.Repeat("a", search.MaxTermRunes+1)
	assert.Equal(t, []search.Term{{Text: long, Required: true}}, search.Plan(long), "overlong terms are exact only")

	var words []string
	for i := range 40 {
		words = append(words, "word"+strings.Repeat("x", i))
	}
	plan := search.Plan(strings.Join(words, " "))
	assert.Len(t, plan, search.MaxTerms)
	for _, term := range plan {
		assert.False(t, term.Prefix, "a cut query has no prefix term")
	}
	assert.Empty(t, search.Plan(`"(){}[]^~*?:\/`))
}

func TestBands(t *testing.T) {
	for amount, band := range map[int64]string{
		0: "under_25", 2499: "under_25", 2500: "25_to_50", 4999: "25_to_50", 5000: "50_to_100",
		9999: "50_to_100", 10000: "100_to_200", 19999: "100_to_200", 20000: "200_and_over", 1 << 40: "200_and_over",
	} {
		assert.Equal(t, band, search.BandOf(amount), "%d", amount)
	}
}
