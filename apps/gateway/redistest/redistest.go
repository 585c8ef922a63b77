// Package redistest gives tests a real Redis, or skips them when none was
// asked for. Run them with the local stack's Redis (`bash local/redis.sh
// start`) and SHOPMESH_INTEGRATION=1, or point REDIS_ADDR at another one.
package redistest

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// DB is the database tests use, away from the running stack's (DB 0).
const DB = 15

// Client returns a client for the Redis at REDIS_ADDR (default the local
// stack's 127.0.0.1:16379). The test is skipped unless REDIS_ADDR or
// SHOPMESH_INTEGRATION is set; when one is, a Redis that does not answer
// fails it.
func Client(t *testing.T) *redis.Client {
	t.Helper()
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" && os.Getenv("SHOPMESH_INTEGRATION") == "" {
		t.Skip("needs Redis: set SHOPMESH_INTEGRATION=1 (local Redis on 127.0.0.1:16379, `bash local/redis.sh start`) or REDIS_ADDR")
	}
	if addr == "" {
		addr = "127.0.0.1:16379"
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr, DB: DB, Password: os.Getenv("REDIS_PASSWORD")})
	t.Cleanup(func() { _ = rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis at %s does not answer: %v", addr, err)
	}
	return rdb
}

// Unreachable returns a client for a port nothing listens on, as a Redis
// that is down looks to the gateway.
func Unreachable(t *testing.T) *redis.Client {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	rdb := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 200 * time.Millisecond, MaxRetries: -1, DialerRetries: 1})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}
