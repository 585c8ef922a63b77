// Package message renders the e-mails the notifications service sends: a
// subject, an HTML body and a plain-text body per kind, from templates
// embedded in the binary (html/template escapes every value it inserts).
package message

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"

	"github.com/shopmesh/shopmesh/internal/contracts"
)

//go:embed templates
var templates embed.FS

// Email is a rendered message.
type Email struct {
	Subject string
	HTML    string
	Text    string
}

// kind is one sort of e-mail: its parsed HTML and text templates.
type kind struct {
	html *htmltemplate.Template
	text *texttemplate.Template
}

// Template names per kind: templates/<name>.html and .txt, each defining
// "content" for the shared layout.
const (
	welcome        = "welcome"
	orderConfirmed = "order_confirmed"
	orderCancelled = "order_cancelled"
)

// kinds are parsed once at start-up; a template error is a programming
// error, caught by the package's tests.
var kinds = func() map[string]kind {
	out := map[string]kind{}
	for _, name := range []string{welcome, orderConfirmed, orderCancelled} {
		out[name] = kind{
			html: htmltemplate.Must(htmltemplate.ParseFS(templates, "templates/layout.html", "templates/"+name+".html")),
			text: texttemplate.Must(texttemplate.ParseFS(templates, "templates/layout.txt", "templates/"+name+".txt")),
		}
	}
	return out
}()

// view is what every template sees.
type view struct {
	Subject string
	Name    string
	Email   string
	OrderID string
	Lines   []line
	Total   string
	Reason  string // why an order was cancelled, a sentence
	Money   string // what happens to the shopper's money
	Next    string // what the shopper may do now, or ""
}

type line struct {
	Name      string
	SKU       string
	Quantity  int64
	UnitPrice string
	Amount    string
}

func render(name string, v view) (Email, error) {
	k := kinds[name]
	var html, text bytes.Buffer
	if err := k.html.ExecuteTemplate(&html, "layout", v); err != nil {
		return Email{}, fmt.Errorf("rendering %s html: %w", name, err)
	}
	if err := k.text.ExecuteTemplate(&text, "layout", v); err != nil {
		return Email{}, fmt.Errorf("rendering %s text: %w", name, err)
	}
	return Email{Subject: v.Subject, HTML: html.String(), Text: text.String()}, nil
}

// Welcome is the e-mail a new account receives.
func Welcome(u contracts.UserEvent) (Email, error) {
	return render(welcome, view{Subject: "Welcome to ShopMesh", Name: oneLine(u.Name), Email: u.Email})
}

// OrderConfirmed tells the shopper the order went through, with its lines
// and total.
func OrderConfirmed(o contracts.OrderEvent) (Email, error) {
	v := orderView(o)
	v.Subject = "Your ShopMesh order " + o.OrderID + " is confirmed"
	return render(orderConfirmed, v)
}

// OrderCancelled tells the shopper the order was cancelled and why, in
// words, and what happens to their money.
func OrderCancelled(o contracts.OrderEvent) (Email, error) {
	v := orderView(o)
	v.Subject = "Your ShopMesh order " + o.OrderID + " was cancelled"
	v.Reason, v.Money, v.Next = CancelReason(o.Reason)
	return render(orderCancelled, v)
}

// orderView shows each line with its amount (quantity × unit price) and
// the order's total as the event states it: orders computed it at checkout.
func orderView(o contracts.OrderEvent) view {
	v := view{Name: oneLine(o.Name), Email: o.Email, OrderID: o.OrderID, Total: Money(o.Total)}
	for _, l := range o.Lines {
		v.Lines = append(v.Lines, line{
			Name:      oneLine(l.Name),
			SKU:       l.SKU,
			Quantity:  l.Quantity,
			UnitPrice: Money(l.UnitPrice),
			Amount:    Money(contracts.Money{Amount: l.UnitPrice.Amount * l.Quantity, Currency: l.UnitPrice.Currency}),
		})
	}
	return v
}

// CancelReason says in words why an order was cancelled (reason is the
// API's timeline reason), what happens to the money, and what the shopper
// may do next ("" when nothing useful).
func CancelReason(reason string) (why, money, next string) {
	const refund = "If you were charged for it, the full amount will be refunded."
	switch reason {
	case contracts.ReasonPaymentDeclined:
		return "Your payment was declined.", "You have not been charged.",
			"You are welcome to place the order again with another card."
	case contracts.ReasonOutOfStock:
		return "Some of its items are out of stock.", refund,
			"You are welcome to order the items that are still available."
	case contracts.ReasonCancelledByCustomer:
		return "You cancelled it.", refund, ""
	case contracts.ReasonReservationExpired:
		return "It could not be completed in time, so the items held for you were released.", refund,
			"You are welcome to place the order again."
	default:
		return "It could not be completed.", refund, ""
	}
}

// oneLine collapses whitespace, line breaks included, so a name cannot
// reshape the plain-text body.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
