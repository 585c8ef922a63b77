package daprx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	dapr "github.com/dapr/go-sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Errors a State call can end in, besides transport failures.
var (
	// ErrNotFound: the key holds no value.
	ErrNotFound = errors.New("state: not found")
	// ErrConflict: an ETag did not match, or a Create found the key taken.
	ErrConflict = errors.New("state: concurrent modification")
)

// guarded asks the store to check an ETag. Dapr's default concurrency,
// last-write, lets stores ignore ETags (Redis does), so every ETag-guarded
// write says first-write explicitly.
func guarded() *dapr.StateOptions {
	return &dapr.StateOptions{Concurrency: dapr.StateConcurrencyFirstWrite, Consistency: dapr.StateConsistencyStrong}
}

// State is one state store component holding JSON values.
type State struct {
	client dapr.Client
	store  string
}

// NewState returns the state store component named store.
func NewState(c dapr.Client, store string) *State { return &State{client: c, store: store} }

// Item is one value read in bulk.
type Item struct {
	Key   string
	ETag  string
	Value []byte // nil when the key holds nothing
}

// Decode unmarshals the item's JSON value into v.
func (i Item) Decode(v any) error {
	if err := json.Unmarshal(i.Value, v); err != nil {
		return fmt.Errorf("decoding state %q: %w", i.Key, err)
	}
	return nil
}

// Get reads key into v and returns its ETag, or ErrNotFound.
func (s *State) Get(ctx context.Context, key string, v any) (string, error) {
	it, err := s.client.GetState(ctx, s.store, key, nil)
	if err != nil {
		return "", fmt.Errorf("get %s/%s: %w", s.store, key, err)
	}
	if len(it.Value) == 0 {
		return "", ErrNotFound
	}
	if err := json.Unmarshal(it.Value, v); err != nil {
		return "", fmt.Errorf("decoding %s/%s: %w", s.store, key, err)
	}
	return it.Etag, nil
}

// GetBulk reads keys in one call; items come back in the order of keys.
func (s *State) GetBulk(ctx context.Context, keys []string) ([]Item, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	raw, err := s.client.GetBulkState(ctx, s.store, keys, nil, 16)
	if err != nil {
		return nil, fmt.Errorf("bulk get %s (%d keys): %w", s.store, len(keys), err)
	}
	byKey := make(map[string]*dapr.BulkStateItem, len(raw))
	for _, it := range raw {
		if it.Error != "" {
			return nil, fmt.Errorf("bulk get %s/%s: %s", s.store, it.Key, it.Error)
		}
		byKey[it.Key] = it
	}
	items := make([]Item, len(keys))
	for i, k := range keys {
		items[i].Key = k
		if it, ok := byKey[k]; ok && len(it.Value) > 0 {
			items[i].ETag, items[i].Value = it.Etag, it.Value
		}
	}
	return items, nil
}

// Save writes v under key. With an etag the write succeeds only if the key is
// unchanged since it was read (else ErrConflict); without one, last write wins.
func (s *State) Save(ctx context.Context, key string, v any, etag string) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s/%s: %w", s.store, key, err)
	}
	if etag == "" {
		err = s.client.SaveState(ctx, s.store, key, data, nil)
	} else {
		err = s.client.SaveStateWithETag(ctx, s.store, key, data, etag, nil, dapr.WithConcurrency(dapr.StateConcurrencyFirstWrite))
	}
	return s.wrap("save", key, err)
}

// Create writes v under key only if the key holds nothing (first-write),
// else ErrConflict. Later writes to such a key need its ETag.
func (s *State) Create(ctx context.Context, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s/%s: %w", s.store, key, err)
	}
	err = s.client.SaveState(ctx, s.store, key, data, nil, dapr.WithConcurrency(dapr.StateConcurrencyFirstWrite))
	if err == nil {
		return nil
	}
	if err := s.wrap("create", key, err); errors.Is(err, ErrConflict) {
		return err
	}
	// Stores report a refused first-write differently (Redis: a plain error);
	// the key being there now is what tells a conflict from a failure.
	var existing json.RawMessage
	if _, gerr := s.Get(ctx, key, &existing); gerr == nil {
		return fmt.Errorf("create %s/%s: %w", s.store, key, ErrConflict)
	}
	return fmt.Errorf("create %s/%s: %w", s.store, key, err)
}

