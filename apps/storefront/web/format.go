package web

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/currency"

	"github.com/shopmesh/shopmesh/apps/storefront/gateway"
	"github.com/shopmesh/shopmesh/apps/storefront/static"
)

// symbols are the currency signs shoppers read without a code; other
// currencies show their ISO code.
var symbols = map[string]string{"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}

// digits returns how many minor-unit digits currency has (2 for USD, 0 for JPY).
func digits(code string) int {
	u, err := currency.ParseISO(code)
	if err != nil {
		return 2
	}
	scale, _ := currency.Standard.Rounding(u)
	return scale
}

// formatMoney writes an amount of minor units in its currency: $1,234.50.
func formatMoney(m gateway.Money) string {
	return formatAmount(m.Amount, m.Currency, false)
}

// formatAmount formats minor units of code; whole drops a zero fraction
// ($25 rather than $25.00), for price bands.
func formatAmount(amount int64, code string, whole bool) string {
	d := digits(code)
	unit := int64(math.Pow10(d))
	sign := ""
	if amount < 0 {
		sign, amount = "-", -amount
	}
	major, minor := amount/unit, amount%unit
	s := groupThousands(strconv.FormatInt(major, 10))
	if d > 0 && !(whole && minor == 0) {
		s += "." + fmt.Sprintf("%0*d", d, minor)
	}
	if sym, ok := symbols[code]; ok {
		return sign + sym + s
	}
	return sign + s + "\u00a0" + code
}

func groupThousands(s string) string {
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	lead := len(s) % 3
	if lead > 0 {
		b.WriteString(s[:lead])
	}
	for i := lead; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// majorAmount writes minor units as a plain decimal for a form field: 1250 -> 12.50.
func majorAmount(m gateway.Money) string {
	d := digits(m.Currency)
	if d == 0 {
		return strconv.FormatInt(m.Amount, 10)
	}
	unit := int64(math.Pow10(d))
	return fmt.Sprintf("%d.%0*d", m.Amount/unit, d, m.Amount%unit)
}

// parseAmount reads a price typed in major units ("12.5", "12.50", "1,250")
// into minor units of code, refusing more decimals than the currency has.
func parseAmount(s, code string) (int64, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	d := digits(code)
	whole, frac, hasFrac := strings.Cut(s, ".")
	bad := errors.New("must be an amount such as 12.50")
	if whole == "" || (hasFrac && frac == "") || len(frac) > d || strings.Trim(whole+frac, "0123456789") != "" || len(whole) > 12 {
		return 0, bad
	}
	frac += strings.Repeat("0", d-len(frac))
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, bad
	}
	return n, nil
}

// formatTime writes an instant for people, in UTC: 8 Dec 2025, 14:03 UTC.
func formatTime(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04 MST") }

// machineTime writes an instant for <time datetime>.
func machineTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// statusLabel names an order status.
func statusLabel(status string) string {
	switch status {
	case gateway.StatusPending:
		return "Pending"
	case gateway.StatusConfirmed:
		return "Confirmed"
	case gateway.StatusCancelled:
		return "Cancelled"
	}
	return humanize(status)
}

// statusMessage says in plain words what an order's status means for the shopper.
func statusMessage(o gateway.Order) string {
	switch o.Status {
	case gateway.StatusPending:
		return "We are reserving your items and taking the payment. This usually takes a few seconds."
	case gateway.StatusConfirmed:
		return "Your order is confirmed: the items are reserved and the payment went through."
	case gateway.StatusCancelled:
		return "Your order was cancelled. " + reasonText(o.Reason)
	}
	return ""
}

// reasonText explains why an order was cancelled. The orders API has no
// reason of its own for insufficient funds: a card declined for any cause,
// tok_insufficientFunds included, is payment_declined.
func reasonText(reason string) string {
	switch reason {
	case "":
		return ""
	case "out_of_stock":
		return "Some items were out of stock."
	case "payment_declined":
		return "The payment was declined by the card issuer (for example for insufficient funds)."
	case "cancelled_by_customer":
		return "You cancelled the order."
	case "reservation_expired":
		return "The order could not be completed in time, so its items were released."
	}
	return humanize(reason) + "."
}

// kindLabel names the kind of a notification: order_confirmed -> Order confirmed.
func kindLabel(kind string) string { return humanize(kind) }

func humanize(s string) string {
	s = strings.ReplaceAll(s, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// imageSrc returns where the page loads a product's image from. The
// catalog names same-site paths under /images/products/; anything else (an
// empty or off-site URL) would be blocked by the pages' img-src 'self', so
// it shows the placeholder instead of a broken image.
func imageSrc(assets *static.Assets) func(string) (string, error) {
	return func(u string) (string, error) {
		if name, ok := strings.CutPrefix(u, static.ImagePrefix); ok && name != "" && !strings.ContainsAny(name, "/\\?#%") && !strings.HasPrefix(name, ".") {
			return u, nil
		}
		return assets.URL("placeholder.svg")
	}
}

// seconds rounds a wait up to whole seconds, at least 1, as Retry-After counts.
func seconds(d time.Duration) int { return max(1, int(math.Ceil(d.Seconds()))) }

// waitText says how long to wait in words: "12 seconds", "15 minutes".
func waitText(secs int) string {
	switch {
	case secs <= 1:
		return "1 second"
	case secs < 120:
		return strconv.Itoa(secs) + " seconds"
	default:
		return strconv.Itoa((secs+59)/60) + " minutes"
	}
}
