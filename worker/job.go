package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/turns"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
)

// job is one delivery of one invite.
type job struct {
	h   *Handler
	inv tasks.Invite
	p   record.Progress
	log zerolog.Logger
	snd *sender
	// reservedAt is when the gate slot of the request in flight was
	// reserved, sentAt when it went out (Redis time, ms): the pace compares
	// the one, the evidence of whose a 429 is the other (internal/rdb).
	reservedAt, sentAt int64
	// markedAt is when this process learnt the request was marked in
	// flight (local clock, at sentAt): the request really goes later, when
	// it is written (sentOf).
	markedAt time.Time
	// trouble: when the slot was reserved, the sender had ambiguous
	// failures since its last success (backoff.go).
	trouble  bool
	priority tasks.Priority // its lane's: its turn for the sender's slots

	// userID: the account resolve-first found, invited by Matrix ID
	// (j.p.Path is then record.PathMatrixID).
	userID matrix.UserID
}

func (j *job) run(ctx context.Context) error {
	h, inv, snd := j.h, j.inv, j.snd
	release, err := snd.slots.Acquire(ctx, h.stopping, j.priority)
	if errors.Is(err, turns.ErrStopping) {
		return handBack(0) // nothing was sent: back to the queue at once
	}
	if err != nil {
		return err
	}
	defer release()
	idServer := inv.IDServer
	if idServer == "" {
		idServer = snd.IDServer
	}
	if idServer == "" {
		return j.end(ctx, record.Final{Status: matrix.IncorrectRequest,
			Error: "no id_server: the task names none and the sender profile has no default"}, record.AttemptUpdate{})
	}
	room := matrix.RoomID(inv.RoomID)
	needRecheck := j.p.Ambiguous > 0 && !h.cfg.FinalOn5xx
	if !h.cfg.NoLookup {
		if ended, err := j.resolveFirst(ctx, room, idServer); err != nil || ended {
			return err
		}
	}

	for {
		idToken, ended, err := j.prepare(ctx, room, idServer, &needRecheck)
		if err != nil || ended {
			return err
		}
		var o matrix.Outcome
		if j.p.Path == record.PathMatrixID {
			o = snd.client().InviteByUserID(ctx, room, j.userID,
				matrix.WithTimeout(h.cfg.Policy.Timeout(j.p.Retries)),
				matrix.WithRetryInterval(h.cfg.Policy.Wait(j.p.Retries)))
		} else {
			o = snd.client().InviteBy3PID(ctx, room, idServer, idToken, string(inv.Medium), inv.Address,
				matrix.WithTimeout(h.cfg.Policy.Timeout(j.p.Retries)),
				matrix.WithRetryInterval(h.cfg.Policy.Wait(j.p.Retries)),
				j.txnOption())
		}
		j.sentAt = j.sentOf(o)
		h.cfg.Observer.Attempt(inv.Sender, o)
		if o.Status.Code == matrix.Abandoned {
			return j.abandoned(o)
		}
		final, err := j.decide(ctx, o)
		if err != nil || final {
			return err
		}
		needRecheck = needRecheck || (o.Ambiguous() && !h.cfg.FinalOn5xx)
	}
}

