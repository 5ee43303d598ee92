package record

import (
	"fmt"
	"slices"
	"strings"
)

// State is where an invite stands. It is kept in the invite's record and
// counted per campaign: every invite of a campaign is in exactly one state.
type State string

// The states of an invite. StateNone is not stored: it stands for "no
// record" in the transition table.
const (
	StateNone State = ""
	// StateQueued: registered, its task waits in asynq's queue.
	StateQueued State = "queued"
	// StateScheduled: registered for a later time (enqueue --at/--in/--spread).
	StateScheduled State = "scheduled"
	// StateActive: a worker holds it: sending, or waiting in-process for its
	// next attempt or its sender's rate-limit gate.
	StateActive State = "active"
	// StateRetrying: handed back to asynq until its next attempt is due.
	StateRetrying State = "retrying"
	// StatePaused: held by a sender or campaign pause; not sent until resumed.
	StatePaused State = "paused"
	// StateDone: it has its final result (status code). Never sent again.
	StateDone State = "done"
	// StateCancelled: cancelled before it was sent. The record stays so the
	// campaign's counts still add up; a later registration of the same
	// invite replaces it as a new generation.
	StateCancelled State = "cancelled"
)

// StateRecovering is a display state, never stored and in no transition:
// an invite stored as "active" whose worker's heartbeat has lapsed (the
// worker died, or lost Redis). status, the dashboard and counts show it
// instead of "active" until another worker (or the restarted one) takes the
// invite over, within seconds (docs/reliability.md).
//
// Why derived, not stored: a dead worker writes nothing, so a stored state
// would need someone else to write it at the moment of death, and until then
// the invite would still read "active". Liveness is a fact about the
// worker's heartbeat, read at display time; the record keeps "active" (with
// the worker's identity in its "owner" field) and the state table stays the
// table of what the scripts write.
const StateRecovering State = "recovering"

// States lists every stored state, in the order reports show them.
var States = []State{StateQueued, StateScheduled, StateActive, StateRetrying, StatePaused, StateDone, StateCancelled}

// DisplayStates are the states reports show: States with StateRecovering
// after StateActive.
var DisplayStates = []State{StateQueued, StateScheduled, StateActive, StateRecovering, StateRetrying, StatePaused, StateDone, StateCancelled}

// Pending reports whether an invite in state s may still be sent.
func (s State) Pending() bool { return s != StateDone && s != StateCancelled && s != StateNone }

// Op is what makes a transition: a producer's registration, a step of a
// worker's delivery, an operator's action.
type Op string

// The operations that move an invite between states. Each names the Redis
// script that performs it (internal/rdb).
const (
	// OpRegister: a producer registers a new invite (register script).
	OpRegister Op = "register"
	// OpReinvite: a producer registers an invite again over a finished one
	// (--again, retry) or a cancelled one, as a new generation (register).
	OpReinvite Op = "reinvite"
	// OpAdopt: a worker is delivered a task no producer registered and
	// creates its record (begin).
	OpAdopt Op = "adopt"
	// OpBegin: a delivery starts (begin).
	OpBegin Op = "begin"
	// OpHold: a pause holds the invite (begin, gate, attempt).
	OpHold Op = "hold"
	// OpAttempt: an attempt failed and the next one waits in-process (attempt).
	OpAttempt Op = "attempt"
	// OpHandBack: the next attempt is handed back to asynq (attempt).
	OpHandBack Op = "hand-back"
	// OpAbandon: a delivery was cancelled before its request went out
	// (shutdown past its timeout); the task goes back to the queue (attempt).
	OpAbandon Op = "abandon"
	// OpFinish: the final result is recorded (finish).
	OpFinish Op = "finish"
	// OpCancel: an operator cancels the campaign's unsent invites (cancel).
	OpCancel Op = "cancel"
	// OpForget: the record is deleted: purged, replaced by a new
	// generation, or older than its task's generation (purge, register, begin).
	OpForget Op = "forget"
)

