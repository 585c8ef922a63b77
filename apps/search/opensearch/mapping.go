package opensearch

import (
	"time"

	"github.com/shopmesh/shopmesh/apps/search/search"
)

// refreshInterval is how soon a write is searchable once an index serves
// (search promises 2 s from event to result).
const refreshInterval = "1s"

// textAnalyzer mirrors search.Tokenize: Unicode word boundaries (the
// standard tokenizer is UAX #29), lower case, folded to ASCII.
const textAnalyzer = "shopmesh_text"

// indexBody is the explicit mapping of a new index: analysed text for
// name, description and category words; keyword category, long price and
// booleans for filters, facets and sorts; the rest stored for reading back.
// Unknown fields are refused (dynamic: strict).
func indexBody(cfg Config) map[string]any {
	settings := map[string]any{
		"number_of_shards": cfg.Shards,
		"refresh_interval": "-1", // a build turns refreshes on at Commit
		"analysis": map[string]any{
			"analyzer": map[string]any{
				textAnalyzer: map[string]any{
					"type":      "custom",
					"tokenizer": "standard",
					"filter":    []string{"lowercase", "asciifolding"},
				},
			},
		},
	}
	if cfg.Replicas >= 0 {
		settings["number_of_replicas"] = cfg.Replicas
	}
	text := map[string]any{"type": "text", "analyzer": textAnalyzer}
	stored := func(typ string) map[string]any { return map[string]any{"type": typ, "index": false} }
	props := map[string]any{
		"id":            map[string]any{"type": "keyword"},
		"sku":           map[string]any{"type": "keyword"},
		"category":      map[string]any{"type": "keyword"},
		"price":         map[string]any{"type": "long"},
		"currency":      stored("keyword"),
		"image_url":     stored("keyword"),
		"in_stock":      map[string]any{"type": "boolean"},
		"live":          map[string]any{"type": "boolean"},
		"created_at":    map[string]any{"type": "date"},
		"updated_at":    stored("date"),
		"indexed_at":    map[string]any{"type": "date"},
		"version":       stored("long"),
		"deleted":       stored("boolean"),
		"stock_version": stored("long"),
	}
	for _, f := range search.TextFields() {
		props[f.Name] = text
	}
	return map[string]any{
		"settings": map[string]any{"index": settings},
		"mappings": map[string]any{"dynamic": "strict", "properties": props},
	}
}

