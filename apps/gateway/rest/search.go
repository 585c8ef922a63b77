package rest

import (
	"context"
	"log/slog"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/shopmesh/shopmesh/apps/gateway/searchclient"
	"github.com/shopmesh/shopmesh/apps/gateway/servicecall"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// Search is what the search handlers ask the search app.
type Search interface {
	Search(ctx context.Context, params url.Values) (servicecall.Answer, error)
	Reindex(ctx context.Context) (servicecall.Answer, error)
}

type search struct {
	search Search
	app    upstream
}

// MountSearch registers product search on api, the group at Prefix: the
// search itself (public) and the rebuild of its index (administrators),
// as package authz says.
func MountSearch(api gin.IRouter, s Search, log *slog.Logger) {
	h := search{search: s, app: upstream{unavailable: searchclient.ErrUnavailable, log: log}}
	api.GET("/search", h.query)
	api.POST("/search/reindex", h.reindex)
}

// query passes the search parameters on, and nothing else of the query
// string: their values are the search app's to judge.
func (h search) query(c *gin.Context) {
	params := searchclient.Select(c.Request.URL.Query())
	if fe := searchclient.CheckQueryLength(params.Get("q")); fe != nil {
		httpserver.Abort(c, problem.Validation(*fe))
		return
	}
	a, err := h.search.Search(c.Request.Context(), params)
	h.app.reply(c, a, err)
}

func (h search) reindex(c *gin.Context) {
	a, err := h.search.Reindex(c.Request.Context())
	h.app.reply(c, a, err)
}
