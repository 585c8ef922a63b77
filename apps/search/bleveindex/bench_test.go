package bleveindex_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/search/bleveindex"
	"github.com/shopmesh/shopmesh/apps/search/search"
	"github.com/shopmesh/shopmesh/apps/search/searchtest"
)

// Word lists of the synthetic catalogue. Names are "<adjective> <material>
// <noun>"; descriptions draw 12–30 words from the whole vocabulary plus
// made-up words, so the term dictionary is large like a real catalogue's.
var (
	benchAdjectives = strings.Fields("compact portable heavy light classic modern rustic vintage premium deluxe smart " +
		"wireless foldable adjustable insulated waterproof ergonomic rechargeable electric manual digital organic " +
		"stainless durable slim quiet powerful mini large travel")
	benchMaterials = strings.Fields("steel bamboo cotton leather wool glass ceramic copper aluminum oak walnut silicone " +
		"linen canvas carbon titanium marble cork")
	benchNouns = strings.Fields("kettle skillet knife board chair desk lamp mouse keyboard tent backpack bottle headlamp " +
		"stove jacket sweater hoodie belt beanie speaker headphones earbuds microphone turntable dumbbell mat roller " +
		"rope gloves puzzle blocks train game journal atlas blanket pillow mug teapot grinder scale tray")
	benchCategories = strings.Fields("kitchen home-office outdoor audio apparel fitness books toys garden bath pets tools")
)

// synthetic returns n products with deterministic content.
func synthetic(n int) []search.Record {
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(words []string) string { return words[rng.IntN(len(words))] }
	made := make([]string, 3000)
	for i := range made {
		var b strings.Builder
		for range 4 + rng.IntN(6) {
			b.WriteByte(byte('a' + rng.IntN(26)))
		}
		made[i] = b.String()
	}
	vocab := slices.Concat(benchAdjectives, benchMaterials, benchNouns, made)
	base := searchtest.SeedCreated()
	recs := make([]search.Record, n)
	for i := range recs {
		words := make([]string, 12+rng.IntN(19))
		for j := range words {
			words[j] = pick(vocab)
		}
		at := base.Add(time.Duration(i) * time.Second)
		recs[i] = search.Record{Product: search.Product{
			ID:          searchtest.IDAt(at, i),
			SKU:         fmt.Sprintf("GEN-%06d", i),
			Name:        pick(benchAdjectives) + " " + pick(benchMaterials) + " " + pick(benchNouns),
			Description: strings.Join(words, " ") + ".",
			Category:    pick(benchCategories),
			Price:       search.Money{Amount: int64(500 * math.Pow(100, rng.Float64())), Currency: "USD"},
			InStock:     rng.IntN(10) > 0,
			CreatedAt:   at, UpdatedAt: at,
		}, Version: 1}
	}
	return recs
}

// typo swaps two neighbouring letters of a word (one edit).
func typo(rng *rand.Rand, w string) string {
	i := 1 + rng.IntN(len(w)-2)
	b := []byte(w)
	b[i], b[i+1] = b[i+1], b[i]
	return string(b)
}

type benchQuery struct {
	kind string
	text string
	q    search.Query
}

// queryMix is a quarter each of single-term, multi-term, typo and filtered
// queries, drawn from the catalogue's vocabulary.
func queryMix(n int) []benchQuery {
	rng := rand.New(rand.NewPCG(3, 4))
	pick := func(words []string) string { return words[rng.IntN(len(words))] }
	long := func(words []string) string {
		for {
			if w := pick(words); len(w) >= 5 {
				return w
			}
		}
	}
	out := make([]benchQuery, 0, n)
	for i := range n {
		q := search.Query{Sort: search.SortRelevance, Limit: 20}
		switch i % 4 {
		case 0:
			out = append(out, benchQuery{"single", pick(benchNouns), q})
		case 1:
			out = append(out, benchQuery{"multi", pick(benchAdjectives) + " " + pick(benchMaterials) + " " + pick(benchNouns), q})
		case 2:
			out = append(out, benchQuery{"typo", typo(rng, long(benchMaterials)) + " " + typo(rng, long(benchNouns)), q})
		default:
			lo, hi, in := int64(1000+rng.IntN(5000)), int64(10000+rng.IntN(20000)), true
			q.Category, q.MinPrice, q.MaxPrice, q.InStock = pick(benchCategories), &lo, &hi, &in
			if rng.IntN(2) == 0 {
				q.Sort = search.SortPriceAsc
			}
			out = append(out, benchQuery{"filtered", pick(benchNouns), q})
		}
	}
	return out
}

// BenchmarkSearch indexes 100,000 synthetic products through a full
// rebuild (catalog pages of 100, bleve batches, on disk), then runs the
// query mix. It reports the indexing rate, the rate of single event
// updates, and query latency percentiles overall and per kind:
//
//	go test -run '^$' -bench BenchmarkSearch -benchtime 4000x ./apps/search/bleveindex/
func BenchmarkSearch(b *testing.B) {
	const products = 100_000
	recs := synthetic(products)
	ctx := context.Background()
	idx := bleveindex.New(b.TempDir(), discard())
	cat := searchtest.NewCatalog(recs)
	svc := search.NewService(search.Deps{Index: idx, Catalog: cat, Log: discard()})
	b.Cleanup(func() {
		_ = svc.Stop(ctx)
		_ = idx.Close()
	})

	began := time.Now()
	require.NoError(b, svc.Start(ctx))
	run, err := svc.Wait(ctx)
	require.NoError(b, err)
	require.Equal(b, search.RunDone, run.State, run.Error)
	indexRate := float64(products) / time.Since(began).Seconds()

	const updates = 1000
	began = time.Now()
	for i := range updates {
		r := recs[i*97%products]
		r.Version, r.Name = 2, r.Name+" v2"
		require.NoError(b, svc.ProductChanged(ctx, r))
	}
	updateRate := float64(updates) / time.Since(began).Seconds()

	res, err := svc.Search(ctx, "", search.Query{Sort: search.SortNewest, Limit: 1})
	require.NoError(b, err)
	require.Equal(b, products, res.Total)

	mix := queryMix(4000)
	latencies := map[string][]time.Duration{}
	var all []time.Duration
	i := 0
	for b.Loop() {
		bq := mix[i%len(mix)]
		i++
		t0 := time.Now()
		if _, err := svc.Search(ctx, bq.text, bq.q); err != nil {
			b.Fatal(err)
		}
		d := time.Since(t0)
		latencies[bq.kind] = append(latencies[bq.kind], d)
		all = append(all, d)
	}
	b.ReportMetric(indexRate, "index_docs/s")
	b.ReportMetric(updateRate, "event_updates/s")
	b.ReportMetric(percentile(all, 50), "p50_ms")
	b.ReportMetric(percentile(all, 99), "p99_ms")
	for kind, ds := range latencies {
		b.ReportMetric(percentile(ds, 50), kind+"_p50_ms")
		b.ReportMetric(percentile(ds, 99), kind+"_p99_ms")
	}
}

// percentile returns the p-th percentile of ds in milliseconds (nearest rank).
func percentile(ds []time.Duration, p int) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := (p*len(s) + 99) / 100
	return float64(s[max(rank, 1)-1].Microseconds()) / 1000
}
