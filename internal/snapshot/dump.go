package snapshot

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"
)

// scanCount is SCAN's COUNT hint, and dumpBatch the keys read per round
// trip: a snapshot is small, these only keep round trips few.
const (
	scanCount = 1000
	dumpBatch = 500
)

// Dump reads every key matching one of patterns (SCAN MATCH; at least one
// pattern) with its DUMP payload, type and remaining TTL. A key that
// disappears while it runs is left out.
func Dump(ctx context.Context, rdb redis.Cmdable, patterns ...string) (Snapshot, error) {
	if len(patterns) == 0 {
		return Snapshot{}, errors.New("snapshot: Dump needs at least one key pattern")
	}
	names, err := scanAll(ctx, rdb, patterns)
	if err != nil {
		return Snapshot{}, err
	}
	s := Snapshot{Format: Format, Version: Version, Patterns: append([]string(nil), patterns...)}
	s.RedisVersion, err = redisVersion(ctx, rdb)
	if err != nil {
		return Snapshot{}, err
	}
	for start := 0; start < len(names); start += dumpBatch {
		keys, err := dumpKeys(ctx, rdb, names[start:min(start+dumpBatch, len(names))])
		if err != nil {
			return Snapshot{}, err
		}
		s.Keys = append(s.Keys, keys...)
	}
	return s, nil
}

// scanAll returns the names matching any pattern, sorted, each once.
func scanAll(ctx context.Context, rdb redis.Cmdable, patterns []string) ([]string, error) {
	seen := map[string]bool{}
	for _, pattern := range patterns {
		iter := rdb.Scan(ctx, 0, pattern, scanCount).Iterator()
		for iter.Next(ctx) {
			name := iter.Val()
			if !utf8.ValidString(name) {
				return nil, fmt.Errorf("snapshot: key %q is not UTF-8, which the file format cannot hold", name)
			}
			seen[name] = true
		}
		if err := iter.Err(); err != nil {
			return nil, fmt.Errorf("snapshot: SCAN %q: %w", pattern, err)
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// dumpKeys reads TYPE, PTTL and DUMP of names in one round trip.
func dumpKeys(ctx context.Context, rdb redis.Cmdable, names []string) ([]Key, error) {
	types := make([]*redis.StatusCmd, len(names))
	ttls := make([]*redis.DurationCmd, len(names))
	dumps := make([]*redis.StringCmd, len(names))
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, n := range names {
			types[i] = p.Type(ctx, n)
			ttls[i] = p.PTTL(ctx, n)
			dumps[i] = p.Dump(ctx, n)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("snapshot: reading %d keys: %w", len(names), err)
	}
	out := make([]Key, 0, len(names))
	for i, n := range names {
		payload, err := dumps[i].Result()
		if errors.Is(err, redis.Nil) {
			continue // gone since SCAN (expired)
		}
		if err != nil {
			return nil, fmt.Errorf("snapshot: DUMP %q: %w", n, err)
		}
		// go-redis reports PTTL's -1 (no expiry) and -2 (no key) as those
		// numbers of nanoseconds, not milliseconds.
		ttl := ttls[i].Val()
		switch {
		case ttl == -2:
			continue
		case ttl < 0:
			ttl = 0
		}
		out = append(out, Key{Key: n, Type: types[i].Val(), PTTLms: ttl.Milliseconds(), Dump: []byte(payload)})
	}
	return out, nil
}

// redisVersion is INFO server's redis_version.
func redisVersion(ctx context.Context, rdb redis.Cmdable) (string, error) {
	info, err := rdb.Info(ctx, "server").Result()
	if err != nil {
		return "", fmt.Errorf("snapshot: INFO server: %w", err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			return v, nil
		}
	}
	return "", nil
}
