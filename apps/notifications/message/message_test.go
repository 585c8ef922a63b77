package message

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/internal/contracts"
)

func TestMoney(t *testing.T) {
	for _, tc := range []struct {
		in   contracts.Money
		want string
	}{
		{contracts.Money{Amount: 1999, Currency: "USD"}, "$19.99"},
		{contracts.Money{Amount: 5, Currency: "USD"}, "$0.05"},
		{contracts.Money{Amount: 0, Currency: "USD"}, "$0.00"},
		{contracts.Money{Amount: 123456789, Currency: "EUR"}, "€1,234,567.89"},
		{contracts.Money{Amount: 100000, Currency: "GBP"}, "£1,000.00"},
		{contracts.Money{Amount: 1200, Currency: "JPY"}, "¥1,200"},
		{contracts.Money{Amount: 1500, Currency: "KWD"}, "KWD 1.500"},
		{contracts.Money{Amount: 1250, Currency: "chf"}, "CHF 12.50"},
		{contracts.Money{Amount: -250, Currency: "USD"}, "-$2.50"},
	} {
		assert.Equal(t, tc.want, Money(tc.in), "%+v", tc.in)
	}
}

func order() contracts.OrderEvent {
	usd := func(n int64) contracts.Money { return contracts.Money{Amount: n, Currency: "USD"} }
	return contracts.OrderEvent{
		OrderID: "0193a1b2-0000-7000-8000-000000000001", UserID: "u1", Email: "ann@example.com", Name: "Ann <b>O'Hara</b>",
		Lines: []contracts.OrderLine{
			{ProductID: "p1", SKU: "MUG-BLUE", Name: "Blue mug", Quantity: 2, UnitPrice: usd(1250)},
			{ProductID: "p2", SKU: "TEE-L", Name: "T-shirt & socks", Quantity: 1, UnitPrice: usd(149999)},
		},
		Total:  usd(152499),
		Status: contracts.StatusConfirmed,
	}
}

func TestOrderConfirmedShowsLinesAndTotal(t *testing.T) {
	e, err := OrderConfirmed(order())
	require.NoError(t, err)
	assert.Equal(t, "Your ShopMesh order 0193a1b2-0000-7000-8000-000000000001 is confirmed", e.Subject)

	for _, body := range []string{e.HTML, e.Text} {
		assert.Contains(t, body, "0193a1b2-0000-7000-8000-000000000001")
		assert.Contains(t, body, "$12.50", "unit price")
		assert.Contains(t, body, "$25.00", "2 x $12.50")
		assert.Contains(t, body, "$1,499.99")
		assert.Contains(t, body, "$1,524.99", "total")
	}
	assert.Contains(t, e.Text, "- Blue mug (MUG-BLUE)\n  2 x $12.50 = $25.00\n")
	assert.Contains(t, e.Text, "Total: $1,524.99")
	assert.Contains(t, e.Text, "Hello Ann <b>O'Hara</b>,", "text is not HTML-escaped")

	// Values are escaped in HTML: a name cannot inject markup.
	assert.NotContains(t, e.HTML, "<b>O")
	assert.Contains(t, e.HTML, "Ann &lt;b&gt;O&#39;Hara&lt;/b&gt;")
	assert.Contains(t, e.HTML, "T-shirt &amp; socks")
	assert.True(t, strings.HasPrefix(e.HTML, "<!DOCTYPE html>"))
	assert.Regexp(t, `(?s)Total</td>\s*<td[^>]*>\$1,524\.99</td>`, e.HTML)
}

func TestOrderCancelledGivesTheReasonInWords(t *testing.T) {
	for reason, want := range map[string][]string{
		contracts.ReasonPaymentDeclined:     {"Your payment was declined.", "You have not been charged.", "another card"},
		contracts.ReasonOutOfStock:          {"Some of its items are out of stock.", "refunded"},
		contracts.ReasonCancelledByCustomer: {"You cancelled it.", "refunded"},
		contracts.ReasonReservationExpired:  {"could not be completed in time", "refunded"},
		"something_new":                     {"It could not be completed.", "refunded"},
	} {
		o := order()
		o.Status, o.Reason = contracts.StatusCancelled, reason
		e, err := OrderCancelled(o)
		require.NoError(t, err)
		assert.Equal(t, "Your ShopMesh order 0193a1b2-0000-7000-8000-000000000001 was cancelled", e.Subject)
		for _, w := range want {
			assert.Contains(t, e.Text, w, reason)
			assert.Contains(t, e.HTML, w, reason)
		}
		assert.NotContains(t, e.Text, reason, "the code itself is not shown")
		assert.Contains(t, e.Text, "Total: $1,524.99")
	}
}

func TestWelcome(t *testing.T) {
	e, err := Welcome(contracts.UserEvent{ID: "u1", Email: "zoe@example.com", Name: "Zoë\r\nBcc: x"})
	require.NoError(t, err)
	assert.Equal(t, "Welcome to ShopMesh", e.Subject)
	assert.Contains(t, e.Text, "Hello Zoë Bcc: x,", "line breaks in a name are collapsed")
	assert.Contains(t, e.Text, "zoe@example.com")
	assert.Contains(t, e.HTML, "Hello Zoë Bcc: x,")

	e, err = Welcome(contracts.UserEvent{ID: "u2", Email: "anon@example.com"})
	require.NoError(t, err)
	assert.Contains(t, e.Text, "Hello,\n")
}
