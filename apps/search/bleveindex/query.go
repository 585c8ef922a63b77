package bleveindex

import (
	"context"
	"fmt"

	"github.com/blevesearch/bleve/v2"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/shopmesh/shopmesh/apps/search/search"
)

// maxCategories bounds the category facet; catalogs have a few dozen.
const maxCategories = 200

// run executes q: the text terms score (search.Plan's semantics), the
// filters only narrow, facets count the whole match.
func run(ctx context.Context, idx bleve.Index, q search.Query) (search.Result, error) {
	req := bleve.NewSearchRequestOptions(compile(q), q.Limit, q.Offset, false)
	req.Fields = []string{"source"}
	req.SortByCustom(sortOrder(q.Sort))
	req.AddFacet("category", bleve.NewFacetRequest("category", maxCategories))
	bands := search.Bands()
	req.AddFacet("price", bleve.NewFacetRequest("price_band", len(bands)))

	res, err := idx.SearchInContext(ctx, req)
	if err != nil {
		return search.Result{}, fmt.Errorf("bleve search: %w", err)
	}
	out := search.Result{
		Items:      make([]search.Product, 0, len(res.Hits)),
		Total:      int(res.Total),
		Categories: map[string]int{},
		PriceBands: map[string]int{},
	}
	for _, h := range res.Hits {
		src, ok := h.Fields["source"].(string)
		if !ok {
			return search.Result{}, fmt.Errorf("hit %s has no stored source", h.ID)
		}
		rec, err := fromSource([]byte(src))
		if err != nil {
			return search.Result{}, err
		}
		out.Items = append(out.Items, rec.Product)
	}
	if f := res.Facets["category"]; f != nil {
		for _, t := range f.Terms.Terms() {
			out.Categories[t.Term] = t.Count
		}
	}
	for _, b := range bands {
		out.PriceBands[b.Key] = 0
	}
	if f := res.Facets["price"]; f != nil {
		for _, t := range f.Terms.Terms() {
			out.PriceBands[t.Term] = t.Count
		}
	}
	return out, nil
}

// compile builds the bleve query: every required term must match one text
// field (exactly, within one edit, or as a prefix, as the term allows),
// optional terms add to the score, filters restrict without scoring.
func compile(q search.Query) query.Query {
	bq := bleve.NewBooleanQuery()
	for _, t := range q.Terms {
		alts := termAlternatives(t)
		if t.Required {
			bq.AddMust(alts)
		} else {
			bq.AddShould(alts)
		}
	}
	filters := []query.Query{boolField("live", true)}
	if q.Category != "" {
		tq := bleve.NewTermQuery(q.Category)
		tq.SetField("category")
		filters = append(filters, tq)
	}
	if q.MinPrice != nil || q.MaxPrice != nil {
		var lo, hi *float64
		if q.MinPrice != nil {
			v := float64(*q.MinPrice)
			lo = &v
		}
		if q.MaxPrice != nil {
			v := float64(*q.MaxPrice)
			hi = &v
		}
		inclusive := true
		nq := bleve.NewNumericRangeInclusiveQuery(lo, hi, &inclusive, &inclusive)
		nq.SetField("price")
		filters = append(filters, nq)
	}
	if q.InStock != nil {
		filters = append(filters, boolField("in_stock", *q.InStock))
	}
	bq.AddFilter(bleve.NewConjunctionQuery(filters...))
	return bq
}

func termAlternatives(t search.Term) query.Query {
	var alts []query.Query
	for _, f := range search.TextFields() {
		tq := bleve.NewTermQuery(t.Text)
		tq.SetField(f.Name)
		tq.SetBoost(f.Boost)
		alts = append(alts, tq)
		if t.Fuzzy {
			fq := bleve.NewFuzzyQuery(t.Text)
			fq.SetField(f.Name)
			fq.SetFuzziness(1)
			fq.SetBoost(f.Boost * search.FuzzyWeight)
			alts = append(alts, fq)
		}
		if t.Prefix {
			pq := bleve.NewPrefixQuery(t.Text)
			pq.SetField(f.Name)
			pq.SetBoost(f.Boost * search.PrefixWeight)
			alts = append(alts, pq)
		}
	}
	return bleve.NewDisjunctionQuery(alts...)
}

func boolField(field string, v bool) query.Query {
	q := bleve.NewBoolFieldQuery(v)
	q.SetField(field)
	return q
}

// sortOrder maps a search.Sort to bleve's sort keys; the id breaks ties so
// pages never overlap.
func sortOrder(s search.Sort) bsearch.SortOrder {
	key := func(field string, desc bool) bsearch.SearchSort {
		return &bsearch.SortField{Field: field, Desc: desc, Type: bsearch.SortFieldAsString}
	}
	switch s {
	case search.SortPriceAsc:
		return bsearch.SortOrder{key("price_key", false), key("id", false)}
	case search.SortPriceDesc:
		return bsearch.SortOrder{key("price_key", true), key("id", false)}
	case search.SortNewest:
		return bsearch.SortOrder{key("created_key", true), key("id", true)}
	default:
		return bsearch.SortOrder{&bsearch.SortScore{Desc: true}, key("created_key", true), key("id", false)}
	}
}