// prepare readies the next request: it waits until the invite's
// not_before, re-checks after an ambiguous attempt and waits for the
// sender's gate, which marks the request in flight. For a first request
// that begin already marked in flight (the gate was open), all of it was
// done in begin's round trip. ended: the re-check made the invite final
// (err is then end's).
func (j *job) prepare(ctx context.Context, room matrix.RoomID, idServer string, needRecheck *bool) (idToken string, ended bool, err error) {
	if j.p.Sent {
		j.p.Sent = false
		j.reservedAt, j.sentAt, j.trouble = j.p.ReservedAt, j.p.ReservedAt, j.p.Trouble
		j.h.cfg.Observer.GateWait(j.inv.Sender, 0)
		idToken, err = j.identityToken(ctx, idServer)
		return idToken, false, err
	}
	if err := j.sleepUntil(ctx, j.p.NotBefore); err != nil {
		return "", false, err
	}
	if *needRecheck {
		if st := recheck(ctx, j.snd, room); !st.Good() {
			j.log.Warn().Str("status", st.Code.String()).Msg("re-check refused the invite; not sent again")
			return "", true, j.end(ctx, record.Final{Status: st.Code, Error: st.Message}, record.AttemptUpdate{})
		}
		if err := j.recheckIdentity(ctx, idServer); err != nil {
			return "", false, err
		}
		*needRecheck = false
	}
	if idToken, err = j.identityToken(ctx, idServer); err != nil {
		return "", false, err
	}
	gateStart := time.Now()
	if err := j.waitForGate(ctx); err != nil {
		return "", false, err
	}
	j.h.cfg.Observer.GateWait(j.inv.Sender, time.Since(gateStart))
	return idToken, false, nil
}

// sentOf is when the request of o really went out, in Redis time: marked
// in flight at sentAt, written to the wire later (after the sender's slot,
// an identity token, a loaded scheduler). The evidence of whose a 429 is
// compares send times to a few milliseconds (internal/rdb/scope.go): a
// request counted as sent long before it went could misfile a sender's
// limit as an invitee's.
func (j *job) sentOf(o matrix.Outcome) int64 {
	if o.WroteAt.IsZero() || j.markedAt.IsZero() || !o.WroteAt.After(j.markedAt) {
		return j.sentAt
	}
	return j.sentAt + o.WroteAt.Sub(j.markedAt).Milliseconds()
}

// txnOption makes retries of the same invite (same generation) share one
// transaction ID, so a server with the PUT form answers a resend from its
// cache instead of inviting — and emailing — twice.
func (j *job) txnOption() matrix.CallOption {
	if j.h.cfg.NoTxnID {
		return nil // matrix skips nil options
	}
	return matrix.WithTxnID(strings.ReplaceAll(j.inv.TaskID(), ":", "_"))
}

// decide applies the retry policy to an attempt's outcome and records it;
// final is set when the delivery is over (the invite ended, or was handed
// back or held).
func (j *job) decide(ctx context.Context, o matrix.Outcome) (final bool, err error) {
	h, now := j.h, time.Now()
	rateLimited := o.Status.Code == matrix.TooManyRequests
	u := record.AttemptUpdate{Attempts: 1, RequestsDelta: o.Requests - 1, RateLimited: b2i(rateLimited),
		Accepted: accepted(o), SentAt: j.sentAt, Recovers: recovers(o)}

	if tokenRefusal(o) {
		if dead, _ := j.snd.tokenDead(ctx); dead {
			return true, j.senderTokenDead(ctx, o, u)
		}
	}
	if j.p.Path == record.Path3PID && threePIDLookupOff(o) {
		return true, j.campaignThreePIDOff(ctx, o, u)
	}
	backoff, err := j.reportToGate(ctx, o)
	if err != nil {
		return false, err
	}
	if rateLimited {
		d, err := h.ledger.Limited(ctx, j.inv, j.p, o.RetryAfter, j.reservedAt, j.sentAt)
		if err != nil {
			return false, err
		}
		u.LimitScope = d.Scope
		j.log.Debug().Str("limit_scope", string(d.Scope)).Str("why", d.Why).Msg("whose the 429 is")
		if j.p.First429.IsZero() {
			j.p.First429 = now
		}
		if now.Sub(j.p.First429) >= h.cfg.MaxRateLimitWait {
			o.Status.Message = fmt.Sprintf("still rate limited after %s: %s", h.cfg.MaxRateLimitWait, o.Status.Message)
			return true, j.end(ctx, j.finalOf(o), u)
		}
	}
	retry, wait := h.cfg.Policy.Next(o, j.p.Retries+backoff.Owed)
	if retry && o.Ambiguous() && h.cfg.FinalOn5xx {
		o.Status.Message += " (not retried: the server may have acted on it, and the worker is set to make such answers final)"
		retry = false
	}
	if !retry {
		return true, j.end(ctx, j.finalOf(o), u)
	}

	// An earlier failure spared only provisionally is charged now,
	// whatever this one is (backoff.go).
	j.p.Retries += backoff.Owed
	switch {
	case rateLimited:
		// 429s do not count against MaxRetries. The invite waits its own
		// advice whatever the scope; a sender-scoped one also holds the
		// sender's other invites (its gate), a room-scoped one those into
		// the room.
		j.p.NotBefore = now.Add(wait)
	case spares(backoff):
		// The sender backs off: the cause is not this address's, and the
		// gate holds the invite until the sender's server is well again.
		wait = backoff.Wait
	case backoff.Provisional:
		// Perhaps the sender's: no retry spent for now (backoff.go), the
		// wait is the invite's own.
		j.p.NotBefore = now.Add(wait)
	default:
		j.p.Retries++
		j.p.NotBefore = now.Add(wait)
	}
	if o.Ambiguous() {
		j.p.Ambiguous++
	}
	state := record.StateActive
	if time.Until(j.p.NotBefore) > h.cfg.InProcessWait {
		state = record.StateRetrying
	}
	u.Last = j.last(o, u.LimitScope)
	if err := h.ledger.Attempt(ctx, j.inv, j.p, state, u); err != nil {
		return false, err
	}
	ev := j.log.Info().Str("status", o.Status.Code.String()).Int("http_status", o.HTTPStatus).
		Int64("wait_ms", wait.Milliseconds()).Int("retries", j.p.Retries).Int("sender_backoff_level", backoff.Level)
	if u.LimitScope != "" {
		ev = ev.Str("limit_scope", string(u.LimitScope))
	}
	ev.Msg("attempt failed; retrying")
	if state == record.StateRetrying {
		return true, &handBackError{after: max(time.Until(j.p.NotBefore), 0), recorded: true}
	}
	return false, nil
}

