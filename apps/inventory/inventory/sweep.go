package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"time"

	"github.com/shopmesh/shopmesh/internal/contracts"
)

// The sweep finds open reservations through an index, as Dapr's state
// stores offer no query here (DynamoDB has no Query API in Dapr). A
// reservation is listed under the minute in which it was indexed, in one
// of indexShards keys chosen by its order id, so concurrent checkouts
// spread their index writes over many keys instead of fighting over one.
// Entries are never removed one by one: once a minute is older than the
// TTL, the sweep handles each of its entries (expiring those still open)
// and deletes the minute's keys. A cursor records the last minute swept.
const (
	bucketWidth = time.Minute
	indexShards = 16
	// maxBucketsPerSweep bounds one run's work after a long outage; the
	// next runs catch up.
	maxBucketsPerSweep = 120
	// cursorMargin is how far before the first minute ever indexed the
	// cursor starts, so that replicas indexing at the same moment, across
	// a minute's end or with clocks slightly apart, are all swept.
	cursorMargin = 10 * bucketWidth
	cursorKey    = "sweep|cursor"
)

// openSet is the value of one index key: the orders reserved in its minute.
type openSet struct {
	Orders []string `json:"orders"`
}

// cursor is the start (Unix seconds) of the last minute swept.
type cursor struct {
	Swept int64 `json:"swept"`
}

func bucketOf(t time.Time) int64 { return t.Truncate(bucketWidth).Unix() }

func shardOf(orderID string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(orderID))
	return int(h.Sum32() % indexShards)
}

func indexKey(bucket int64, shard int) string {
	return "open|" + strconv.FormatInt(bucket, 10) + "|" + strconv.Itoa(shard)
}

// index lists r as open under the current minute. It runs before any unit
// is taken, so every reservation that holds units is listed, and in a
// minute the sweep has not passed yet. A placement that resumes later may
// list r once more, under a later minute; the sweep does not mind.
func (s *Service) index(ctx context.Context, r Reservation) error {
	bucket := bucketOf(s.now())
	key := indexKey(bucket, shardOf(r.OrderID))
	for attempt := range maxAttempts {
		var set openSet
		etag, err := s.store.Get(ctx, key, &set)
		switch {
		case errors.Is(err, ErrNotFound):
			// The cursor first: no entry may exist before the sweep can
			// find it.
			if err := s.startCursor(ctx, bucket); err != nil {
				return err
			}
			err = s.store.Create(ctx, key, openSet{Orders: []string{r.OrderID}})
		case err != nil:
			return fmt.Errorf("reading index %s: %w", key, err)
		case slices.Contains(set.Orders, r.OrderID):
			return nil
		default:
			set.Orders = append(set.Orders, r.OrderID)
			err = s.store.Save(ctx, key, set, etag)
		}
		if !errors.Is(err, ErrConflict) {
			if err != nil {
				return fmt.Errorf("writing index %s: %w", key, err)
			}
			return nil
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
	return fmt.Errorf("writing index %s: %w", key, ErrConflict)
}

// startCursor creates the sweep's cursor, unless it exists, a margin
// before the first minute ever indexed; after that only the sweep moves it.
func (s *Service) startCursor(ctx context.Context, bucket int64) error {
	err := s.store.Create(ctx, cursorKey, cursor{Swept: bucket - int64(cursorMargin/time.Second)})
	if err != nil && !errors.Is(err, ErrConflict) {
		return fmt.Errorf("creating the sweep cursor: %w", err)
	}
	return nil
}

// Sweep releases reservations older than the TTL whose order never
// finished and publishes inventory.expired for each. It returns how many it
// expired. Several replicas may sweep at once: each expiry is an ETag write
// of the reservation, so only one of them releases its units. Within a
// process, a sweep that finds another still running returns at once.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	if !s.sweeping.TryLock() {
		return 0, nil
	}
	defer s.sweeping.Unlock()
	step := int64(bucketWidth / time.Second)
	expired := 0
	for range maxBucketsPerSweep {
		var c cursor
		etag, err := s.store.Get(ctx, cursorKey, &c)
		if errors.Is(err, ErrNotFound) {
			return expired, nil // nothing was ever reserved
		}
		if err != nil {
			return expired, fmt.Errorf("reading the sweep cursor: %w", err)
		}
		limit := s.now().Add(-s.cfg.ReservationTTL)
		next := c.Swept + step
		if next+step > limit.Unix() {
			return expired, nil // the next minute still holds young reservations
		}
		n, err := s.sweepBucket(ctx, next, limit)
		expired += n
		if err != nil {
			return expired, err
		}
		c.Swept = next
		if err := s.store.Save(ctx, cursorKey, c, etag); err != nil && !errors.Is(err, ErrConflict) {
			return expired, fmt.Errorf("moving the sweep cursor: %w", err)
		}
		// On a conflict another replica moved the cursor; reading it again
		// continues from wherever it is now.
	}
	return expired, nil
}

