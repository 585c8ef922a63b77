package rest

import (
	"errors"
	"log/slog"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/shopmesh/shopmesh/apps/gateway/catalogclient"
	"github.com/shopmesh/shopmesh/apps/gateway/servicecall"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// upstream passes the answers of one service on: status, content type,
// body and Retry-After are the service's, problem+json included.
type upstream struct {
	// unavailable is the service client's ErrUnavailable; its text, such
	// as "the orders service is unavailable", tells clients who is down.
	unavailable error
	log         *slog.Logger
}

// reply passes a's answer on, or a 503 when there was none.
func (u upstream) reply(c *gin.Context, a servicecall.Answer, err error) {
	if err != nil {
		if !errors.Is(err, u.unavailable) {
			u.log.ErrorContext(c, "service call failed", "err", err)
			httpserver.Abort(c, problem.Internal())
			return
		}
		u.log.WarnContext(c, "service unavailable", "err", err)
		httpserver.Abort(c, problem.Unavailable(u.unavailable.Error()+"; retry later"))
		return
	}
	if ra := a.Header.Get("Retry-After"); ra != "" {
		c.Header("Retry-After", ra)
	}
	if len(a.Body) == 0 {
		c.Status(a.Status)
		return
	}
	c.Data(a.Status, a.ContentType(), a.Body)
}

// idParam reads path parameter name, an id that must be a UUID (products,
// orders). Anything else is answered 404 without a call, as the service
// would answer; valid ids are made canonical. what names the resource in
// the answer ("product", "order").
func idParam(c *gin.Context, name, what string) (string, bool) {
	raw := c.Param(name)
	id, ok := catalogclient.CanonicalID(raw)
	if !ok {
		httpserver.Abort(c, problem.NotFound("no "+what+" with id "+strconv.Quote(raw)))
		return "", false
	}
	return id, true
}
