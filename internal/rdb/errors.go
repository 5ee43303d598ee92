package rdb

import (
	"errors"

	"github.com/redis/go-redis/v9"
)

// Unavailable reports whether err says Redis could not be reached, or
// answered that it cannot serve yet (loading its data after a restart, busy,
// failing over, out of memory until someone frees some), rather than
// refusing the command itself: a write worth trying again.
func Unavailable(err error) bool {
	if err == nil || errors.Is(err, redis.ErrClosed) {
		return false // our own client is closed: no point trying again
	}
	var answer redis.Error
	if !errors.As(err, &answer) {
		return true // no answer: refused, reset, timed out
	}
	for _, prefix := range []string{"LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "READONLY", "OOM"} {
		if redis.HasErrorPrefix(answer, prefix) {
			return true
		}
	}
	return false
}
