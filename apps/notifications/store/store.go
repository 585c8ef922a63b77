// Package store keeps the notifications service's state in the Dapr state
// store contracts.NotificationsStore with single-key writes and ETags (no
// transactions, no Query API), so any state store with ETags and
// first-write can back it:
//
//	delivery|<kind>|<subject id>  one notify.Delivery per notification
//	log|<user id>                 the user's notification log, newest first
package store

import (
	"context"
	"errors"
	"fmt"

	dapr "github.com/dapr/go-sdk/client"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/notifications/notify"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
)

// Module provides the store as notify.Store.
var Module = fx.Provide(fx.Annotate(New, fx.As(new(notify.Store))))

func deliveryKey(key string) string { return "delivery|" + key }
func logKey(userID string) string   { return "log|" + userID }

// Store implements notify.Store.
type Store struct{ state *daprx.State }

// New returns the store on contracts.NotificationsStore.
func New(c dapr.Client) *Store { return &Store{state: daprx.NewState(c, contracts.NotificationsStore)} }

func mapErr(err error) error {
	switch {
	case errors.Is(err, daprx.ErrNotFound):
		return fmt.Errorf("%w: %w", notify.ErrNotFound, err)
	case errors.Is(err, daprx.ErrConflict):
		return fmt.Errorf("%w: %w", notify.ErrConflict, err)
	}
	return err
}

// Delivery implements notify.Store.
func (s *Store) Delivery(ctx context.Context, key string) (notify.Delivery, string, error) {
	var d notify.Delivery
	etag, err := s.state.Get(ctx, deliveryKey(key), &d)
	return d, etag, mapErr(err)
}

// CreateDelivery implements notify.Store. Dapr does not answer a write
// with the new ETag, so it is read back.
func (s *Store) CreateDelivery(ctx context.Context, key string, d notify.Delivery) (string, error) {
	if err := s.state.Create(ctx, deliveryKey(key), d); err != nil {
		return "", mapErr(err)
	}
	return s.etag(ctx, key, d)
}

// SaveDelivery implements notify.Store.
func (s *Store) SaveDelivery(ctx context.Context, key string, d notify.Delivery, etag string) (string, error) {
	if etag == "" {
		return "", fmt.Errorf("save delivery %s: an etag is required", key)
	}
	if err := s.state.Save(ctx, deliveryKey(key), d, etag); err != nil {
		return "", mapErr(err)
	}
	return s.etag(ctx, key, d)
}

// etag reads back the ETag of the delivery just written as d. Should
// another writer have replaced it in between, that is a conflict.
func (s *Store) etag(ctx context.Context, key string, d notify.Delivery) (string, error) {
	got, etag, err := s.Delivery(ctx, key)
	if err != nil {
		return "", err
	}
	if got.NotificationID != d.NotificationID || got.Attempts != d.Attempts || got.Status != d.Status {
		return "", fmt.Errorf("delivery %s changed after writing: %w", key, notify.ErrConflict)
	}
	return etag, nil
}

// DeleteDelivery implements notify.Store.
func (s *Store) DeleteDelivery(ctx context.Context, key, etag string) error {
	if etag == "" {
		return fmt.Errorf("delete delivery %s: an etag is required", key)
	}
	return mapErr(s.state.Delete(ctx, deliveryKey(key), etag))
}

// Log implements notify.Store.
func (s *Store) Log(ctx context.Context, userID string) ([]notify.Entry, string, error) {
	var entries []notify.Entry
	etag, err := s.state.Get(ctx, logKey(userID), &entries)
	if errors.Is(err, daprx.ErrNotFound) {
		return nil, "", nil
	}
	return entries, etag, mapErr(err)
}

// SaveLog implements notify.Store.
func (s *Store) SaveLog(ctx context.Context, userID string, entries []notify.Entry, etag string) error {
	if etag == "" {
		return mapErr(s.state.Create(ctx, logKey(userID), entries))
	}
	return mapErr(s.state.Save(ctx, logKey(userID), entries, etag))
}
