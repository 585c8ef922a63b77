package catalog_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/catalog/catalog"
	"github.com/shopmesh/shopmesh/apps/catalog/catalogtest"
)

func newTestService(t *testing.T) (*catalog.Service, *catalogtest.Store) {
	t.Helper()
	st := catalogtest.NewStore()
	svc := catalog.NewService(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	_, err := svc.LoadSeed(context.Background(), catalog.Seed{Categories: []catalog.Category{{"kitchen", "Kitchen"}, {"audio", "Audio"}}})
	require.NoError(t, err)
	return svc, st
}

func draft(sku, cat string) catalog.Draft {
	return catalog.Draft{SKU: sku, Name: "catalog.Product " + sku, Category: cat, Price: catalog.Money{1999, "USD"}}
}

func TestCreateGetAndDuplicateSKU(t *testing.T) {
	ctx := context.Background()
	svc, st := newTestService(t)
	p, err := svc.Create(ctx, draft("KIT-1", "kitchen"))
	require.NoError(t, err)
	assert.Equal(t, int64(1), p.Version)
	assert.True(t, p.InStock)

	got, err := svc.Get(ctx, p.ID)
	require.NoError(t, err)
	assert.Equal(t, p.Name, got.Name)
	assert.Equal(t, []string{"created:" + p.ID}, st.Events)

	_, err = svc.Create(ctx, draft("KIT-1", "audio"))
	assert.ErrorIs(t, err, catalog.ErrDuplicateSKU)

	_, err = svc.Create(ctx, draft("KIT-2", "garden"))
	assert.ErrorIs(t, err, catalog.ErrUnknownCategory)

	_, err = svc.Get(ctx, "01900000-0000-7000-8000-000000000000")
	assert.ErrorIs(t, err, catalog.ErrNotFound)
}

func TestConcurrentCreatesOfOneSKUOneWins(t *testing.T) {
	ctx := context.Background()
	svc, _ := newTestService(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := svc.Create(ctx, draft("RACE-1", "kitchen")); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else {
				assert.ErrorIs(t, err, catalog.ErrDuplicateSKU)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, wins)
}

func TestStaleSKUClaimIsTakenOver(t *testing.T) {
	ctx := context.Background()
	svc, st := newTestService(t)
	// A create that crashed after claiming: a claim without a product.
	require.NoError(t, st.ClaimSKU(ctx, "KIT-9", catalog.SKUClaim{ProductID: "gone", ClaimedAt: time.Now().Add(-time.Hour)}))
	_, err := svc.Create(ctx, draft("KIT-9", "kitchen"))
	require.NoError(t, err)

	// A fresh claim may belong to a create in flight: not taken over.
	require.NoError(t, st.ClaimSKU(ctx, "KIT-10", catalog.SKUClaim{ProductID: "in-flight", ClaimedAt: time.Now()}))
	_, err = svc.Create(ctx, draft("KIT-10", "kitchen"))
	assert.ErrorIs(t, err, catalog.ErrDuplicateSKU)
}

func TestUpdateMovesSKUAndCategory(t *testing.T) {
	ctx := context.Background()
	svc, _ := newTestService(t)
	p, err := svc.Create(ctx, draft("KIT-1", "kitchen"))
	require.NoError(t, err)
	other, err := svc.Create(ctx, draft("AUD-1", "audio"))
	require.NoError(t, err)

	_, err = svc.Update(ctx, p.ID, draft("AUD-1", "audio"))
	assert.ErrorIs(t, err, catalog.ErrDuplicateSKU, "cannot take another product's SKU")

	d := draft("AUD-2", "audio")
	d.Name = "Renamed"
	up, err := svc.Update(ctx, p.ID, d)
	require.NoError(t, err)
	assert.Equal(t, int64(2), up.Version)
	assert.Equal(t, "Renamed", up.Name)

	// The old SKU is free again; the product lists under its new category only.
	_, err = svc.Create(ctx, draft("KIT-1", "kitchen"))
	require.NoError(t, err)
	kitchen, err := svc.List(ctx, "kitchen", "", 10)
	require.NoError(t, err)
	for _, it := range kitchen.Items {
		assert.NotEqual(t, p.ID, it.ID)
	}
	audio, err := svc.List(ctx, "audio", "", 10)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{p.ID, other.ID}, ids(audio.Items))
}

func TestDeleteUnlistsAndFreesSKU(t *testing.T) {
	ctx := context.Background()
	svc, st := newTestService(t)
	p, err := svc.Create(ctx, draft("KIT-1", "kitchen"))
	require.NoError(t, err)
	require.NoError(t, svc.Delete(ctx, p.ID))
	assert.ErrorIs(t, svc.Delete(ctx, p.ID), catalog.ErrNotFound)
	assert.Contains(t, st.Events, "deleted:"+p.ID)

	page, err := svc.List(ctx, "", "", 10)
	require.NoError(t, err)
	assert.Empty(t, page.Items)
	_, err = svc.Create(ctx, draft("KIT-1", "kitchen"))
	assert.NoError(t, err)
}

func ids(ps []catalog.Product) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

func TestListPagesThroughEverythingOnce(t *testing.T) {
	ctx := context.Background()
	svc, _ := newTestService(t)
	var want []string
	for i := range 45 {
		cat := "kitchen"
		if i%3 == 0 {
			cat = "audio"
		}
		p, err := svc.Create(ctx, draft(fmt.Sprintf("SKU-%02d", i), cat))
		require.NoError(t, err)
		want = append(want, p.ID)
	}
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10)
		page, err := svc.List(ctx, "", after, 10)
		require.NoError(t, err)
		got = append(got, ids(page.Items)...)
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	assert.Equal(t, want, got)

	audio, err := svc.List(ctx, "audio", "", 100)
	require.NoError(t, err)
	assert.Len(t, audio.Items, 15)
	assert.Empty(t, audio.Next)
}