// sweepBucket handles every entry of one minute's index keys, then deletes
// the keys.
func (s *Service) sweepBucket(ctx context.Context, bucket int64, limit time.Time) (int, error) {
	keys := make([]string, indexShards)
	for i := range keys {
		keys[i] = indexKey(bucket, i)
	}
	items, err := s.store.GetBulk(ctx, keys)
	if err != nil {
		return 0, fmt.Errorf("reading index minute %d: %w", bucket, err)
	}
	expired := 0
	for _, it := range items {
		if it.Value == nil {
			continue
		}
		var set openSet
		if err := json.Unmarshal(it.Value, &set); err != nil {
			return expired, fmt.Errorf("decoding index %s: %w", it.Key, err)
		}
		n, err := s.sweepKey(ctx, it.Key, set, it.ETag, limit)
		expired += n
		if err != nil {
			return expired, err
		}
	}
	return expired, nil
}

// sweepKey expires the open reservations of one index key and deletes it.
func (s *Service) sweepKey(ctx context.Context, key string, set openSet, etag string, limit time.Time) (int, error) {
	expired := 0
	for range maxAttempts {
		for _, order := range set.Orders {
			ok, err := s.expire(ctx, order, limit)
			if err != nil {
				return expired, err
			}
			if ok {
				expired++
			}
		}
		err := s.store.Delete(ctx, key, etag)
		if !errors.Is(err, ErrConflict) {
			if err != nil {
				return expired, fmt.Errorf("deleting index %s: %w", key, err)
			}
			return expired, nil
		}
		// A late entry arrived, or another replica deleted the key: handle
		// what is there now.
		set = openSet{}
		etag, err = s.store.Get(ctx, key, &set)
		if errors.Is(err, ErrNotFound) {
			return expired, nil
		}
		if err != nil {
			return expired, fmt.Errorf("reading index %s: %w", key, err)
		}
	}
	return expired, fmt.Errorf("deleting index %s: %w", key, ErrConflict)
}

// expire ends an open reservation created before limit: its units go back
// to stock and inventory.expired is published. It reports whether this
// call expired it. An already expired reservation is released and
// announced again, which finishes an attempt that stopped half-way.
func (s *Service) expire(ctx context.Context, orderID string, limit time.Time) (bool, error) {
	for range maxAttempts {
		r, etag, err := s.reservation(ctx, orderID)
		if errors.Is(err, ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		mine := false
		switch r.Status {
		case StatusReserving, StatusReserved:
			if r.CreatedAt.After(limit) {
				// Only a clock far ahead on the indexing replica does this;
				// keep the minute for a later sweep.
				return false, fmt.Errorf("reservation of order %s is not due yet (created %s)", orderID, r.CreatedAt.Format(time.RFC3339))
			}
			ok, err := s.moveTo(ctx, &r, etag, StatusExpired)
			if err != nil {
				return false, err
			}
			if !ok {
				continue
			}
			mine = true
		case StatusExpired:
		default:
			return false, nil // finished: confirmed, cancelled or rejected
		}
		if err := s.releaseAll(ctx, r); err != nil {
			return false, err
		}
		ev := contracts.ReservationEvent{OrderID: r.OrderID, Reason: contracts.ReasonReservationExpired, At: r.UpdatedAt}
		if err := s.pub.Publish(ctx, contracts.TopicInventory, contracts.InventoryExpired, r.OrderID, ev); err != nil {
			return false, fmt.Errorf("publishing %s of order %s: %w", contracts.InventoryExpired, r.OrderID, err)
		}
		if mine {
			s.log.InfoContext(ctx, "reservation expired", "order_id", r.OrderID, "created_at", r.CreatedAt)
		}
		return mine, nil
	}
	return false, fmt.Errorf("expiring order %s: %w", orderID, ErrConflict)
}
