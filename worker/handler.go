package worker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
)

// Handler executes invite:3pid tasks: each delivery runs the invite's job —
// attempts, waits and rate-limit pauses per the retry policy — until it has a
// final status, which it persists. Waits up to Config.InProcessWait are slept
// holding the task, for precision; longer ones hand the task back to asynq as
// a scheduled retry that does not count as a failure.
type Handler struct {
	cfg      Config
	store    *Store
	gate     *gate
	senders  map[string]*sender
	backoff  []time.Duration // the sender back-off's waits (backoff.go)
	breaker  *breaker
	stopping <-chan struct{}
}

// ProcessTask implements asynq.Handler.
func (h *Handler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	inv, err := tasks.DecodeInvite(t.Payload())
	if err != nil {
		h.cfg.Logger.Error().Err(err).Msg("dropping an undecodable invite task")
		return fmt.Errorf("undecodable invite: %v: %w", err, asynq.SkipRetry)
	}
	log := h.cfg.Logger.With().Str("task_id", inv.TaskID()).Str("campaign", inv.Campaign).Logger()
	ctx = log.WithContext(ctx)
	snd, ok := h.senders[inv.Sender]
	if !ok {
		// Not ours: it waits for a worker that serves its sender (status
		// says none is running, from the served-senders heartbeat).
		log.Debug().Str("sender", inv.Sender).Msg("no such sender profile here; handed back")
		return handBack(unservedDelay)
	}

	p, err := h.store.begin(ctx, inv, beginOptions{send: inv.IDServer != "" || snd.IDServer != "", finalOn5xx: h.cfg.FinalOn5xx})
	var held *heldError
	switch {
	case errors.Is(err, errDone), errors.Is(err, errStale):
		log.Info().Msg("not sent again: " + err.Error())
		return nil
	case errors.As(err, &held):
		log.Debug().Str("pause", string(held.scope)).Msg("held by a pause")
		return &handBackError{after: heldDelay(held.since), recorded: true}
	case err != nil:
		return err // Redis trouble: asynq retries the delivery.
	}
	j := &job{h: h, inv: inv, p: p, log: log, snd: snd}
	err = j.run(ctx)
	var hb *handBackError
	if errors.As(err, &hb) && !hb.recorded {
		// Show the invite as retrying while asynq holds it.
		if serr := h.store.attempt(ctx, p.Key, StateRetrying, attemptUpdate{}); serr != nil {
			return serr
		}
	}
	return err
}

// job is one delivery of one invite.
type job struct {
	h   *Handler
	inv tasks.Invite
	p   progress
	log zerolog.Logger
	snd *sender
	// reservedAt is when the gate slot of the request in flight was
	// reserved (Redis time, ms).
	reservedAt int64
	// trouble: when the slot was reserved, the sender had ambiguous
	// failures since its last success (backoff.go).
	trouble bool
}

