package cache_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/gateway/cache"
	"github.com/shopmesh/shopmesh/apps/gateway/catalogclient"
	"github.com/shopmesh/shopmesh/apps/gateway/fakecatalog"
	"github.com/shopmesh/shopmesh/apps/gateway/redisconn"
	"github.com/shopmesh/shopmesh/apps/gateway/redistest"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

var ctx = context.Background()

func newStore(t *testing.T, rdb redis.Cmdable, cfg cache.Config) *cache.Store {
	t.Helper()
	b := redisconn.NewBreaker(slog.New(slog.NewTextHandler(io.Discard, nil)), time.Minute)
	s, err := cache.NewStore(cfg, rdb, b, nil)
	require.NoError(t, err)
	return s
}

var enabled = cache.Config{Enabled: true, TTL: time.Minute}

// versioned answers every read with the current version of one product,
// as a catalog would after each change.
type versioned struct {
	id      string
	version int64
}

func (v *versioned) answer(c fakecatalog.Call) (catalogclient.Response, error) {
	p := fakecatalog.Kettle(v.id)
	p.Version = v.version
	switch c.Method {
	case "Product":
		return fakecatalog.JSON(http.StatusOK, p), nil
	case "ListProducts":
		return fakecatalog.JSON(http.StatusOK, catalogclient.ProductPage{Items: []catalogclient.Product{p}}), nil
	case "Categories":
		return fakecatalog.JSON(http.StatusOK, catalogclient.CategoryList{Items: []catalogclient.Category{{ID: "kitchen", Name: "Kitchen"}}}), nil
	case "ReplaceProduct":
		v.version++
		p.Version = v.version
		return fakecatalog.JSON(http.StatusOK, p), nil
	case "CreateProduct":
		r := fakecatalog.JSON(http.StatusCreated, p)
		r.CreatedID = v.id
		return r, nil
	}
	return catalogclient.Response{Status: http.StatusNoContent}, nil
}

func version(t *testing.T, r catalogclient.Response) int64 {
	t.Helper()
	p, err := catalogclient.Decode[catalogclient.Product](r)
	require.NoError(t, err)
	return p.Version
}

func TestMissThenHit(t *testing.T) {
	store := newStore(t, redistest.Client(t), enabled)
	v := &versioned{id: uuid.NewString(), version: 1}
	src := fakecatalog.New(v.answer)
	cat := cache.NewCatalog(src, store)

	first, err := cat.Product(ctx, v.id)
	require.NoError(t, err)
	assert.False(t, first.FromCache)
	second, err := cat.Product(ctx, v.id)
	require.NoError(t, err)
	assert.True(t, second.FromCache)
	assert.Equal(t, first.Body, second.Body)
	assert.Equal(t, first.ContentType, second.ContentType)
	assert.Equal(t, http.StatusOK, second.Status)
	assert.Len(t, src.Calls(), 1, "the second read did not reach the catalog")

	q := catalogclient.ListQuery{Category: "kitchen", PageSize: 7, PageToken: uuid.NewString()[:8]}
	_, err = cat.ListProducts(ctx, q)
	require.NoError(t, err)
	again, err := cat.ListProducts(ctx, q)
	require.NoError(t, err)
	assert.True(t, again.FromCache)
	other, err := cat.ListProducts(ctx, catalogclient.ListQuery{Category: "kitchen", PageSize: 8, PageToken: q.PageToken})
	require.NoError(t, err)
	assert.False(t, other.FromCache, "another page size is another listing")
}

func TestOnlySuccessfulAnswersAreKept(t *testing.T) {
	store := newStore(t, redistest.Client(t), enabled)
	answers := []catalogclient.Response{
		fakecatalog.Problem(problem.NotFound("no such product")),
		fakecatalog.Problem(problem.Unavailable("the store is down")),
	}
	for _, a := range answers {
		src := fakecatalog.New(func(fakecatalog.Call) (catalogclient.Response, error) { return a, nil })
		cat := cache.NewCatalog(src, store)
		id := uuid.NewString()
		for range 2 {
			r, err := cat.Product(ctx, id)
			require.NoError(t, err)
			assert.False(t, r.FromCache)
			assert.Equal(t, a.Status, r.Status)
		}
		assert.Len(t, src.Calls(), 2, "a %d is asked again", a.Status)
	}
}

