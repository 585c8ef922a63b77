package searchclient

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"unicode/utf8"

	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// Parameters are the query parameters the search app understands. The
// gateway passes these on, and only these: it judges none of their values
// (but the length of q, see MaxQueryLength),
// which are the search app's to check.
var Parameters = []string{"q", "category", "min_price", "max_price", "in_stock", "sort", "page_size", "page_token"}

// MaxQueryLength caps q, in characters. No shopper types more, and the
// gateway hands q to its sidecar in a URL: daprd reads at most 4 KiB of
// request line and headers, and a longer text (percent-encoded, up to 12
// bytes a character) would be refused there instead of answered.
const MaxQueryLength = 200

// CheckQueryLength reports a q over MaxQueryLength as the problem field it is.
func CheckQueryLength(q string) *problem.FieldError {
	if utf8.RuneCountInString(q) <= MaxQueryLength {
		return nil
	}
	return &problem.FieldError{Field: "q", Detail: fmt.Sprintf("must be at most %d characters", MaxQueryLength)}
}

// Select returns the Parameters of a client's query string.
func Select(query url.Values) url.Values {
	out := url.Values{}
	for _, name := range Parameters {
		if vs, ok := query[name]; ok {
			out[name] = vs
		}
	}
	return out
}

// Sort orders search results.
type Sort string

// Orders of results; relevance is the search app's default.
const (
	SortRelevance Sort = "relevance"
	SortPriceAsc  Sort = "price_asc"
	SortPriceDesc Sort = "price_desc"
	SortNewest    Sort = "newest"
)

// Query is a search by typed fields; zero values and nil pointers mean "not
// given". Prices are minor units, like Money.
type Query struct {
	Q         string
	Category  string
	MinPrice  *int64
	MaxPrice  *int64
	InStock   *bool
	Sort      Sort
	PageSize  *int
	PageToken string
}

// Values is q as the search app's query parameters.
func (q Query) Values() url.Values {
	v := url.Values{}
	set := func(name, value string) {
		if value != "" {
			v.Set(name, value)
		}
	}
	set("q", q.Q)
	set("category", q.Category)
	if q.MinPrice != nil {
		v.Set("min_price", strconv.FormatInt(*q.MinPrice, 10))
	}
	if q.MaxPrice != nil {
		v.Set("max_price", strconv.FormatInt(*q.MaxPrice, 10))
	}
	if q.InStock != nil {
		v.Set("in_stock", strconv.FormatBool(*q.InStock))
	}
	set("sort", string(q.Sort))
	if q.PageSize != nil {
		v.Set("page_size", strconv.Itoa(*q.PageSize))
	}
	set("page_token", q.PageToken)
	return v
}

// Result is one page of search results, as the search app serves it.
// NextPageToken is empty on the last page.
type Result struct {
	Items         []Hit  `json:"items"`
	Total         int64  `json:"total"`
	Facets        Facets `json:"facets"`
	NextPageToken string `json:"next_page_token"`
}

// Hit is a product found, with the fields the public contract gives a
// product in search results.
type Hit struct {
	ID          string          `json:"id"`
	SKU         string          `json:"sku"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Category    string          `json:"category"`
	Price       contracts.Money `json:"price"`
	ImageURL    string          `json:"image_url"`
	InStock     bool            `json:"in_stock"`
}

// Facets count the products of the whole result (not only the page) per
// value of a field: on the wire an object of objects,
// {"category": {"kitchen": 3, "audio": 1}, "price": {...}}. The order of
// facets and of their buckets is the search app's.
type Facets []Facet

// Facet is the counts of one field, such as category or price band.
type Facet struct {
	Name    string
	Buckets []Bucket
}

// Bucket is how many products have one value of a facet's field.
type Bucket struct {
	Value string
	Count int64
}

// UnmarshalJSON decodes the object form keeping the order of its members,
// which a Go map would lose.
func (f *Facets) UnmarshalJSON(b []byte) error {
	*f = Facets{}
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return nil
	}
	var names orderedObject
	if err := json.Unmarshal(b, &names); err != nil {
		return fmt.Errorf("facets: %w", err)
	}
	for _, m := range names {
		var buckets orderedObject
		if err := json.Unmarshal(m.value, &buckets); err != nil {
			return fmt.Errorf("facet %q: %w", m.name, err)
		}
		facet := Facet{Name: m.name, Buckets: make([]Bucket, 0, len(buckets))}
		for _, bm := range buckets {
			var n int64
			if err := json.Unmarshal(bm.value, &n); err != nil {
				return fmt.Errorf("facet %q, bucket %q: the count: %w", m.name, bm.name, err)
			}
			facet.Buckets = append(facet.Buckets, Bucket{Value: bm.name, Count: n})
		}
		*f = append(*f, facet)
	}
	return nil
}

// orderedObject is a JSON object's members in the order they were written.
type orderedObject []member

type member struct {
	name  string
	value json.RawMessage
}

func (o *orderedObject) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("want an object, got %v", tok)
	}
	*o = orderedObject{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := tok.(string) // object keys are always strings
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return err
		}
		*o = append(*o, member{name: name, value: value})
	}
	return nil
}
