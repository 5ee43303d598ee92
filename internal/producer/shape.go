package producer

import (
	"context"
	"sync"
	"time"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/tasks"
)

// shapeFresh is how long the producer trusts its last look at the live
// workers (one beat: a worker that starts meanwhile had no task yet).
const shapeFresh = rdb.WorkerBeat

// taskShape chooses what the producer's tasks carry: a reference to the
// invite's record (tasks.InviteRef: the record holds the invite, so it is
// not stored twice) while every live worker reads references, else the
// whole invite, which every release reads: mid-upgrade, a worker of an
// earlier release still running would otherwise archive the reference
// ("undecodable invite") and the invite would stay queued.
type taskShape struct {
	mu  sync.Mutex
	at  time.Time // when the live workers were last looked at
	ref bool      // whether every live worker read references then
}

// refs reports whether the tasks written now may carry references (one
// round trip per shapeFresh at most).
func (s *taskShape) refs(ctx context.Context, store *rdb.Client) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.at.IsZero() && time.Since(s.at) < shapeFresh {
		return s.ref, nil
	}
	ok, _, err := store.ReadersOfRefs(ctx)
	if err != nil {
		return false, err
	}
	s.at, s.ref = time.Now(), ok
	return ok, nil
}

// payload is the task payload of a registered invite, in the shape chosen.
func payload(inv tasks.Invite, refs bool) ([]byte, error) {
	if refs {
		return inv.Ref().Payload()
	}
	return inv.Payload()
}
