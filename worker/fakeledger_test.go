package worker

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
)

// fakeLedger is a Ledger in memory, for tests of the job loop without
// Redis: every invite is new, the gate is always open, nothing is paused.
// It records what the job loop told it.
type fakeLedger struct {
	mu       sync.Mutex
	state    map[string]record.State
	attempts []record.AttemptUpdate
	finals   []record.Final
	limited  []time.Duration
	until    time.Time // the gate is closed until then (the last 429's advice)
	failed   int
}

func newFakeLedger() *fakeLedger { return &fakeLedger{state: map[string]record.State{}} }

func (f *fakeLedger) Begin(_ context.Context, inv tasks.Invite, _ rdb.BeginOptions) (record.Progress, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state[inv.Key()] == record.StateDone {
		return record.Progress{}, rdb.ErrDone
	}
	f.state[inv.Key()] = record.StateActive
	return record.Progress{Key: inv.Key(), Campaign: inv.Campaign}, nil
}

// BeginRef: the fake has no records to read a reference's invite from;
// tests of the job loop deliver whole invites.
func (f *fakeLedger) BeginRef(context.Context, tasks.InviteRef, rdb.BeginOptions) (record.Progress, tasks.Invite, error) {
	return record.Progress{}, tasks.Invite{}, errors.New("fakeLedger: no records; deliver whole invites")
}

func (f *fakeLedger) Attempt(_ context.Context, _ tasks.Invite, p record.Progress, s record.State, u record.AttemptUpdate) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state[p.Key] = s
	f.attempts = append(f.attempts, u)
	return nil
}

func (f *fakeLedger) Finish(_ context.Context, _ tasks.Invite, p record.Progress, _ record.AttemptUpdate, fin record.Final) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state[p.Key] == record.StateDone {
		return false, nil
	}
	f.state[p.Key] = record.StateDone
	f.finals = append(f.finals, fin)
	return true, nil
}

func (f *fakeLedger) Acquire(_ context.Context, _ tasks.Invite, _ record.Progress, maxWait time.Duration) (rdb.Slot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	switch wait := f.until.Sub(now); {
	case wait <= 0:
		return rdb.Slot{Sent: true, Reserved: true, At: now.UnixMilli()}, nil
	case wait > maxWait:
		return rdb.Slot{Wait: wait, At: now.UnixMilli()}, nil // longer than the caller sleeps
	default:
		return rdb.Slot{Reserved: true, Wait: wait, At: now.UnixMilli()}, nil
	}
}

func (f *fakeLedger) Send(context.Context, tasks.Invite, record.Progress) (time.Duration, bool, int64, error) {
	return 0, false, time.Now().UnixMilli(), nil
}

func (f *fakeLedger) Limited(_ context.Context, _ tasks.Invite, _ record.Progress, advice time.Duration, _, _ int64) (rdb.LimitDecision, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limited = append(f.limited, advice)
	f.until = time.Now().Add(advice)
	return rdb.LimitDecision{Scope: record.ScopeSender, Wait: advice}, nil
}

func (f *fakeLedger) Failed(context.Context, string, string, string, int64, int64, bool, int, []time.Duration) (rdb.BackoffVerdict, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failed++
	return rdb.BackoffVerdict{}, nil
}

func (f *fakeLedger) Recovered(context.Context, string) error { return nil }

func (f *fakeLedger) SetPause(context.Context, record.PauseScope, string, string, string) (bool, error) {
	return true, nil
}

func (f *fakeLedger) Breaker(context.Context, string, int, string, string) (rdb.BreakerVerdict, error) {
	return rdb.BreakerPassed, nil
}

