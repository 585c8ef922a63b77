package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Kind is what a shopper does in one action.
type Kind int

// The actions of the mix, then the requests outside it.
const (
	Browse   Kind = iota // list the catalogue, one to three pages, a category now and then
	Search               // search with a query, sort or filter
	View                 // one product: the run's or one seen browsing
	Add                  // one unit of a run product into the cart
	Change               // one more unit of a product already in the cart
	Remove               // a product out of the cart
	Checkout             // check out with the paying card (tok_visa)
	Declined             // check out with the declined card (tok_chargeDeclined)
	History              // the order history, and one order of it half the time
	mixKinds             // the number of kinds in a mix

	Token = mixKinds // token renewals, which shoppers make when theirs expire
	kinds = Token + 1
)

var kindNames = [kinds]string{"browse", "search", "view", "add", "change", "remove", "checkout", "declined", "history", "token"}

func (k Kind) String() string {
	if k < 0 || k >= kinds {
		return "kind(" + strconv.Itoa(int(k)) + ")"
	}
	return kindNames[k]
}

// needsCart reports whether an action of kind k needs a shopper whose cart
// holds something.
func (k Kind) needsCart() bool {
	return k == Change || k == Remove || k == Checkout || k == Declined
}

// DefaultMix is the shoppers' mix: relative weights, per checkout (paying
// and declined together weigh 1). At RATE checkouts per second the run
// makes RATE × 12.5 actions per second; a browse is one to three requests
// and a history one or two, so about 15 requests per checkout.
const DefaultMix = "browse=3,search=2,view=4,add=1.4,change=0.3,remove=0.3,checkout=0.95,declined=0.05,history=0.5"

// Mix is the relative weight of each action.
type Mix [mixKinds]float64

// ParseMix reads "kind=weight,..." (kinds left out weigh 0). Checkouts,
// paying and declined, must weigh more than 0, and adds at least as much
// as checkouts: a checkout needs a cart that holds something.
func ParseMix(s string) (Mix, error) {
	var m Mix
	seen := map[Kind]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			return Mix{}, fmt.Errorf("mix: %q is not kind=weight", part)
		}
		k, ok := kindNamed(strings.TrimSpace(name))
		if !ok {
			return Mix{}, fmt.Errorf("mix: unknown action %q (want one of %s)", name, strings.Join(kindNames[:mixKinds], ", "))
		}
		if seen[k] {
			return Mix{}, fmt.Errorf("mix: %s given twice", k)
		}
		seen[k] = true
		w, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil || w < 0 || math.IsInf(w, 0) || math.IsNaN(w) {
			return Mix{}, fmt.Errorf("mix: %s=%q is not a weight of 0 or more", k, value)
		}
		m[k] = w
	}
	switch co := m.checkouts(); {
	case co <= 0:
		return Mix{}, errors.New("mix: checkout and declined weigh nothing: the rate is checkouts per second")
	case m[Add] < co:
		return Mix{}, fmt.Errorf("mix: add (%g) weighs less than checkout and declined (%g): carts would run dry", m[Add], co)
	}
	return m, nil
}

func kindNamed(name string) (Kind, bool) {
	for k := range mixKinds {
		if kindNames[k] == name {
			return k, true
		}
	}
	return 0, false
}

func (m Mix) checkouts() float64 { return m[Checkout] + m[Declined] }

func (m Mix) total() float64 {
	t := 0.0
	for _, w := range m {
		t += w
	}
	return t
}

// ActionsPerSecond is the action rate at which checkouts (paying and
// declined) come rate times a second.
func (m Mix) ActionsPerSecond(rate float64) float64 { return rate * m.total() / m.checkouts() }

// String writes the mix as ParseMix reads it, without the kinds that
// weigh nothing.
func (m Mix) String() string {
	var parts []string
	for k, w := range m {
		if w > 0 {
			parts = append(parts, Kind(k).String()+"="+strconv.FormatFloat(w, 'g', -1, 64))
		}
	}
	return strings.Join(parts, ",")
}

// picker hands out kinds in a mix's proportions by smooth weighted round
// robin: exact over every total weight's worth of picks, and each kind
// spread out rather than in runs (a declined card comes once every 250
// actions of the default mix, not 20 in a row).
type picker struct {
	mix     Mix
	total   float64
	current Mix
}

func newPicker(m Mix) *picker { return &picker{mix: m, total: m.total()} }

// next returns the next action. Not safe for concurrent use.
func (p *picker) next() Kind {
	best := Kind(-1)
	for k, w := range p.mix {
		if w <= 0 {
			continue
		}
		p.current[k] += w
		if best < 0 || p.current[k] > p.current[best] {
			best = Kind(k)
		}
	}
	p.current[best] -= p.total
	return best
}
