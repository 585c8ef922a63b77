package web

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/shopmesh/shopmesh/apps/storefront/gateway"
)

func TestFormatMoney(t *testing.T) {
	for _, c := range []struct {
		m    gateway.Money
		want string
	}{
		{gateway.Money{Amount: 1999, Currency: "USD"}, "$19.99"},
		{gateway.Money{Amount: 5, Currency: "USD"}, "$0.05"},
		{gateway.Money{Amount: 123456789, Currency: "EUR"}, "€1,234,567.89"},
		{gateway.Money{Amount: 1500, Currency: "JPY"}, "¥1,500"},
		{gateway.Money{Amount: 1250, Currency: "CHF"}, "12.50\u00a0CHF"},
	} {
		assert.Equal(t, c.want, formatMoney(c.m))
	}
	assert.Equal(t, "$25", formatAmount(2500, "USD", true))
	assert.Equal(t, "$25.50", formatAmount(2550, "USD", true))
	assert.Equal(t, "12.50", majorAmount(gateway.Money{Amount: 1250, Currency: "USD"}))
}

func TestParseAmount(t *testing.T) {
	for in, want := range map[string]int64{"12.50": 1250, "12.5": 1250, "12": 1200, "1,250.00": 125000, " 0.99 ": 99} {
		got, err := parseAmount(in, "USD")
		assert.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	yen, err := parseAmount("1500", "JPY")
	assert.NoError(t, err)
	assert.Equal(t, int64(1500), yen)
	for _, bad := range []string{"", "12.345", "-1", "1e3", "12.", ".5", "abc", "1500.5 JPY"} {
		_, err := parseAmount(bad, "USD")
		assert.Error(t, err, bad)
	}
	_, err = parseAmount("15.5", "JPY")
	assert.Error(t, err, "yen have no minor unit")
}

func TestCloseMatches(t *testing.T) {
	items := []gateway.Product{{Name: "Stainless Steel Kettle", Description: "Boils fast", Category: "kitchen"}}
	assert.Equal(t, []string{"stainles", "kettel"}, closeMatches("Stainles KETTEL", items))
	assert.Empty(t, closeMatches("stainless kettle", items))
	assert.Empty(t, closeMatches("stain", items), "the last word may be the start of one")
	assert.Equal(t, []string{"stain"}, closeMatches("stain kettle", items), "only the last word")
	assert.Empty(t, closeMatches("kettle with lid", items), "stop words are optional")
	assert.Empty(t, closeMatches("Kéttle", items), "accents are folded as the search service folds them")
	assert.Empty(t, closeMatches("teh kettle", items), "short words have no typo tolerance")
	assert.Empty(t, closeMatches("kettel", nil), "no results, nothing was matched closely")
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/cart":                  "/cart",
		"/p/1?x=2#top":           "/p/1?x=2#top",
		"":                       "/",
		"//evil.example":         "/",
		"/\\evil.example":        "/",
		"https://evil.example/":  "/",
		"javascript:alert(1)":    "/",
		"evil.example":           "/",
		"/\tevil":                "/",
		"/ok\r\nSet-Cookie: x=1": "/",
	} {
		assert.Equal(t, want, safeNext(in), in)
	}
}

func TestReasonsInPlainWords(t *testing.T) {
	for _, r := range []string{"out_of_stock", "payment_declined", "cancelled_by_customer", "reservation_expired", "something_new"} {
		text := reasonText(r)
		assert.NotEmpty(t, text, r)
		assert.NotContains(t, text, "_", r)
	}
}
