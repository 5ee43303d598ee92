package worker

import (
	"context"
	"fmt"
	"sync"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
)

// The campaign breaker: when the first N finished invites of a campaign all
// ended with the same failure status and none succeeded, the cause is the
// campaign's (a server without 3PID invites answers every address 404
// M_NOT_FOUND; a room the sender cannot invite to, 403), not the
// addresses': the campaign pauses before it burns the rest of its list.
// synapse-admin's CSV import stops at the first error; this stops after N,
// which tells a sick campaign from a few bad addresses. (The evaluation is
// one script: internal/rdb/breaker.go.)

// breaker remembers which campaigns' breakers were already evaluated, so
// that their later failures cost no round trip.
type breaker struct {
	n    int
	mu   sync.Mutex
	done map[string]bool
}

func newBreaker(n int) *breaker { return &breaker{n: n, done: map[string]bool{}} }

// failed evaluates the breaker after a failed final of campaign; it
// returns whether it paused the campaign.
func (b *breaker) failed(ctx context.Context, l Ledger, campaign string, f record.Final) (bool, error) {
	if b.n <= 0 {
		return false, nil
	}
	b.mu.Lock()
	done := b.done[campaign]
	b.mu.Unlock()
	if done {
		return false, nil
	}
	reason := fmt.Sprintf("the first %d finished invites all ended %s (%d)%s: the homeserver may not support 3PID invites, or the room or sender is wrong; fix it, then run: mxinvite resume --campaign %s",
		b.n, f.Status, int(f.Status), detail(f), campaign)
	v, err := l.Breaker(ctx, campaign, b.n, f.Status.String(), reason)
	if err != nil {
		return false, err
	}
	if v != rdb.BreakerNotYet {
		b.mu.Lock()
		b.done[campaign] = true
		b.mu.Unlock()
	}
	return v == rdb.BreakerTripped, nil
}

func detail(f record.Final) string {
	switch {
	case f.ErrCode != "":
		return fmt.Sprintf(", HTTP %d %s %q", f.HTTPStatus, f.ErrCode, f.Error)
	case f.HTTPStatus != 0:
		return fmt.Sprintf(", HTTP %d %q", f.HTTPStatus, f.Error)
	}
	return fmt.Sprintf(" %q", f.Error)
}
