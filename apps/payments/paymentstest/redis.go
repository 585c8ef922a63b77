package paymentstest

import (
	"cmp"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisDB is the database of the local Redis (127.0.0.1:16379) that the
// integration tests' pub/sub uses, apart from the running stack's (0) and
// the gateway tests' (15).
const RedisDB = 11

// CleanStreams registers the removal of what a run leaves in RedisDB once
// t ends: every stream whose name holds run (the run's own topics), and the consumer
// group group on each of the shared streams, and a shared stream itself once
// no group reads it. Register it before the sidecar
// starts, so it runs after the sidecar stopped.
func CleanStreams(t testing.TB, run, group string, shared ...string) {
	t.Helper()
	t.Cleanup(func() {
		rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:16379", DB: RedisDB})
		defer rdb.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		keys, err := rdb.Keys(ctx, "*"+run+"*").Result()
		if err == nil && len(keys) > 0 {
			err = rdb.Del(ctx, keys...).Err()
		}
		for _, s := range shared {
			if gerr := rdb.XGroupDestroy(ctx, s, group).Err(); gerr != nil && !strings.Contains(gerr.Error(), "no such key") {
				err = gerr
				continue
			}
			// A later run's group reads a stream from its start: drop the
			// events of finished runs once no run is reading.
			if groups, gerr := rdb.XInfoGroups(ctx, s).Result(); gerr == nil && len(groups) == 0 {
				err = cmp.Or(rdb.Del(ctx, s).Err(), err)
			}
		}
		if err != nil {
			t.Logf("cleaning the run's streams in redis db %d: %v", RedisDB, err)
		}
	})
}
