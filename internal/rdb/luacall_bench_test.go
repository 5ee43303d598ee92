package rdb

import (
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// BenchmarkRedisCallFromLua prices a command called from a Lua script
// beyond the command itself (Redis time, INFO commandstats): TIME as a
// command of its own, and a script calling TIME ten times against one
// calling nothing. Most of mxinvite's commands run inside its scripts, so
// its Redis time per invite (bench R2) follows how many redis.call()s they
// make more than what the commands do. Measured 2026-12-06 (2 cores,
// redis-server 7.0.15): 0.6 us beyond the command's own 0.3 us.
//
//	go test -run '^$' -bench RedisCallFromLua ./internal/rdb
func BenchmarkRedisCallFromLua(b *testing.B) {
	_, conn := newTestClient(b)
	ctx := b.Context()
	const inner = 10
	bare := redis.NewScript("return 1")
	loop := redis.NewScript("for i = 1, " + strconv.Itoa(inner) + " do redis.call('TIME') end return 1")
	usec := func(stat string, run func() error) float64 {
		for range 100 {
			if err := run(); err != nil {
				b.Fatal(err)
			}
		}
		conn.ConfigResetStat(ctx)
		for range b.N {
			if err := run(); err != nil {
				b.Fatal(err)
			}
		}
		for _, line := range strings.Split(conn.Info(ctx, "commandstats").Val(), "\r\n") {
			if rest, ok := strings.CutPrefix(line, "cmdstat_"+stat+":"); ok {
				for _, f := range strings.Split(rest, ",") {
					if v, ok := strings.CutPrefix(f, "usec="); ok {
						n, _ := strconv.ParseFloat(v, 64)
						return n / float64(b.N)
					}
				}
			}
		}
		b.Fatalf("no cmdstat_%s", stat)
		return 0
	}
	plain := usec("time", func() error { return conn.Time(ctx).Err() })
	empty := usec("evalsha", func() error { return bare.Run(ctx, conn, nil).Err() })
	calling := usec("evalsha", func() error { return loop.Run(ctx, conn, nil).Err() })
	b.ReportMetric(plain, "us-command")
	b.ReportMetric((calling-empty)/inner-plain, "us-beyond-command-from-lua")
}