// newFakeHandler is a Handler over a fake ledger and the fake homeserver:
// the job loop with no Redis and no asynq server.
func newFakeHandler(t *testing.T, hs *fakeHS) (*Handler, *fakeLedger) {
	t.Helper()
	cfg := Config{
		Profiles: []Profile{{Name: tasks.DefaultSender, HomeserverURL: hs.URL, AccessToken: testToken,
			IDServer: "id.example.org", IDAccessToken: testIDToken}},
		Policy: matrix.RetryPolicy{Timeouts: []time.Duration{2 * time.Second},
			Waits: []time.Duration{100 * time.Millisecond}, MaxRetries: 2},
		InProcessWait: time.Second,
		NoLookup:      true, // the 3PID job loop; resolve-first: sim_test.go
	}.WithDefaults()
	l := newFakeLedger()
	h := &Handler{cfg: cfg, ledger: l, senders: map[string]*sender{}, backoff: backoffSchedule(cfg.Policy.Waits, cfg.BackoffMax),
		resolver: matrix.NewResolver(cfg.LookupCacheTTL, 1), breaker: newBreaker(cfg.Breaker), stopping: make(chan struct{})}
	for _, p := range cfg.Profiles {
		h.senders[p.Name] = newSender(p, cfg)
	}
	return h, l
}

func inviteTask(t *testing.T, address string) (*asynq.Task, tasks.Invite) {
	t.Helper()
	inv, err := tasks.NewInvite(tasks.Invite{Campaign: "spring", RoomID: testRoom, Medium: tasks.MediumEmail, Address: address})
	if err != nil {
		t.Fatal(err)
	}
	task, err := inv.Task()
	if err != nil {
		t.Fatal(err)
	}
	return task, inv
}

// The job loop without Redis: an ambiguous 500 is retried after the
// policy's wait, re-checked first, and its success flagged a possible
// duplicate; a redelivery of the finished invite sends nothing.
func TestJobLoopWithoutRedis(t *testing.T) {
	hs := newFakeHS(t, serverError)
	h, l := newFakeHandler(t, hs)
	task, _ := inviteTask(t, "a@example.org")
	start := time.Now()
	if err := h.ProcessTask(t.Context(), task); err != nil {
		t.Fatalf("ProcessTask: %v", err)
	}
	seen := hs.seen()
	if len(seen) != 2 || seen[1].at.Sub(seen[0].at) < 100*time.Millisecond {
		t.Fatalf("server saw %d requests (%v); want 2, the second after the 100 ms wait", len(seen), time.Since(start))
	}
	if len(l.attempts) != 1 || l.attempts[0].Last == nil || l.attempts[0].Last.Status != matrix.NetworkError || l.attempts[0].Last.Ambiguous != 1 {
		t.Fatalf("attempts recorded %+v", l.attempts)
	}
	if len(l.finals) != 1 || l.finals[0].Status != matrix.Success || !l.finals[0].PossibleDuplicate || hs.rechecks == 0 {
		t.Fatalf("finals %+v, re-checks %d", l.finals, hs.rechecks)
	}
	if err := h.ProcessTask(t.Context(), task); err != nil || len(hs.seen()) != 2 {
		t.Fatalf("redelivery: %v, %d requests", err, len(hs.seen()))
	}
}

// A 429 whose advice is longer than the in-process wait hands the task
// back to asynq, not as a failure, after telling the gate; a 403 is final.
func TestJobLoopHandsBackLongWaitsAndEndsRefusals(t *testing.T) {
	limited := answer{status: 429, body: `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":5000}`}
	forbidden := answer{status: 403, body: `{"errcode":"M_FORBIDDEN","error":"not allowed"}`}
	hs := newFakeHS(t, limited, forbidden)
	h, l := newFakeHandler(t, hs)
	task, inv := inviteTask(t, "b@example.org")
	err := h.ProcessTask(t.Context(), task)
	var hb *handBackError
	if !errors.As(err, &hb) || isFailure(err) || len(l.limited) != 1 || l.limited[0] != 5*time.Second {
		t.Fatalf("after a 429 of 5 s: %v (failure %v), gate told %v", err, isFailure(err), l.limited)
	}
	if l.state[inv.Key()] != record.StateRetrying {
		t.Fatalf("state %s while asynq holds the invite, want retrying", l.state[inv.Key()])
	}
	l.until = time.Time{} // as after the advised time
	err = h.ProcessTask(t.Context(), task)
	if !errors.Is(err, asynq.SkipRetry) || len(l.finals) != 1 || l.finals[0].Status != matrix.ContentAccessError || l.finals[0].ErrCode != "M_FORBIDDEN" {
		t.Fatalf("after a 403: %v, finals %+v", err, l.finals)
	}
}
