package search_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/search/bleveindex"
	"github.com/shopmesh/shopmesh/apps/search/indextest"
	"github.com/shopmesh/shopmesh/apps/search/search"
	"github.com/shopmesh/shopmesh/apps/search/searchtest"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newService(t *testing.T, dir string, cat search.Catalog, await func(context.Context) error) *search.Service {
	t.Helper()
	idx := bleveindex.New(dir, discard())
	svc := search.NewService(search.Deps{
		Index: idx, Catalog: cat, Log: discard(), Await: await,
		Retry: func(int) time.Duration { return time.Millisecond },
	})
	t.Cleanup(func() {
		_ = svc.Stop(context.Background())
		_ = idx.Close()
	})
	return svc
}

func TestInvalidEventsAreRefused(t *testing.T) {
	svc, _ := indextest.Start(t, bleveindex.New(t.TempDir(), discard()), nil)
	ctx := context.Background()
	require.ErrorIs(t, svc.ProductChanged(ctx, search.Record{Version: 1}), search.ErrInvalidEvent)
	require.ErrorIs(t, svc.ProductChanged(ctx, search.Record{Product: search.Product{ID: "x"}}), search.ErrInvalidEvent)
	require.ErrorIs(t, svc.StockChanged(ctx, "", true, 1), search.ErrInvalidEvent)
	require.ErrorIs(t, svc.StockChanged(ctx, "x", true, 0), search.ErrInvalidEvent)
}

func TestRebuildReadsEveryPage(t *testing.T) {
	var recs []search.Record
	base := searchtest.SeedCreated()
	for i := range 250 {
		at := base.Add(time.Duration(i) * time.Second)
		recs = append(recs, search.Record{Product: search.Product{
			ID: searchtest.IDAt(at, i), SKU: fmt.Sprintf("GEN-%04d", i), Name: fmt.Sprintf("Generated gadget %d", i),
			Category: "toys", Price: search.Money{Amount: int64(100 + i), Currency: "USD"}, InStock: true, CreatedAt: at, UpdatedAt: at,
		}, Version: 1})
	}
	cat := searchtest.NewCatalog(recs)
	svc := newService(t, t.TempDir(), cat, nil)
	require.NoError(t, svc.Start(context.Background()))
	run := indextest.WaitRun(t, svc)
	assert.Equal(t, 250, run.Products)
	assert.Equal(t, 3, run.Pages)
	assert.Equal(t, 1, run.Attempts)
	assert.Equal(t, 250, indextest.Find(t, svc, "gadget", search.Query{}).Total)
	assert.Equal(t, "GEN-0249", indextest.Find(t, svc, "", search.Query{Limit: 1}).Items[0].SKU, "newest first")
}

func TestFirstBuildRetriesUntilItSucceeds(t *testing.T) {
	seed := searchtest.Seed(t)
	cat := searchtest.NewCatalog(seed)
	cat.FailNext(12)
	svc := newService(t, t.TempDir(), cat, nil)
	require.NoError(t, svc.Start(context.Background()))
	run := indextest.WaitRun(t, svc)
	assert.Equal(t, 13, run.Attempts, "the first build never gives up: search cannot serve without it")
	assert.Equal(t, len(seed), indextest.Find(t, svc, "", search.Query{}).Total)
}

func TestFailedRebuildKeepsTheLiveIndex(t *testing.T) {
	seed := searchtest.Seed(t)
	dir := t.TempDir()
	cat := searchtest.NewCatalog(seed)
	svc := newService(t, dir, cat, nil)
	require.NoError(t, svc.Start(context.Background()))
	indextest.WaitRun(t, svc)

	cat.FailNext(1000)
	_, err := svc.Rebuild()
	require.NoError(t, err)
	run, err := svc.Wait(context.Background())
	require.NoError(t, err)
	assert.Equal(t, search.RunFailed, run.State)
	assert.Equal(t, 5, run.Attempts, "a rebuild of a live index gives up")
	assert.Contains(t, run.Error, searchtest.ErrCatalogDown.Error())
	assert.Equal(t, len(seed), indextest.Find(t, svc, "", search.Query{}).Total, "the live index still serves")
	assert.Len(t, folders(t, dir), 1, "the unfinished build is thrown away")
}

