package worker

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
)

// hold ends a delivery because a pause holds its invite: the attempt (if
// any) is recorded, the record says "paused", and the task goes back to
// the queue to look at the pause again later. Nothing is final.
func (j *job) hold(ctx context.Context, u record.AttemptUpdate) error {
	if err := j.h.ledger.Attempt(ctx, j.inv, j.p, record.StatePaused, u); err != nil {
		return err
	}
	return &handBackError{after: minHeldDelay, recorded: true}
}

// senderTokenDead pauses the sender after an invite was answered 401 and
// whoami confirmed the token is dead: the invite stays queued (it is not
// the address's fault), and no further request goes out with that token.
func (j *job) senderTokenDead(ctx context.Context, o matrix.Outcome, u record.AttemptUpdate) error {
	snd := j.snd
	reason := fmt.Sprintf("the homeserver refuses the access token of sender %q (%s %s)", snd.Name, o.ErrCode, j.scrub(o.ServerError))
	if snd.AccessTokenFile != "" {
		reason += fmt.Sprintf("; write a new token into %s and the workers resume by themselves, or run: mxinvite resume --sender %s", snd.AccessTokenFile, snd.Name)
	} else {
		reason += fmt.Sprintf("; restart the workers with a new token, then run: mxinvite resume --sender %s", snd.Name)
	}
	u.Last = j.last(o, u.LimitScope)
	return j.pauseSender(ctx, record.PauseDeadToken, reason, u)
}

// threePIDLookupOff reports whether an invite's answer says the homeserver
// does not look third-party identifiers up at all (Synapse with
// enable_3pid_lookup: false answers every 3PID invite 403 M_UNKNOWN,
// "Looking up third-party identifiers is denied from this server"): a
// condition of the whole campaign, not of the address, and not a retry.
func threePIDLookupOff(o matrix.Outcome) bool {
	return o.HTTPStatus == 403 && o.ErrCode == matrix.MUnknown
}

// campaignThreePIDOff pauses the invite's campaign at the first such
// answer (the breaker's pause, with its reason) and holds the invite: every
// other address would be refused the same way, and none was emailed.
func (j *job) campaignThreePIDOff(ctx context.Context, o matrix.Outcome, u record.AttemptUpdate) error {
	reason := fmt.Sprintf("the homeserver refuses 3PID invites (HTTP 403 %s %q): its enable_3pid_lookup is off, or a module denies them; "+
		"nothing was sent to any address; fix the server, then run: mxinvite resume --campaign %s", o.ErrCode, j.scrub(o.ServerError), j.p.Campaign)
	created, err := j.h.ledger.SetPause(ctx, record.PauseCampaign, j.p.Campaign, record.PauseBreaker, reason)
	if err != nil {
		return err
	}
	if created {
		j.log.Error().Msg("campaign paused: " + reason)
	}
	u.Last = j.last(o, u.LimitScope)
	return j.hold(ctx, u)
}

// pauseSender pauses the invite's sender and holds the invite (recording
// the attempt u, if one was made).
func (j *job) pauseSender(ctx context.Context, kind, reason string, u record.AttemptUpdate) error {
	if err := j.h.pauseSender(ctx, j.log, j.snd.Name, kind, reason); err != nil {
		return err
	}
	return j.hold(ctx, u)
}

// pauseSender pauses a sender in Redis; the worker that set the pause (not
// the others meeting it) logs it and tells the observer.
func (h *Handler) pauseSender(ctx context.Context, log zerolog.Logger, sender, kind, reason string) error {
	created, err := h.ledger.SetPause(ctx, record.PauseSender, sender, kind, reason)
	if err != nil {
		return err
	}
	if created {
		log.Error().Str("sender", sender).Msg("sender paused: " + reason)
		h.cfg.Observer.SenderPaused(sender, kind)
	}
	return nil
}
