package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/mxinvite/mxinvite/tasks"
)

// memRun is Redis's memory around mxinvite's P1 run: used_memory (every
// structure, allocator-exact) before the invites were enqueued, once they
// were, and once they were finished; and, for the notes, where it went.
type memRun struct {
	before, queued, finished   int64
	queuedParts, finishedParts []memPart
	// stream is MEMORY USAGE of the results stream once finished (-1:
	// unreadable), for the figure without it.
	stream int64
}

// memPart is the bytes per invite of one kind of structure (MEMORY USAGE).
type memPart struct {
	what  string
	bytes float64
}

// usedMemory is INFO memory's used_memory (-1 when unreadable).
func (e *env) usedMemory(ctx context.Context) int64 {
	info, err := e.rdb.Info(ctx, "memory").Result()
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return -1
}

// keyBytes is MEMORY USAGE of key, every element counted (SAMPLES 0).
func (e *env) keyBytes(ctx context.Context, key string) float64 {
	n, err := e.rdb.Do(ctx, "MEMORY", "USAGE", key, "SAMPLES", "0").Int64()
	if err != nil {
		return 0
	}
	return float64(n)
}

// memSample is how many records and tasks are measured one by one.
const memSample = 200

// meanBytes is the mean MEMORY USAGE of the keys of memSample invites
// spread evenly over invs: not the first ones, whose shorter addresses
// (user0…user999) can fit a smaller allocator size class than the rest.
func (e *env) meanBytes(ctx context.Context, invs []tasks.Invite, key func(tasks.Invite) string) float64 {
	n := min(memSample, len(invs))
	if n == 0 {
		return 0
	}
	var sum float64
	for i := range n {
		sum += e.keyBytes(ctx, key(invs[i*len(invs)/n]))
	}
	return sum / float64(n)
}

// taskQueue is the asynq queue holding inv's task: the campaign's lane
// (internal/lanes) rather than the base queue, when it has one.
func (e *env) taskQueue(ctx context.Context, base string, inv tasks.Invite) string {
	queues, _ := e.rdb.SMembers(ctx, "asynq:queues").Result()
	for _, q := range append([]string{base}, queues...) {
		if e.rdb.Exists(ctx, "asynq:{"+q+"}:t:"+inv.TaskID()).Val() == 1 {
			return q
		}
	}
	return base
}

// queuedParts are the structures of a queued invite.
func (e *env) queuedParts(ctx context.Context, prefix, queue, campaign string, invs []tasks.Invite) []memPart {
	n := float64(len(invs))
	if len(invs) > 0 {
		queue = e.taskQueue(ctx, queue, invs[0])
	}
	return []memPart{
		{"record hash", e.meanBytes(ctx, invs, func(i tasks.Invite) string { return prefix + ":invite:" + i.Key() })},
		{"asynq task hash", e.meanBytes(ctx, invs, func(i tasks.Invite) string { return "asynq:{" + queue + "}:t:" + i.TaskID() })},
		{"asynq pending list", e.keyBytes(ctx, "asynq:{"+queue+"}:pending") / n},
		{"campaign index list", e.keyBytes(ctx, prefix+":campaign:"+campaign+":order") / n},
	}
}

// keyFloor is what a key named as an invite's record costs with one short
// field (MEMORY USAGE): Redis's own per-key overhead, which any layout
// with a key per invite pays before its content.
func (e *env) keyFloor(ctx context.Context, prefix string) float64 {
	key := prefix + ":invite:" + strings.Repeat("0", 32)
	if err := e.rdb.HSet(ctx, key, "s", "d").Err(); err != nil {
		return 0
	}
	defer e.rdb.Del(ctx, key)
	return e.keyBytes(ctx, key)
}

// finishedParts are the structures of a finished invite.
func (e *env) finishedParts(ctx context.Context, prefix, campaign string, invs []tasks.Invite) []memPart {
	n := float64(len(invs))
	parts := []memPart{{"record hash", e.meanBytes(ctx, invs, func(i tasks.Invite) string { return prefix + ":invite:" + i.Key() })},
		{"of which the key's own cost (a one-field hash of the same name)", e.keyFloor(ctx, prefix)}}
	if e.rdb.Exists(ctx, prefix+":results").Val() == 1 {
		parts = append(parts, memPart{"results stream", e.keyBytes(ctx, prefix+":results") / n})
	}
	return append(parts, memPart{"campaign index list", e.keyBytes(ctx, prefix+":campaign:"+campaign+":order") / n})
}

func fmtParts(parts []memPart) string {
	var s []string
	for _, p := range parts {
		s = append(s, fmt.Sprintf("%s %.0f B", p.what, p.bytes))
	}
	return strings.Join(s, ", ")
}

// P1 memory goals (bytes per invite; issue 26).
const (
	memQueuedGoal       = 700
	memFinishedGoal     = 400 // with its results stream entry
	memFinishedBareGoal = 250 // without (its entry trimmed past --results-stream-max)
)

// memoryRows are Redis's bytes per queued and per finished invite.
func memoryRows(mx p1Run, err error) []row {
	const queuedWhat, finishedWhat = "Redis memory per queued invite (asynq's task included)", "Redis memory per finished invite"
	const bareWhat = "Redis memory per finished invite without the results stream"
	qGoal, fGoal, bGoal := fmt.Sprintf("≤ %d B", memQueuedGoal), fmt.Sprintf("≤ %d B", memFinishedGoal), fmt.Sprintf("≤ %d B", memFinishedBareGoal)
	m := mx.mem
	if err == nil && (m.before < 0 || m.queued < 0 || m.finished < 0 || m.stream < 0) {
		err = fmt.Errorf("INFO memory or MEMORY USAGE unreadable")
	}
	if err != nil {
		return []row{failed("M1", queuedWhat, qGoal, err), failed("M2", finishedWhat, fGoal, err), failed("M2s", bareWhat, bGoal, err)}
	}
	q := float64(m.queued-m.before) / p1Invites
	f := float64(m.finished-m.before) / p1Invites
	fb := float64(m.finished-m.before-m.stream) / p1Invites
	how := fmt.Sprintf("used_memory delta over the %s invites of P1a (every structure: keys, values, Redis's own per-key overhead) ÷ %s",
		fmtInt(p1Invites), fmtInt(p1Invites))
	return []row{
		{id: "M1", what: queuedWhat, measured: fmt.Sprintf("%.0f B", q), goal: qGoal, met: verdict(q <= memQueuedGoal),
			notes: how + ", after enqueue; MEMORY USAGE per invite: " + fmtParts(m.queuedParts)},
		{id: "M2", what: finishedWhat, measured: fmt.Sprintf("%.0f B", f), goal: fGoal, met: verdict(f <= memFinishedGoal),
			notes: how + ", once every invite is final and the worker has stopped (asynq deletes finished tasks); MEMORY USAGE per invite: " +
				fmtParts(m.finishedParts)},
		{id: "M2s", what: bareWhat, measured: fmt.Sprintf("%.0f B", fb), goal: bGoal, met: verdict(fb <= memFinishedBareGoal),
			notes: "M2's used_memory delta less the results stream's MEMORY USAGE (SAMPLES 0), ÷ " + fmtInt(p1Invites) +
				": what a finished invite costs once its stream entry is trimmed (past --results-stream-max, default 100,000 entries; 0 means no cap, not no stream)"},
	}
}
