// Package admin keeps the admin account in step with the secret store
// (admin-email, admin-password) at start-up, in the background once the
// sidecar is up. The app reports ready only after that, so `task up`
// returns with an admin who can sign in.
package admin

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/users/secrets"
	"github.com/shopmesh/shopmesh/apps/users/users"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
	"github.com/shopmesh/shopmesh/internal/platform/health"
)

// Module ensures the admin account in the background and adds a readiness
// check for it.
var Module = fx.Options(
	fx.Provide(newBootstrap, fx.Annotate(func(b *Bootstrap) health.Check {
		return health.Check{Name: "admin-account", Check: b.Done}
	}, fx.ResultTags(`group:"readiness"`))),
	fx.Invoke(func(lc fx.Lifecycle, b *Bootstrap) { lc.Append(fx.StartStopHook(b.start, b.stop)) }),
)

// Ensurer is the use case the bootstrap runs (users.Service).
type Ensurer interface {
	EnsureAdmin(ctx context.Context, email, password string) (userID string, created bool, err error)
}

// Bootstrap ensures the admin account once.
type Bootstrap struct {
	svc     Ensurer
	secrets secrets.Source
	wait    func(context.Context) error
	log     *slog.Logger
	done    atomic.Bool
	cancel  context.CancelFunc
	stopped chan struct{}
}

func newBootstrap(svc *users.Service, src secrets.Source, sc *daprx.Sidecar, log *slog.Logger) *Bootstrap {
	return New(svc, src, sc.WaitOutbound, log)
}

// New returns a Bootstrap that waits with wait before its first attempt.
func New(svc Ensurer, src secrets.Source, wait func(context.Context) error, log *slog.Logger) *Bootstrap {
	return &Bootstrap{svc: svc, secrets: src, wait: wait, log: log}
}

// Done is the readiness check: nil once the admin account is ensured.
func (b *Bootstrap) Done(context.Context) error {
	if !b.done.Load() {
		return errors.New("ensuring the admin account")
	}
	return nil
}

func (b *Bootstrap) start() error {
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel, b.stopped = cancel, make(chan struct{})
	go func() {
		defer close(b.stopped)
		b.Run(ctx)
	}()
	return nil
}

func (b *Bootstrap) stop() {
	if b.cancel != nil {
		b.cancel()
		<-b.stopped
	}
}

// Run retries until the admin account is ensured or ctx ends: the sidecar,
// the store or the secrets may come up after the app.
func (b *Bootstrap) Run(ctx context.Context) {
	for attempt := 1; ; attempt++ {
		err := b.wait(ctx)
		if err == nil {
			err = b.Once(ctx)
			if err == nil || errors.Is(err, users.ErrAdminUnmanaged) {
				if err != nil {
					b.log.Warn("admin account exists; this identity provider cannot check its password or role", "err", err)
				}
				b.done.Store(true)
				return
			}
		}
		if ctx.Err() != nil {
			return
		}
		b.log.Warn("ensuring the admin account failed; retrying", "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(min(time.Duration(attempt)*time.Second, 10*time.Second)):
		}
	}
}

// Once reads the admin's credentials and ensures the account.
func (b *Bootstrap) Once(ctx context.Context) error {
	email, err := b.secrets.Secret(ctx, secrets.AdminEmail)
	if err != nil {
		return err
	}
	pw, err := b.secrets.Secret(ctx, secrets.AdminPassword)
	if err != nil {
		return err
	}
	id, created, err := b.svc.EnsureAdmin(ctx, email, pw)
	if err != nil {
		return err
	}
	b.log.Info("admin account ensured", "user_id", id, "created", created)
	return nil
}
