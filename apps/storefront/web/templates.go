package web

import (
	"embed"
	"html/template"
	"net/url"

	"github.com/shopmesh/shopmesh/apps/storefront/gateway"
)

//go:embed templates/*.html
var templateFiles embed.FS

// funcs are what templates may call besides the builtins.
func (h *Handler) funcs() template.FuncMap {
	return template.FuncMap{
		"asset":         h.assets.URL,
		"image":         imageSrc(h.assets),
		"money":         formatMoney,
		"time":          formatTime,
		"machineTime":   machineTime,
		"statusLabel":   statusLabel,
		"statusMessage": statusMessage,
		"reasonText":    reasonText,
		"kindLabel":     kindLabel,
		"waitText":      waitText,
		"pathEscape":    url.PathEscape,
		"signInURL":     func(next string) string { return "/signin?next=" + url.QueryEscape(safeNext(next)) },
		"shortID":       shortID,
		"lineTotal": func(q int64, unit gateway.Money) gateway.Money {
			return gateway.Money{Amount: q * unit.Amount, Currency: unit.Currency}
		},
	}
}
