package worker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
)

// maxTokenFileBytes bounds a token file: tokens are short, and a path that
// points at something else by mistake must not be read whole.
const maxTokenFileBytes = 64 << 10

// readTokenFile reads a token file: exactly one non-empty line.
func readTokenFile(path string) (string, error) {
	if path == "" {
		return "", errors.New("no access token and no token file")
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	defer f.Close()
	b := make([]byte, maxTokenFileBytes+1)
	n, _ := f.Read(b)
	if n > maxTokenFileBytes {
		return "", fmt.Errorf("token file %s: larger than %d bytes", path, maxTokenFileBytes)
	}
	tok := strings.TrimSpace(string(b[:n]))
	switch {
	case tok == "":
		return "", fmt.Errorf("token file %s: the file is empty", path)
	case strings.ContainsAny(tok, " \t\r\n"):
		return "", fmt.Errorf("token file %s: must hold one token on one line", path)
	}
	return tok, nil
}

// pausedTokenReread is how often a paused sender's token file is read
// again even when it seems unchanged (an editor that keeps mtime and size).
const pausedTokenReread = 10 * time.Second

// watchToken follows a sender's token file: when it holds a new token, the
// token is checked with whoami and, if the homeserver accepts it, used from
// then on; a dead-token pause of the sender then ends (and its held invites
// are woken). It returns when ctx ends.
func (w *Worker) watchToken(ctx context.Context, s *sender) {
	var lastMod time.Time
	var lastSize int64
	var lastRead time.Time
	rejected := ""
	t := time.NewTicker(w.cfg.TokenCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fi, err := os.Stat(s.AccessTokenFile)
		if err != nil {
			continue
		}
		changed := !fi.ModTime().Equal(lastMod) || fi.Size() != lastSize
		if !changed && !(s.dead() && time.Since(lastRead) >= pausedTokenReread) {
			continue
		}
		lastMod, lastSize, lastRead = fi.ModTime(), fi.Size(), time.Now()
		// Only a token other than the one in use (and than one already
		// refused) is tried: a dead token is not sent again, even to
		// whoami; if it comes back to life, mxinvite resume says so.
		tok, err := readTokenFile(s.AccessTokenFile)
		if err != nil || tok == s.cur.Load().token || tok == rejected {
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
