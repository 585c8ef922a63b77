// Package rest serves the public REST API under /api/v1: the catalog,
// search, the accounts (sign-up, sign-in, the caller's profile and
// addresses), a shopper's cart, checkout, orders and notifications, the
// operators' stock and payments, and the JWKS at /.well-known/jwks.json.
// Handlers check what is cheap to check (ids in paths, the checkout's
// Idempotency-Key), call the service (the catalog through the cache) and
// pass its answer on: status, content type and body are the service's,
// problem+json included. Every route is admission controlled (shed with a
// 503 when the gateway is at capacity), rate limited, runs the bearer
// token check (authn) and the access table (authz); the credential
// endpoints have a stricter rate limit of their own.
package rest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/gateway/admission"
	"github.com/shopmesh/shopmesh/apps/gateway/authn"
	"github.com/shopmesh/shopmesh/apps/gateway/authz"
	"github.com/shopmesh/shopmesh/apps/gateway/cache"
	"github.com/shopmesh/shopmesh/apps/gateway/catalogclient"
	"github.com/shopmesh/shopmesh/apps/gateway/inventoryclient"
	"github.com/shopmesh/shopmesh/apps/gateway/notificationsclient"
	"github.com/shopmesh/shopmesh/apps/gateway/ordersclient"
	"github.com/shopmesh/shopmesh/apps/gateway/paymentsclient"
	"github.com/shopmesh/shopmesh/apps/gateway/ratelimit"
	"github.com/shopmesh/shopmesh/apps/gateway/searchclient"
	"github.com/shopmesh/shopmesh/apps/gateway/usersclient"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// Prefix is where the REST API lives.
const Prefix = "/api/v1"

// Module mounts the API on the public router: admitted, rate limited, then
// authenticated, then authorized. Admission comes first because shedding
// must be the cheapest thing the gateway does: a shed request costs no
// Redis round trip and no signature check, and the requests waiting on
// Redis are bounded by the slots too. A request over its client's rate
// limit holds a slot only for that round trip before its 429.
var Module = fx.Invoke(func(r httpserver.Router, adm *admission.Controller, l *ratelimit.Limiter, strict *ratelimit.AuthLimiter,
	v *authn.Verifier, cat *cache.Catalog, s Services, log *slog.Logger) {
	guard := []gin.HandlerFunc{adm.Middleware, l.Middleware, authn.Authenticate(v, log), authz.Middleware()}
	api := r.Public.Group(Prefix, guard...)
	Mount(api, cat, log)
	MountAccounts(api, r.Public.Group("", guard...), s.Users, strict.Middleware, log)
	MountSearch(api, s.Search, log)
	MountShopping(api, s.Orders, s.Notifications, log)
	MountOperations(api, s.Inventory, s.Payments, log)
})

// Services are the clients of the apps behind the API, other than the
// cached catalog.
type Services struct {
	fx.In

	Users         *usersclient.Client
	Search        *searchclient.Client
	Orders        *ordersclient.Client
	Notifications *notificationsclient.Client
	Inventory     *inventoryclient.Client
	Payments      *paymentsclient.Client
}

// Catalog is what the handlers need: the catalog, cached.
type Catalog interface {
	ListProducts(ctx context.Context, q catalogclient.ListQuery) (catalogclient.Response, error)
	Product(ctx context.Context, id string) (catalogclient.Response, error)
	Categories(ctx context.Context) (catalogclient.Response, error)
	CreateProduct(ctx context.Context, body []byte) (catalogclient.Response, error)
	ReplaceProduct(ctx context.Context, id string, body []byte) (catalogclient.Response, error)
	DeleteProduct(ctx context.Context, id string) (catalogclient.Response, error)
}

type handler struct {
	cat Catalog
	log *slog.Logger
}

// Mount registers the routes on r, the group at Prefix.
func Mount(r gin.IRouter, cat Catalog, log *slog.Logger) {
	h := handler{cat: cat, log: log}
	r.GET("/products", h.list)
	r.POST("/products", h.create)
	r.GET("/products/:id", h.get)
	r.PUT("/products/:id", h.replace)
	r.DELETE("/products/:id", h.delete)
	r.GET("/categories", h.categories)
}

