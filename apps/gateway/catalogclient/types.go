package catalogclient

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/shopmesh/shopmesh/apps/gateway/servicecall"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// Product is the catalog's product as it serves it.
type Product struct {
	ID          string          `json:"id"`
	SKU         string          `json:"sku"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Category    string          `json:"category"`
	Price       contracts.Money `json:"price"`
	ImageURL    string          `json:"image_url"`
	InStock     bool            `json:"in_stock"`
	Version     int64           `json:"version"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// ProductPage is one page of a listing; NextPageToken is empty on the last.
type ProductPage struct {
	Items         []Product `json:"items"`
	NextPageToken string    `json:"next_page_token"`
}

// Category groups products; its ID is a slug such as "kitchen".
type Category struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// CategoryList is the answer of GET /categories.
type CategoryList struct {
	Items []Category `json:"items"`
}

// Decode unmarshals a 200 answer into T.
func Decode[T any](r Response) (T, error) {
	var v T
	if r.Status != http.StatusOK {
		return v, fmt.Errorf("decoding the catalog's answer: status %d, want 200", r.Status)
	}
	if err := json.Unmarshal(r.Body, &v); err != nil {
		return v, fmt.Errorf("decoding the catalog's answer: %w", err)
	}
	return v, nil
}

// Problem decodes an error answer; ok is false when it is not problem+json.
func (r Response) Problem() (p problem.Problem, ok bool) {
	return servicecall.DecodeProblem(r.ContentType, r.Body)
}

// Listing limits the gateway checks before it calls the catalog (which
// checks them too): cheap to test, and bad input never reaches the cache.
const (
	DefaultPageSize   = 20
	MaxPageSize       = 100
	maxPageTokenBytes = 512
	maxCategoryBytes  = 64
)

// ListQuery selects a page of products. Zero values mean "not given": all
// categories, the catalog's default page size, the first page.
type ListQuery struct {
	Category  string
	PageSize  int
	PageToken string
}

// ValidPageSize reports whether n is an acceptable page size.
func ValidPageSize(n int) bool { return n >= 1 && n <= MaxPageSize }

// PageSizeDetail explains the page size rule.
var PageSizeDetail = "must be an integer from 1 to " + strconv.Itoa(MaxPageSize)

var (
	// Page tokens are base64url; categories are slugs.
	pageTokenPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	categoryPattern  = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$`)
)

// Problems lists what is wrong with q, by query parameter name; nil when
// the catalog may be asked.
func (q ListQuery) Problems() []problem.FieldError {
	var errs []problem.FieldError
	if q.Category != "" && (len(q.Category) > maxCategoryBytes || !categoryPattern.MatchString(q.Category)) {
		errs = append(errs, problem.FieldError{Field: "category", Detail: "is not a category id (see GET /api/v1/categories)"})
	}
	if q.PageSize != 0 && !ValidPageSize(q.PageSize) {
		errs = append(errs, problem.FieldError{Field: "page_size", Detail: PageSizeDetail})
	}
	if q.PageToken != "" && (len(q.PageToken) > maxPageTokenBytes || !pageTokenPattern.MatchString(q.PageToken)) {
		errs = append(errs, problem.FieldError{Field: "page_token", Detail: "is not a page token issued for this listing"})
	}
	return errs
}

func (q ListQuery) values() url.Values {
	v := url.Values{}
	if q.Category != "" {
		v.Set("category", q.Category)
	}
	if q.PageSize != 0 {
		v.Set("page_size", strconv.Itoa(q.PageSize))
	}
	if q.PageToken != "" {
		v.Set("page_token", q.PageToken)
	}
	return v
}

// CanonicalID returns a product id in the catalog's canonical form, or false
// when it cannot be a product id. Canonical ids keep one product in one
// cache entry however a client spells its id.
func CanonicalID(id string) (string, bool) {
	if len(id) > 64 {
		return "", false
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return "", false
	}
	return u.String(), true
}
