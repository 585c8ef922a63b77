package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultMix(t *testing.T) {
	m, err := ParseMix(DefaultMix)
	require.NoError(t, err)
	assert.Equal(t, DefaultMix, m.String(), "String writes what ParseMix reads")
	assert.InDelta(t, 1, m.checkouts(), 1e-9, "the weights are per checkout")
	assert.InDelta(t, 12.5, m.total(), 1e-9)
	assert.InDelta(t, 150, m.ActionsPerSecond(12), 1e-9, "12 checkouts/s make 150 actions/s")
	assert.InDelta(t, 0.05, m[Declined]/m.checkouts(), 1e-9, "1 checkout in 20 with the declined card")
}

func TestParseMix(t *testing.T) {
	m, err := ParseMix(" checkout = 2 , add=2, browse=1 ")
	require.NoError(t, err)
	assert.Equal(t, Mix{Browse: 1, Add: 2, Checkout: 2}, m, "kinds left out weigh nothing")
	assert.InDelta(t, 5, m.ActionsPerSecond(2), 1e-9)

	for spec, want := range map[string]string{
		"checkout=1,add=1,buy=2":        `unknown action "buy"`,
		"checkout=1,add=1,view":         `"view" is not kind=weight`,
		"checkout=1,add=1,view=-1":      `view="-1" is not a weight`,
		"checkout=1,add=1,view=NaN":     `view="NaN" is not a weight`,
		"checkout=1,add=1,checkout=2":   "checkout given twice",
		"browse=1,add=1":                "checkout and declined weigh nothing",
		"checkout=1,declined=1,add=1.5": "carts would run dry",
		"token=1,checkout=1,add=1":      `unknown action "token"`,
	} {
		_, err := ParseMix(spec)
		if assert.Error(t, err, spec) {
			assert.Contains(t, err.Error(), want, spec)
		}
	}
}

func TestPickerKeepsTheMixExactlyAndSpreadsEachKind(t *testing.T) {
	m, err := ParseMix(DefaultMix)
	require.NoError(t, err)
	p := newPicker(m)
	// 250 picks are 20 checkouts' worth of the default mix (12.5 each).
	counts := map[Kind]int{}
	var seq []Kind
	for range 250 * 4 {
		k := p.next()
		counts[k]++
		seq = append(seq, k)
	}
	assert.Equal(t, map[Kind]int{
		Browse: 240, Search: 160, View: 320, Add: 112, Change: 24, Remove: 24, Checkout: 76, Declined: 4, History: 40,
	}, counts)
	// Each kind comes spread out: never two checkouts in 3 picks, and
	// the declined card once per 250.
	for i := range len(seq) - 2 {
		n := 0
		for _, k := range seq[i : i+3] {
			if k == Checkout {
				n++
			}
		}
		assert.LessOrEqual(t, n, 1, "checkouts at %d", i)
	}
	var declined []int
	for i, k := range seq {
		if k == Declined {
			declined = append(declined, i)
		}
	}
	require.Len(t, declined, 4)
	for i := 1; i < len(declined); i++ {
		assert.Equal(t, 250, declined[i]-declined[i-1])
	}
}

func TestPickerSkipsKindsThatWeighNothing(t *testing.T) {
	p := newPicker(Mix{Add: 1, Checkout: 1})
	for range 10 {
		k := p.next()
		assert.Contains(t, []Kind{Add, Checkout}, k)
	}
}

func TestKindNames(t *testing.T) {
	assert.Equal(t, "declined", Declined.String())
	assert.Equal(t, "token", Token.String())
	assert.Equal(t, "kind(42)", Kind(42).String())
	assert.True(t, Checkout.needsCart())
	assert.True(t, Remove.needsCart())
	assert.False(t, Add.needsCart())
	assert.False(t, Browse.needsCart())
}
