package importer

import (
	"context"
	"slices"
	"strconv"
	"sync"

	"github.com/mxinvite/mxinvite/worker"
)

// dryRunLimit bounds the rows a dry run checks for duplicates: 8 bytes
// each, so at most 32 MiB (plus the slice's growth) for lists of up to four
// million rows. A dry run cannot tag Redis records with its run ID as a
// real import does, so it remembers hashes instead; rows past the limit are
// still validated and compared with Redis, and counted as unchecked.
const dryRunLimit = 4 << 20

// Each remembered row is the top 62 bits of its invite key's hash plus, in
// the low 2 bits, what Redis already holds for that invite.
const (
	classNew     = 0 // no record: a real import would enqueue it
	classPending = 1 // queued, scheduled, active or retrying
	classDone    = 2 // has a final result
	classMask    = 3
)

// dryRun tallies what a real import would do, without writing anything.
type dryRun struct {
	again bool

	mu     sync.Mutex
	hashes []uint64
}

func newDryRun(again bool) *dryRun { return &dryRun{again: again} }

// add looks a batch up in Redis (when a producer is given: read-only) and
// remembers its rows.
func (d *dryRun) add(ctx context.Context, p *worker.Producer, batch []worker.BatchItem, c *counters) error {
	keys := make([]string, len(batch))
	for i, it := range batch {
		keys[i] = it.Invite.Key()
	}
	var states []string
	if p != nil {
		var err error
		if states, err = p.Store().States(ctx, keys); err != nil {
			return err
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, k := range keys {
		class := uint64(classNew)
		switch {
		case states == nil || states[i] == "":
		case states[i] == worker.StateDone:
			class = classDone
		default:
			class = classPending
		}
		if len(d.hashes) < dryRunLimit {
			d.hashes = append(d.hashes, keyHash(k)&^classMask|class)
			continue
		}
		c.unchecked.Add(1)
		d.countFirst(class, c)
	}
	return nil
}

// tally counts the remembered rows: the first row of each invite by what
// Redis holds for it, the others as duplicates.
func (d *dryRun) tally(c *counters) {
	d.mu.Lock()
	defer d.mu.Unlock()
	slices.Sort(d.hashes) // rows of one invite differ in the low bits only: they end up together
	for i, h := range d.hashes {
		if i > 0 && d.hashes[i-1]&^classMask == h&^classMask {
			c.duplicates.Add(1)
			continue
		}
		d.countFirst(h&classMask, c)
	}
	d.hashes = nil
}

// countFirst counts the first row naming an invite.
func (d *dryRun) countFirst(class uint64, c *counters) {
	switch {
	case class == classPending:
		c.alreadyQueued.Add(1)
	case class == classDone && !d.again:
		c.alreadyDone.Add(1)
	default:
		c.enqueued.Add(1)
	}
}

// keyHash returns the first 64 bits of an invite key (itself hex SHA-256).
func keyHash(key string) uint64 {
	h, _ := strconv.ParseUint(key[:16], 16, 64)
	return h
}
