package bleveindex

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/registry"

	"github.com/shopmesh/shopmesh/apps/search/search"
)

// Analysis names inside the index mapping.
const (
	textAnalyzer    = "shopmesh_text"
	normalizeFilter = "shopmesh_normalize"
)

// schemaVersion is stored in every index; an index of another version is
// rebuilt rather than read with the wrong mapping. completeKey is stored
// when a build is committed: scorch falls back to an older snapshot when
// the newest is damaged, and one from before the commit lacks it.
const (
	schemaKey     = "shopmesh.schema"
	schemaVersion = "1"
	completeKey   = "shopmesh.complete"
)

// The text analyser is bleve's Unicode (UAX #29) tokenizer followed by
// search.Normalize: the very analysis search.Tokenize applies to queries,
// so query terms and indexed terms always agree.
func init() {
	if err := registry.RegisterTokenFilter(normalizeFilter, func(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
		return normalizer{}, nil
	}); err != nil {
		panic(err)
	}
}

type normalizer struct{}

func (normalizer) Filter(in analysis.TokenStream) analysis.TokenStream {
	out := in[:0]
	for _, tok := range in {
		if t := search.Normalize(string(tok.Term)); t != "" {
			tok.Term = []byte(t)
			out = append(out, tok)
		}
	}
	return out
}

// newMapping maps doc: analysed text fields for matching, a keyword
// category and numeric price for filters and facets, and the record as
// stored-only JSON to read back.
func newMapping() (mapping.IndexMapping, error) {
	im := bleve.NewIndexMapping()
	if err := im.AddCustomAnalyzer(textAnalyzer, map[string]any{
		"type":          custom.Name,
		"tokenizer":     unicode.Name,
		"token_filters": []any{normalizeFilter},
	}); err != nil {
		return nil, fmt.Errorf("search analyser: %w", err)
	}
	text := func() *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer, f.Store, f.IncludeInAll, f.IncludeTermVectors, f.DocValues = textAnalyzer, false, false, false, false
		return f
	}
	keywordField := func(docValues bool) *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Analyzer, f.Store, f.IncludeInAll, f.IncludeTermVectors, f.DocValues = keyword.Name, false, false, false, docValues
		return f
	}
	number := bleve.NewNumericFieldMapping()
	number.Store, number.IncludeInAll, number.DocValues = false, false, false
	flag := bleve.NewBooleanFieldMapping()
	flag.Store, flag.IncludeInAll, flag.DocValues = false, false, false
	source := bleve.NewTextFieldMapping()
	source.Index, source.Store, source.IncludeInAll, source.IncludeTermVectors, source.DocValues = false, true, false, false, false

	dm := bleve.NewDocumentStaticMapping()
	for _, f := range search.TextFields() {
		dm.AddFieldMappingsAt(f.Name, text())
	}
	// Sorts and facets read doc values of every hit. Bleve keeps sixteen
	// prefix-coded terms per number there, so sort keys and the price band
	// are short keywords instead; the number only serves the range filter.
	for _, f := range []string{"id", "category", "price_key", "price_band", "created_key"} {
		dm.AddFieldMappingsAt(f, keywordField(true))
	}
	dm.AddFieldMappingsAt("price", number)
	dm.AddFieldMappingsAt("in_stock", flag)
	dm.AddFieldMappingsAt("live", flag)
	dm.AddFieldMappingsAt("source", source)

	im.DefaultMapping = dm
	im.DefaultAnalyzer = textAnalyzer
	im.IndexDynamic, im.StoreDynamic, im.DocValuesDynamic = false, false, false
	return im, nil
}

// doc is what bleve indexes per record. Records that are not live
// (tombstones, stock known before the product) carry no searchable text.
type doc struct {
	ID           string  `json:"id"` // the last sort key (bleve's own _id is a stored-field read per hit)
	Name         string  `json:"name"`
	Description  string  `json:"description"`
	CategoryText string  `json:"category_text"`
	Category     string  `json:"category"`
	Price        float64 `json:"price"`
	PriceKey     string  `json:"price_key"`   // zero-padded amount: sorts as text
	PriceBand    string  `json:"price_band"`  // search.BandOf
	CreatedKey   string  `json:"created_key"` // zero-padded Unix milliseconds
	InStock      bool    `json:"in_stock"`
	Live         bool    `json:"live"`
	Source       string  `json:"source"`
}

// stored is the record as JSON in doc.Source.
type stored struct {
	ID           string    `json:"id"`
	SKU          string    `json:"sku,omitempty"`
	Name         string    `json:"name,omitempty"`
	Description  string    `json:"description,omitempty"`
	Category     string    `json:"category,omitempty"`
	Amount       int64     `json:"amount"`
	Currency     string    `json:"currency,omitempty"`
	ImageURL     string    `json:"image_url,omitempty"`
	InStock      bool      `json:"in_stock"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	Version      int64     `json:"version"`
	Deleted      bool      `json:"deleted,omitempty"`
	StockVersion int64     `json:"stock_version,omitempty"`
}

func toDoc(r search.Record) (doc, error) {
	src, err := json.Marshal(stored{
		ID: r.ID, SKU: r.SKU, Name: r.Name, Description: r.Description, Category: r.Category,
		Amount: r.Price.Amount, Currency: r.Price.Currency, ImageURL: r.ImageURL, InStock: r.InStock,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Version: r.Version, Deleted: r.Deleted, StockVersion: r.StockVersion,
	})
	if err != nil {
		return doc{}, fmt.Errorf("encoding record %s: %w", r.ID, err)
	}
	d := doc{ID: r.ID, InStock: r.InStock, Live: r.Live(), Source: string(src)}
	if d.Live {
		d.Name, d.Description, d.CategoryText, d.Category = r.Name, r.Description, r.Category, r.Category
		d.Price, d.PriceKey, d.PriceBand = float64(r.Price.Amount), fmt.Sprintf("%012d", r.Price.Amount), search.BandOf(r.Price.Amount)
		d.CreatedKey = fmt.Sprintf("%013d", r.CreatedAt.UnixMilli())
	}
	return d, nil
}

func fromSource(src []byte) (search.Record, error) {
	var s stored
	if err := json.Unmarshal(src, &s); err != nil {
		return search.Record{}, fmt.Errorf("decoding stored record: %w", err)
	}
	return search.Record{
		Product: search.Product{
			ID: s.ID, SKU: s.SKU, Name: s.Name, Description: s.Description, Category: s.Category,
			Price: search.Money{Amount: s.Amount, Currency: s.Currency}, ImageURL: s.ImageURL, InStock: s.InStock,
			CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
		},
		Version: s.Version, Deleted: s.Deleted, StockVersion: s.StockVersion,
	}, nil
}
