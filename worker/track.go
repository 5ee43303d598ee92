package worker

import (
	"context"

	"github.com/mxinvite/mxinvite/internal/track"
	"github.com/mxinvite/mxinvite/matrix"
)

// Who joined is internal/track's; the worker lends it its senders (their
// clients and identity tokens) and runs its loop every Config.TrackEvery.

// Track refreshes campaign's funnel now (mxinvite track).
func (w *Worker) Track(ctx context.Context, campaign string) (track.Report, error) {
	return w.tracker().Track(ctx, campaign)
}

func (w *Worker) trackLoop(ctx context.Context) { w.tracker().Loop(ctx, w.cfg.TrackEvery) }

func (w *Worker) tracker() *track.Tracker {
	return &track.Tracker{Store: w.store, NoLookup: w.cfg.NoLookup, Logger: *w.cfg.Logger,
		Sender: func(name string) (track.Sender, bool) {
			s, ok := w.handler.senders[name]
			return trackSender{s}, ok
		}}
}

// trackSender is a sender as internal/track sees it.
type trackSender struct{ s *sender }

func (t trackSender) Name() string            { return t.s.Name }
func (t trackSender) DefaultIDServer() string { return t.s.IDServer }
func (t trackSender) Client() *matrix.Client  { return t.s.client() }
func (t trackSender) IdentityToken(ctx context.Context, idServer string) (string, error) {
	if tok := t.s.idToken(idServer); tok != "" {
		return tok, nil
	}
	return t.s.cur.Load().identityToken(ctx, idServer)
}
