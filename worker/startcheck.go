package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
)

// ErrSenderUnusable is wrapped by every *SenderError.
var ErrSenderUnusable = errors.New("sender profile cannot be used")

// SenderError says why a worker will not start: a sender profile whose
// homeserver URL, access token or token file is wrong. Nothing was taken
// from the queue, so no invite ended because of it.
type SenderError struct {
	Sender  string
	Problem string
}

// Error implements error.
func (e *SenderError) Error() string { return fmt.Sprintf("sender %q: %s", e.Sender, e.Problem) }

// Unwrap returns ErrSenderUnusable, for errors.Is.
func (e *SenderError) Unwrap() error { return ErrSenderUnusable }

// startCheckTimeout bounds the checks of all senders at start.
const startCheckTimeout = 30 * time.Second

// checkSenders checks, before the worker takes any task, that every sender
// can work: its homeserver answers whoami with its token. A sender whose
// token works again ends its dead-token pause. (Identity servers: see
// identity.go.)
func (w *Worker) checkSenders(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startCheckTimeout)
	defer cancel()
	woke := false
	for _, s := range w.handler.senders {
		user, o := s.whoAmI(ctx)
		var bad error
		switch {
		case refusedToken(o):
			bad = &SenderError{Sender: s.Name, Problem: fmt.Sprintf("the homeserver %s refuses its access token (%s): check the token%s",
				s.HomeserverURL, describe(o), fileHint(s.Profile))}
		case !o.Status.Good():
			bad = &SenderError{Sender: s.Name, Problem: fmt.Sprintf("whoami at %s failed: %s", s.HomeserverURL, describe(o))}
		}
		w.cfg.Observer.SenderChecked(s.Name, bad)
		if bad != nil {
			return bad
		}
		w.cfg.Logger.Info().Str("sender", s.Name).Str("user_id", string(user)).Msg("sender checked")
		ok, err := w.store.ClearPause(ctx, record.PauseSender, s.Name, record.PauseDeadToken)
		if err != nil {
			return err
		}
		if ok {
			w.cfg.Observer.SenderResumed(s.Name)
		}
		woke = woke || ok
		if err := w.checkIdentity(ctx, s); err != nil {
			return err
		}
	}
	if woke {
		w.wakeHeld()
	}
	return nil
}

func describe(o matrix.Outcome) string {
	switch {
	case o.ErrCode != "":
		return fmt.Sprintf("%s, HTTP %d %s: %s", o.Status.Code, o.HTTPStatus, o.ErrCode, o.ServerError)
	case o.HTTPStatus != 0:
		return fmt.Sprintf("%s, HTTP %d: %s", o.Status.Code, o.HTTPStatus, o.Status.Message)
	}
	return fmt.Sprintf("%s: %s", o.Status.Code, o.Status.Message)
}

func fileHint(p Profile) string {
	if p.AccessTokenFile != "" {
		return " file " + p.AccessTokenFile
	}
	return ""
}
