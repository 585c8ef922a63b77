// Package api serves the notification log over HTTP to the sidecar; the
// gateway reaches it through Dapr service invocation and exposes it as
// GET /api/v1/notifications (API.md).
package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/notifications/notify"
	"github.com/shopmesh/shopmesh/internal/platform/auth"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// Module mounts the handlers.
var Module = fx.Invoke(Register)

// Handler holds the HTTP handlers.
type Handler struct {
	svc *notify.Service
	log *slog.Logger
}

// Register mounts the handlers on the sidecar-only router. They act for the
// caller the gateway verified.
func Register(r httpserver.Router, svc *notify.Service, log *slog.Logger) {
	h := Handler{svc: svc, log: log}
	r.Sidecar.GET("/notifications", auth.Require(auth.RoleCustomer), h.list)
}

// Item is one notification on the wire. OrderID is null for notifications
// about no order (the welcome e-mail).
type Item struct {
	ID      string    `json:"id"`
	Kind    string    `json:"kind"`
	Subject string    `json:"subject"`
	SentAt  time.Time `json:"sent_at"`
	OrderID *string   `json:"order_id"`
}

// List is the answer of GET /notifications.
type List struct {
	Items []Item `json:"items"`
}

func (h Handler) list(c *gin.Context) {
	id, _ := auth.FromContext(c)
	entries, err := h.svc.List(c, id.UserID)
	if err != nil {
		h.log.ErrorContext(c, "reading the notification log failed", "err", err)
		httpserver.Abort(c, problem.Unavailable("the notification log could not be read; retry later"))
		return
	}
	out := List{Items: make([]Item, 0, len(entries))}
	for _, e := range entries {
		it := Item{ID: e.ID, Kind: e.Kind, Subject: e.Subject, SentAt: e.SentAt.UTC()}
		if e.OrderID != "" {
			it.OrderID = &e.OrderID
		}
		out.Items = append(out.Items, it)
	}
	c.JSON(http.StatusOK, out)
}
