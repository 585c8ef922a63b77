package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shopmesh/shopmesh/apps/users/secrets"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
	"github.com/shopmesh/shopmesh/internal/platform/outbox"
)

// Dapr is the KV on the sidecar's contracts.UsersStore.
type Dapr struct {
	client dapr.Client
	state  *daprx.State
	outbox *outbox.Outbox
	store  string
}

// NewDapr returns the KV on contracts.UsersStore; ob is that store's outbox.
func NewDapr(c dapr.Client, ob *outbox.Outbox) *Dapr {
	return &Dapr{client: c, state: daprx.NewState(c, contracts.UsersStore), outbox: ob, store: contracts.UsersStore}
}

func kvErr(err error) error {
	switch {
	case errors.Is(err, daprx.ErrNotFound):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.Is(err, daprx.ErrConflict):
		return fmt.Errorf("%w: %w", ErrConflict, err)
	}
	return err
}

// Get implements KV.
func (d *Dapr) Get(ctx context.Context, key string, v any) (string, error) {
	etag, err := d.state.Get(ctx, key, v)
	return etag, kvErr(err)
}

// ttlMeta is the request metadata that makes a key expire.
func ttlMeta(ttl time.Duration) map[string]string {
	return map[string]string{"ttlInSeconds": strconv.FormatInt(int64((ttl+time.Second-1)/time.Second), 10)}
}

// conflict tells an ETag or first-write refusal from other failures: single
// writes report it as gRPC Aborted (daprx does the same).
func conflict(err error) bool {
	return status.Code(err) == codes.Aborted || strings.Contains(err.Error(), "etag mismatch")
}

// Create implements KV. Writes with a TTL go to the client directly: daprx
// has no per-request metadata, and ttlInSeconds is one.
func (d *Dapr) Create(ctx context.Context, key string, v any, ttl time.Duration) error {
	if ttl <= 0 {
		return kvErr(d.state.Create(ctx, key, v))
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s/%s: %w", d.store, key, err)
	}
	err = d.client.SaveState(ctx, d.store, key, data, ttlMeta(ttl), dapr.WithConcurrency(dapr.StateConcurrencyFirstWrite))
	if err == nil {
		return nil
	}
	if conflict(err) {
		return fmt.Errorf("create %s/%s: %w", d.store, key, ErrConflict)
	}
	// As daprx.State.Create: some stores refuse a first-write with a plain
	// error; the key being there now is what tells a conflict.
	var existing json.RawMessage
	if _, gerr := d.state.Get(ctx, key, &existing); gerr == nil {
		return fmt.Errorf("create %s/%s: %w", d.store, key, ErrConflict)
	}
	return fmt.Errorf("create %s/%s: %w", d.store, key, err)
}

// Save implements KV.
func (d *Dapr) Save(ctx context.Context, key string, v any, etag string, ttl time.Duration) error {
	if ttl <= 0 {
		return kvErr(d.state.Save(ctx, key, v, etag))
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s/%s: %w", d.store, key, err)
	}
	if etag == "" {
		err = d.client.SaveState(ctx, d.store, key, data, ttlMeta(ttl))
	} else {
		err = d.client.SaveStateWithETag(ctx, d.store, key, data, etag, ttlMeta(ttl),
			dapr.WithConcurrency(dapr.StateConcurrencyFirstWrite), dapr.WithConsistency(dapr.StateConsistencyStrong))
	}
	switch {
	case err == nil:
		return nil
	case conflict(err):
		return fmt.Errorf("save %s/%s: %w", d.store, key, ErrConflict)
	}
	return fmt.Errorf("save %s/%s: %w", d.store, key, err)
}

// Delete implements KV.
func (d *Dapr) Delete(ctx context.Context, key, etag string) error {
	return kvErr(d.state.Delete(ctx, key, etag))
}

// SaveAndPublish implements KV: the write and its event on the users topic
// go through the store's outbox, keyed by key.
func (d *Dapr) SaveAndPublish(ctx context.Context, key string, v any, eventType string) error {
	ev := outbox.Event{Topic: contracts.TopicUsers, Type: eventType, Key: key, Data: v}
	return kvErr(d.outbox.Transact(ctx, []outbox.Event{ev}, daprx.Op{Key: key, Value: v}))
}

// Secrets reads the secretstore component through the sidecar.
type Secrets struct{ client dapr.Client }

// NewSecrets returns the secrets.Source on contracts.SecretStore.
func NewSecrets(c dapr.Client) *Secrets { return &Secrets{client: c} }

// Secret implements secrets.Source. Stores say "not found" in their own
// words (the local file store: "secret X not found"; AWS Secrets Manager:
// ResourceNotFoundException), which all become secrets.ErrNotFound.
func (s *Secrets) Secret(ctx context.Context, name string) (string, error) {
	m, err := s.client.GetSecret(ctx, contracts.SecretStore, name, nil)
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, "secret "+name+" not found") || strings.Contains(msg, "ResourceNotFoundException") {
			return "", fmt.Errorf("secret %s: %w", name, secrets.ErrNotFound)
		}
		return "", fmt.Errorf("secret %s: %w", name, err)
	}
	v, ok := m[name]
	if !ok {
		return "", fmt.Errorf("secret %s: %w", name, secrets.ErrNotFound)
	}
	return v, nil
}
