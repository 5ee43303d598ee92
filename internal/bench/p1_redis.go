package main

import (
	"fmt"
)

// Redis cost goals per invite on the success path.
const (
	redisCommandsGoal = 18  // issue 26 (was 20)
	redisCPUGoal      = 2.0 // × bare asynq's Redis CPU per task
)

// redisCostRows are the Redis commands and CPU per invite of mxinvite's P1
// run, asynq's own commands included, next to the naive handler's and bare
// asynq's: Redis is the one shared, single-threaded resource of a fleet.
func redisCostRows(mx p1Run, mxErr error, naive p1Run, naiveErr error, bare p1Run, bareErr error) []row {
	const cmdWhat, cpuWhat = "Redis commands per invite (asynq's included)", "Redis CPU per invite ÷ bare asynq's per task"
	cmdGoal, cpuGoal := fmt.Sprintf("≤ %d", redisCommandsGoal), fmt.Sprintf("≤ %.0f×", redisCPUGoal)
	per := func(n int64) float64 { return float64(n) / p1Invites }
	cpuPer := func(r p1Run) float64 { return float64(r.work.redisCPU.Microseconds()) / p1Invites }
	var rows []row
	if mxErr != nil {
		return []row{failed("R1", cmdWhat, cmdGoal, mxErr), failed("R2", cpuWhat, cpuGoal, mxErr)}
	}
	peers := ""
	if naiveErr == nil {
		peers += fmt.Sprintf("; naive handler %.1f (%.1f scripts)", per(naive.work.commands), per(naive.work.scripts))
	}
	if bareErr == nil {
		peers += fmt.Sprintf("; bare asynq %.1f (%.1f scripts)", per(bare.work.commands), per(bare.work.scripts))
	}
	c := per(mx.work.commands)
	rows = append(rows, row{id: "R1", what: cmdWhat, measured: fmt.Sprintf("%.1f", c), goal: cmdGoal, met: verdict(c <= redisCommandsGoal),
		notes: fmt.Sprintf("P1a's run: every command Redis ran (INFO commandstats delta; those inside Lua scripts are counted, "+
			"checked at start), %.1f of them EVALSHA/EVAL round trips%s; mxinvite's by name: %s",
			per(mx.work.scripts), peers, mx.work.top(p1Invites, 16))})
	if bareErr != nil {
		return append(rows, failed("R2", cpuWhat, cpuGoal, bareErr))
	}
	ratio := cpuPer(mx) / cpuPer(bare)
	naiveCPU := ""
	if naiveErr == nil {
		naiveCPU = fmt.Sprintf("; naive handler %.0f µs", cpuPer(naive))
	}
	return append(rows, row{id: "R2", what: cpuWhat, measured: fmt.Sprintf("%.1f× (%.0f µs ÷ %.0f µs)", ratio, cpuPer(mx), cpuPer(bare)),
		goal: cpuGoal, met: verdict(ratio <= redisCPUGoal),
		notes: "redis-server's used_cpu_user + used_cpu_sys delta over each run ÷ invites (P1a ÷ P1b)" + naiveCPU})
}
