// Package indextest is the conformance suite every search.Index adapter
// passes: search's query semantics, version ordering and rebuilds, checked
// through search.Service against the catalog's 64-product seed. Writes may
// become searchable a moment later (OpenSearch refreshes every second), so
// checks after a change poll.
package indextest

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/search/search"
	"github.com/shopmesh/shopmesh/apps/search/searchtest"
)

// Start runs a Service on idx whose catalog serves recs, and waits until
// its first build is live. Both stop when t ends.
func Start(t *testing.T, idx search.Index, recs []search.Record) (*search.Service, *searchtest.Catalog) {
	t.Helper()
	cat := searchtest.NewCatalog(recs)
	svc := search.NewService(search.Deps{
		Index: idx, Catalog: cat, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Retry: func(int) time.Duration { return 10 * time.Millisecond },
	})
	ctx := context.Background()
	require.NoError(t, svc.Start(ctx))
	t.Cleanup(func() {
		_ = svc.Stop(ctx)
		_ = idx.Close()
	})
	if run, ok := svc.LastRun(); ok && run.State == search.RunRunning {
		WaitRun(t, svc)
	}
	require.NoError(t, svc.Ready(ctx))
	return svc, cat
}

// WaitRun waits for the running rebuild and requires it to succeed.
func WaitRun(t *testing.T, svc *search.Service) search.Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run, err := svc.Wait(ctx)
	require.NoError(t, err)
	require.Equal(t, search.RunDone, run.State, "rebuild failed: %s", run.Error)
	return run
}

// Find runs a search of the first page of 100.
func Find(t *testing.T, svc *search.Service, text string, q search.Query) search.Result {
	t.Helper()
	if q.Sort == "" {
		q.Sort = search.SortRelevance
	}
	if q.Limit == 0 {
		q.Limit = 100
	}
	res, err := svc.Search(context.Background(), text, q)
	require.NoError(t, err, "search %.80q", text)
	return res
}

// SKUs lists the SKUs of res's items in order.
func SKUs(res search.Result) []string {
	out := make([]string, len(res.Items))
	for i, p := range res.Items {
		out[i] = p.SKU
	}
	return out
}

// Eventually polls f until it holds (writes may take a refresh to show).
func Eventually(t *testing.T, f func() bool, msg string, args ...any) {
	t.Helper()
	require.Eventually(t, f, 10*time.Second, 50*time.Millisecond, append([]any{msg}, args...)...)
}

// Run checks an adapter. newIndex returns a new, empty index that nothing
// else uses. settle is how long a write may take to become searchable
// (checks that a write did NOT happen wait that long first).
func Run(t *testing.T, settle time.Duration, newIndex func(t *testing.T) search.Index) {
	seed := searchtest.Seed(t)
	t.Run("Queries", func(t *testing.T) {
		svc, _ := Start(t, newIndex(t), seed)
		queries(t, svc, seed)
	})
	t.Run("Versions", func(t *testing.T) {
		svc, _ := Start(t, newIndex(t), seed)
		versions(t, svc, seed, settle)
	})
	t.Run("Rebuild", func(t *testing.T) {
		svc, cat := Start(t, newIndex(t), seed)
		rebuild(t, svc, cat, seed)
	})
}

func ptr[T any](v T) *T { return &v }

