package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"golang.org/x/sync/errgroup"

	"github.com/shopmesh/shopmesh/apps/storefront/gateway"
)

// maxQuantity is the most of one product a cart line holds.
const maxQuantity = 100

// cartLine is a line of the cart with what the page shows of its product.
type cartLine struct {
	gateway.CartItem
	Name      string // "" when the product is no longer sold
	ImageURL  string
	LineTotal gateway.Money
}

type cartContent struct {
	Lines  []cartLine
	Total  gateway.Money
	Notice string
}

var cartNotices = map[string]string{
	"added":         "Added to your cart.",
	"updated":       "Quantity updated.",
	"removed":       "Removed from your cart.",
	"empty":         "Your cart is empty, so there was nothing to check out.",
	"unavailable":   "A product in your cart is no longer sold. Remove it, then check out again.",
	"update-failed": "We could not change that quantity; the cart shows what it holds now. Please try again.",
	"limit":         "A cart line holds at most 100 of a product.",
}

func (h *Handler) cart(c *gin.Context) {
	token := visitorOf(c).token()
	cart, err := h.api.Cart(c, token)
	if err != nil {
		h.fail(c, err)
		return
	}
	lines, err := h.cartLines(c, cart)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, "cart", "Your cart", cartContent{Lines: lines, Total: cart.Total, Notice: cartNotices[c.Query("notice")]})
}

// cartLines adds each line's product name: the cart API holds ids,
// quantities and prices only. A product no longer sold keeps its line
// without a name, so the shopper can remove it.
func (h *Handler) cartLines(ctx context.Context, cart gateway.Cart) ([]cartLine, error) {
	lines := make([]cartLine, len(cart.Items))
	var g errgroup.Group
	g.SetLimit(4)
	for i, item := range cart.Items {
		lines[i] = cartLine{CartItem: item, LineTotal: gateway.Money{Amount: item.Quantity * item.UnitPrice.Amount, Currency: item.UnitPrice.Currency}}
		g.Go(func() error {
			p, err := h.api.Product(ctx, item.ProductID)
			switch {
			case gateway.StatusOf(err) == http.StatusNotFound:
				return nil
			case err != nil:
				return err
			}
			lines[i].Name, lines[i].ImageURL = p.Name, p.ImageURL
			return nil
		})
	}
	return lines, g.Wait()
}

// quantity reads a quantity field within lo..maxQuantity.
func quantity(s string, lo int64) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n, err == nil && n >= lo && n <= maxQuantity
}

// addToCart puts a product in the cart. Signed out, it goes to sign-in and
// back to the product: the cart API needs a signed-in customer.
func (h *Handler) addToCart(c *gin.Context) {
	id := c.PostForm("product_id")
	if !validID(id) {
		h.notFound(c)
		return
	}
	back := "/p/" + url.PathEscape(id)
	if visitorOf(c).sess == nil {
		c.Redirect(http.StatusSeeOther, "/signin?next="+url.QueryEscape(back))
		return
	}
	n, ok := quantity(c.PostForm("quantity"), 1)
	if !ok {
		c.Redirect(http.StatusSeeOther, back+"?notice=limit")
		return
	}
	_, err := h.api.AddToCart(c, visitorOf(c).token(), id, n)
	switch gateway.StatusOf(err) {
	case 0:
		if err != nil {
			h.fail(c, err)
			return
		}
		c.Redirect(http.StatusSeeOther, "/cart?notice=added")
	case http.StatusBadRequest:
		c.Redirect(http.StatusSeeOther, back+"?notice=limit")
	case http.StatusConflict:
		c.Redirect(http.StatusSeeOther, back+"?notice=currency")
	default:
		h.fail(c, err)
	}
}

// setQuantity changes a line's quantity. The cart API only adds to a line
// or removes it, so a larger quantity adds the difference (one call, never
// a moment without the line), and a smaller one removes the line and adds
// it back with the new quantity, restoring the old one if that fails.
func (h *Handler) setQuantity(c *gin.Context) {
	id := c.Param("product_id")
	if !validID(id) {
		h.notFound(c)
		return
	}
	want, ok := quantity(c.PostForm("quantity"), 0)
	if !ok {
		c.Redirect(http.StatusSeeOther, "/cart?notice=limit")
		return
	}
	token := visitorOf(c).token()
	cart, err := h.api.Cart(c, token)
	if err != nil {
		h.fail(c, err)
		return
	}
	var have int64
	for _, item := range cart.Items {
		if item.ProductID == id {
			have = item.Quantity
		}
	}
	notice := "updated"
	switch {
	case have == 0 || want == have:
		notice = ""
	case want == 0:
		_, err = h.api.RemoveFromCart(c, token, id)
		notice = "removed"
	case want > have:
		_, err = h.api.AddToCart(c, token, id, want-have)
	default:
		if _, err = h.api.RemoveFromCart(c, token, id); err == nil {
			if _, err = h.api.AddToCart(c, token, id, want); err != nil {
				h.log.WarnContext(c, "re-adding a cart line with its new quantity", "product_id", id, "err", err)
				if _, rerr := h.api.AddToCart(c, token, id, have); rerr != nil {
					h.log.WarnContext(c, "restoring a cart line", "product_id", id, "err", rerr)
				}
				err, notice = nil, "update-failed"
			}
		}
	}
	if err != nil {
		h.cartFailed(c, err)
		return
	}
	if notice == "" {
		c.Redirect(http.StatusSeeOther, "/cart")
		return
	}
	c.Redirect(http.StatusSeeOther, "/cart?notice="+notice)
}

func (h *Handler) removeFromCart(c *gin.Context) {
	id := c.Param("product_id")
	if !validID(id) {
		h.notFound(c)
		return
	}
	if _, err := h.api.RemoveFromCart(c, visitorOf(c).token(), id); err != nil {
		h.cartFailed(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/cart?notice=removed")
}

// cartFailed shows a refused cart change on the cart page; other failures
// get their page.
func (h *Handler) cartFailed(c *gin.Context, err error) {
	var ge *gateway.Error
	if errors.As(err, &ge) && (ge.Status == http.StatusBadRequest || ge.Status == http.StatusNotFound || ge.Status == http.StatusConflict) {
		c.Redirect(http.StatusSeeOther, "/cart?notice=update-failed")
		return
	}
	h.fail(c, err)
}
