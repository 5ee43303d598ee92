package record

import (
	"time"

	"github.com/mxinvite/mxinvite/matrix"
)

// Progress is the part of a record a delivery works from: what earlier
// deliveries of the same invite did, and what its begin found.
type Progress struct {
	// Key is the invite key (tasks.Invite.Key).
	Key string
	// Campaign is the campaign whose counters the delivery moves: its
	// record's (the task's, unless a task was enqueued by hand for an
	// invite another campaign registered).
	Campaign string
	// Retries counts retries taken, by the policy's count; Ambiguous the
	// attempts whose outcome is unknown (5xx, timeouts after sending, a
	// worker that died mid-request); Failures the answers that said its
	// sender's server failed (5xx, timeouts, no answer), spared or not.
	Retries, Ambiguous, Failures int
	// First429 is when the invite was first rate limited; NotBefore when
	// its next request may go (a wait handed back to asynq).
	First429, NotBefore time.Time

	// Sent: begin found the sender's gate open and marked the first
	// request in flight, its slot reserved at ReservedAt (Redis time, ms);
	// the delivery sends it now without asking the gate.
	Sent       bool
	ReservedAt int64
	// Trouble: the sender had ambiguous failures since its last success
	// when the slot was reserved (the delivery reports its success).
	Trouble bool
	// Path is the rate-limit path of the delivery's requests (whose gate
	// they wait for): the 3PID path unless resolve-first found an account.
	Path Path
}

// AttemptUpdate is what one attempt, or one step of a delivery, changes in
// a record and its campaign's counters.
type AttemptUpdate struct {
	// Attempts, RequestsDelta and RateLimited are added to the record's and
	// the campaign's counters. RequestsDelta counts requests beyond the one
	// counted when the request was marked in flight (-1: none went out).
	Attempts, RequestsDelta, RateLimited int
	// LimitScope is the scope the gate gave a 429 (with RateLimited 1),
	// counted per campaign as "limited:{scope}".
	LimitScope LimitScope
	// Accepted says the server let the request through its rate limits
	// (a 2xx, a 4xx other than 429, a 5xx with a Matrix errcode); it went
	// out at SentAt (Redis time, ms): evidence of whose a 429 is
	// (internal/rdb/scope.go).
	Accepted bool
	SentAt   int64
	// Recovers says the answer shows the sender's server working (a 2xx or
	// 4xx other than 429, not a retried failure): a final one ends the
	// sender's run of failures (internal/rdb/backoff.go).
	Recovers bool
	// Last, when set, is the progress after a failed attempt, written with it.
	Last *LastAttempt
}

// LastAttempt is the progress an invite keeps after a failed attempt.
type LastAttempt struct {
	Retries, Ambiguous  int
	Failures            int
	First429, NotBefore time.Time
	Status              matrix.StatusCode
	HTTPStatus          int
	// LimitScope is the scope of its last 429.
	LimitScope LimitScope
	// Error is the answer's message, scrubbed of secrets.
	Error string
}

// Final is how an invite ended: what its record keeps for good.
type Final struct {
	Status     matrix.StatusCode
	HTTPStatus int
	ErrCode    string
	// Error is the message, scrubbed of secrets.
	Error string
	// PossibleDuplicate: it succeeded after an ambiguous attempt.
	PossibleDuplicate bool
	Retries           int
	Ambiguous         int
	FinishedAt        time.Time
	// Delivery is how it went out (or why it needed no request); UserID
	// the invitee's account when known; JoinedAt when the worker saw that
	// account joined (already_joined), zero otherwise.
	Delivery Delivery
	UserID   string
	JoinedAt time.Time
}
