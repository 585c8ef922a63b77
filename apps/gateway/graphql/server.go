package graphql

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gin-gonic/gin"
	"github.com/vektah/gqlparser/v2/ast"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/gateway/admission"
	"github.com/shopmesh/shopmesh/apps/gateway/authn"
	"github.com/shopmesh/shopmesh/apps/gateway/authz"
	"github.com/shopmesh/shopmesh/apps/gateway/cache"
	"github.com/shopmesh/shopmesh/apps/gateway/graphql/exec"
	"github.com/shopmesh/shopmesh/apps/gateway/ordersclient"
	"github.com/shopmesh/shopmesh/apps/gateway/ratelimit"
	"github.com/shopmesh/shopmesh/apps/gateway/searchclient"
	"github.com/shopmesh/shopmesh/apps/gateway/usersclient"
	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// Path is where the graph is served.
const Path = "/graphql"

// Module serves the graph on the public router: admitted (first, as for
// REST: shedding costs no Redis call and no token check), rate limited,
// then authenticated (a bad token is a 401 before any field is resolved),
// then authorized per field.
var Module = fx.Options(
	fx.Provide(func() (Config, error) { return LoadConfig(os.LookupEnv) }),
	fx.Invoke(func(r httpserver.Router, adm *admission.Controller, l *ratelimit.Limiter, v *authn.Verifier, cat *cache.Catalog,
		users *usersclient.Client, orders *ordersclient.Client, search *searchclient.Client, log *slog.Logger, cfg Config) {
		g := r.Public.Group("", adm.Middleware, l.Middleware, authn.Authenticate(v, log), authz.Middleware())
		s := Services{Catalog: cat, Users: users, Orders: orders, Search: search}
		Mount(g, NewHandler(s, log, cfg), cfg)
	}),
)

// Config guards the endpoint against expensive requests.
type Config struct {
	// ComplexityLimit caps the fields (aliases included) one operation may
	// select, which bounds the catalog calls one request can cause.
	ComplexityLimit int
	// MutationLimit caps the mutations one operation may run (they run in
	// turn, so it bounds how long one request takes).
	MutationLimit int
	MaxBodyBytes  int64
	Introspection bool
}

// LoadConfig reads Config through lookup (os.LookupEnv in production).
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	l := config.NewLoader(lookup)
	cfg := Config{
		ComplexityLimit: l.Int("GRAPHQL_COMPLEXITY_LIMIT", 200),
		MutationLimit:   l.Int("GRAPHQL_MUTATION_LIMIT", 10),
		MaxBodyBytes:    int64(l.Int("GRAPHQL_MAX_BODY_BYTES", 64<<10)),
		Introspection:   l.Bool("GRAPHQL_INTROSPECTION", true),
	}
	errs := []error{l.Err()}
	if cfg.ComplexityLimit < 1 {
		errs = append(errs, errors.New("config GRAPHQL_COMPLEXITY_LIMIT: must be at least 1"))
	}
	if cfg.MutationLimit < 1 {
		errs = append(errs, errors.New("config GRAPHQL_MUTATION_LIMIT: must be at least 1"))
	}
	if cfg.MaxBodyBytes < 1 {
		errs = append(errs, errors.New("config GRAPHQL_MAX_BODY_BYTES: must be at least 1"))
	}
	return cfg, errors.Join(errs...)
}

// NewHandler returns the GraphQL endpoint over s: queries by POST (JSON)
// and GET, mutations by POST only. Mount it behind authn.Authenticate,
// which puts the caller's identity in the request context.
func NewHandler(s Services, log *slog.Logger, cfg Config) http.Handler {
	r := &Resolver{cat: s.Catalog, users: s.Users, orders: s.Orders, search: s.Search, log: log}
	srv := handler.New(exec.NewExecutableSchema(exec.Config{Resolvers: r}))
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetErrorPresenter(r.presentError)
	srv.SetRecoverFunc(r.recoverPanic)
	srv.AroundFields(r.authorize)
	if cfg.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(extension.FixedComplexityLimit(cfg.ComplexityLimit))
	srv.Use(mutationLimit{max: cfg.MutationLimit})
	return srv
}

// Mount serves h at Path on r.
func Mount(r gin.IRouter, h http.Handler, cfg Config) {
	wrapped := gin.WrapH(h)
	// Every answer is GraphQL JSON, but gqlgen writes its transport errors
	// (a POST that is not application/json: 400 "transport not supported")
	// without a Content-Type, so Go sniffs text/plain (found by tests/fuzz).
	serve := func(c *gin.Context) {
		c.Header("Content-Type", "application/json")
		wrapped(c)
	}
	r.GET(Path, serve)
	r.POST(Path, limitBody(cfg.MaxBodyBytes), serve)
}

// limitBody reads the body up front, so an oversized one is a 413 problem
// rather than a GraphQL error about an unreadable request.
func limitBody(maxBytes int64) gin.HandlerFunc {
	tooLarge := func(c *gin.Context) {
		httpserver.Abort(c, problem.New(problem.TypeTooLarge, http.StatusRequestEntityTooLarge, "the GraphQL request exceeds the size limit"))
	}
	return func(c *gin.Context) {
		if c.Request.ContentLength > maxBytes {
			tooLarge(c)
			return
		}
		body, err := io.ReadAll(io.LimitReader(c.Request.Body, maxBytes+1))
		var platformLimit *http.MaxBytesError
		switch {
		case errors.As(err, &platformLimit) || int64(len(body)) > maxBytes:
			tooLarge(c)
			return
		case err != nil:
			httpserver.Abort(c, problem.Malformed("the request body could not be read"))
			return
		}
		c.Request.Body = io.NopCloser(bytes.NewReader(body))
		c.Next()
	}
}
