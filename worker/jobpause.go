package worker

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/mxinvite/mxinvite/matrix"
)

// hold ends a delivery because a pause holds its invite: the attempt (if
// any) is recorded, the record says "paused", and the task goes back to
// the queue to look at the pause again later. Nothing is final.
func (j *job) hold(ctx context.Context, u attemptUpdate) error {
	if err := j.h.store.attempt(ctx, j.p.Key, StatePaused, u); err != nil {
		return err
	}
	return &handBackError{after: minHeldDelay, recorded: true}
}

// senderTokenDead pauses the sender after an invite was answered 401 and
// whoami confirmed the token is dead: the invite stays queued (it is not
// the address's fault), and no further request goes out with that token.
func (j *job) senderTokenDead(ctx context.Context, o matrix.Outcome, u attemptUpdate) error {
	snd := j.snd
	reason := fmt.Sprintf("the homeserver refuses the access token of sender %q (%s %s)", snd.Name, o.ErrCode, j.scrub(o.ServerError))
	if snd.AccessTokenFile != "" {
		reason += fmt.Sprintf("; write a new token into %s and the workers resume by themselves, or run: mxinvite resume --sender %s", snd.AccessTokenFile, snd.Name)
	} else {
		reason += fmt.Sprintf("; restart the workers with a new token, then run: mxinvite resume --sender %s", snd.Name)
	}
	u.fields = j.progressFields(o)
	return j.pauseSender(ctx, PauseDeadToken, reason, u)
}

// pauseSender pauses the invite's sender and holds the invite (recording
// the attempt u, if one was made).
func (j *job) pauseSender(ctx context.Context, kind, reason string, u attemptUpdate) error {
	if err := j.h.pauseSender(ctx, j.log, j.snd.Name, kind, reason); err != nil {
		return err
	}
	return j.hold(ctx, u)
}

// pauseSender pauses a sender in Redis; the worker that set the pause (not
// the others meeting it) logs it and tells the observer.
func (h *Handler) pauseSender(ctx context.Context, log zerolog.Logger, sender, kind, reason string) error {
	created, err := h.store.SetPause(ctx, PauseSender, sender, kind, reason)
	if err != nil {
		return err
	}
	if created {
		log.Error().Str("sender", sender).Msg("sender paused: " + reason)
		h.cfg.Observer.SenderPaused(sender, kind)
	}
	return nil
}

// spares reports whether a failure belongs to the sender's back-off rather
// than to the invite: it then costs the invite none of its retries, except
// once the back-off waits its longest (so a server that never recovers
// still lets the invites end).
func (v backoffVerdict) spares() bool { return v.level > 0 && !v.atMax }

// serverFailure reports whether an answer says the sender's server (or the
// way to it) is failing: a 5xx, a timeout, no answer at all — the retried
// failures other than a 429, which the gate paces by its own advice.
func serverFailure(o matrix.Outcome) bool {
	return o.Retryable && o.Status.Code != matrix.TooManyRequests
}

// reportToGate tells the sender's gate what the answer says about the
// sender's server: a server failure counts towards a back-off; any real
// answer, while the sender had failures, ends them.
func (j *job) reportToGate(ctx context.Context, o matrix.Outcome) (backoffVerdict, error) {
	h := j.h
	switch {
	case serverFailure(o):
		v, err := h.gate.failed(ctx, j.inv.Sender, j.p.Key, j.reservedAt, h.cfg.BackoffThreshold, h.backoff)
		if err == nil && v.level > 0 && v.wait > 0 {
			j.log.Warn().Str("sender", j.inv.Sender).Int("level", v.level).Int64("wait_ms", v.wait.Milliseconds()).
				Msg("sender backs off: several invites failed with no success between them")
			h.cfg.Observer.SenderBackoff(j.inv.Sender, v.wait)
		}
		return v, err
	case j.trouble && o.HTTPStatus >= 200 && o.HTTPStatus < 500 && o.Status.Code != matrix.TooManyRequests:
		return backoffVerdict{}, h.gate.ok(ctx, j.inv.Sender)
	}
	return backoffVerdict{}, nil
}
