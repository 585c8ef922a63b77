package seed

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/catalog/api"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
)

// The seed must pass the same validation as an admin's request.
func TestSeedIsValidCatalogue(t *testing.T) {
	s, err := Parse()
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(s.Products), 50)
	require.GreaterOrEqual(t, len(s.Categories), 6)

	cats := map[string]int{}
	for _, c := range s.Categories {
		cats[c.ID] = 0
	}
	skus := map[string]bool{}
	for _, p := range s.Products {
		_, ok := cats[p.Category]
		assert.True(t, ok, "%s: unknown category %q", p.SKU, p.Category)
		cats[p.Category]++
		assert.False(t, skus[p.SKU], "duplicate sku %s", p.SKU)
		skus[p.SKU] = true
		amount := p.Price.Amount
		in := api.ProductInput{SKU: p.SKU, Name: p.Name, Description: p.Description, Category: p.Category,
			Price: &api.Money{Amount: &amount, Currency: p.Price.Currency}, ImageURL: p.ImageURL}
		assert.Nil(t, httpserver.Validate(in), "%s fails validation", p.SKU)
	}
	for id, n := range cats {
		assert.Positive(t, n, "category %s has no products", id)
	}
}
