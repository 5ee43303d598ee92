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
	finishedTTL  time.Duration // Config.FinishedTTL

	// The success path's writes, group-committed (batch.go).
	begins   *batcher[beginReq, beginRes]
	finishes *batcher[finishReq, finishRes]
}

// NewStore returns a Store writing under prefix ("" means "mxinvite").
func NewStore(rdb redis.UniversalClient, prefix string, streamMaxLen int64) *Store {
	if prefix == "" {
		prefix = "mxinvite"
	}
	s := &Store{rdb: rdb, k: keys{prefix: prefix}, streamMaxLen: streamMaxLen}
	s.begins = newBatcher(maxHotBatch, hotLinger, s.writeBegins)
	s.finishes = newBatcher(maxHotBatch, hotLinger, s.writeFinishes)
	return s
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
	// DuplicateInRun: the same import run already registered (or counted)
	// this invite: the row is a duplicate of an earlier row of the import.
	DuplicateInRun Verdict = 3
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
	case DuplicateInRun:
		return "duplicate in this import"
	}
	return "Verdict(" + strconv.Itoa(int(v)) + ")"
}

// RegisterOptions are the choices shared by the registrations of one call.
type RegisterOptions struct {
	// Again re-invites finished invites as a new generation.
	Again bool
	// ImportRun, if set, tags every registration with this import run ID
	// (kept in the record's "import_run" field). An invite the same run
	// already registered or counted is then DuplicateInRun: an importer
	// learns about duplicate rows from Redis instead of remembering every
	// address it read.
	ImportRun string
}

// Registration is one invite to register, and what came of it.
type Registration struct {
	// Invite is the invite; RegisterBatch sets its Generation.
	Invite tasks.Invite
	// Scheduled records the invite as scheduled rather than queued.
	Scheduled bool
	// ProcessAt, when not zero, is recorded as the "process_at" field, so
	// the schedule of an import can be read back from the records.
	ProcessAt time.Time
	// Verdict is set by RegisterBatch.
	Verdict Verdict
	// HeldBy is set by RegisterBatch for AlreadyPending and AlreadyDone: the
	// campaign of the existing record, which may be another campaign than
	// Invite.Campaign (the invite goes out, or went out, under that one).
	HeldBy string
}

// maxRegisterBatch bounds the invites of one registerScript call, which
// unpacks two values per invite into one ZADD: Lua's C stack holds 8,000.
const maxRegisterBatch = 1000

// RegisterBatch registers several invites, up to maxRegisterBatch per
// registerScript call (each call is atomic), filling in each Registration's
// Verdict and Invite.Generation. On error, some of the invites may have been
// registered: their records say queued without a task, which the next
// registration of the same invite repairs (see Producer.Enqueue).
func (s *Store) RegisterBatch(ctx context.Context, regs []Registration, opts RegisterOptions) error {
	for len(regs) > 0 {
		n := min(len(regs), maxRegisterBatch)
		if err := s.registerChunk(ctx, regs[:n], opts); err != nil {
			return err
		}
		regs = regs[n:]
	}
	return nil
}

// registerChunk runs registerScript once for regs.
func (s *Store) registerChunk(ctx context.Context, regs []Registration, opts RegisterOptions) error {
	args := make([]any, 0, 3+len(regs)*(5+2*9))
	args = append(args, s.k.prefix, boolArg(opts.Again), opts.ImportRun)
	for i := range regs {
		args = s.appendRegisterArgs(args, &regs[i])
	}
	res, err := registerScript.Run(ctx, s.rdb, nil, args...).Slice()
	if err == nil && len(res) != 3*len(regs) {
		err = fmt.Errorf("%d values in the reply, want %d", len(res), 3*len(regs))
	}
	if err != nil {
		if len(regs) == 1 {
			return fmt.Errorf("register invite %s: %w", regs[0].Invite.Key(), err)
		}
		return fmt.Errorf("register %d invites: %w", len(regs), err)
	}
	for i := range regs {
		verdict, okV := res[3*i].(int64)
		gen, okG := res[3*i+1].(int64)
		heldBy, okH := res[3*i+2].(string)
		if !okV || !okG || !okH {
			return fmt.Errorf("register %d invites: unexpected reply %v", len(regs), res[3*i:3*i+3])
		}
		regs[i].Verdict, regs[i].Invite.Generation, regs[i].HeldBy = Verdict(verdict), int(gen), heldBy
	}
	return nil
}

// appendRegisterArgs appends one invite's group of registerScript's ARGV.
func (s *Store) appendRegisterArgs(args []any, r *Registration) []any {
	state := StateQueued
	if r.Scheduled {
		state = StateScheduled
	}
	inv := r.Invite
	gen0 := inv
	gen0.Generation = 0
	fields := identityFields(inv)
	if !r.ProcessAt.IsZero() {
		fields = append(fields, "process_at", r.ProcessAt.UTC().Format(time.RFC3339Nano))
	}
	args = append(args, inv.Key(), state, inv.EnqueuedAt.UnixMilli(), gen0.TaskID(), len(fields)/2)
	return append(args, fields...)
}

// identityFields are the record fields that describe what was asked.
// An empty id_server (the sender profile's default) is left out: a
// reader takes a missing field as empty.
func identityFields(inv tasks.Invite) []any {
	f := []any{
		"campaign", inv.Campaign, "room_id", inv.RoomID, "medium", string(inv.Medium),
		"address", inv.Address, "sender", inv.Sender,
		"enqueued_at", inv.EnqueuedAt.UTC().Format(time.RFC3339Nano),
	}
	if inv.IDServer != "" {
		f = append(f, "id_server", inv.IDServer)
	}
	return f
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

// Holder is what an invite's record says about it: its state ("" when
// there is no record) and the campaign it belongs to.
type Holder struct {
	State, Campaign string
}

// Holders returns the Holder of each invite's record, by invite key, in one
// round trip. It writes nothing, so a dry run can tell what an import would
// do.
func (s *Store) Holders(ctx context.Context, keys []string) ([]Holder, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	cmds := make([]*redis.SliceCmd, len(keys))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.HMGet(ctx, s.k.invite(k), "state", "campaign")
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read the state of %d invites: %w", len(keys), err)
	}
	out := make([]Holder, len(keys))
	for i, c := range cmds {
		v := c.Val() // nil values: no record
		if len(v) == 2 {
			out[i].State, _ = v[0].(string)
			out[i].Campaign, _ = v[1].(string)
		}
	}
	return out, nil
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
