package graphql

import (
	"context"
	"net/http"
	"strconv"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shopmesh/shopmesh/apps/gateway/ordersclient"
	"github.com/shopmesh/shopmesh/apps/gateway/servicecall"
	"github.com/shopmesh/shopmesh/internal/contracts"
)

// checkoutArguments names the orders app's invalid checkout input as the
// checkout mutation's: the body's fields and the Idempotency-Key header
// are all in its input argument.
var checkoutArguments = argumentNames{
	prefix:  "input.",
	headers: map[string]string{"idempotency-key": "idempotencyKey"},
}

// ordersFailure is answerFailure for the orders app.
func (r *Resolver) ordersFailure(ctx context.Context, field string, a servicecall.Answer, err error, args argumentNames) error {
	return r.answerFailure(ctx, field, ordersclient.ErrUnavailable, a, err, args)
}

// cartAnswer decodes the cart every cart field and mutation answers with.
func (r *Resolver) cartAnswer(ctx context.Context, field string, a servicecall.Answer, err error) (*ordersclient.Cart, error) {
	if err != nil || a.Status != http.StatusOK {
		return nil, r.ordersFailure(ctx, field, a, err, arguments)
	}
	cart, err := servicecall.Decode[ordersclient.Cart](contracts.AppOrders, a)
	if err != nil {
		return nil, err
	}
	if cart.Items == nil {
		cart.Items = []ordersclient.CartItem{}
	}
	return &cart, nil
}

// complete gives an order's lists their empty value where the orders app
// left them out, as the graph's non-null lists need.
func complete(o *ordersclient.Order) *ordersclient.Order {
	if o.Items == nil {
		o.Items = []ordersclient.OrderItem{}
	}
	if o.Timeline == nil {
		o.Timeline = []ordersclient.TimelineEntry{}
	}
	return o
}

// noProduct is the error for a product id that cannot be one, as REST's
// 404 for it.
func noProduct(id string) *gqlerror.Error {
	return coded(CodeNotFound, "no product with id "+strconv.Quote(id))
}