func queries(t *testing.T, svc *search.Service, seed []search.Record) {
	find := func(text string, q search.Query) search.Result { return Find(t, svc, text, q) }
	skus := func(text string) []string { return SKUs(find(text, search.Query{})) }

	t.Run("typo tolerance", func(t *testing.T) {
		assert.Equal(t, []string{"KIT-0001"}, skus("stainles kettel"), "a deletion and a transposition")
		assert.Equal(t, "AUD-0001", first(skus("hedphones")), "a missing letter")
		assert.Equal(t, "HOF-0006", first(skus("mechanical keybaord")), "swapped letters")
		assert.Equal(t, []string{"HOF-0005"}, skus("wireles mouse"))
		assert.Equal(t, []string{"KIT-0002"}, skus("cast iron"))
		assert.Empty(t, skus("cst iron"), "terms under 4 letters are not typo tolerant")
	})

	t.Run("prefix on the last term", func(t *testing.T) {
		assert.Equal(t, []string{"KIT-0001"}, skus("stainless ste"))
		assert.Contains(t, skus("ket"), "KIT-0001")
		head := skus("head")
		assert.Subset(t, head, []string{"OUT-0004", "AUD-0001", "AUD-0005"}, "headlamp, headphones, headphone output")
		assert.Empty(t, skus("ket steel"), "only the last term is a prefix")
	})

	t.Run("every term must match and the name counts most", func(t *testing.T) {
		wireless := skus("wireless")
		assert.ElementsMatch(t, []string{"HOF-0005", "AUD-0001", "AUD-0002", "AUD-0008"}, wireless)
		assert.Equal(t, "AUD-0008", wireless[len(wireless)-1], "the only one with 'wireless' in its description alone ranks last")
		kitchen := skus("kitchen")
		assert.Len(t, kitchen, 8, "the category is searched")
		assert.Equal(t, "KIT-0006", kitchen[0], "the Digital Kitchen Scale has it in its name")
		assert.Equal(t, []string{"KIT-0001"}, skus("kettle for the kitchen"), "stop words are optional")
		assert.Equal(t, []string{"KIT-0001"}, skus("KETTLE"))
		assert.Equal(t, []string{"KIT-0001"}, skus("Kéttle"), "accents fold")
		assert.Empty(t, skus("zzzzqqq"))
	})

	t.Run("hostile input is text", func(t *testing.T) {
		for _, q := range []string{
			`+-&&||!(){}[]^"~*?:\/`, `name:kettle AND price:>10`, `kettle~2`, `/.*/`, `'; DROP TABLE products; --`,
			"\x00\xff\xfe", "日本語のテキスト", "🔥🔥", strings.Repeat("a", 10_000), strings.Repeat("x ", 5_000),
			strings.Repeat("(", 4096), `{"query":{"match_all":{}}}`,
		} {
			res, err := svc.Search(context.Background(), q, search.Query{Sort: search.SortRelevance, Limit: 20})
			require.NoError(t, err, "%.40q", q)
			assert.NotEqual(t, len(seed), res.Total, "%.40q must not match everything", q)
		}
		assert.Contains(t, skus("ket*"), "KIT-0001", "wildcards are not syntax")
		assert.Equal(t, []string{"KIT-0001"}, skus(strings.Repeat("kettle ", 1500)), "10 kB of one word")
		assert.Empty(t, skus("!!!"), "text without words matches nothing")
	})

	t.Run("empty text with filters lists products", func(t *testing.T) {
		res := find("", search.Query{Category: "audio"})
		assert.Equal(t, 8, res.Total)
		assert.Equal(t, "AUD-0008", res.Items[0].SKU, "newest first without text")
		assert.Equal(t, len(seed), find("", search.Query{}).Total)
	})

	t.Run("filters", func(t *testing.T) {
		res := find("", search.Query{MinPrice: ptr[int64](5000), MaxPrice: ptr[int64](10000)})
		want := count(seed, func(r search.Record) bool { return r.Price.Amount >= 5000 && r.Price.Amount <= 10000 })
		assert.Equal(t, want, res.Total, "price bounds are inclusive")
		for _, p := range res.Items {
			assert.True(t, p.Price.Amount >= 5000 && p.Price.Amount <= 10000, p.SKU)
		}
		assert.Equal(t, 1, find("", search.Query{MinPrice: ptr[int64](44900), MaxPrice: ptr[int64](44900)}).Total)
		assert.Equal(t, 0, find("", search.Query{InStock: ptr(false)}).Total)
		assert.Equal(t, len(seed), find("", search.Query{InStock: ptr(true)}).Total)
		assert.ElementsMatch(t, []string{"AUD-0001", "AUD-0002", "AUD-0008"}, SKUs(find("wireless", search.Query{Category: "audio"})))
		assert.Equal(t, []string{"AUD-0002"}, SKUs(find("wireless", search.Query{Category: "audio", MaxPrice: ptr[int64](10000)})))
		assert.Equal(t, 0, find("", search.Query{Category: "no-such-category"}).Total)
	})

	t.Run("sorts", func(t *testing.T) {
		byPrice := slices.Clone(seed)
		slices.SortStableFunc(byPrice, func(a, b search.Record) int {
			if c := cmpInt(a.Price.Amount, b.Price.Amount); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		asc := SKUs(find("", search.Query{Sort: search.SortPriceAsc}))
		assert.Equal(t, skusOf(byPrice), asc)
		desc := find("", search.Query{Sort: search.SortPriceDesc}).Items
		for i := 1; i < len(desc); i++ {
			assert.GreaterOrEqual(t, desc[i-1].Price.Amount, desc[i].Price.Amount)
		}
		newest := slices.Clone(seed)
		slices.Reverse(newest)
		assert.Equal(t, skusOf(newest), SKUs(find("", search.Query{Sort: search.SortNewest})))
		assert.Equal(t, []string{"AUD-0004", "AUD-0003"},
			SKUs(find("speaker", search.Query{Sort: search.SortPriceDesc})), "sorts apply to text matches")
	})

	t.Run("pages", func(t *testing.T) {
		all := SKUs(find("", search.Query{Sort: search.SortPriceAsc}))
		var paged []string
		for off := 0; off < len(seed); off += 10 {
			res := find("", search.Query{Sort: search.SortPriceAsc, Offset: off, Limit: 10})
			assert.Equal(t, len(seed), res.Total)
			paged = append(paged, SKUs(res)...)
		}
		assert.Equal(t, all, paged)
		assert.Empty(t, find("", search.Query{Offset: 64, Limit: 10}).Items)
	})

	t.Run("facets count the whole match", func(t *testing.T) {
		res := find("", search.Query{Limit: 5})
		assert.Len(t, res.Items, 5)
		assert.Equal(t, facets(seed), facetsOf(res), "categories and price bands of the seed")
		assert.Equal(t, map[string]int{"apparel": 8, "audio": 8, "books": 8, "fitness": 8, "home-office": 8, "kitchen": 8, "outdoor": 8, "toys": 8}, res.Categories)
		assert.Equal(t, map[string]int{"under_25": 21, "25_to_50": 21, "50_to_100": 12, "100_to_200": 5, "200_and_over": 5}, res.PriceBands)

		for _, c := range []struct {
			text string
			q    search.Query
		}{{"set", search.Query{}}, {"steel", search.Query{}}, {"", search.Query{Category: "kitchen"}}, {"pair", search.Query{MaxPrice: ptr[int64](8000)}}} {
			page := find(c.text, search.Query{Category: c.q.Category, MaxPrice: c.q.MaxPrice, Limit: 2})
			full := find(c.text, search.Query{Category: c.q.Category, MaxPrice: c.q.MaxPrice, Limit: 100})
			require.Equal(t, full.Total, len(full.Items))
			assert.Equal(t, facets(records(full.Items)), facetsOf(page), "facets of %q %+v", c.text, c.q)
		}
		none := find("zzzzqqq", search.Query{})
		assert.Empty(t, none.Categories)
		assert.Equal(t, map[string]int{"under_25": 0, "25_to_50": 0, "50_to_100": 0, "100_to_200": 0, "200_and_over": 0}, none.PriceBands)
	})
}

func versions(t *testing.T, svc *search.Service, seed []search.Record, settle time.Duration) {
	ctx := context.Background()
	kettle := searchtest.BySKU(t, seed, "KIT-0001")
	has := func(text string, q search.Query, sku string) func() bool {
		return func() bool { return slices.Contains(SKUs(Find(t, svc, text, q)), sku) }
	}

	v2 := kettle
	v2.Version, v2.Name, v2.Description = 2, "Gooseneck Pour-Over Kettle", "Slim spout for pour-over coffee."
	require.NoError(t, svc.ProductChanged(ctx, v2))
	Eventually(t, has("gooseneck", search.Query{}, "KIT-0001"), "an update is searchable")
	Eventually(t, func() bool { return !has("stainless", search.Query{}, "KIT-0001")() }, "the old text is gone")

	require.NoError(t, svc.ProductChanged(ctx, v2), "a redelivered event")
	require.NoError(t, svc.ProductChanged(ctx, kettle), "an older event")
	time.Sleep(settle) // so that a wrong write would show
	assert.True(t, has("gooseneck", search.Query{}, "KIT-0001")(), "an older version never overwrites a newer one")
	assert.False(t, has("stainless", search.Query{}, "KIT-0001")())

	require.NoError(t, svc.StockChanged(ctx, kettle.ID, false, 7))
	Eventually(t, has("", search.Query{InStock: ptr(false)}, "KIT-0001"), "stock changes in_stock")
	require.NoError(t, svc.StockChanged(ctx, kettle.ID, true, 6), "an older stock event")
	v3 := v2
	v3.Version, v3.InStock = 3, true
	require.NoError(t, svc.ProductChanged(ctx, v3), "the catalog's copy of in_stock does not beat a stock event")
	time.Sleep(settle)
	res := Find(t, svc, "gooseneck", search.Query{})
	require.Len(t, res.Items, 1)
	assert.False(t, res.Items[0].InStock)

	tomb := search.Record{Product: search.Product{ID: kettle.ID, SKU: kettle.SKU}, Version: 4, Deleted: true}
	require.NoError(t, svc.ProductChanged(ctx, tomb))
	Eventually(t, func() bool { return Find(t, svc, "", search.Query{}).Total == len(seed)-1 }, "a deleted product disappears")
	require.NoError(t, svc.ProductChanged(ctx, v3), "a late update after the deletion")
	require.NoError(t, svc.StockChanged(ctx, kettle.ID, true, 8))
	time.Sleep(settle)
	assert.False(t, has("gooseneck", search.Query{}, "KIT-0001")(), "the tombstone keeps it deleted")
	assert.Equal(t, len(seed)-1, Find(t, svc, "", search.Query{}).Total)

	fresh := searchtest.Seed(t)[0]
	fresh.ID = searchtest.IDAt(time.Now(), 1)
	fresh.SKU, fresh.Name, fresh.Description = "KIT-0099", "Copper Moka Pot", "Stovetop espresso maker."
	fresh.CreatedAt, fresh.UpdatedAt = time.Time{}, time.Now().UTC()
	require.NoError(t, svc.StockChanged(ctx, fresh.ID, false, 1), "stock before the product")
	time.Sleep(settle)
	assert.Equal(t, len(seed)-1, Find(t, svc, "", search.Query{}).Total, "stock alone is not a product")
	require.NoError(t, svc.ProductChanged(ctx, fresh))
	Eventually(t, has("moka", search.Query{}, "KIT-0099"), "a created product is searchable")
	res = Find(t, svc, "moka", search.Query{})
	assert.False(t, res.Items[0].InStock, "the earlier stock event holds")
	assert.Equal(t, "KIT-0099", Find(t, svc, "", search.Query{Sort: search.SortNewest}).Items[0].SKU,
		"without created_at the UUIDv7 id dates the product")
}

func rebuild(t *testing.T, svc *search.Service, cat *searchtest.Catalog, seed []search.Record) {
	ctx := context.Background()
	kettle, skillet, board := searchtest.BySKU(t, seed, "KIT-0001"), searchtest.BySKU(t, seed, "KIT-0002"), searchtest.BySKU(t, seed, "KIT-0003")
	require.NoError(t, svc.StockChanged(ctx, board.ID, false, 3))

	// The catalog changed while search missed it: a product gone, one renamed.
	renamed := skillet
	renamed.Version, renamed.Name = 2, "Cast Iron Griddle Pan"
	next := slices.DeleteFunc(slices.Clone(seed), func(r search.Record) bool { return r.ID == kettle.ID || r.ID == skillet.ID })
	next = append(next, renamed)
	cat.Set(next)

	// While the rebuild reads the catalog, events arrive: the daypack is
	// renamed at a version the catalog's page does not have yet, and the
	// yoga mat is deleted. Both must survive the swap.
	var hooked bool
	cat.BeforePage = func(page int) {
		if page != 1 || hooked {
			return
		}
		hooked = true
		bag := searchtest.BySKU(t, seed, "OUT-0008")
		bag.Version, bag.Name = 5, "Hiking Daypack 30L"
		assert.NoError(t, svc.ProductChanged(ctx, bag))
		mat := searchtest.BySKU(t, seed, "FIT-0002")
		assert.NoError(t, svc.ProductChanged(ctx, search.Record{Product: search.Product{ID: mat.ID, SKU: mat.SKU}, Version: 2, Deleted: true}))
	}
	cat.FailNext(1)
	run, err := svc.Rebuild()
	require.NoError(t, err)
	assert.Equal(t, search.RunRunning, run.State)
	again, err := svc.Rebuild()
	require.NoError(t, err)
	assert.Equal(t, run.StartedAt, again.StartedAt, "a second request joins the running rebuild")
	done := WaitRun(t, svc)
	assert.Equal(t, len(next), done.Products)
	assert.Equal(t, 2, done.Attempts, "a failed catalog call is retried")

	res := Find(t, svc, "", search.Query{})
	assert.Equal(t, len(next)-1, res.Total, "the catalog's products less the one deleted meanwhile")
	assert.Empty(t, SKUs(Find(t, svc, "kettle", search.Query{})), "a product the catalog lost is gone")
	assert.Equal(t, []string{"KIT-0002"}, SKUs(Find(t, svc, "griddle", search.Query{})))
	assert.Equal(t, []string{"OUT-0008"}, SKUs(Find(t, svc, "daypack 30l", search.Query{})), "a newer event beats the catalog page")
	assert.Empty(t, SKUs(Find(t, svc, "yoga", search.Query{})), "a deletion during the rebuild holds")
	assert.Equal(t, []string{"KIT-0003"}, SKUs(Find(t, svc, "", search.Query{InStock: ptr(false)})), "stock from stock events survives a rebuild")
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func count(recs []search.Record, f func(search.Record) bool) int {
	n := 0
	for _, r := range recs {
		if f(r) {
			n++
		}
	}
	return n
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func skusOf(recs []search.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.SKU
	}
	return out
}

func records(ps []search.Product) []search.Record {
	out := make([]search.Record, len(ps))
	for i, p := range ps {
		out[i] = search.Record{Product: p, Version: 1}
	}
	return out
}

type facetCounts struct {
	Categories map[string]int
	Bands      map[string]int
}

// facets counts categories and price bands of recs as search must.
func facets(recs []search.Record) facetCounts {
	f := facetCounts{Categories: map[string]int{}, Bands: map[string]int{}}
	for _, b := range search.Bands() {
		f.Bands[b.Key] = 0
	}
	for _, r := range recs {
		f.Categories[r.Category]++
		f.Bands[search.BandOf(r.Price.Amount)]++
	}
	return f
}

func facetsOf(res search.Result) facetCounts {
	return facetCounts{Categories: maps.Clone(res.Categories), Bands: maps.Clone(res.PriceBands)}
}
