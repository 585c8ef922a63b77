// Package api serves search over HTTP to its sidecar; the gateway reaches
// it through Dapr service invocation. GET /search is for anyone; the
// rebuild endpoints are for admins.
package api

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/search/search"
	"github.com/shopmesh/shopmesh/internal/platform/auth"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// Page sizes and the deepest result reachable by paging (OpenSearch's
// default max_result_window; deeper pages help no shopper).
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
	MaxResults      = 10_000
	// MaxPrice is the catalog's largest price in minor units.
	MaxPrice = 100_000_000_000
)

// Service is what the handlers need (*search.Service).
type Service interface {
	Search(ctx context.Context, text string, q search.Query) (search.Result, error)
	Rebuild() (search.Run, error)
	Wait(ctx context.Context) (search.Run, error)
	LastRun() (search.Run, bool)
}

// Handler holds search's HTTP handlers.
type Handler struct {
	svc Service
	log *slog.Logger
}

// Register mounts the handlers on the sidecar-only router.
func Register(r httpserver.Router, svc Service, log *slog.Logger) {
	h := Handler{svc: svc, log: log}
	r.Sidecar.GET("/search", h.search)
	r.Sidecar.POST("/reindex", auth.Require(auth.RoleAdmin), h.reindex)
	r.Sidecar.GET("/reindex", auth.Require(auth.RoleAdmin), h.reindexStatus)
}

// Module mounts the handlers over the search.Service.
var Module = fx.Invoke(func(r httpserver.Router, svc *search.Service, log *slog.Logger) { Register(r, svc, log) })

// Money is the wire form of an amount.
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// Product is the public API's product.
type Product struct {
	ID          string `json:"id"`
	SKU         string `json:"sku"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Category    string `json:"category"`
	Price       Money  `json:"price"`
	ImageURL    string `json:"image_url"`
	InStock     bool   `json:"in_stock"`
}

// Facets count the whole match: per category id, and per price band.
type Facets struct {
	Category map[string]int `json:"category"`
	Price    map[string]int `json:"price"`
}

// Results is the answer of GET /search.
type Results struct {
	Items         []Product `json:"items"`
	Total         int       `json:"total"`
	Facets        Facets    `json:"facets"`
	NextPageToken string    `json:"next_page_token"`
}

var categoryPattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$`)

// params are the parsed query parameters of GET /search.
type params struct {
	text string
	q    search.Query
}