func TestStopAbortsTheBuild(t *testing.T) {
	dir := t.TempDir()
	waiting := make(chan struct{})
	svc := newService(t, dir, searchtest.NewCatalog(nil), func(ctx context.Context) error {
		close(waiting)
		<-ctx.Done()
		return ctx.Err()
	})
	require.NoError(t, svc.Start(context.Background()))
	<-waiting
	require.NoError(t, svc.Stop(context.Background()))
	run, ok := svc.LastRun()
	require.True(t, ok)
	assert.Equal(t, search.RunFailed, run.State)
	require.ErrorIs(t, svc.Ready(context.Background()), search.ErrNotBuilt)
	assert.Empty(t, folders(t, dir), "the build is removed")
	_, err := svc.Rebuild()
	require.Error(t, err, "a stopped service starts no rebuild")
}

func TestSearchWithoutWords(t *testing.T) {
	svc, _ := indextest.Start(t, bleveindex.New(t.TempDir(), discard()), searchtest.Seed(t))
	res := indextest.Find(t, svc, "?!", search.Query{})
	assert.Zero(t, res.Total)
	assert.Empty(t, res.Items)
	assert.Len(t, res.PriceBands, len(search.Bands()))
	assert.Equal(t, "TOY-0008", indextest.Find(t, svc, " ", search.Query{Sort: search.SortRelevance}).Items[0].SKU,
		"relevance without text lists the newest first")
}

func folders(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestMergeChange(t *testing.T) {
	product := func(version int64, name string) search.Record {
		return search.Record{Product: search.Product{ID: "p", Name: name, InStock: true}, Version: version}
	}
	stock := func(r search.Record, in bool, v int64) search.Record {
		r.InStock, r.StockVersion = in, v
		return r
	}
	merge := func(cur *search.Record, in search.Record) (search.Record, bool) { return search.MergeChange(in)(cur) }

	got, write := merge(nil, product(2, "b"))
	assert.True(t, write)
	assert.Equal(t, product(2, "b"), got)

	cur := stock(product(3, "c"), false, 5)
	_, write = merge(&cur, stock(product(2, "b"), true, 4))
	assert.False(t, write, "older on both counts")

	got, write = merge(&cur, stock(product(4, "d"), true, 1))
	assert.True(t, write)
	assert.Equal(t, stock(product(4, "d"), false, 5), got, "newer product, older stock")

	got, write = merge(&cur, stock(product(1, "a"), true, 9))
	assert.True(t, write)
	assert.Equal(t, stock(product(3, "c"), true, 9), got, "older product, newer stock")
}

// countingIndex counts the changes that write a record.
type countingIndex struct {
	*bleveindex.Index
	writes atomic.Int64
}

func (c *countingIndex) Update(ctx context.Context, id string, ch search.Change) error {
	return c.Index.Update(ctx, id, func(cur *search.Record) (search.Record, bool) {
		next, write := ch(cur)
		if write {
			c.writes.Add(1)
		}
		return next, write
	})
}

// Stock events that leave in_stock as it was are not written (every
// reservation sends one), and a late older event cannot undo a newer one
// that was skipped.
func TestStockChangesReindexOnlyWhenInStockFlips(t *testing.T) {
	idx := &countingIndex{Index: bleveindex.New(t.TempDir(), discard())}
	seed := searchtest.Seed(t)
	svc, _ := indextest.Start(t, idx, seed)
	ctx := context.Background()
	id := seed[0].ID
	lookup := func() search.Record {
		t.Helper()
		recs, err := idx.Lookup(ctx, []string{id})
		require.NoError(t, err)
		return recs[id]
	}

	require.NoError(t, svc.StockChanged(ctx, id, false, 10))
	require.Equal(t, int64(1), idx.writes.Load(), "a flip is written")
	for v := int64(11); v <= 20; v++ {
		require.NoError(t, svc.StockChanged(ctx, id, false, v))
	}
	assert.Equal(t, int64(1), idx.writes.Load(), "changes that keep in_stock are not")

	require.NoError(t, svc.StockChanged(ctx, id, true, 15), "older than one seen, though newer than the stored")
	assert.False(t, lookup().InStock, "the late event does not flip it back")
	assert.Equal(t, int64(1), idx.writes.Load())

	require.NoError(t, svc.StockChanged(ctx, id, true, 21))
	assert.True(t, lookup().InStock)
	assert.Equal(t, int64(2), idx.writes.Load())
}
