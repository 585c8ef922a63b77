package shop

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// cartState is what a shopper's cart holds as far as the shopper knows.
type cartState int

const (
	cartEmpty   cartState = iota
	cartFull              // an add-to-cart was answered 200
	cartUnknown           // the last request got no answer
)

// Shopper is a signed-up customer with a source address of its own. Only
// one goroutine uses a shopper at a time (Run hands each to one request).
type Shopper struct {
	id       int
	email    string
	password string
	client   *http.Client
	token    string
	refresh  string // the refresh token: renews token without hashing the password again
	expires  time.Time
	cart     cartState
	checkout int // checkouts tried, for idempotency keys
}

// Pool holds the run's shoppers so later steps reuse those earlier steps
// signed up: sign-ups hash a password each and are slow.
type Pool struct {
	gateway  string
	addrs    *Addrs
	workers  int
	run      string
	next     int // id of the next shopper to sign up
	shoppers []*Shopper
}

// NewPool returns an empty pool whose shoppers connect from addrs and sign
// up workers at a time.
func NewPool(gateway string, addrs *Addrs, workers int) *Pool {
	return &Pool{gateway: gateway, addrs: addrs, workers: max(workers, 1), run: strconv.FormatInt(time.Now().UnixNano(), 36)}
}

// Len is how many shoppers the pool holds.
func (p *Pool) Len() int { return len(p.shoppers) }

// Shoppers returns the pool's first n shoppers (all if it holds fewer).
func (p *Pool) Shoppers(n int) []*Shopper { return p.shoppers[:min(n, len(p.shoppers))] }

// Grow signs up shoppers until the pool holds n.
func (p *Pool) Grow(ctx context.Context, n int) error {
	if n <= len(p.shoppers) {
		return nil
	}
	if l := p.addrs.Len(); l > 0 && p.next+n-len(p.shoppers) > l {
		return fmt.Errorf("%d shoppers need more source addresses than the %d of %s", n, l, p.addrs)
	}
	fresh := make([]*Shopper, n-len(p.shoppers))
	for i := range fresh {
		id := p.next + i
		fresh[i] = &Shopper{
			id:       id,
			email:    fmt.Sprintf("load-%s-%d@load.shopmesh.dev", p.run, id),
			password: "load-scenario-pass-1",
			client:   newClient(p.addrs.At(id)),
		}
	}
	p.next += len(fresh)
	err := forEach(ctx, p.workers, fresh, func(ctx context.Context, s *Shopper) error {
		if err := callSetup(ctx, s.client, http.MethodPost, p.gateway+"/api/v1/auth/register", "",
			map[string]string{"email": s.email, "password": s.password, "name": "Load Shopper"}, nil, http.StatusCreated); err != nil {
			return fmt.Errorf("signing up %s: %w", s.email, err)
		}
		return p.signIn(ctx, s)
	})
	for _, s := range fresh {
		if s.token != "" {
			p.shoppers = append(p.shoppers, s)
		}
	}
	return err
}

// Refresh renews the access token of those of the first n shoppers whose
// token expires before until, so no step runs into expired tokens: with
// the refresh token, or failing that by signing in again.
func (p *Pool) Refresh(ctx context.Context, n int, until time.Time) error {
	var stale []*Shopper
	for _, s := range p.Shoppers(n) {
		if s.expires.Before(until) {
			stale = append(stale, s)
		}
	}
	return forEach(ctx, p.workers, stale, func(ctx context.Context, s *Shopper) error {
		if s.refresh != "" {
			err := p.tokens(ctx, s, "/api/v1/auth/refresh", map[string]string{"refresh_token": s.refresh})
			if err == nil || ctx.Err() != nil {
				return err
			}
		}
		return p.signIn(ctx, s)
	})
}

func (p *Pool) signIn(ctx context.Context, s *Shopper) error {
	return p.tokens(ctx, s, "/api/v1/auth/login", map[string]string{"email": s.email, "password": s.password})
}

// tokens gets s new tokens from path.
func (p *Pool) tokens(ctx context.Context, s *Shopper, path string, body any) error {
	var tok tokenAnswer
	started := time.Now()
	if err := callSetup(ctx, s.client, http.MethodPost, p.gateway+path, "", body, &tok, http.StatusOK); err != nil {
		return fmt.Errorf("tokens for %s: %w", s.email, err)
	}
	s.token, s.refresh = tok.AccessToken, tok.RefreshToken
	s.expires = started.Add(time.Duration(tok.ExpiresIn) * time.Second)
	return nil
}

// EmptyCarts empties the carts the last run left full (about half its
// shoppers wait to check out when it ends) by removing each shopper's
// product, so the next step's orders hold only the next step's products. A shopper whose
// cart cannot be emptied leaves the pool.
func (p *Pool) EmptyCarts(ctx context.Context, products []string) error {
	var dirty []*Shopper
	for _, s := range p.shoppers {
		if s.cart != cartEmpty {
			dirty = append(dirty, s)
		}
	}
	failed := make(map[*Shopper]bool)
	var mu sync.Mutex
	err := forEach(ctx, p.workers, dirty, func(ctx context.Context, s *Shopper) error {
		err := callSetup(ctx, s.client, http.MethodDelete, p.gateway+"/api/v1/cart/items/"+ProductFor(s, products), s.token, nil, nil, http.StatusOK)
		if err != nil {
			mu.Lock()
			failed[s] = true
			mu.Unlock()
			return nil
		}
		s.cart = cartEmpty
		return nil
	})
	if len(failed) > 0 {
		// A new slice: callers may still hold one from Shoppers.
		kept := make([]*Shopper, 0, len(p.shoppers))
		for _, s := range p.shoppers {
			if failed[s] {
				s.client.CloseIdleConnections()
			} else {
				kept = append(kept, s)
			}
		}
		p.shoppers = kept
	}
	return err
}

// Close releases the shoppers' idle connections.
func (p *Pool) Close() {
	for _, s := range p.shoppers {
		s.client.CloseIdleConnections()
	}
}

// forEach runs f for every shopper, workers at a time, and joins the
// errors. It stops starting new calls once ctx is done.
func forEach(ctx context.Context, workers int, shoppers []*Shopper, f func(context.Context, *Shopper) error) error {
	errs := make([]error, len(shoppers))
	sem := make(chan struct{}, max(workers, 1))
	var wg sync.WaitGroup
	for i, s := range shoppers {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			errs[i] = ctx.Err()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = f(ctx, s)
		}()
	}
	wg.Wait()
	return firstErrors(errs, 5)
}

// firstErrors joins the first n errors of errs and counts the rest: a
// thousand copies of one failure say no more than five.
func firstErrors(errs []error, n int) error {
	var kept []error
	more := 0
	for _, err := range errs {
		switch {
		case err == nil:
		case len(kept) < n:
			kept = append(kept, err)
		default:
			more++
		}
	}
	if more > 0 {
		kept = append(kept, fmt.Errorf("and %d more", more))
	}
	return errors.Join(kept...)
}
