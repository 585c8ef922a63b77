package rest

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/shopmesh/shopmesh/apps/gateway/usersclient"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// JWKSPath is where the keys that verify access tokens are published.
const JWKSPath = "/.well-known/jwks.json"

// jwksMaxAge is how long clients and caches may keep the JWKS. A key stays
// in the set for a while after the next one replaces it, so a copy this
// old verifies every token issued before a rotation; tokens signed with a
// newer key name a kid the copy lacks, which tells a relying party to fetch
// the set again (as the gateway itself does).
const jwksMaxAge = "public, max-age=300"

// Users is what the account handlers need: the users app.
type Users interface {
	Register(ctx context.Context, body []byte) (usersclient.Response, error)
	Login(ctx context.Context, body []byte) (usersclient.Response, error)
	Refresh(ctx context.Context, body []byte) (usersclient.Response, error)
	Logout(ctx context.Context, body []byte) (usersclient.Response, error)
	Me(ctx context.Context) (usersclient.Response, error)
	Addresses(ctx context.Context) (usersclient.Response, error)
	AddAddress(ctx context.Context, body []byte) (usersclient.Response, error)
	DeleteAddress(ctx context.Context, id string) (usersclient.Response, error)
	JWKS(ctx context.Context) (usersclient.Response, error)
}

type accounts struct {
	users Users
	log   *slog.Logger
}

// MountAccounts registers the account routes: api is the group at Prefix,
// root the one at "/" (for the JWKS), and strict the stricter rate limit
// of the endpoints that take credentials. Who may call what is package
// authz's business, mounted on the groups.
func MountAccounts(api, root gin.IRouter, users Users, strict gin.HandlerFunc, log *slog.Logger) {
	a := accounts{users: users, log: log}
	api.POST("/auth/register", strict, a.body(users.Register, ""))
	api.POST("/auth/login", strict, a.body(users.Login, noStore))
	api.POST("/auth/refresh", strict, a.body(users.Refresh, noStore))
	api.POST("/auth/logout", strict, a.body(users.Logout, ""))
	api.GET("/me", a.call(users.Me))
	api.GET("/me/addresses", a.call(users.Addresses))
	api.POST("/me/addresses", a.body(users.AddAddress, private))
	api.DELETE("/me/addresses/:id", a.deleteAddress)
	root.GET(JWKSPath, a.jwks)
}

// Cache-Control of answers: tokens must never be stored (RFC 6749 5.1),
// account data only by the client itself.
const (
	noStore = "no-store"
	private = "private, no-store"
)

// body passes a JSON request body to the users app.
func (a accounts) body(send func(context.Context, []byte) (usersclient.Response, error), cacheControl string) gin.HandlerFunc {
	return func(c *gin.Context) {
		body, ok := readJSONBody(c)
		if !ok {
			return
		}
		resp, err := send(c.Request.Context(), body)
		if cacheControl != "" {
			c.Header("Cache-Control", cacheControl)
			c.Header("Pragma", "no-cache")
		}
		a.reply(c, resp, err)
	}
}

// call asks the users app for the caller's data.
func (a accounts) call(get func(context.Context) (usersclient.Response, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		resp, err := get(c.Request.Context())
		c.Header("Cache-Control", private)
		a.reply(c, resp, err)
	}
}

// addressIDPattern is what an address id can look like; others are 404
// without a call.
var addressIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func (a accounts) deleteAddress(c *gin.Context) {
	id := c.Param("id")
	if !addressIDPattern.MatchString(id) {
		httpserver.Abort(c, problem.NotFound("no address with id "+strconv.Quote(id)))
		return
	}
	resp, err := a.users.DeleteAddress(c.Request.Context(), id)
	a.reply(c, resp, err)
}

func (a accounts) jwks(c *gin.Context) {
	resp, err := a.users.JWKS(c.Request.Context())
	if err == nil && resp.Status == http.StatusOK {
		c.Header("Cache-Control", jwksMaxAge)
	}
	a.reply(c, resp, err)
}

// reply passes the users app's answer on, or a 503 when there was none.
func (a accounts) reply(c *gin.Context, resp usersclient.Response, err error) {
	if err != nil {
		if !errors.Is(err, usersclient.ErrUnavailable) {
			a.log.ErrorContext(c, "users call failed", "err", err)
			httpserver.Abort(c, problem.Internal())
			return
		}
		a.log.WarnContext(c, "users unavailable", "err", err)
		httpserver.Abort(c, problem.Unavailable("the accounts service is unavailable; retry later"))
		return
	}
	if resp.RetryAfter != "" {
		c.Header("Retry-After", resp.RetryAfter)
	}
	if strings.HasPrefix(resp.Location, Prefix+"/") {
		c.Header("Location", resp.Location)
	}
	if len(resp.Body) == 0 {
		c.Status(resp.Status)
		return
	}
	c.Data(resp.Status, resp.ContentType, resp.Body)
}