func TestWritesThroughTheGatewayInvalidate(t *testing.T) {
	store := newStore(t, redistest.Client(t), enabled)
	v := &versioned{id: uuid.NewString(), version: 1}
	cat := cache.NewCatalog(fakecatalog.New(v.answer), store)
	warm := func() {
		for range 2 {
			_, err := cat.Product(ctx, v.id)
			require.NoError(t, err)
			_, err = cat.ListProducts(ctx, catalogclient.ListQuery{})
			require.NoError(t, err)
			_, err = cat.Categories(ctx)
			require.NoError(t, err)
		}
	}
	warm()
	_, err := cat.ReplaceProduct(ctx, v.id, []byte(`{}`))
	require.NoError(t, err)

	r, err := cat.Product(ctx, v.id)
	require.NoError(t, err)
	assert.False(t, r.FromCache)
	assert.Equal(t, int64(2), version(t, r), "the next read sees the change")
	l, err := cat.ListProducts(ctx, catalogclient.ListQuery{})
	require.NoError(t, err)
	assert.False(t, l.FromCache, "listings are invalidated too")
	c, err := cat.Categories(ctx)
	require.NoError(t, err)
	assert.False(t, c.FromCache)

	warm()
	_, err = cat.CreateProduct(ctx, []byte(`{}`))
	require.NoError(t, err)
	l, err = cat.ListProducts(ctx, catalogclient.ListQuery{})
	require.NoError(t, err)
	assert.False(t, l.FromCache, "a new product shows in the listings")

	warm()
	_, err = cat.DeleteProduct(ctx, v.id)
	require.NoError(t, err)
	r, err = cat.Product(ctx, v.id)
	require.NoError(t, err)
	assert.False(t, r.FromCache)
}

func TestRefusedWritesKeepTheCache(t *testing.T) {
	store := newStore(t, redistest.Client(t), enabled)
	v := &versioned{id: uuid.NewString(), version: 1}
	src := fakecatalog.New(func(c fakecatalog.Call) (catalogclient.Response, error) {
		if c.Method == "ReplaceProduct" {
			return fakecatalog.Problem(problem.Validation(problem.FieldError{Field: "sku", Detail: "is required"})), nil
		}
		return v.answer(c)
	})
	cat := cache.NewCatalog(src, store)
	for range 2 {
		_, err := cat.Product(ctx, v.id)
		require.NoError(t, err)
	}
	_, err := cat.ReplaceProduct(ctx, v.id, []byte(`{}`))
	require.NoError(t, err)
	r, err := cat.Product(ctx, v.id)
	require.NoError(t, err)
	assert.True(t, r.FromCache, "a 400 changed nothing")
}

func event(t *testing.T, typ string, pe contracts.ProductEvent) daprx.Event {
	t.Helper()
	data, err := json.Marshal(pe)
	require.NoError(t, err)
	return daprx.Event{ID: uuid.NewString(), Type: typ, Topic: contracts.TopicCatalog, Data: data}
}

func TestCatalogEventsInvalidate(t *testing.T) {
	store := newStore(t, redistest.Client(t), enabled)
	v := &versioned{id: uuid.NewString(), version: 1}
	src := fakecatalog.New(v.answer)
	cat := cache.NewCatalog(src, store)
	sub := cache.NewSubscription(store)
	assert.Equal(t, contracts.TopicCatalog, sub.Topic)
	assert.ElementsMatch(t, []string{contracts.ProductCreated, contracts.ProductUpdated, contracts.ProductDeleted}, sub.Types)

	for range 2 {
		_, err := cat.Product(ctx, v.id)
		require.NoError(t, err)
		_, err = cat.ListProducts(ctx, catalogclient.ListQuery{})
		require.NoError(t, err)
	}
	// The catalog changed the product without this gateway, then told us.
	v.version = 2
	ev := event(t, contracts.ProductUpdated, contracts.ProductEvent{ID: v.id, SKU: "KIT-1", Version: 2})
	require.NoError(t, sub.Handler(ctx, ev))
	require.NoError(t, sub.Handler(ctx, ev), "a repeated event is handled again, harmlessly")

	r, err := cat.Product(ctx, v.id)
	require.NoError(t, err)
	assert.False(t, r.FromCache)
	assert.Equal(t, int64(2), version(t, r))
	r, err = cat.Product(ctx, v.id)
	require.NoError(t, err)
	assert.True(t, r.FromCache, "after the miss the new version is cached")
	l, err := cat.ListProducts(ctx, catalogclient.ListQuery{})
	require.NoError(t, err)
	assert.False(t, l.FromCache)

	// An id in another spelling hits the same entry.
	require.NoError(t, sub.Handler(ctx, event(t, contracts.ProductDeleted, contracts.ProductEvent{ID: upper(v.id), Deleted: true})))
	r, err = cat.Product(ctx, v.id)
	require.NoError(t, err)
	assert.False(t, r.FromCache)
}

