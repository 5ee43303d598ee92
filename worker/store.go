package worker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/tasks"
)

// Store keeps invite records, campaign counters and the results stream in
// Redis (layout in keys.go). It is safe for concurrent use.
type Store struct {
	rdb          redis.UniversalClient
	k            keys
	streamMaxLen int64
}

// NewStore returns a Store writing under prefix ("" means "mxinvite").
func NewStore(rdb redis.UniversalClient, prefix string, streamMaxLen int64) *Store {
	if prefix == "" {
		prefix = "mxinvite"
	}
	return &Store{rdb: rdb, k: keys{prefix: prefix}, streamMaxLen: streamMaxLen}
}

// Verdict says what Register did.
type Verdict int

const (
	// Registered: the invite is new (or re-invited): enqueue it.
	Registered Verdict = 1
	// AlreadyPending: the same invite is queued, scheduled or in progress.
	AlreadyPending Verdict = 0
	// AlreadyDone: the same invite has a final result; re-invite with again.
	AlreadyDone Verdict = 2
)

// String names the verdict.
func (v Verdict) String() string {
	switch v {
	case Registered:
		return "registered"
	case AlreadyPending:
		return "already pending"
	case AlreadyDone:
		return "already done"
	}
	return "Verdict(" + strconv.Itoa(int(v)) + ")"
}

// Register records an invite a producer is about to enqueue and says whether
// to enqueue it. With again, a finished invite is re-invited as the next
// generation (the returned invite carries it, and so its new task ID); an
// invite still pending is never doubled. scheduled marks it as scheduled for
// later rather than queued.
func (s *Store) Register(ctx context.Context, inv tasks.Invite, scheduled, again bool) (Verdict, tasks.Invite, error) {
	state := StateQueued
	if scheduled {
		state = StateScheduled
	}
	key := inv.Key()
	gen0 := inv
	gen0.Generation = 0
	args := []any{s.k.prefix, key, state, boolArg(again), inv.EnqueuedAt.UnixMilli(), gen0.TaskID()}
	args = append(args, identityFields(inv)...)
	res, err := registerScript.Run(ctx, s.rdb, nil, args...).Int64Slice()
	if err != nil {
		return 0, inv, fmt.Errorf("register invite %s: %w", key, err)
	}
	inv.Generation = int(res[1])
	return Verdict(res[0]), inv, nil
}

// identityFields are the record fields that describe what was asked.
func identityFields(inv tasks.Invite) []any {
	return []any{
		"campaign", inv.Campaign, "room_id", inv.RoomID, "medium", string(inv.Medium),
		"address", inv.Address, "sender", inv.Sender, "id_server", inv.IDServer,
		"enqueued_at", inv.EnqueuedAt.UTC().Format(time.RFC3339Nano),
	}
}

// Get reads one invite's record; ok is false when there is none.
func (s *Store) Get(ctx context.Context, key string) (r Result, ok bool, err error) {
	h, err := s.rdb.HGetAll(ctx, s.k.invite(key)).Result()
	if err != nil {
		return Result{}, false, fmt.Errorf("read invite %s: %w", key, err)
	}
	if len(h) == 0 {
		return Result{}, false, nil
	}
	return resultFromHash(key, h), true, nil
}

// progress is the part of a record the handler works from.
type progress struct {
	Result
	retries    int       // retries taken, by the policy's count
	ambiguous  int       // attempts whose outcome is unknown
	first429   time.Time // when the invite was first rate limited
	notBefore  time.Time // do not send before this (a wait handed back to asynq)
	lastStatus string    // last attempt's status name, for the final record
}

// errStale and errDone tell the handler a delivery has nothing to do.
var (
	errStale = errors.New("a newer generation of this invite exists")
	errDone  = errors.New("this invite already has its final result")
)

// begin starts processing a delivered task (see beginScript).
func (s *Store) begin(ctx context.Context, inv tasks.Invite, taskID string) (progress, error) {
	args := []any{s.k.prefix, inv.Key(), inv.Generation, inv.EnqueuedAt.UnixMilli(), "task_id", taskID}
	args = append(args, identityFields(inv)...)
	res, err := beginScript.Run(ctx, s.rdb, nil, args...).StringSlice()
	if err != nil {
		return progress{}, fmt.Errorf("begin invite %s: %w", inv.Key(), err)
	}
	switch res[0] {
	case "stale":
		return progress{}, errStale
	case "done":
		return progress{}, errDone
	}
	h := make(map[string]string, len(res)/2)
	for i := 1; i+1 < len(res); i += 2 {
		h[res[i]] = res[i+1]
	}
	p := progress{Result: resultFromHash(inv.Key(), h)}
	p.retries, _ = strconv.Atoi(h["retries"])
	p.ambiguous, _ = strconv.Atoi(h["ambiguous"])
	p.first429 = msTime(h["first_429_ms"])
	p.notBefore = msTime(h["not_before_ms"])
	p.lastStatus = h["last_status"]
	return p, nil
}

// sending marks a request as about to go out (see sendingScript).
func (s *Store) sending(ctx context.Context, key string) error {
	if err := sendingScript.Run(ctx, s.rdb, nil, s.k.prefix, key).Err(); err != nil {
		return fmt.Errorf("mark invite %s sending: %w", key, err)
	}
	return nil
}

// attemptUpdate is what one finished attempt changes in a record.
type attemptUpdate struct {
	attempts, requestsDelta, rateLimited int
	fields                               []any
}

// attempt records a non-final attempt and the new state.
func (s *Store) attempt(ctx context.Context, key, state string, u attemptUpdate) error {
	args := []any{s.k.prefix, key, state, u.attempts, u.requestsDelta, u.rateLimited}
	args = append(args, u.fields...)
	if err := attemptScript.Run(ctx, s.rdb, nil, args...).Err(); err != nil {
		return fmt.Errorf("record attempt of invite %s: %w", key, err)
	}
	return nil
}

// finish records the final result once (see finishScript).
func (s *Store) finish(ctx context.Context, key string, u attemptUpdate) (bool, error) {
	args := []any{s.k.prefix, key, s.streamMaxLen, u.attempts, u.requestsDelta, u.rateLimited}
	args = append(args, u.fields...)
	n, err := finishScript.Run(ctx, s.rdb, nil, args...).Int()
	if err != nil {
		return false, fmt.Errorf("record result of invite %s: %w", key, err)
	}
	return n == 1, nil
}

func msTime(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n == 0 {
		return time.Time{}
	}
	return time.UnixMilli(n)
}

func boolArg(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