func (j *job) run(ctx context.Context) error {
	h, inv, snd := j.h, j.inv, j.snd
	release, err := snd.slots.acquire(ctx, h.stopping)
	if err != nil {
		return err
	}
	defer release()
	idServer := inv.IDServer
	if idServer == "" {
		idServer = snd.IDServer
	}
	if idServer == "" {
		return j.end(ctx, finalOf(matrix.Status{Code: matrix.IncorrectRequest,
			Message: "no id_server: the task names none and the sender profile has no default"}), 0)
	}
	room := matrix.RoomID(inv.RoomID)
	needRecheck := j.p.ambiguous > 0 && !h.cfg.FinalOn5xx

	for {
		idToken, ended, err := j.prepare(ctx, room, idServer, &needRecheck)
		if err != nil || ended {
			return err
		}
		o := snd.client().InviteBy3PID(ctx, room, idServer, idToken, string(inv.Medium), inv.Address,
			matrix.WithTimeout(h.cfg.Policy.Timeout(j.p.retries)),
			matrix.WithRetryInterval(h.cfg.Policy.Wait(j.p.retries)),
			j.txnOption())
		h.cfg.Observer.Attempt(inv.Sender, o)
		if o.Status.Code == matrix.Abandoned {
			return j.abandoned(o)
		}
		next, err := j.decide(ctx, o)
		if err != nil || next.final {
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
	if j.p.sent {
		j.p.sent = false
		j.reservedAt, j.trouble = j.p.at, j.p.trouble
		j.h.cfg.Observer.GateWait(j.inv.Sender, 0)
		idToken, err = j.identityToken(ctx, idServer)
		return idToken, false, err
	}
	if err := j.sleepUntil(ctx, j.p.notBefore); err != nil {
		return "", false, err
	}
	if *needRecheck {
		if st := recheck(ctx, j.snd, room); !st.Good() {
			j.log.Warn().Str("status", st.Code.String()).Msg("re-check refused the invite; not sent again")
			return "", true, j.end(ctx, finalOf(st), 0)
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

// txnOption makes retries of the same invite (same generation) share one
// transaction ID, so a server with the PUT form answers a resend from its
// cache instead of inviting — and emailing — twice.
func (j *job) txnOption() matrix.CallOption {
	if j.h.cfg.NoTxnID {
		return nil // matrix skips nil options
	}
	return matrix.WithTxnID(strings.ReplaceAll(j.inv.TaskID(), ":", "_"))
}

type step struct{ final bool }

// decide applies the retry policy to an attempt's outcome and records it.
func (j *job) decide(ctx context.Context, o matrix.Outcome) (step, error) {
	h, now := j.h, time.Now()
	rateLimited := o.Status.Code == matrix.TooManyRequests
	u := attemptUpdate{attempts: 1, requestsDelta: o.Requests - 1, rateLimited: b2i(rateLimited)}

	if tokenRefusal(o) {
		if dead, _ := j.snd.tokenDead(ctx); dead {
			return step{final: true}, j.senderTokenDead(ctx, o, u)
		}
	}
	backoff, err := j.reportToGate(ctx, o)
	if err != nil {
		return step{}, err
	}
	if rateLimited {
		if err := h.gate.limited(ctx, j.inv.Sender, o.RetryAfter, j.reservedAt); err != nil {
			return step{}, err
		}
		if j.p.first429.IsZero() {
			j.p.first429 = now
		}
		if now.Sub(j.p.first429) >= h.cfg.MaxRateLimitWait {
			o.Status.Message = fmt.Sprintf("still rate limited after %s: %s", h.cfg.MaxRateLimitWait, o.Status.Message)
			return step{final: true}, j.end(ctx, finalOfOutcome(o), 1, u)
		}
	}
	retry, wait := h.cfg.Policy.Next(o, j.p.retries)
	if retry && o.Ambiguous() && h.cfg.FinalOn5xx {
		o.Status.Message += " (not retried: the server may have acted on it, and the worker is set to make such answers final)"
		retry = false
	}
	if !retry {
		return step{final: true}, j.end(ctx, finalOfOutcome(o), 1, u)
	}

	switch {
	case rateLimited: // 429s do not count against MaxRetries; their wait is the gate's.
	case backoff.spares():
		// The sender backs off: the cause is not this address's, and the
		// gate holds the invite until the sender's server is well again.
		wait = backoff.wait
	default:
		j.p.retries++
		j.p.notBefore = now.Add(wait)
	}
	if o.Ambiguous() {
		j.p.ambiguous++
	}
	state := StateActive
	if time.Until(j.p.notBefore) > h.cfg.InProcessWait {
		state = StateRetrying
	}
	u.fields = j.progressFields(o)
	if err := h.store.attempt(ctx, j.p.Key, state, u); err != nil {
		return step{}, err
	}
	j.log.Info().Str("status", o.Status.Code.String()).Int("http_status", o.HTTPStatus).
		Int64("wait_ms", wait.Milliseconds()).Int("retries", j.p.retries).Int("sender_backoff_level", backoff.level).
		Msg("attempt failed; retrying")
	if state == StateRetrying {
		return step{final: true}, &handBackError{after: max(time.Until(j.p.notBefore), 0), recorded: true}
	}
	return step{}, nil
}

func (j *job) progressFields(o matrix.Outcome) []any {
	return []any{
		"retries", j.p.retries, "ambiguous", j.p.ambiguous,
		"first_429_ms", msOrZero(j.p.first429), "not_before_ms", msOrZero(j.p.notBefore),
		"last_status", o.Status.Code.String(), "last_http_status", o.HTTPStatus,
		"last_error", j.scrub(o.Status.Message),
	}
}

// abandoned handles a delivery cancelled mid-attempt (shutdown past its
// timeout, lease lost): nothing final is recorded; a request that went out
// stays marked in flight, so the next delivery treats it as ambiguous.
func (j *job) abandoned(o matrix.Outcome) error {
	if o.Requests == 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = j.h.store.attempt(ctx, j.p.Key, StateQueued, attemptUpdate{requestsDelta: -1})
	}
	return fmt.Errorf("invite abandoned: %s", o.Status.Message)
}

// end records the final result and tells asynq not to retry.
func (j *job) end(ctx context.Context, f final, attempts int, u ...attemptUpdate) error {
	var upd attemptUpdate
	if len(u) > 0 {
		upd = u[0]
	}
	upd.attempts = attempts
	upd.fields = finalFields(f, j.scrub(f.status.Message), j.p)
	// The result must be written even if the delivery's context is ending,
	// and even if Redis is briefly unreachable (see finalWriteWindow).
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalWriteWindow)
	defer cancel()
	err := untilWritten(wctx, func(ctx context.Context) error {
		first, err := j.h.store.finish(ctx, j.p.Key, upd)
		if first { // once per invite, not again for a result already recorded
			j.h.cfg.Observer.InviteFinished(j.inv.Sender, j.inv.Campaign, f.status.Code, time.Since(j.inv.EnqueuedAt))
		}
		return err
	})
	if err != nil {
		return err
	}
	j.log.Info().Str("status", f.status.Code.String()).Int("http_status", f.httpStatus).Msg("invite finished")
	if f.status.Good() {
		return nil
	}
	if paused, err := j.h.breaker.failed(wctx, j.h.store, j.inv.Campaign, f); err != nil {
		j.log.Warn().Err(err).Msg("campaign breaker")
	} else if paused {
		j.log.Error().Str("status", f.status.Code.String()).Msg("campaign paused: its first invites all failed the same way")
	}
	return fmt.Errorf("invite ended %s: %w", f.status.Code, asynq.SkipRetry)
}

// finalFields are what a final result writes into the record. Empty and
// zero values are left out (a reader takes a missing field as empty or 0):
// a finished record is what stays in Redis, and most end Success at once.
func finalFields(f final, message string, p progress) []any {
	fields := []any{"status_code", int(f.status.Code), "status", f.status.Code.String(), "http_status", f.httpStatus,
		"finished_at", time.Now().UTC().Format(time.RFC3339Nano)}
	add := func(name string, v any, keep bool) {
		if keep {
			fields = append(fields, name, v)
		}
	}
	add("errcode", f.errcode, f.errcode != "")
	add("error", message, message != "")
	add("possible_duplicate", "1", f.status.Good() && p.ambiguous > 0)
	add("retries", p.retries, p.retries > 0)
	add("ambiguous", p.ambiguous, p.ambiguous > 0)
	return fields
}

// finalWriteWindow is how long a final result keeps being written while
// Redis cannot be reached (a restart, a failover). Giving up sooner hands the
// task back with the server's answer unrecorded: the next delivery finds the
// request still "in flight", re-checks and sends it again, which on a server
// without the idempotent PUT form (anything but Synapse, or NoTxnID) invites
// and emails the invitee a second time. go-redis alone gives up after a few
// reconnection attempts within a second, shorter than a Redis restart.
const finalWriteWindow = 30 * time.Second

// untilWritten runs write until it succeeds, fails for a reason other than
// a Redis that is unreachable or not ready yet (an error answer, a closed
// client), or ctx ends, waiting a little longer between tries (50 ms,
// doubling up to 1 s).
func untilWritten(ctx context.Context, write func(context.Context) error) error {
	wait := 50 * time.Millisecond
	for {
		err := write(ctx)
		if err == nil || !redisUnavailable(err) || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(2*wait, time.Second)
	}
}

// redisUnavailable reports whether err says Redis could not be reached, or
// answered that it cannot serve yet (loading its data after a restart, busy,
// failing over, out of memory until someone frees some), rather than
// refusing the command itself.
func redisUnavailable(err error) bool {
	if errors.Is(err, redis.ErrClosed) {
		return false // our own client is closed: no point trying again
	}
	var answer redis.Error
	if !errors.As(err, &answer) {
		return true // no answer: refused, reset, timed out
	}
	for _, prefix := range []string{"LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "READONLY", "OOM"} {
		if redis.HasErrorPrefix(answer, prefix) {
			return true
		}
	}
	return false
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

// final is what a result record says about how an invite ended.
type final struct {
	status     matrix.Status
	httpStatus int
	errcode    string
}

func finalOf(st matrix.Status) final { return final{status: st} }

func finalOfOutcome(o matrix.Outcome) final {
	return final{status: o.Status, httpStatus: o.HTTPStatus, errcode: string(o.ErrCode)}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func msOrZero(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}
