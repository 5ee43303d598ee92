package redisconn

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"
)

type silentRedisLogger struct{}

func (silentRedisLogger) Printf(context.Context, string, ...any) {}

// TestMain silences go-redis, which logs every failed dial and Sentinel
// switch: these tests cause many on purpose.
func TestMain(m *testing.M) {
	redis.SetLogger(silentRedisLogger{})
	os.Exit(m.Run())
}

func itoa(n int) string { return strconv.Itoa(n) }