// Write is the guarded write with per-write metadata for the store, such as
// {"ttlInSeconds": "604800"} (the key then expires that long after this
// write, so every write renews it). With an etag it replaces only the value
// read with it, as Save does; without one it creates the key only if the key
// holds nothing, as Create does. Either refusal is ErrConflict. (Redis
// lets a write with an etag recreate a key deleted since it was read.)
func (s *State) Write(ctx context.Context, key string, v any, etag string, meta map[string]string) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s/%s: %w", s.store, key, err)
	}
	first := dapr.WithConcurrency(dapr.StateConcurrencyFirstWrite)
	if etag != "" {
		return s.wrap("write", key, s.client.SaveStateWithETag(ctx, s.store, key, data, etag, meta, first))
	}
	err = s.wrap("write", key, s.client.SaveState(ctx, s.store, key, data, meta, first))
	if err == nil || errors.Is(err, ErrConflict) {
		return err
	}
	// As in Create: a refused first-write may come back as a plain error.
	var existing json.RawMessage
	if _, gerr := s.Get(ctx, key, &existing); gerr == nil {
		return fmt.Errorf("write %s/%s: %w", s.store, key, ErrConflict)
	}
	return err
}

// Delete removes key, guarded by etag when one is given.
func (s *State) Delete(ctx context.Context, key, etag string) error {
	var err error
	if etag == "" {
		err = s.client.DeleteState(ctx, s.store, key, nil)
	} else {
		err = s.client.DeleteStateWithETag(ctx, s.store, key, &dapr.ETag{Value: etag}, nil, guarded())
	}
	return s.wrap("delete", key, err)
}

// DeleteBulk removes keys in one call, without ETags.
func (s *State) DeleteBulk(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	return s.wrap("bulk delete", fmt.Sprintf("(%d keys)", len(keys)), s.client.DeleteBulkState(ctx, s.store, keys, nil))
}

// Op is one operation of a transaction.
type Op struct {
	Key      string
	Value    any    // JSON-encoded; ignored for deletes
	ETag     string // optional guard
	Create   bool   // first-write upsert; a refusal may be a plain error, not ErrConflict
	Delete   bool
	Metadata map[string]string
}

// Transact applies ops atomically as far as the store allows: Redis checks
// each operation's ETag on its own and has no rollback, so a refused
// transaction may have written its other operations.
func (s *State) Transact(ctx context.Context, ops ...Op) error {
	pops := make([]*dapr.StateOperation, 0, len(ops))
	for _, op := range ops {
		item := &dapr.SetStateItem{Key: op.Key, Metadata: op.Metadata}
		if op.ETag != "" {
			item.Etag = &dapr.ETag{Value: op.ETag}
		}
		if op.ETag != "" || op.Create {
			item.Options = guarded()
		}
		typ := dapr.StateOperationTypeUpsert
		if op.Delete {
			typ = dapr.StateOperationTypeDelete
		} else {
			data, err := json.Marshal(op.Value)
			if err != nil {
				return fmt.Errorf("encoding %s/%s: %w", s.store, op.Key, err)
			}
			item.Value = data
		}
		pops = append(pops, &dapr.StateOperation{Type: typ, Item: item})
	}
	return s.wrap("transaction", fmt.Sprintf("(%d ops)", len(ops)), s.client.ExecuteStateTransaction(ctx, s.store, nil, pops))
}

// wrap maps ETag mismatches to ErrConflict: single writes report them as
// gRPC Aborted, transactions only in the message of an Internal: "etag
// mismatch" from most stores, and from Redis the error its ETag-checking
// script raises ("failed to set key …", "failed to delete …").
func (s *State) wrap(op, key string, err error) error {
	if err == nil {
		return nil
	}
	if status.Code(err) == codes.Aborted || conflictMessage(err.Error()) {
		return fmt.Errorf("%s %s/%s: %w", op, s.store, key, ErrConflict)
	}
	return fmt.Errorf("%s %s/%s: %w", op, s.store, key, err)
}

func conflictMessage(msg string) bool {
	return strings.Contains(msg, "etag mismatch") ||
		strings.Contains(msg, "user_script") && (strings.Contains(msg, "failed to set key") || strings.Contains(msg, "failed to delete"))
}
