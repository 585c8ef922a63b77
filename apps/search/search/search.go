// Package search is the search domain: what the index holds per product,
// the rules that order changes (an older version never overwrites a newer
// one; deletions leave tombstones), the query semantics shared by every
// index adapter, and full rebuilds from the catalog. It knows neither Gin,
// Dapr nor any search engine: it works through Index and Catalog.
package search

import (
	"context"
	"errors"
	"time"
)

// Money is an amount in minor units of an ISO 4217 currency.
type Money struct {
	Amount   int64
	Currency string
}

// Product is a product as search shows it.
type Product struct {
	ID          string
	SKU         string
	Name        string
	Description string
	Category    string
	Price       Money
	ImageURL    string
	InStock     bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Record is what an index keeps per product id. Version is the catalog's
// version of the product (0 while only its stock is known); a deleted
// product stays as a tombstone with the version of its deletion, so a late,
// older update cannot bring it back. StockVersion orders stock changes,
// which inventory versions on its own.
type Record struct {
	Product
	Version      int64
	Deleted      bool
	StockVersion int64
}

// Live reports whether the record is a product that search shows.
func (r Record) Live() bool { return r.Version > 0 && !r.Deleted }

// Change computes a record's next state from its current one (nil when the
// index holds none). write=false leaves the index unchanged.
type Change func(cur *Record) (next Record, write bool)

// Writer applies changes. Update runs change and stores its result as one
// atomic step per id: a concurrent Update of the same id never interleaves.
type Writer interface {
	Update(ctx context.Context, id string, change Change) error
}

// Index is a search index (an embedded bleve index, an OpenSearch alias).
type Index interface {
	Writer
	// Open attaches to the stored index. A missing or unreadable one is not
	// an error: Live then reports false and a build must make one.
	Open(ctx context.Context) error
	// Live reports whether a complete index serves (Search and Update fail
	// with ErrNotBuilt otherwise).
	Live() bool
	// Lookup returns the stored records of ids; missing ids are absent.
	Lookup(ctx context.Context, ids []string) (map[string]Record, error)
	Search(ctx context.Context, q Query) (Result, error)
	// NewBuild starts an empty index that replaces this one on Commit.
	NewBuild(ctx context.Context) (Build, error)
	Close() error
}

// Build is an index being filled from the catalog. While it runs, changes
// reach it through Update as well as the live index, so nothing that
// happens during a rebuild is lost when it is swapped in.
type Build interface {
	Writer
	// Insert stores the records whose ids the build does not hold yet and
	// returns the ids it already held (the caller merges those by version).
	Insert(ctx context.Context, recs []Record) (held []string, err error)
	// Commit makes the build the live index atomically.
	Commit(ctx context.Context) error
	// Abort throws the build away.
	Abort(ctx context.Context) error
}

// Catalog lists every product, page by page, in a stable order. An empty
// next token ends the listing.
type Catalog interface {
	Products(ctx context.Context, pageToken string, pageSize int) (items []Record, next string, err error)
}

// Errors the domain reports.
var (
	// ErrNotBuilt: no complete index exists yet (the first build runs).
	ErrNotBuilt = errors.New("the search index is being built")
	// ErrInvalidEvent: an event that can never be applied (no id, no version).
	ErrInvalidEvent = errors.New("invalid event")
)
