package worker

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisAnswer is an error answer from Redis (go-redis's redis.Error).
type redisAnswer string

func (e redisAnswer) Error() string { return string(e) }
func (redisAnswer) RedisError()     {}

func TestUntilWrittenRetriesWhileRedisIsUnavailable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, tc := range []struct {
		name  string
		errs  []error // answers of the successive writes; then success
		tries int     // writes expected
		fails bool
	}{
		{"connection refused, then written", []error{refused, refused}, 3, false},
		{"loading after a restart, then written", []error{redisAnswer("LOADING Redis is loading the dataset in memory")}, 2, false},
		{"out of memory until memory is freed, then written",
			[]error{redisAnswer("OOM command not allowed when used memory > 'maxmemory'.")}, 2, false},
		{"an error answer is final", []error{redisAnswer("ERR Error running script")}, 1, true},
		{"a closed client is final", []error{redis.ErrClosed}, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tries := 0
			err := untilWritten(context.Background(), func(context.Context) error {
				tries++
				if tries <= len(tc.errs) {
					return tc.errs[tries-1]
				}
				return nil
			})
			if tries != tc.tries || (err != nil) != tc.fails {
				t.Fatalf("%d writes, err %v; want %d writes, failure %v", tries, err, tc.tries, tc.fails)
			}
		})
	}
}

func TestUntilWrittenStopsAtItsDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start, tries := time.Now(), 0
	down := errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
	err := untilWritten(ctx, func(context.Context) error { tries++; return down })
	if !errors.Is(err, down) || time.Since(start) > 2*time.Second || tries < 2 || tries > 10 {
		t.Fatalf("err %v after %v and %d writes; want the last error, soon after 300ms, a few writes",
			err, time.Since(start), tries)
	}
}