// last is the progress a failed attempt leaves in the record.
func (j *job) last(o matrix.Outcome, scope record.LimitScope) *record.LastAttempt {
	return &record.LastAttempt{
		Retries: j.p.Retries, Ambiguous: j.p.Ambiguous, Failures: j.p.Failures, First429: j.p.First429, NotBefore: j.p.NotBefore,
		Status: o.Status.Code, HTTPStatus: o.HTTPStatus, Error: j.scrub(o.Status.Message),
		LimitScope: scope,
	}
}

// abandoned handles a delivery cancelled mid-attempt (shutdown past its
// timeout, lease lost): nothing final is recorded; a request that went out
// stays marked in flight, so the next delivery treats it as ambiguous.
func (j *job) abandoned(o matrix.Outcome) error {
	if o.Requests == 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = j.h.ledger.Attempt(ctx, j.inv, j.p, record.StateQueued, record.AttemptUpdate{RequestsDelta: -1})
	}
	return fmt.Errorf("invite abandoned: %s", o.Status.Message)
}

// scrub removes the sender's secrets from text bound for Redis or logs
// (matrix redacts the tokens it knows; this is the belt to its braces).
func (j *job) scrub(s string) string {
	if j.snd == nil {
		return s
	}
	for _, secret := range j.snd.secrets() {
		s = strings.ReplaceAll(s, secret, "(REDACTED)")
	}
	return s
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// accepted reports whether the server let the request through its rate
// limits: it answered a 2xx, a 4xx other than 429, or a 5xx with a Matrix
// error body (Synapse's own answer after its limiters, e.g. when the
// identity server failed) — not a proxy's page, not a timeout. The sender's
// gate takes that as evidence of whose a 429 is (internal/rdb/scope.go).
func accepted(o matrix.Outcome) bool {
	if o.Requests == 0 || o.HTTPStatus < 200 || o.HTTPStatus == 429 {
		return false
	}
	return o.HTTPStatus < 500 || (o.ErrCode != "" && o.ErrCode != matrix.MLimitExceeded)
}
