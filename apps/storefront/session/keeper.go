package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/shopmesh/shopmesh/internal/contracts"
)

// Source reads one secret's value from the secret store.
type Source interface {
	Secret(ctx context.Context, name string) (string, error)
}

// ErrNoKey: the key has not been loaded yet.
var ErrNoKey = errors.New("the session key is not loaded yet")

// Keeper holds the Sealer once the key has been read.
type Keeper struct {
	src    Source
	log    *slog.Logger
	sealer atomic.Pointer[Sealer]
}

// NewKeeper returns a Keeper that reads contracts.StorefrontSessionKey from src.
func NewKeeper(src Source, log *slog.Logger) *Keeper { return &Keeper{src: src, log: log} }

// KeeperWith returns a Keeper that holds k already (tests, tools).
func KeeperWith(k Key) (*Keeper, error) {
	s, err := NewSealer(k)
	if err != nil {
		return nil, err
	}
	kp := &Keeper{}
	kp.sealer.Store(s)
	return kp, nil
}

// Sealer returns the sealer, or nil before the key is loaded.
func (k *Keeper) Sealer() *Sealer { return k.sealer.Load() }

// Ready reports whether the key is loaded.
func (k *Keeper) Ready(context.Context) error {
	if k.sealer.Load() == nil {
		return ErrNoKey
	}
	return nil
}

// Load reads and installs the key.
func (k *Keeper) Load(ctx context.Context) error {
	v, err := k.src.Secret(ctx, contracts.StorefrontSessionKey)
	if err != nil {
		return fmt.Errorf("reading %s: %w", contracts.StorefrontSessionKey, err)
	}
	key, err := ParseKey(v)
	if err != nil {
		return fmt.Errorf("%s: %w", contracts.StorefrontSessionKey, err)
	}
	s, err := NewSealer(key)
	if err != nil {
		return err
	}
	k.sealer.Store(s)
	return nil
}

// Run waits for the sidecar with wait, then loads the key, trying again
// every pause until it succeeds or ctx ends.
func (k *Keeper) Run(ctx context.Context, wait func(context.Context) error, pause time.Duration) {
	for {
		err := wait(ctx)
		if err == nil {
			if err = k.Load(ctx); err == nil {
				k.log.Info("session key loaded")
				return
			}
		}
		if ctx.Err() != nil {
			return
		}
		k.log.Error("cannot load the session key; retrying", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
	}
}
