package worker

import (
	"context"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/tokenfile"
)

// pausedTokenReread is how often a paused sender's token file is read
// again even when it seems unchanged (an editor that keeps mtime and size).
const pausedTokenReread = 10 * time.Second

// watchToken follows a sender's token file: when it holds a new token, the
// token is checked with whoami and, if the homeserver accepts it, used from
// then on; a dead-token pause of the sender then ends (and its held invites
// are woken). It returns when ctx ends.
func (w *Worker) watchToken(ctx context.Context, s *sender) {
	file := tokenfile.Watcher{Path: s.AccessTokenFile, Reread: pausedTokenReread}
	rejected := ""
	t := time.NewTicker(w.cfg.TokenCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Only a token other than the one in use (and than one already
		// refused) is tried: a dead token is not sent again, even to
		// whoami; if it comes back to life, mxinvite resume says so.
		tok, ok := file.Next(s.dead())
		if !ok || tok == s.cur.Load().token || tok == rejected {
			continue
		}
		w.tryToken(ctx, s, tok, &rejected)
	}
}

// tryToken checks a token read from the file and switches to it if the
// homeserver accepts it.
func (w *Worker) tryToken(ctx context.Context, s *sender, tok string, rejected *string) {
	log := w.cfg.Logger.With().Str("sender", s.Name).Logger()
	p := s.Profile
	p.AccessToken = tok
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, o := p.client(w.cfg).WhoAmI(cctx); !o.Status.Good() {
		if refusedToken(o) {
			*rejected = tok
			log.Warn().Msg("the token file holds a token the homeserver refuses; still paused")
		}
		return
	}
	*rejected = ""
	s.useToken(tok, w.cfg)
	log.Info().Msg("new access token in use")
	ok, err := w.store.ClearPause(ctx, record.PauseSender, s.Name, record.PauseDeadToken)
	if err != nil {
		log.Warn().Err(err).Msg("ending the sender's pause")
		return
	}
	if ok {
		log.Info().Msg("sender resumed: its new token works")
		w.cfg.Observer.SenderResumed(s.Name)
		w.wakeHeld()
	}
}
