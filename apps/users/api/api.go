// Package api serves the users service over HTTP to its sidecar; the
// gateway reaches it through Dapr service invocation and maps its public
// paths onto these (API.md lists them). Errors are problem+json.
package api

import (
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/users/identity"
	"github.com/shopmesh/shopmesh/apps/users/password"
	"github.com/shopmesh/shopmesh/apps/users/tokens"
	"github.com/shopmesh/shopmesh/apps/users/users"
	"github.com/shopmesh/shopmesh/internal/platform/auth"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// Handler holds the users service's HTTP handlers.
type Handler struct {
	svc  *users.Service
	keys *tokens.Keyring
	log  *slog.Logger
}

// Register mounts the handlers on the sidecar-only router. /me routes act
// for the caller the gateway verified (auth.Require).
func Register(r httpserver.Router, svc *users.Service, keys *tokens.Keyring, log *slog.Logger) {
	h := Handler{svc: svc, keys: keys, log: log}
	r.Sidecar.POST("/auth/register", h.register)
	r.Sidecar.POST("/auth/login", h.login)
	r.Sidecar.POST("/auth/refresh", h.refresh)
	r.Sidecar.POST("/auth/logout", h.logout)
	r.Sidecar.GET("/.well-known/jwks.json", h.jwks)
	me := r.Sidecar.Group("/me", auth.Require())
	me.GET("", h.me)
	me.GET("/addresses", h.addresses)
	me.POST("/addresses", h.addAddress)
	me.DELETE("/addresses/:id", h.deleteAddress)
}

// Bodies are decoded strictly into the plain struct first, normalised
// (trimmed, e-mail lower-cased), then validated in the tagged one: Go
// converts between struct types that differ only in tags.

type registerJSON struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

// RegisterInput is the body of POST /auth/register, normalised.
type RegisterInput struct {
	Email    string `json:"email" validate:"required,max=254,email"`
	Password string `json:"password" validate:"required,min=10,max=128"`
	Name     string `json:"name" validate:"required,min=1,max=100"`
}

type loginJSON struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// LoginInput is the body of POST /auth/login. Its e-mail is not checked for
// form: a malformed one simply matches no account (401).
type LoginInput struct {
	Email    string `json:"email" validate:"required,max=254"`
	Password string `json:"password" validate:"required,max=1024"`
}

// RefreshInput is the body of POST /auth/refresh and /auth/logout.
type RefreshInput struct {
	RefreshToken string `json:"refresh_token" validate:"required,max=512"`
}

type addressJSON struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
}

// AddressInput is the body of POST /me/addresses, normalised.
type AddressInput struct {
	Name       string `json:"name" validate:"required,max=100"`
	Line1      string `json:"line1" validate:"required,max=200"`
	Line2      string `json:"line2" validate:"max=200"`
	City       string `json:"city" validate:"required,max=100"`
	PostalCode string `json:"postal_code" validate:"required,max=20"`
	Country    string `json:"country" validate:"required,iso3166_1_alpha2"`
}

// User is the answer of POST /auth/register.
type User struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

// TokenResponse is the answer of POST /auth/login and /auth/refresh.
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
}

// Address is the wire form of an address.
type Address struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
}

// Me is the answer of GET /me.
type Me struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Roles     []string  `json:"roles"`
	Addresses []Address `json:"addresses"`
}

func toAddresses(as []users.Address) []Address {
	out := make([]Address, len(as))
	for i, a := range as {
		out[i] = Address(a)
	}
	return out
}

// bind decodes the body into raw, lets normalize build the tagged input
// from it, and validates that; false means the problem was written.
func bind[R, T any](c *gin.Context, normalize func(R) T) (T, bool) {
	var raw R
	var in T
	if !httpserver.BindJSON(c, &raw) {
		return in, false
	}
	in = normalize(raw)
	if p := httpserver.Validate(in); p != nil {
		httpserver.Abort(c, p)
		return in, false
	}
	return in, true
}

func (h Handler) register(c *gin.Context) {
	in, ok := bind(c, func(r registerJSON) RegisterInput {
		return RegisterInput{Email: users.NormalizeEmail(r.Email), Password: r.Password, Name: strings.TrimSpace(r.Name)}
	})
	if !ok {
		return
	}
	p, err := h.svc.Register(c, in.Email, in.Password, in.Name)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/me")
	c.JSON(http.StatusCreated, User{ID: p.ID, Email: p.Email, Name: p.Name})
}

func (h Handler) login(c *gin.Context) {
	in, ok := bind(c, func(r loginJSON) LoginInput {
		return LoginInput{Email: users.NormalizeEmail(r.Email), Password: r.Password}
	})
	if !ok {
		return
	}
	t, err := h.svc.Login(c, in.Email, in.Password)
	if err != nil {
		h.fail(c, err)
		return
	}
	tokenResponse(c, t)
}

func (h Handler) refresh(c *gin.Context) {
	in, ok := bind(c, func(r RefreshInput) RefreshInput {
		return RefreshInput{RefreshToken: strings.TrimSpace(r.RefreshToken)}
	})
	if !ok {
		return
	}
	t, err := h.svc.Refresh(c, in.RefreshToken)
	if err != nil {
		h.fail(c, err)
		return
	}
	tokenResponse(c, t)
}

