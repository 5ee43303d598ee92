package snapshot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Load restores every key of s with RESTORE … REPLACE: a key that exists is
// overwritten, others are left alone. Each key gets the time to live it had
// when dumped, counted from now. Keys are restored in one pipeline; an
// error names the first key Redis refused (the others may be restored).
func Load(ctx context.Context, rdb redis.Cmdable, s Snapshot) error {
	if err := s.validate(); err != nil {
		return err
	}
	cmds := make([]*redis.StatusCmd, len(s.Keys))
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range s.Keys {
			cmds[i] = p.RestoreReplace(ctx, k.Key, time.Duration(k.PTTLms)*time.Millisecond, string(k.Dump))
		}
		return nil
	})
	if err == nil {
		return nil
	}
	for i, c := range cmds {
		if c != nil && c.Err() != nil {
			return fmt.Errorf("snapshot: RESTORE %q: %w%s", s.Keys[i].Key, c.Err(), versionHint(c.Err(), s))
		}
	}
	return fmt.Errorf("snapshot: restoring %d keys: %w", len(s.Keys), err)
}

// versionHint explains Redis's refusal of a payload from a newer RDB version.
func versionHint(err error, s Snapshot) string {
	if !strings.Contains(err.Error(), "payload version") || s.RedisVersion == "" {
		return ""
	}
	return fmt.Sprintf(" (the snapshot was written by Redis %s: load it into that version or a newer one)", s.RedisVersion)
}
