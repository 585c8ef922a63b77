// Package cache keeps the catalog's read answers in Redis so the gateway
// can serve product pages, listings and categories without a service call.
//
// Every entry records the generation it was filled under; a lookup is a hit
// only while that generation is still current. A product's entry is checked
// against the product's generation, listings and categories against the
// list generation. Invalidating a product bumps both (and deletes the
// product's entry to free its memory), so the next read misses. Because a
// fill is tagged with the generation read before the catalog was asked, an
// answer fetched before a change but stored after its invalidation is never
// served.
//
// Redis is an optimisation here: when it fails the gateway counts the
// failure, opens the shared redisconn.Breaker (which logs) and goes to the
// catalog.
package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/gateway/catalogclient"
	"github.com/shopmesh/shopmesh/apps/gateway/redisconn"
	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
)

// Module provides the Store, the cached Catalog over the catalog client and
// the subscription that invalidates on catalog events.
var Module = fx.Options(
	fx.Provide(
		func() (Config, error) { return LoadConfig(os.LookupEnv) },
		func(cfg Config, rdb *redis.Client, b *redisconn.Breaker, reg *prometheus.Registry) (*Store, error) {
			return NewStore(cfg, rdb, b, reg)
		},
		func(src *catalogclient.Client, s *Store) *Catalog { return NewCatalog(src, s) },
		daprx.AsSubscription(NewSubscription),
	),
)

// Config controls the cache.
type Config struct {
	Enabled bool
	TTL     time.Duration // the longest an entry lives; invalidation usually ends it sooner
}

// LoadConfig reads Config through lookup (os.LookupEnv in production).
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	l := config.NewLoader(lookup)
	cfg := Config{
		Enabled: l.Bool("CACHE_ENABLED", true),
		TTL:     l.Duration("CACHE_TTL", 60*time.Second),
	}
	errs := []error{l.Err()}
	if cfg.TTL <= 0 {
		errs = append(errs, errors.New("config CACHE_TTL: must be positive"))
	}
	return cfg, errors.Join(errs...)
}

// Key layout. The version segment lets a new entry format ship without
// reading the old one.
const (
	keyPrefix  = "gw:cache:v1:"
	listGenKey = keyPrefix + "gen:lists"
)

// slot is where an entry lives and the generation that validates it.
type slot struct{ key, genKey string }

func productSlot(id string) slot {
	return slot{key: keyPrefix + "product:" + id, genKey: keyPrefix + "gen:product:" + id}
}

func categoriesSlot() slot { return slot{key: keyPrefix + "categories", genKey: listGenKey} }

// listSlot hashes the query: categories and page tokens are client input,
// and the hash keeps keys short and uniform whatever they hold.
func listSlot(q catalogclient.ListQuery) slot {
	sum := sha256.Sum256([]byte(q.Category + "\x00" + strconv.Itoa(q.PageSize) + "\x00" + q.PageToken))
	return slot{key: keyPrefix + "products:" + hex.EncodeToString(sum[:16]), genKey: listGenKey}
}

// Store reads and writes entries and generations in Redis.
type Store struct {
	rdb redis.Cmdable
	ttl time.Duration
	// genTTL outlives every entry filled under a generation, so a product
	// generation never expires (and restarts at 0) while an entry tagged
	// with an older value could still match it.
	genTTL  time.Duration
	enabled bool
	breaker *redisconn.Breaker
	lookups *prometheus.CounterVec
}

// NewStore returns a Store over rdb that skips Redis while b is open; reg, when not nil, gets its metrics.
func NewStore(cfg Config, rdb redis.Cmdable, b *redisconn.Breaker, reg prometheus.Registerer) (*Store, error) {
	s := &Store{
		rdb:     rdb,
		ttl:     cfg.TTL,
		genTTL:  2*cfg.TTL + time.Minute,
		enabled: cfg.Enabled,
		breaker: b,
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_cache_lookups_total",
			Help: "Response cache lookups by result: hit, miss, error (Redis failed or is skipped; served from the catalog).",
		}, []string{"result"}),
	}
	if reg != nil {
		if err := reg.Register(s.lookups); err != nil {
			return nil, fmt.Errorf("registering cache metrics: %w", err)
		}
	}
	return s, nil
}

// Enabled reports whether the cache is in use (CACHE_ENABLED).
func (s *Store) Enabled() bool { return s.enabled }

// get returns the entry in sl if its generation is current, and the current
// generation either way (the tag of a fill).
func (s *Store) get(ctx context.Context, sl slot) (resp catalogclient.Response, gen string, hit bool, err error) {
	var genCmd, entryCmd *redis.StringCmd
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		genCmd = p.Get(ctx, sl.genKey)
		entryCmd = p.Get(ctx, sl.key)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return resp, "", false, fmt.Errorf("cache lookup %s: %w", sl.key, err)
	}
	gen, err = genCmd.Result()
	switch {
	case errors.Is(err, redis.Nil):
		gen = "0" // never invalidated, or the generation expired with its entries
	case err != nil:
		return resp, "", false, fmt.Errorf("cache lookup %s: %w", sl.genKey, err)
	}
	raw, err := entryCmd.Bytes()
	if errors.Is(err, redis.Nil) {
		return resp, gen, false, nil
	}
	if err != nil {
		return resp, "", false, fmt.Errorf("cache lookup %s: %w", sl.key, err)
	}
	entryGen, resp, ok := decodeEntry(raw)
	if !ok || entryGen != gen {
		return catalogclient.Response{}, gen, false, nil
	}
	return resp, gen, true, nil
}

func (s *Store) put(ctx context.Context, sl slot, gen string, resp catalogclient.Response) error {
	if err := s.rdb.Set(ctx, sl.key, encodeEntry(gen, resp), s.ttl).Err(); err != nil {
		return fmt.Errorf("cache fill %s: %w", sl.key, err)
	}
	return nil
}

// Invalidate makes the next read of product id, of every listing and of the
// categories miss. Repeating it is harmless (it only bumps generations
// again), which is what at-least-once event delivery needs. An empty id
// invalidates the listings only. It tries Redis even while the breaker is
// open: it is rare, and skipping it could leave stale entries behind.
func (s *Store) Invalidate(ctx context.Context, id string) error {
	if !s.enabled {
		return nil
	}
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		if id != "" {
			sl := productSlot(id)
			p.Incr(ctx, sl.genKey)
			p.Expire(ctx, sl.genKey, s.genTTL)
			p.Del(ctx, sl.key)
		}
		p.Incr(ctx, listGenKey)
		return nil
	})
	if err != nil {
		err = fmt.Errorf("cache invalidation of product %q: %w", id, err)
		s.breaker.Fail(ctx, "invalidate", err)
		return err
	}
	return nil
}

// An entry is "<generation>\t<content type>\n<body>": the body is stored as
// the catalog sent it, so a hit writes it out without re-encoding.
func encodeEntry(gen string, r catalogclient.Response) []byte {
	b := make([]byte, 0, len(gen)+len(r.ContentType)+2+len(r.Body))
	b = append(b, gen...)
	b = append(b, '\t')
	b = append(b, r.ContentType...)
	b = append(b, '\n')
	return append(b, r.Body...)
}

func decodeEntry(raw []byte) (gen string, r catalogclient.Response, ok bool) {
	head, body, found := bytes.Cut(raw, []byte{'\n'})
	if !found {
		return "", r, false
	}
	g, ct, found := bytes.Cut(head, []byte{'\t'})
	if !found {
		return "", r, false
	}
	return string(g), catalogclient.Response{Status: 200, ContentType: string(ct), Body: body}, true
}