// tokenResponse answers with tokens, uncacheable (RFC 6749 §5.1).
func tokenResponse(c *gin.Context, t identity.Tokens) {
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	c.JSON(http.StatusOK, TokenResponse{
		AccessToken:  t.AccessToken,
		TokenType:    "Bearer",
		ExpiresIn:    int64(t.ExpiresIn.Seconds()),
		RefreshToken: t.RefreshToken,
	})
}

func (h Handler) logout(c *gin.Context) {
	in, ok := bind(c, func(r RefreshInput) RefreshInput {
		return RefreshInput{RefreshToken: strings.TrimSpace(r.RefreshToken)}
	})
	if !ok {
		return
	}
	if err := h.svc.Logout(c, in.RefreshToken); err != nil {
		h.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (h Handler) jwks(c *gin.Context) {
	// Short caching: relying parties must see a rotation within a minute.
	c.Header("Cache-Control", "public, max-age=60")
	c.JSON(http.StatusOK, h.keys.PublicSet())
}

// caller returns the identity auth.Require put in the context.
func caller(c *gin.Context) users.Caller {
	id, _ := auth.FromContext(c.Request.Context())
	return users.Caller{UserID: id.UserID, Email: id.Email, Roles: id.Roles}
}

func (h Handler) me(c *gin.Context) {
	p, err := h.svc.Me(c, caller(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	roles := p.Roles
	if roles == nil {
		roles = []string{}
	}
	c.JSON(http.StatusOK, Me{ID: p.ID, Email: p.Email, Name: p.Name, Roles: roles, Addresses: toAddresses(p.Addresses)})
}

func (h Handler) addresses(c *gin.Context) {
	as, err := h.svc.Addresses(c, caller(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": toAddresses(as)})
}

func (h Handler) addAddress(c *gin.Context) {
	in, ok := bind(c, func(r addressJSON) AddressInput {
		return AddressInput{
			Name: strings.TrimSpace(r.Name), Line1: strings.TrimSpace(r.Line1), Line2: strings.TrimSpace(r.Line2),
			City: strings.TrimSpace(r.City), PostalCode: strings.TrimSpace(r.PostalCode),
			Country: strings.ToUpper(strings.TrimSpace(r.Country)),
		}
	})
	if !ok {
		return
	}
	a, err := h.svc.AddAddress(c, caller(c), users.Address{
		Name: in.Name, Line1: in.Line1, Line2: in.Line2, City: in.City, PostalCode: in.PostalCode, Country: in.Country,
	})
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/me/addresses/"+a.ID)
	c.JSON(http.StatusCreated, Address(a))
}

func (h Handler) deleteAddress(c *gin.Context) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		httpserver.Abort(c, problem.NotFound("no address with id "+strconv.Quote(c.Param("id"))))
		return
	}
	if err := h.svc.DeleteAddress(c, caller(c), id.String()); err != nil {
		h.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// fail maps domain and provider errors to problems. Details never echo
// credentials or tell whether an e-mail has an account (except register's
// 409, which the contract requires).
func (h Handler) fail(c *gin.Context, err error) {
	var weak *password.PolicyError
	var invalid *users.FieldError
	switch {
	case errors.As(err, &weak):
		httpserver.Abort(c, problem.Validation(problem.FieldError{Field: "password", Detail: weak.Reason}))
	case errors.Is(err, identity.ErrWeakPassword):
		httpserver.Abort(c, problem.Validation(problem.FieldError{Field: "password", Detail: "does not meet the password policy"}))
	case errors.As(err, &invalid):
		httpserver.Abort(c, problem.Validation(problem.FieldError{Field: invalid.Field, Detail: invalid.Reason}))
	case errors.Is(err, identity.ErrEmailTaken):
		httpserver.Abort(c, problem.Conflict("an account with this e-mail address exists"))
	case errors.Is(err, identity.ErrInvalidCredentials):
		httpserver.Abort(c, problem.New(problem.TypeUnauthorized, http.StatusUnauthorized, "the e-mail address or the password is wrong"))
	case errors.Is(err, identity.ErrLockedOut):
		wait, _ := identity.RetryAfter(err)
		c.Header("Retry-After", strconv.FormatInt(max(1, int64(math.Ceil(wait.Seconds()))), 10))
		httpserver.Abort(c, problem.New(problem.TypeRateLimited, http.StatusTooManyRequests, "too many failed sign-ins; try again later"))
	case errors.Is(err, identity.ErrInvalidToken):
		httpserver.Abort(c, problem.New(problem.TypeUnauthorized, http.StatusUnauthorized, "the refresh token is invalid, expired or revoked; sign in again"))
	case errors.Is(err, users.ErrNotFound):
		httpserver.Abort(c, problem.NotFound("no such address"))
	case errors.Is(err, users.ErrTooManyAddresses):
		httpserver.Abort(c, problem.Conflict("the address book is full: it holds at most "+strconv.Itoa(users.MaxAddresses)+" addresses"))
	case errors.Is(err, users.ErrConflict):
		httpserver.Abort(c, problem.Conflict("the profile was changed concurrently; retry"))
	case errors.Is(err, tokens.ErrNoKey):
		h.log.ErrorContext(c, "no signing key to issue tokens", "err", err)
		httpserver.Abort(c, problem.Unavailable("sign-in is not available yet; retry later"))
	default:
		h.log.ErrorContext(c, "users request failed", "path", c.FullPath(), "err", err)
		httpserver.Abort(c, problem.Unavailable("the users service could not complete the request; retry later"))
	}
}

// Module mounts the handlers.
var Module = fx.Invoke(Register)