func parse(c *gin.Context) (params, []problem.FieldError) {
	var errs []problem.FieldError
	bad := func(field, detail string) { errs = append(errs, problem.FieldError{Field: field, Detail: detail}) }
	p := params{text: c.Query("q"), q: search.Query{Category: c.Query("category"), Sort: search.SortRelevance, Limit: DefaultPageSize}}

	if p.q.Category != "" && !categoryPattern.MatchString(p.q.Category) {
		bad("category", "must be a category id such as kitchen (see GET /api/v1/categories)")
	}
	price := func(name string) *int64 {
		raw, ok := c.GetQuery(name)
		if !ok {
			return nil
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 || n > MaxPrice {
			bad(name, "must be an amount in minor units (cents) from 0 to "+strconv.Itoa(MaxPrice))
			return nil
		}
		return &n
	}
	p.q.MinPrice, p.q.MaxPrice = price("min_price"), price("max_price")
	if p.q.MinPrice != nil && p.q.MaxPrice != nil && *p.q.MinPrice > *p.q.MaxPrice {
		bad("max_price", "must not be below min_price")
	}
	if raw, ok := c.GetQuery("in_stock"); ok {
		v, err := strconv.ParseBool(raw)
		if err != nil {
			bad("in_stock", "must be true or false")
		} else {
			p.q.InStock = &v
		}
	}
	if raw, ok := c.GetQuery("sort"); ok {
		p.q.Sort = search.Sort(raw)
		valid := false
		var names []string
		for _, s := range search.Sorts() {
			valid = valid || s == p.q.Sort
			names = append(names, string(s))
		}
		if !valid {
			bad("sort", "must be one of: "+strings.Join(names, ", "))
		}
	}
	if raw, ok := c.GetQuery("page_size"); ok {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > MaxPageSize {
			bad("page_size", "must be an integer from 1 to "+strconv.Itoa(MaxPageSize))
		} else {
			p.q.Limit = n
		}
	}
	if tok := c.Query("page_token"); tok != "" && len(errs) == 0 {
		off, ok := decodeToken(tok, p.fingerprint())
		if !ok {
			bad("page_token", "is not a page token issued for this search")
		}
		p.q.Offset = off
	}
	return p, errs
}

// fingerprint identifies the search a page token belongs to, so a token
// cannot be replayed on another one.
func (p params) fingerprint() string {
	h := sha256.New()
	for _, part := range []string{p.text, p.q.Category, optInt(p.q.MinPrice), optInt(p.q.MaxPrice), optBool(p.q.InStock), string(p.q.Sort)} {
		h.Write([]byte(strconv.Itoa(len(part)) + ":" + part + "|"))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

func optInt(v *int64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatInt(*v, 10)
}

func optBool(v *bool) string {
	if v == nil {
		return ""
	}
	return strconv.FormatBool(*v)
}

// Page tokens are opaque to clients: base64url of "v1|<offset>|<fingerprint>".
const tokenVersion = "v1"

func encodeToken(offset int, fingerprint string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(tokenVersion + "|" + strconv.Itoa(offset) + "|" + fingerprint))
}

func decodeToken(tok, fingerprint string) (int, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 3 || parts[0] != tokenVersion || parts[2] != fingerprint {
		return 0, false
	}
	off, err := strconv.Atoi(parts[1])
	if err != nil || off < 1 || off >= MaxResults {
		return 0, false
	}
	// One page has one token, the one encodeToken writes: not "+10", "010"
	// or the same bytes with spare base64 bits set.
	if encodeToken(off, fingerprint) != tok {
		return 0, false
	}
	return off, true
}

func (h Handler) search(c *gin.Context) {
	p, errs := parse(c)
	if len(errs) > 0 {
		httpserver.Abort(c, problem.Validation(errs...))
		return
	}
	if p.q.Offset+p.q.Limit > MaxResults {
		p.q.Limit = MaxResults - p.q.Offset
	}
	res, err := h.svc.Search(c, p.text, p.q)
	if err != nil {
		h.fail(c, err)
		return
	}
	out := Results{
		Items:  make([]Product, len(res.Items)),
		Total:  res.Total,
		Facets: Facets{Category: res.Categories, Price: res.PriceBands},
	}
	for i, it := range res.Items {
		out.Items[i] = Product{
			ID: it.ID, SKU: it.SKU, Name: it.Name, Description: it.Description, Category: it.Category,
			Price: Money{it.Price.Amount, it.Price.Currency}, ImageURL: it.ImageURL, InStock: it.InStock,
		}
	}
	if next := p.q.Offset + len(res.Items); len(res.Items) == p.q.Limit && next < res.Total && next < MaxResults {
		out.NextPageToken = encodeToken(next, p.fingerprint())
	}
	c.JSON(http.StatusOK, out)
}

// Run is the wire form of a rebuild.
type Run struct {
	State      search.RunState `json:"state"`
	StartedAt  time.Time       `json:"started_at"`
	FinishedAt *time.Time      `json:"finished_at,omitempty"`
	Products   int             `json:"products"`
	Pages      int             `json:"pages"`
	Attempts   int             `json:"attempts"`
	Error      string          `json:"error,omitempty"`
}

func toRun(r search.Run) Run {
	out := Run{State: r.State, StartedAt: r.StartedAt, Products: r.Products, Pages: r.Pages, Attempts: r.Attempts, Error: r.Error}
	if !r.FinishedAt.IsZero() {
		out.FinishedAt = &r.FinishedAt
	}
	return out
}

// reindex starts a rebuild from the catalog (or joins the running one):
// 202 with the run, or with ?wait=true 200 once it is done.
func (h Handler) reindex(c *gin.Context) {
	wait := false
	if raw, ok := c.GetQuery("wait"); ok {
		v, err := strconv.ParseBool(raw)
		if err != nil {
			httpserver.Abort(c, problem.Validation(problem.FieldError{Field: "wait", Detail: "must be true or false"}))
			return
		}
		wait = v
	}
	run, err := h.svc.Rebuild()
	if err != nil {
		h.log.ErrorContext(c, "could not start a search index rebuild", "err", err)
		httpserver.Abort(c, problem.Unavailable("the rebuild could not start; retry later"))
		return
	}
	if !wait {
		c.JSON(http.StatusAccepted, toRun(run))
		return
	}
	run, err = h.svc.Wait(c)
	if err != nil {
		httpserver.Abort(c, problem.Unavailable("the rebuild is still running; see GET /reindex"))
		return
	}
	if run.State != search.RunDone {
		httpserver.Abort(c, problem.Unavailable("the rebuild failed after "+strconv.Itoa(run.Attempts)+" attempts; see GET /reindex"))
		return
	}
	c.JSON(http.StatusOK, toRun(run))
}

func (h Handler) reindexStatus(c *gin.Context) {
	run, ok := h.svc.LastRun()
	if !ok {
		httpserver.Abort(c, problem.NotFound("no rebuild has run since search started"))
		return
	}
	c.JSON(http.StatusOK, toRun(run))
}

// fail maps search errors to problems: the index being built or a backend
// that is down is a 503 the client may retry.
func (h Handler) fail(c *gin.Context, err error) {
	if errors.Is(err, search.ErrNotBuilt) {
		c.Header("Retry-After", "5")
		httpserver.Abort(c, problem.Unavailable("the search index is being built; retry shortly"))
		return
	}
	h.log.ErrorContext(c, "search failed", "err", err)
	httpserver.Abort(c, problem.Unavailable("search could not complete the request; retry later"))
}
