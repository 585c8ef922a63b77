package message

import (
	"strconv"
	"strings"

	"github.com/shopmesh/shopmesh/internal/contracts"
)

// minorDigits lists the ISO 4217 currencies whose minor unit is not a
// hundredth; every other currency has two decimals.
var minorDigits = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
	"PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
	"CLF": 4, "UYW": 4,
}

// symbols are the currencies shoppers recognise by sign; others show their code.
var symbols = map[string]string{"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}

// Money formats m for a reader: "$1,234.50", "¥1,200", "CHF 12.00".
// Amounts are minor units, so the decimals come from the currency.
func Money(m contracts.Money) string {
	code := strings.ToUpper(m.Currency)
	digits, ok := minorDigits[code]
	if !ok {
		digits = 2
	}
	amount := m.Amount
	sign := ""
	if amount < 0 {
		sign, amount = "-", -amount
	}
	raw := strconv.FormatInt(amount, 10)
	if len(raw) <= digits {
		raw = strings.Repeat("0", digits-len(raw)+1) + raw
	}
	units, frac := raw[:len(raw)-digits], raw[len(raw)-digits:]
	number := groupThousands(units)
	if digits > 0 {
		number += "." + frac
	}
	if sym, ok := symbols[code]; ok {
		return sign + sym + number
	}
	return sign + code + " " + number
}

// groupThousands puts a comma between every three digits from the right.
func groupThousands(digits string) string {
	var b strings.Builder
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
