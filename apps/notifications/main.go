// Command notifications e-mails shoppers about their account and orders:
// it consumes user.registered, order.confirmed, order.cancelled and
// payment.failed, sends through the Dapr output binding "email" (SMTP to
// mailpit locally, SES on AWS), and serves each shopper's notification log
// from the notifications-store state component.
package main

import (
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/notifications/api"
	"github.com/shopmesh/shopmesh/apps/notifications/email"
	"github.com/shopmesh/shopmesh/apps/notifications/events"
	"github.com/shopmesh/shopmesh/apps/notifications/notify"
	"github.com/shopmesh/shopmesh/apps/notifications/store"
	"github.com/shopmesh/shopmesh/internal/platform"
)

// modules is the whole app (main_test builds it without a sidecar).
var modules = fx.Options(
	platform.Module,
	store.Module,
	email.Module,
	notify.Module,
	events.Module,
	api.Module,
)

func main() {
	fx.New(modules).Run()
}