func (h handler) list(c *gin.Context) {
	q, bad := listQuery(c)
	if bad != nil {
		httpserver.Abort(c, bad)
		return
	}
	resp, err := h.cat.ListProducts(c, q)
	h.reply(c, resp, err, true)
}

func (h handler) get(c *gin.Context) {
	id, ok := productID(c)
	if !ok {
		return
	}
	resp, err := h.cat.Product(c, id)
	h.reply(c, resp, err, true)
}

func (h handler) categories(c *gin.Context) {
	resp, err := h.cat.Categories(c)
	h.reply(c, resp, err, true)
}

func (h handler) create(c *gin.Context) {
	body, ok := readJSONBody(c)
	if !ok {
		return
	}
	resp, err := h.cat.CreateProduct(c, body)
	if err == nil && resp.Status == http.StatusCreated && resp.CreatedID != "" {
		c.Header("Location", Prefix+"/products/"+resp.CreatedID)
	}
	h.reply(c, resp, err, false)
}

func (h handler) replace(c *gin.Context) {
	id, ok := productID(c)
	if !ok {
		return
	}
	body, ok := readJSONBody(c)
	if !ok {
		return
	}
	resp, err := h.cat.ReplaceProduct(c, id, body)
	h.reply(c, resp, err, false)
}

func (h handler) delete(c *gin.Context) {
	id, ok := productID(c)
	if !ok {
		return
	}
	resp, err := h.cat.DeleteProduct(c, id)
	h.reply(c, resp, err, false)
}

// reply passes the catalog's answer on, or a 503 when there was none.
func (h handler) reply(c *gin.Context, resp catalogclient.Response, err error, cacheable bool) {
	if cacheable {
		c.Header("X-Cache", cacheStatus(resp))
	}
	if err != nil {
		if !errors.Is(err, catalogclient.ErrUnavailable) {
			h.log.ErrorContext(c, "catalog call failed", "err", err)
			httpserver.Abort(c, problem.Internal())
			return
		}
		h.log.WarnContext(c, "catalog unavailable", "err", err)
		httpserver.Abort(c, problem.Unavailable("the catalog is unavailable; retry later"))
		return
	}
	if resp.RetryAfter != "" {
		c.Header("Retry-After", resp.RetryAfter)
	}
	if len(resp.Body) == 0 {
		c.Status(resp.Status)
		return
	}
	c.Data(resp.Status, resp.ContentType, resp.Body)
}

func cacheStatus(resp catalogclient.Response) string {
	if resp.FromCache {
		return "hit"
	}
	return "miss"
}

// listQuery reads and checks the listing's query parameters.
func listQuery(c *gin.Context) (catalogclient.ListQuery, *problem.Problem) {
	q := catalogclient.ListQuery{Category: c.Query("category"), PageToken: c.Query("page_token")}
	var fields []problem.FieldError
	if raw := c.Query("page_size"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || !catalogclient.ValidPageSize(n) {
			fields = append(fields, problem.FieldError{Field: "page_size", Detail: catalogclient.PageSizeDetail})
		} else {
			q.PageSize = n
		}
	}
	fields = append(fields, q.Problems()...)
	if len(fields) > 0 {
		return q, problem.Validation(fields...)
	}
	return q, nil
}

// productID answers 404 for ids that cannot exist, as the catalog would,
// without a call; valid ids are made canonical.
func productID(c *gin.Context) (string, bool) {
	id, ok := catalogclient.CanonicalID(c.Param("id"))
	if !ok {
		httpserver.Abort(c, problem.NotFound("no product with id "+strconv.Quote(c.Param("id"))))
		return "", false
	}
	return id, true
}

// readJSONBody reads a write's body: JSON (or no Content-Type, as the
// catalog accepts) and within the platform's size limit. Its fields are the
// catalog's to check.
func readJSONBody(c *gin.Context) ([]byte, bool) {
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			httpserver.Abort(c, problem.New(problem.TypeUnsupportedType, http.StatusUnsupportedMediaType, "the body must be application/json"))
			return nil, false
		}
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			httpserver.Abort(c, problem.New(problem.TypeTooLarge, http.StatusRequestEntityTooLarge, "the request body exceeds the size limit"))
			return nil, false
		}
		httpserver.Abort(c, problem.Malformed("the request body could not be read"))
		return nil, false
	}
	return body, true
}