// Transition is one allowed change of an invite's state.
type Transition struct {
	From, To State
	Op       Op
	// Why says when it happens.
	Why string
}

// unsent are the states of an invite whose request has not gone out yet
// in this delivery (or has, and its worker died: active).
var unsent = []State{StateQueued, StateScheduled, StateRetrying, StatePaused, StateActive}

// Transitions is the invite's state machine: every state change any Redis
// script makes is one of these, and the scripts refuse any other (the
// table is compiled into their Lua, see internal/rdb/lua.go).
var Transitions = func() []Transition {
	t := []Transition{
		{StateNone, StateQueued, OpRegister, "a new invite, to send now"},
		{StateNone, StateScheduled, OpRegister, "a new invite, to send later"},
		{StateDone, StateQueued, OpReinvite, "re-invited (--again, retry) as a new generation"},
		{StateDone, StateScheduled, OpReinvite, "re-invited for later"},
		{StateCancelled, StateQueued, OpReinvite, "a cancelled invite enqueued again"},
		{StateCancelled, StateScheduled, OpReinvite, "a cancelled invite enqueued again for later"},
		{StateNone, StateQueued, OpAdopt, "a task enqueued without registration is delivered"},
		{StateActive, StateActive, OpAttempt, "an attempt failed; the next waits in-process"},
		{StateActive, StateRetrying, OpHandBack, "the next attempt is due later than the in-process wait"},
		{StateActive, StatePaused, OpHold, "a pause began while the delivery waited for its slot"},
		{StateActive, StateQueued, OpAbandon, "the delivery was stopped before its request went out"},
		{StateDone, StateNone, OpForget, "purged, or replaced by a new generation"},
		{StateCancelled, StateNone, OpForget, "purged, or replaced by a new generation"},
	}
	for _, s := range unsent {
		t = append(t,
			Transition{s, StateActive, OpBegin, "a worker takes the invite (active: its worker died mid-request; the attempt counts as ambiguous)"},
			Transition{s, StatePaused, OpHold, "a pause of its sender or campaign holds it when delivered"},
			Transition{s, StateDone, OpFinish, "its final result"},
			Transition{s, StateNone, OpForget, "its task is of a newer generation than the record"},
		)
		if s != StateActive {
			t = append(t, Transition{s, StateCancelled, OpCancel, "cancelled before it was sent (an invite being sent is not)"})
		}
	}
	return t
}()

// Allowed reports whether op may move an invite from one state to another.
// (A write that leaves the state as it is changes nothing and is not
// checked.)
func Allowed(op Op, from, to State) bool {
	return slices.ContainsFunc(Transitions, func(t Transition) bool {
		return t.Op == op && t.From == from && t.To == to
	})
}

// TransitionError is a state change the table does not allow.
type TransitionError struct {
	Op       Op
	From, To State
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("invite state %q -> %q by %s is not in the state table", e.From, e.To, e.Op)
}

// Table renders the transitions as a Markdown table, the sources of one
// change grouped in a row, in the order of Transitions: docs/architecture.md
// shows it (a test keeps the two equal).
func Table() string {
	type row struct {
		from   []string
		to, op string
		why    string
	}
	name := func(s State) string {
		if s == StateNone {
			return "(none)"
		}
		return string(s)
	}
	var rows []*row
	index := map[string]*row{}
	for _, t := range Transitions {
		k := string(t.To) + "|" + string(t.Op) + "|" + t.Why
		r := index[k]
		if r == nil {
			r = &row{to: name(t.To), op: string(t.Op), why: t.Why}
			index[k] = r
			rows = append(rows, r)
		}
		r.from = append(r.from, name(t.From))
	}
	var b strings.Builder
	b.WriteString("| from | to | by | when |\n|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", strings.Join(r.from, ", "), r.to, r.op, r.why)
	}
	return b.String()
}
