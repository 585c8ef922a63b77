package outbox

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/shopmesh/shopmesh/internal/platform/daprx"
)

// seatRecord is a seat's lease: who holds it, until when, and how many
// slots its holder's records may take (what a sweeper reads).
type seatRecord struct {
	Owner    string    `json:"owner"`
	Instance string    `json:"instance"`
	Slots    int       `json:"slots"`
	Until    time.Time `json:"until"`
}

func seatKey(n int) string { return "outbox-seat|" + strconv.Itoa(n) }

// tick is how often the keeper looks at its lease and retries publishing.
const tick = time.Second

// Run keeps the outbox going until ctx ends: it claims a seat, renews its
// lease, retries failed publishes, sweeps expired seats and deletes
// published records.
func (o *Outbox) Run(ctx context.Context) {
	go o.reap(ctx)
	t := time.NewTicker(tick)
	defer t.Stop()
	var renewed, swept time.Time
	for {
		o.mu.Lock()
		held := o.seat >= 0
		o.mu.Unlock()
		now := o.now()
		switch {
		case !held:
			if err := o.claim(ctx); err != nil {
				o.log.WarnContext(ctx, "outbox: no seat yet", "err", err)
			} else {
				renewed, swept = now, now
			}
		case now.Sub(renewed) >= o.cfg.Lease/4:
			if err := o.renew(ctx); err != nil {
				o.log.WarnContext(ctx, "outbox: lease not renewed", "err", err)
			} else {
				renewed = now
			}
		}
		o.retry(ctx)
		if now.Sub(swept) >= o.cfg.Sweep {
			if err := o.sweep(ctx); err != nil {
				o.log.WarnContext(ctx, "outbox: sweep failed", "err", err)
			}
			swept = now
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// seats reads every seat's lease in one call.
func (o *Outbox) seats(ctx context.Context) ([]daprx.Item, error) {
	keys := make([]string, o.cfg.Seats)
	for i := range keys {
		keys[i] = seatKey(i)
	}
	return o.store.GetBulk(ctx, keys)
}

// claim takes a seat: the one a predecessor of the same instance name
// held (after publishing what it left), else the first free one. Expired
// seats are freed by sweep.
func (o *Outbox) claim(ctx context.Context) error {
	items, err := o.seats(ctx)
	if err != nil {
		return err
	}
	start := o.now()
	lease := seatRecord{Owner: o.owner, Instance: o.cfg.Instance, Slots: o.cfg.Slots, Until: start.Add(o.cfg.Lease)}
	for n, it := range items {
		if it.Value == nil {
			continue
		}
		var r seatRecord
		if err := it.Decode(&r); err != nil {
			return err
		}
		if r.Instance != o.cfg.Instance || r.Owner == o.owner {
			continue
		}
		if err := o.recover(ctx, r); err != nil {
			return fmt.Errorf("taking over seat %d of a previous %s: %w", n, r.Instance, err)
		}
		if err := o.store.Save(ctx, seatKey(n), lease, it.ETag); err != nil {
			return fmt.Errorf("taking over seat %d: %w", n, err)
		}
		o.hold(n, lease.Until, "took over the seat of a previous process of this instance")
		return nil
	}
	for n, it := range items {
		if it.Value != nil {
			continue
		}
		err := o.store.Create(ctx, seatKey(n), lease)
		if errors.Is(err, daprx.ErrConflict) {
			continue // another process took it meanwhile
		}
		if err != nil {
			return fmt.Errorf("claiming seat %d: %w", n, err)
		}
		o.hold(n, lease.Until, "claimed a free seat")
		return nil
	}
	return fmt.Errorf("all %d seats are held (OUTBOX_SEATS)", o.cfg.Seats)
}

func (o *Outbox) hold(n int, until time.Time, why string) {
	o.mu.Lock()
	first := o.seat < 0 && o.until.IsZero()
	o.seat, o.until = n, until
	o.mu.Unlock()
	if first {
		close(o.claimed)
	}
	o.log.Info("outbox: "+why, "seat", n, "owner", o.owner, "instance", o.cfg.Instance)
}

// renew extends the lease. A seat that another process holds now (ours
// ran out while the store was out of reach, and a sweeper freed it) is
// given up: the next tick claims another. Our records are found under
// whichever seat names us.
func (o *Outbox) renew(ctx context.Context) error {
	o.mu.Lock()
	n := o.seat
	o.mu.Unlock()
	start := o.now()
	var r seatRecord
	etag, err := o.store.Get(ctx, seatKey(n), &r)
	if err != nil && !errors.Is(err, daprx.ErrNotFound) {
		return err
	}
	if errors.Is(err, daprx.ErrNotFound) || r.Owner != o.owner {
		o.mu.Lock()
		o.seat = -1
		o.mu.Unlock()
		return fmt.Errorf("seat %d was lost (its lease ran out)", n)
	}
	r.Until = start.Add(o.cfg.Lease)
	if err := o.store.Save(ctx, seatKey(n), r, etag); err != nil {
		return err
	}
	o.mu.Lock()
	o.until = r.Until
	o.mu.Unlock()
	return nil
}

// sweep frees the seats whose lease ran out, after publishing what their
// holders left.
func (o *Outbox) sweep(ctx context.Context) error {
	items, err := o.seats(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for n, it := range items {
		if it.Value == nil {
			continue
		}
		var r seatRecord
		if err := it.Decode(&r); err != nil {
			errs = append(errs, err)
			continue
		}
		if r.Owner == o.owner || !o.now().After(r.Until.Add(o.cfg.Skew)) {
			continue
		}
		if err := o.recover(ctx, r); err != nil {
			errs = append(errs, fmt.Errorf("seat %d: %w", n, err))
			continue
		}
		// Guarded: a seat renewed or taken meanwhile stays.
		if err := o.store.Delete(ctx, seatKey(n), it.ETag); err != nil && !errors.Is(err, daprx.ErrConflict) {
			errs = append(errs, fmt.Errorf("freeing seat %d: %w", n, err))
			continue
		}
		o.log.InfoContext(ctx, "outbox: freed an expired seat", "seat", n, "owner", r.Owner, "instance", r.Instance)
	}
	return errors.Join(errs...)
}

// recover publishes and deletes every record a seat's holder left. A
// record's delete is guarded by the ETag it was read with.
func (o *Outbox) recover(ctx context.Context, r seatRecord) error {
	keys := make([]string, r.Slots)
	for i := range keys {
		keys[i] = slotKey(r.Owner, i)
	}
	items, err := o.store.GetBulk(ctx, keys)
	if err != nil {
		return err
	}
	n := 0
	for _, it := range items {
		if it.Value == nil {
			continue
		}
		var rec record
		if err := it.Decode(&rec); err != nil {
			return err
		}
		for _, m := range rec.Events {
			if err := o.pub.Send(ctx, m); err != nil {
				return err
			}
		}
		if err := o.store.Delete(ctx, it.Key, it.ETag); err != nil && !errors.Is(err, daprx.ErrConflict) {
			return err
		}
		n++
	}
	if n > 0 {
		o.log.InfoContext(ctx, "outbox: published the records a previous holder left", "records", n, "owner", r.Owner, "instance", r.Instance)
	}
	return nil
}

// Close gives the seat up if nothing is left to publish, so a clean stop
// leaves no lease to wait out. Records still pending keep the seat for a
// sweeper or a restart of this instance.
func (o *Outbox) Close(ctx context.Context) error {
	// Wait briefly for the reaper to delete what was published.
	for o.Pending() > 0 {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(20 * time.Millisecond):
		}
	}
	o.mu.Lock()
	n := o.seat
	o.mu.Unlock()
	if n < 0 {
		return nil
	}
	var r seatRecord
	etag, err := o.store.Get(ctx, seatKey(n), &r)
	if err != nil || r.Owner != o.owner {
		return nil
	}
	return o.store.Delete(ctx, seatKey(n), etag)
}
