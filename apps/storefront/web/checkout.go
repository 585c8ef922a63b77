package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/shopmesh/shopmesh/apps/storefront/gateway"
)

// testCard is one of the payment sandbox's tokens, offered by name.
type testCard struct{ Token, Label, Hint string }

var testCards = []testCard{
	{"tok_visa", "Visa that pays", "The payment goes through."},
	{"tok_chargeDeclined", "Declined card", "The card issuer declines the payment."},
	{"tok_insufficientFunds", "Insufficient funds", "The card issuer declines for lack of funds."},
}

// problemCartEmpty is the checkout's problem type for an empty cart.
const problemCartEmpty = "https://shopmesh.dev/problems/cart-empty"

var countryPattern = regexp.MustCompile(`^[A-Za-z]{2}$`)

type checkoutContent struct {
	Address gateway.ShippingAddress
	Card    string
	// Key is the checkout's Idempotency-Key, made when the form is first
	// shown and kept while the same order is retried, so submitting twice
	// (a double click, a retry after "busy") never places two orders.
	Key     string
	Errors  map[string]string
	Message string
	Busy    int // seconds to wait before retrying, when the shop was busy
	Cards   []testCard
	Lines   []cartLine // the order summary; empty when it could not be read
	Total   gateway.Money
	Empty   bool
}

func newKey() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("idempotency key: %w", err)
	}
	return id.String(), nil
}

func (h *Handler) checkoutForm(c *gin.Context) {
	v := visitorOf(c)
	cart, err := h.api.Cart(c, v.token())
	if err != nil {
		h.fail(c, err)
		return
	}
	content := checkoutContent{Cards: testCards, Card: testCards[0].Token, Total: cart.Total, Empty: len(cart.Items) == 0}
	if content.Empty {
		h.render(c, http.StatusOK, "checkout", "Checkout", content)
		return
	}
	if content.Lines, err = h.cartLines(c, cart); err != nil {
		h.fail(c, err)
		return
	}
	if content.Key, err = newKey(); err != nil {
		h.fail(c, err)
		return
	}
	content.Address.Name = v.sess.Name
	// Prefill from the address book; without it the form starts empty.
	if me, err := h.api.Me(c, v.token()); err == nil && len(me.Addresses) > 0 {
		a := me.Addresses[0]
		content.Address = gateway.ShippingAddress{Name: a.Name, Line1: a.Line1, Line2: a.Line2, City: a.City, PostalCode: a.PostalCode, Country: a.Country}
	}
	h.render(c, http.StatusOK, "checkout", "Checkout", content)
}

func (h *Handler) checkout(c *gin.Context) {
	v := visitorOf(c)
	content := checkoutContent{
		Cards: testCards,
		Card:  c.PostForm("payment_token"),
		Key:   c.PostForm("idempotency_key"),
		Address: gateway.ShippingAddress{
			Name: strings.TrimSpace(c.PostForm("name")), Line1: strings.TrimSpace(c.PostForm("line1")),
			Line2: strings.TrimSpace(c.PostForm("line2")), City: strings.TrimSpace(c.PostForm("city")),
			PostalCode: strings.TrimSpace(c.PostForm("postal_code")), Country: strings.ToUpper(strings.TrimSpace(c.PostForm("country"))),
		},
	}
	var err error
	if !validID(content.Key) {
		// Not a key this page made: no order can have it, so a new one is safe.
		if content.Key, err = newKey(); err != nil {
			h.fail(c, err)
			return
		}
	}
	content.Errors = checkAddress(content.Address)
	if !validCard(content.Card) {
		content.Errors["payment_token"] = "Choose one of the test cards."
	}
	if len(content.Errors) > 0 {
		h.renderCheckout(c, http.StatusUnprocessableEntity, content)
		return
	}
	placed, err := h.api.Checkout(c, v.token(), content.Key, gateway.CheckoutRequest{ShippingAddress: content.Address, PaymentToken: content.Card})
	if err == nil {
		c.Redirect(http.StatusSeeOther, "/orders/"+url.PathEscape(placed.OrderID))
		return
	}
	var ge *gateway.Error
	if !errors.As(err, &ge) {
		h.fail(c, err)
		return
	}
	switch ge.Status {
	case http.StatusServiceUnavailable, http.StatusTooManyRequests:
		// Nothing was placed and the cart is as it was. Retrying sends the
		// same key and body: if the first attempt did get through, the
		// answer is its order, not a second one.
		content.Busy = seconds(ge.RetryAfter)
		c.Header("Retry-After", fmt.Sprint(content.Busy))
		h.renderCheckout(c, ge.Status, content)
	case http.StatusBadRequest:
		if ge.Problem.Type == problemCartEmpty {
			c.Redirect(http.StatusSeeOther, "/cart?notice=empty")
			return
		}
		for _, fe := range ge.Problem.Errors {
			field := strings.TrimPrefix(fe.Field, "shipping_address.")
			content.Errors[field] = sentence(fe.Detail)
		}
		if len(content.Errors) == 0 {
			content.Message = sentence(ge.Problem.Detail)
		}
		h.retryWithNewKey(c, http.StatusUnprocessableEntity, content)
	case http.StatusConflict:
		c.Redirect(http.StatusSeeOther, "/cart?notice=unavailable")
	case http.StatusUnprocessableEntity:
		content.Message = "The order details changed since the form was first sent. Please check them and place the order again."
		h.retryWithNewKey(c, http.StatusUnprocessableEntity, content)
	default:
		h.fail(c, err)
	}
}

// retryWithNewKey shows the form again for a checkout the API refused
// outright: no order was placed with the old key, and the corrected one is
// a new checkout.
func (h *Handler) retryWithNewKey(c *gin.Context, status int, content checkoutContent) {
	key, err := newKey()
	if err != nil {
		h.fail(c, err)
		return
	}
	content.Key = key
	h.renderCheckout(c, status, content)
}

// renderCheckout shows the form again with the cart as its summary; when
// the cart cannot be read (the shop is busy) the form shows without one.
func (h *Handler) renderCheckout(c *gin.Context, status int, content checkoutContent) {
	if cart, err := h.api.Cart(c, visitorOf(c).token()); err == nil {
		content.Total = cart.Total
		if lines, err := h.cartLines(c, cart); err == nil {
			content.Lines = lines
		}
	}
	h.render(c, status, "checkout", "Checkout", content)
}

// checkAddress returns what is missing or wrong in a shipping address, per field.
func checkAddress(a gateway.ShippingAddress) map[string]string {
	errs := map[string]string{}
	required := []struct{ field, value, msg string }{
		{"name", a.Name, "Enter the name of who receives the delivery."},
		{"line1", a.Line1, "Enter the street address."},
		{"city", a.City, "Enter the town or city."},
		{"postal_code", a.PostalCode, "Enter the postal code."},
	}
	for _, r := range required {
		if r.value == "" {
			errs[r.field] = r.msg
		}
	}
	if !countryPattern.MatchString(a.Country) {
		errs["country"] = "Enter the country as its two-letter code, such as DE or US."
	}
	return errs
}

func validCard(token string) bool {
	for _, tc := range testCards {
		if tc.Token == token {
			return true
		}
	}
	return false
}
