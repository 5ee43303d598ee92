package turns

import (
	"sync"
	"time"

	"github.com/mxinvite/mxinvite/tasks"
)

// Line orders a sender's invites waiting for its rate-limit gate in one
// process. The gate gives its next free slot to whichever request asks
// first once it is free; invites that wake at the same moment would win
// in random order, so a high-priority invite could wait behind several
// normal ones that hold the sender's slots. A place in the line makes its
// holder wake a little later the further back it is (Delay): the first in
// line — the highest priority, then the longest waiting — asks first.
type Line struct {
	mu     sync.Mutex
	seq    uint64
	places map[*Place]struct{}
}

// Place is one invite's place in a Line.
type Place struct {
	line  *Line
	class int
	seq   uint64
}

// StepDelay is how much later each place wakes than the one before it,
// and MaxDelay the most any place is delayed.
const (
	StepDelay = time.Millisecond
	MaxDelay  = 20 * time.Millisecond
)

// Join takes a place for an invite of priority p.
func (l *Line) Join(p tasks.Priority) *Place {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.places == nil {
		l.places = map[*Place]struct{}{}
	}
	l.seq++
	pl := &Place{line: l, class: class(p), seq: l.seq}
	l.places[pl] = struct{}{}
	return pl
}

// Rank is how many places are ahead of this one.
func (pl *Place) Rank() int {
	l := pl.line
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for o := range l.places {
		if o.class < pl.class || (o.class == pl.class && o.seq < pl.seq) {
			n++
		}
	}
	return n
}

// Delay is how much later than the gate's next slot this place asks.
func (pl *Place) Delay() time.Duration {
	return min(time.Duration(pl.Rank())*StepDelay, MaxDelay)
}

// Leave gives the place up (the invite's request went out, or it stopped
// waiting).
func (pl *Place) Leave() {
	pl.line.mu.Lock()
	defer pl.line.mu.Unlock()
	delete(pl.line.places, pl)
}