func TestSeedIsIdempotent(t *testing.T) {
	ctx := context.Background()
	svc, _ := newTestService(t)
	seed := catalog.Seed{
		Categories: []catalog.Category{{"kitchen", "Kitchen"}, {"books", "Books"}},
		Products:   []catalog.Draft{draft("A-1", "kitchen"), draft("B-1", "books")},
	}
	n, err := svc.LoadSeed(ctx, seed)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	n, err = svc.LoadSeed(ctx, seed)
	require.NoError(t, err)
	assert.Equal(t, 0, n)

	cs, err := svc.Categories(ctx)
	require.NoError(t, err)
	assert.Equal(t, []catalog.Category{{"audio", "Audio"}, {"books", "Books"}, {"kitchen", "Kitchen"}}, cs)
	page, err := svc.List(ctx, "", "", 10)
	require.NoError(t, err)
	assert.Len(t, page.Items, 2)
}

func TestApplyStockKeepsInStock(t *testing.T) {
	ctx := context.Background()
	svc, st := newTestService(t)
	p, err := svc.Create(ctx, draft("KIT-1", "kitchen"))
	require.NoError(t, err)
	get := func() catalog.Product {
		t.Helper()
		got, err := svc.Get(ctx, p.ID)
		require.NoError(t, err)
		return got
	}

	// Sold out: a change of the product, announced.
	require.NoError(t, svc.ApplyStock(ctx, p.ID, false, 1))
	got := get()
	assert.False(t, got.InStock)
	assert.Equal(t, int64(2), got.Version)
	assert.Equal(t, int64(1), got.StockVersion)
	assert.Equal(t, []string{"created:" + p.ID, "updated:" + p.ID}, st.Events)

	// Repeated, and newer without a change of in_stock: nothing announced.
	require.NoError(t, svc.ApplyStock(ctx, p.ID, false, 1))
	require.NoError(t, svc.ApplyStock(ctx, p.ID, false, 3))
	got = get()
	assert.Equal(t, int64(2), got.Version)
	assert.Equal(t, int64(3), got.StockVersion, "the newer version is remembered")
	assert.Len(t, st.Events, 2)

	// An older event arriving late does not undo a newer one.
	require.NoError(t, svc.ApplyStock(ctx, p.ID, true, 2))
	assert.False(t, get().InStock)
	assert.Len(t, st.Events, 2)

	// Back in stock.
	require.NoError(t, svc.ApplyStock(ctx, p.ID, true, 4))
	got = get()
	assert.True(t, got.InStock)
	assert.Equal(t, int64(3), got.Version)
	assert.Equal(t, "updated:"+p.ID, st.Events[len(st.Events)-1])

	// An admin's update keeps what the stock events set.
	_, err = svc.Update(ctx, p.ID, draft("KIT-1", "audio"))
	require.NoError(t, err)
	got = get()
	assert.True(t, got.InStock)
	assert.Equal(t, int64(4), got.StockVersion)

	// Events for products that are gone change nothing.
	require.NoError(t, svc.ApplyStock(ctx, "01900000-0000-7000-8000-000000000000", false, 9))
}

func TestApplyStockOutOfOrderEndsOnTheNewest(t *testing.T) {
	ctx := context.Background()
	svc, _ := newTestService(t)
	p, err := svc.Create(ctx, draft("KIT-1", "kitchen"))
	require.NoError(t, err)

	var wg sync.WaitGroup
	for v := int64(20); v >= 1; v-- {
		wg.Go(func() { assert.NoError(t, svc.ApplyStock(ctx, p.ID, v%2 == 1, v)) })
	}
	wg.Wait()
	got, err := svc.Get(ctx, p.ID)
	require.NoError(t, err)
	assert.Equal(t, int64(20), got.StockVersion)
	assert.False(t, got.InStock, "version 20 says sold out")
}
