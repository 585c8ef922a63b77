package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shopmesh/shopmesh/apps/storefront/gateway"
)

func (h *Handler) orders(c *gin.Context) {
	list, err := h.api.Orders(c, visitorOf(c).token())
	if err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, "orders", "Your orders", list)
}

var orderNotices = map[string]string{
	"cancelled": "Your order is cancelled.",
	"settled":   "This order was already confirmed or cancelled, so it can no longer be cancelled.",
}

type orderContent struct {
	Order     gateway.Order
	Notice    string
	EventsURL string // where the page follows a pending order
}

func (h *Handler) order(c *gin.Context) {
	id := c.Param("id")
	if !validID(id) {
		h.notFound(c)
		return
	}
	o, err := h.api.Order(c, visitorOf(c).token(), id)
	if err != nil {
		h.fail(c, err)
		return
	}
	content := orderContent{Order: o, Notice: orderNotices[c.Query("notice")]}
	if !o.Settled() {
		content.EventsURL = "/orders/" + url.PathEscape(id) + "/events"
	}
	h.render(c, http.StatusOK, "order", "Order "+shortID(o.ID), content)
}

// shortID is the end of an order id, which is enough for a person to tell
// orders apart (UUIDv7s share their leading time bits).
func shortID(id string) string {
	if len(id) > 8 {
		return id[len(id)-8:]
	}
	return id
}

func (h *Handler) cancelOrder(c *gin.Context) {
	id := c.Param("id")
	if !validID(id) {
		h.notFound(c)
		return
	}
	back := "/orders/" + url.PathEscape(id)
	_, err := h.api.CancelOrder(c, visitorOf(c).token(), id)
	switch {
	case err == nil:
		c.Redirect(http.StatusSeeOther, back+"?notice=cancelled")
	case gateway.StatusOf(err) == http.StatusConflict:
		c.Redirect(http.StatusSeeOther, back+"?notice=settled")
	default:
		h.fail(c, err)
	}
}

// statusEvent is what the order page's live region is updated from.
type statusEvent struct {
	Status   string          `json:"status"`
	Label    string          `json:"label"`
	Message  string          `json:"message"`
	Settled  bool            `json:"settled"`
	Timeline []timelineEvent `json:"timeline"`
}

type timelineEvent struct {
	Label  string `json:"label"`
	At     string `json:"at"`   // RFC 3339, for <time datetime>
	When   string `json:"when"` // for people
	Reason string `json:"reason"`
}

func newStatusEvent(o gateway.Order) statusEvent {
	ev := statusEvent{Status: o.Status, Label: statusLabel(o.Status), Message: statusMessage(o), Settled: o.Settled()}
	for _, ch := range o.Timeline {
		ev.Timeline = append(ev.Timeline, timelineEvent{
			Label: statusLabel(ch.Status), At: machineTime(ch.At), When: formatTime(ch.At), Reason: reasonText(ch.Reason),
		})
	}
	return ev
}

// orderEvents follows a pending order for its page as server-sent events.
// The storefront asks the gateway every EventsInterval and sends a
// "status" event when the order changes, then "end" once it is settled
// (or "timeout" after EventsLimit, so a stuck saga costs a bounded stream).
//
// Why server-sent events rather than the page polling a JSON endpoint: the
// browser keeps one request open instead of making two a second, each of
// which would open the session cookie and cross the network; the change
// reaches the page as soon as the storefront sees it; EventSource needs no
// polling loop in the page's script; and the gateway sees the same 2
// requests a second either way. The page stays usable without it: the
// status is rendered on the page and a reload shows the latest.
func (h *Handler) orderEvents(c *gin.Context) {
	v := visitorOf(c)
	id := c.Param("id")
	if v.sess == nil {
		c.Status(http.StatusUnauthorized)
		return
	}
	if !validID(id) {
		c.Status(http.StatusNotFound)
		return
	}
	ctx := c.Request.Context()
	o, err := h.api.Order(ctx, v.token(), id)
	if err != nil {
		// Before the stream starts a failure is a plain status; EventSource
		// does not reconnect after one.
		status := gateway.StatusOf(err)
		if status == 0 || status >= 500 || status == http.StatusTooManyRequests {
			status = http.StatusServiceUnavailable
		}
		c.Status(status)
		return
	}
	w := c.Writer
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no") // proxies must pass each event on at once
	w.WriteHeader(http.StatusOK)

	send := func(event string, data any) bool {
		b, err := json.Marshal(data)
		if err != nil {
			return false
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return false
		}
		w.Flush()
		return true
	}
	limit := time.NewTimer(h.cfg.EventsLimit)
	defer limit.Stop()
	tick := time.NewTicker(h.cfg.EventsInterval)
	defer tick.Stop()
	last := ""
	for {
		if key := o.Status + "/" + fmt.Sprint(len(o.Timeline)); key != last {
			last = key
			if !send("status", newStatusEvent(o)) {
				return
			}
		}
		if o.Settled() {
			send("end", struct{}{})
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-limit.C:
			send("timeout", struct{}{})
			return
		case <-tick.C:
		}
		next, err := h.api.Order(ctx, v.token(), id)
		switch status := gateway.StatusOf(err); {
		case err == nil:
			o = next
		case status == http.StatusUnauthorized || status == http.StatusNotFound || status == http.StatusForbidden:
			send("end", struct{}{})
			return
		default:
			// A busy or unreachable gateway: keep the last status and ask
			// again at the next tick.
			h.log.DebugContext(c, "following an order", "order_id", id, "err", err)
		}
	}
}

func (h *Handler) notifications(c *gin.Context) {
	list, err := h.api.Notifications(c, visitorOf(c).token())
	if err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, "notifications", "Notifications", list)
}