// doc is a record as stored. Records that are not live (tombstones, stock
// known before the product) are filtered out of every search by live.
type doc struct {
	ID           string     `json:"id"`
	SKU          string     `json:"sku,omitempty"`
	Name         string     `json:"name,omitempty"`
	Description  string     `json:"description,omitempty"`
	CategoryText string     `json:"category_text,omitempty"`
	Category     string     `json:"category,omitempty"`
	Price        int64      `json:"price"`
	Currency     string     `json:"currency,omitempty"`
	ImageURL     string     `json:"image_url,omitempty"`
	InStock      bool       `json:"in_stock"`
	Live         bool       `json:"live"`
	CreatedAt    *time.Time `json:"created_at,omitempty"`
	UpdatedAt    *time.Time `json:"updated_at,omitempty"`
	IndexedAt    time.Time  `json:"indexed_at"`
	Version      int64      `json:"version"`
	Deleted      bool       `json:"deleted"`
	StockVersion int64      `json:"stock_version"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func toDoc(r search.Record, now time.Time) doc {
	return doc{
		ID: r.ID, SKU: r.SKU, Name: r.Name, Description: r.Description, CategoryText: r.Category, Category: r.Category,
		Price: r.Price.Amount, Currency: r.Price.Currency, ImageURL: r.ImageURL, InStock: r.InStock, Live: r.Live(),
		CreatedAt: optTime(r.CreatedAt), UpdatedAt: optTime(r.UpdatedAt), IndexedAt: now,
		Version: r.Version, Deleted: r.Deleted, StockVersion: r.StockVersion,
	}
}

func (d doc) record() search.Record {
	r := search.Record{
		Product: search.Product{
			ID: d.ID, SKU: d.SKU, Name: d.Name, Description: d.Description, Category: d.Category,
			Price: search.Money{Amount: d.Price, Currency: d.Currency}, ImageURL: d.ImageURL, InStock: d.InStock,
		},
		Version: d.Version, Deleted: d.Deleted, StockVersion: d.StockVersion,
	}
	if d.CreatedAt != nil {
		r.CreatedAt = d.CreatedAt.UTC()
	}
	if d.UpdatedAt != nil {
		r.UpdatedAt = d.UpdatedAt.UTC()
	}
	return r
}

// maxCategories bounds the category facet; catalogs have a few dozen.
const maxCategories = 200

// searchBody is the query DSL of q, with search.Plan's semantics: each
// required term must match a text field exactly, within one edit
// (transpositions count as one) or as a prefix, as the term allows;
// optional terms only add to the score; filters do not score.
func searchBody(q search.Query) map[string]any {
	var must, should []any
	for _, t := range q.Terms {
		clause := map[string]any{"bool": map[string]any{"should": alternatives(t), "minimum_should_match": 1}}
		if t.Required {
			must = append(must, clause)
		} else {
			should = append(should, clause)
		}
	}
	filter := []any{map[string]any{"term": map[string]any{"live": true}}}
	if q.Category != "" {
		filter = append(filter, map[string]any{"term": map[string]any{"category": q.Category}})
	}
	if q.MinPrice != nil || q.MaxPrice != nil {
		bounds := map[string]any{}
		if q.MinPrice != nil {
			bounds["gte"] = *q.MinPrice
		}
		if q.MaxPrice != nil {
			bounds["lte"] = *q.MaxPrice
		}
		filter = append(filter, map[string]any{"range": map[string]any{"price": bounds}})
	}
	if q.InStock != nil {
		filter = append(filter, map[string]any{"term": map[string]any{"in_stock": *q.InStock}})
	}
	boolQ := map[string]any{"filter": filter}
	if len(must) > 0 {
		boolQ["must"] = must
	}
	if len(should) > 0 {
		boolQ["should"] = should
	}
	var ranges []any
	for _, b := range search.Bands() {
		r := map[string]any{"key": b.Key, "from": b.Min}
		if b.Max > 0 {
			r["to"] = b.Max
		}
		ranges = append(ranges, r)
	}
	return map[string]any{
		"from":             q.Offset,
		"size":             q.Limit,
		"track_total_hits": true,
		"query":            map[string]any{"bool": boolQ},
		"sort":             sortOrder(q.Sort),
		"aggs": map[string]any{
			"category": map[string]any{"terms": map[string]any{"field": "category", "size": maxCategories}},
			"price":    map[string]any{"range": map[string]any{"field": "price", "keyed": true, "ranges": ranges}},
		},
	}
}

func alternatives(t search.Term) []any {
	var alts []any
	for _, f := range search.TextFields() {
		alts = append(alts, map[string]any{"term": map[string]any{f.Name: map[string]any{"value": t.Text, "boost": f.Boost}}})
		if t.Fuzzy {
			alts = append(alts, map[string]any{"fuzzy": map[string]any{f.Name: map[string]any{
				"value": t.Text, "fuzziness": 1, "prefix_length": 0, "transpositions": true, "max_expansions": 50,
				"boost": f.Boost * search.FuzzyWeight,
			}}})
		}
		if t.Prefix {
			alts = append(alts, map[string]any{"prefix": map[string]any{f.Name: map[string]any{"value": t.Text, "boost": f.Boost * search.PrefixWeight}}})
		}
	}
	return alts
}

// sortOrder ends every order with the id, so pages never overlap.
func sortOrder(s search.Sort) []any {
	switch s {
	case search.SortPriceAsc:
		return []any{map[string]any{"price": "asc"}, map[string]any{"id": "asc"}}
	case search.SortPriceDesc:
		return []any{map[string]any{"price": "desc"}, map[string]any{"id": "asc"}}
	case search.SortNewest:
		return []any{map[string]any{"created_at": "desc"}, map[string]any{"id": "desc"}}
	default:
		return []any{"_score", map[string]any{"created_at": "desc"}, map[string]any{"id": "asc"}}
	}
}

type searchAnswer struct {
	Hits struct {
		Total struct {
			Value int `json:"value"`
		} `json:"total"`
		Hits []struct {
			Source doc `json:"_source"`
		} `json:"hits"`
	} `json:"hits"`
	Aggregations struct {
		Category struct {
			Buckets []struct {
				Key      string `json:"key"`
				DocCount int    `json:"doc_count"`
			} `json:"buckets"`
		} `json:"category"`
		Price struct {
			Buckets map[string]struct {
				DocCount int `json:"doc_count"`
			} `json:"buckets"`
		} `json:"price"`
	} `json:"aggregations"`
}

func (a searchAnswer) result() search.Result {
	res := search.Result{
		Items:      make([]search.Product, 0, len(a.Hits.Hits)),
		Total:      a.Hits.Total.Value,
		Categories: map[string]int{},
		PriceBands: map[string]int{},
	}
	for _, h := range a.Hits.Hits {
		res.Items = append(res.Items, h.Source.record().Product)
	}
	for _, b := range a.Aggregations.Category.Buckets {
		if b.DocCount > 0 {
			res.Categories[b.Key] = b.DocCount
		}
	}
	for _, b := range search.Bands() {
		res.PriceBands[b.Key] = a.Aggregations.Price.Buckets[b.Key].DocCount
	}
	return res
}
