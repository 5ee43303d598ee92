package redisconn

import (
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Explain adds what to do to a Redis error answer an operator can act on:
// out of memory, a replica that refuses writes, a missing permission.
// Other errors come back unchanged.
func Explain(err error) error {
	if IsOutOfMemory(err) {
		return fmt.Errorf("%w: %w (maxmemory is reached and its policy evicts nothing: "+
			"free memory — mxinvite purge — or raise maxmemory, then run the command again)", ErrOutOfMemory, err)
	}
	var rerr redis.Error
	if err == nil || !errors.As(err, &rerr) {
		return err
	}
	switch {
	case redis.HasErrorPrefix(rerr, "READONLY"):
		return fmt.Errorf("%w (this Redis is a replica: point mxinvite at the primary, or use Sentinel)", err)
	case redis.HasErrorPrefix(rerr, "NOPERM"):
		return fmt.Errorf("%w: %w (see docs/redis.md for the ACL mxinvite needs)", ErrNoPermission, err)
	}
	return err
}

// oomAnswer is how Redis's OOM answer begins; asynq passes it on as text
// only, inside its own error.
const oomAnswer = "OOM command not allowed"

// IsOutOfMemory reports whether err is Redis's OOM answer: maxmemory is
// reached and the eviction policy (noeviction) refuses writes. Memory can
// be freed, so a write refused this way may succeed later.
func IsOutOfMemory(err error) bool {
	var rerr redis.Error
	if errors.As(err, &rerr) && redis.HasErrorPrefix(rerr, "OOM") {
		return true
	}
	return err != nil && strings.Contains(err.Error(), oomAnswer)
}
