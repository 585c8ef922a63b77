// Package store keeps the users service's state in the Dapr state store
// contracts.UsersStore: profiles for the users domain, and accounts,
// sign-in attempts and refresh tokens for the built-in identity provider.
//
// Only profile creation is announced: its write and its user.registered
// event on the users topic are one unit (the kit's outbox), with the stored
// value as the event's data. Everything else — credentials above all — is
// written with single-key saves and never published.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors of KV operations.
var (
	ErrNotFound = errors.New("store: not found")
	ErrConflict = errors.New("store: etag mismatch or key taken")
)

// KV is the little the users service needs from a state store: JSON values
// with ETags, first-write creation, TTLs, and one write that is published. Keys are plain strings without "||".
type KV interface {
	// Get reads key into v and returns its ETag, or ErrNotFound.
	Get(ctx context.Context, key string, v any) (etag string, err error)
	// Create writes v only if key holds nothing (or only an expired
	// value), else ErrConflict. ttl > 0 makes the key expire.
	Create(ctx context.Context, key string, v any, ttl time.Duration) error
	// Save writes v; with an etag only if the key is unchanged since it was
	// read (else ErrConflict). ttl > 0 makes the key expire.
	Save(ctx context.Context, key string, v any, etag string, ttl time.Duration) error
	// Delete removes key (a no-op when absent), guarded by etag if given.
	Delete(ctx context.Context, key, etag string) error
	// SaveAndPublish writes v and publishes it, if and only if stored, with
	// CloudEvent type eventType and v as its data.
	SaveAndPublish(ctx context.Context, key string, v any, eventType string) error
}
