package authn

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/shopmesh/shopmesh/internal/platform/auth"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// Realm names the protection space in WWW-Authenticate challenges.
const Realm = "shopmesh"

// identityPrefix starts the headers that carry an identity from the
// gateway to services (auth.HeaderUserID and its kin). No client may set
// them: they are removed from every request.
const identityPrefix = "X-Shopmesh-User-"

// Authenticate is the middleware that verifies a bearer token when the
// request has one and puts the identity in the request context
// (auth.FromContext). A request without a token passes as anonymous (the
// route decides whether that is enough, see package authz); a request with
// a token that does not verify is answered 401 on every route, public ones
// included: a client sending a bad token should learn so, not be served as
// someone else.
func Authenticate(v *Verifier, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		for k := range c.Request.Header {
			if strings.HasPrefix(http.CanonicalHeaderKey(k), identityPrefix) {
				delete(c.Request.Header, k)
			}
		}
		values := c.Request.Header.Values("Authorization")
		if len(values) == 0 {
			c.Next()
			return
		}
		scheme, token, _ := strings.Cut(strings.TrimSpace(values[0]), " ")
		token = strings.TrimSpace(token)
		if len(values) > 1 || !strings.EqualFold(scheme, "Bearer") || token == "" {
			Unauthorized(c, "invalid_request", "the Authorization header must be one \"Bearer <access token>\"")
			return
		}
		id, err := v.Verify(c.Request.Context(), token)
		if err != nil {
			if errors.Is(err, ErrKeysUnavailable) {
				log.WarnContext(c, "cannot verify access tokens", "err", err)
				httpserver.Abort(c, problem.Unavailable("access tokens cannot be verified right now; retry later"))
				return
			}
			log.InfoContext(c, "access token rejected", "err", err)
			var te *TokenError
			if errors.As(err, &te) && te.Expired {
				Unauthorized(c, "invalid_token", "the access token has expired")
				return
			}
			Unauthorized(c, "invalid_token", "the access token is invalid")
			return
		}
		c.Request = c.Request.WithContext(auth.WithIdentity(c.Request.Context(), id))
		c.Next()
	}
}

// Unauthorized answers 401 with a Bearer challenge (RFC 6750). code is the
// challenge's error ("invalid_token", "invalid_request"), empty when the
// request simply had no credentials.
func Unauthorized(c *gin.Context, code, detail string) {
	c.Header("WWW-Authenticate", challenge(code, detail))
	httpserver.Abort(c, problem.New(problem.TypeUnauthorized, http.StatusUnauthorized, detail))
}

// Forbidden answers 403: the caller is known but lacks the role.
func Forbidden(c *gin.Context, detail string) {
	c.Header("WWW-Authenticate", challenge("insufficient_scope", detail))
	httpserver.Abort(c, problem.New(problem.TypeForbidden, http.StatusForbidden, detail))
}

func challenge(code, detail string) string {
	ch := `Bearer realm="` + Realm + `"`
	if code != "" {
		ch += `, error="` + code + `", error_description="` + strings.ReplaceAll(detail, `"`, `'`) + `"`
	}
	return ch
}