func TestUnusableEventsAreDropped(t *testing.T) {
	store := newStore(t, redistest.Unreachable(t), enabled)
	sub := cache.NewSubscription(store)
	err := sub.Handler(ctx, daprx.Event{Type: contracts.ProductUpdated, Data: json.RawMessage(`[1,2]`)})
	assert.ErrorIs(t, err, daprx.ErrDrop)
	err = sub.Handler(ctx, event(t, contracts.ProductUpdated, contracts.ProductEvent{ID: "not-an-id"}))
	assert.ErrorIs(t, err, daprx.ErrDrop)
}

// A read that fetched the old product before a change, and fills the cache
// only after the change was invalidated, must not be served afterwards.
func TestAFillRacingAnInvalidationIsNotServed(t *testing.T) {
	store := newStore(t, redistest.Client(t), enabled)
	v := &versioned{id: uuid.NewString(), version: 1}
	src := fakecatalog.New(func(c fakecatalog.Call) (catalogclient.Response, error) {
		old, err := v.answer(c)
		// The change lands, and is invalidated, while this answer is on its way.
		v.version = 2
		require.NoError(t, store.Invalidate(ctx, v.id))
		return old, err
	})
	cat := cache.NewCatalog(src, store)
	r, err := cat.Product(ctx, v.id)
	require.NoError(t, err)
	assert.Equal(t, int64(1), version(t, r))

	src.Answer = v.answer
	r, err = cat.Product(ctx, v.id)
	require.NoError(t, err)
	assert.False(t, r.FromCache, "the stale fill is not a hit")
	assert.Equal(t, int64(2), version(t, r))
}

func TestRedisDownFailsOpen(t *testing.T) {
	store := newStore(t, redistest.Unreachable(t), enabled)
	v := &versioned{id: uuid.NewString(), version: 1}
	src := fakecatalog.New(v.answer)
	cat := cache.NewCatalog(src, store)

	start := time.Now()
	for range 5 {
		r, err := cat.Product(ctx, v.id)
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, r.Status)
		assert.False(t, r.FromCache)
		_, err = cat.ListProducts(ctx, catalogclient.ListQuery{})
		require.NoError(t, err)
	}
	assert.Len(t, src.Calls(), 10, "every read went to the catalog")
	assert.Less(t, time.Since(start), 2*time.Second, "after the first failure Redis is skipped, not waited for")

	r, err := cat.ReplaceProduct(ctx, v.id, []byte(`{}`))
	require.NoError(t, err, "a write succeeds although it could not invalidate")
	assert.Equal(t, http.StatusOK, r.Status)

	err = cache.NewSubscription(store).Handler(ctx, event(t, contracts.ProductUpdated, contracts.ProductEvent{ID: v.id}))
	require.Error(t, err, "the event is redelivered later, so stale entries cannot outlive the outage")
	assert.NotErrorIs(t, err, daprx.ErrDrop)
}

func TestDisabledCacheUsesNoRedis(t *testing.T) {
	store := newStore(t, redistest.Unreachable(t), cache.Config{Enabled: false, TTL: time.Minute})
	v := &versioned{id: uuid.NewString(), version: 1}
	cat := cache.NewCatalog(fakecatalog.New(v.answer), store)
	r, err := cat.Product(ctx, v.id)
	require.NoError(t, err)
	assert.False(t, r.FromCache)
	require.NoError(t, cache.NewSubscription(store).Handler(ctx, event(t, contracts.ProductUpdated, contracts.ProductEvent{ID: v.id})))
}

func TestLoadConfig(t *testing.T) {
	cfg, err := cache.LoadConfig(func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	assert.Equal(t, cache.Config{Enabled: true, TTL: 60 * time.Second}, cfg)
	_, err = cache.LoadConfig(func(k string) (string, bool) { return map[string]string{"CACHE_TTL": "0s"}[k], true })
	assert.Error(t, err)
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
