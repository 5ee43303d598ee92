package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// luaCallRow is what one command costs Redis when a Lua script calls it,
// beyond what it costs as a command of its own: TIME timed both ways with
// INFO commandstats. It is R2's bound: mxinvite's Redis time per invite is
// mostly its scripts' redis.call()s (R1 counts them), not the work of the
// commands they run.
func luaCallRow(ctx context.Context, e *env) row {
	const what = "Redis time of one command called from a Lua script, beyond the command itself"
	const calls, inner = 5000, 10
	bare := redis.NewScript("return 1")
	loop := redis.NewScript("for i = 1, " + strconv.Itoa(inner) + " do redis.call('TIME') end return 1")
	per := func(run func() error, stat string) (float64, error) {
		for range 100 { // loaded, warm
			if err := run(); err != nil {
				return 0, err
			}
		}
		if err := e.rdb.ConfigResetStat(ctx).Err(); err != nil {
			return 0, err
		}
		for range calls {
			if err := run(); err != nil {
				return 0, err
			}
		}
		info, err := e.rdb.Info(ctx, "commandstats").Result()
		if err != nil {
			return 0, err
		}
		for _, line := range strings.Split(info, "\r\n") {
			if rest, ok := strings.CutPrefix(line, "cmdstat_"+stat+":"); ok {
				for _, f := range strings.Split(rest, ",") {
					if v, ok := strings.CutPrefix(f, "usec="); ok {
						usec, err := strconv.ParseFloat(v, 64)
						return usec / calls, err
					}
				}
			}
		}
		return 0, fmt.Errorf("no cmdstat_%s", stat)
	}
	plain, err := per(func() error { return e.rdb.Time(ctx).Err() }, "time")
	if err != nil {
		return failed("R3", what, noGoal, err)
	}
	b, err := per(func() error { return bare.Run(ctx, e.rdb, nil).Err() }, "evalsha")
	if err != nil {
		return failed("R3", what, noGoal, err)
	}
	l, err := per(func() error { return loop.Run(ctx, e.rdb, nil).Err() }, "evalsha")
	if err != nil {
		return failed("R3", what, noGoal, err)
	}
	call := (l - b) / inner
	return reference("R3", what, fmt.Sprintf("%.2f µs (the command alone %.2f µs)", call-plain, plain),
		fmt.Sprintf("INFO commandstats: %d EVALSHA of a script calling TIME %d times (%.1f µs each) against a script that calls "+
			"nothing (%.1f µs), ÷ %d, less TIME as a command of its own; Redis runs R1's commands inside scripts this way, so "+
			"R2 follows the number of redis.call()s more than what they do", calls, inner, l, b, inner))
}
