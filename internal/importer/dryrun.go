package importer

import (
	"context"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/record"
)

// dryRunLimit bounds the rows a dry run checks for duplicates: 8 bytes
// each (16 for a scheduled import, which also keeps each row's time), so at
// most 32 MiB (64 MiB) plus the slices' growth for lists of up to four
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
	again    bool
	campaign string

	mu     sync.Mutex
	hashes []uint64
	at     []int64           // process time (unix ns) of each remembered row; nil unless scheduled
	held   map[uint64]string // hash (class bits clear) -> the other campaign holding the invite
}

func newDryRun(again bool, campaign string) *dryRun {
	return &dryRun{again: again, campaign: campaign}
}

// add looks a batch up in Redis (when a producer is given: read-only) and
// remembers its rows.
func (d *dryRun) add(ctx context.Context, p *producer.Producer, batch []producer.Item, c *counters) error {
	keys := make([]string, len(batch))
	for i, it := range batch {
		keys[i] = it.Invite.Key()
	}
	var holders []record.Holder
	if p != nil {
		var err error
		if holders, err = p.Store().Holders(ctx, keys); err != nil {
			return err
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, k := range keys {
		class, other := uint64(classNew), ""
		if holders != nil && holders[i].State != "" {
			class = classPending
			if holders[i].State == record.StateDone {
				class = classDone
			}
			if holders[i].Campaign != d.campaign {
				other = holders[i].Campaign
			}
		}
		at := batch[i].ProcessAt
		if len(d.hashes) < dryRunLimit {
			h := keyHash(k) &^ classMask
			d.hashes = append(d.hashes, h|class)
			if !at.IsZero() {
				d.at = append(d.at, at.UnixNano())
			}
			if other != "" {
				if d.held == nil {
					d.held = map[uint64]string{}
				}
				d.held[h] = other
			}
			continue
		}
		c.unchecked.Add(1)
		d.countFirst(class, other, at, c)
	}
	return nil
}

// tally counts the remembered rows: the first row of each invite by what
// Redis holds for it, the others as duplicates.
func (d *dryRun) tally(c *counters) {
	d.mu.Lock()
	defer d.mu.Unlock()
	scheduled := len(d.at) == len(d.hashes) && len(d.at) > 0
	if scheduled {
		sort.Sort(byHashThenTime{d.hashes, d.at}) // an invite's first row is its earliest
	} else {
		slices.Sort(d.hashes) // rows of one invite differ in the low bits only: they end up together
	}
	for i, h := range d.hashes {
		if i > 0 && d.hashes[i-1]&^classMask == h&^classMask {
			c.duplicates.Add(1)
			continue
		}
		var at time.Time
		if scheduled {
			at = time.Unix(0, d.at[i])
		}
		d.countFirst(h&classMask, d.held[h&^classMask], at, c)
	}
	d.hashes, d.at, d.held = nil, nil, nil
}

// countFirst counts the first row naming an invite, held by another
// campaign when other is not empty, to be sent at at (zero: now).
func (d *dryRun) countFirst(class uint64, other string, at time.Time, c *counters) {
	switch {
	case class == classPending:
		c.alreadyQueued.Add(1)
	case class == classDone && !d.again:
		c.alreadyDone.Add(1)
	default:
		c.enqueued.Add(1)
		c.scheduled(at)
		return
	}
	if other != "" {
		c.heldBy(other, class == classDone)
	}
}

// byHashThenTime sorts remembered rows and their times together.
type byHashThenTime struct {
	hashes []uint64
	at     []int64
}

func (s byHashThenTime) Len() int { return len(s.hashes) }
func (s byHashThenTime) Less(i, j int) bool {
	hi, hj := s.hashes[i]&^classMask, s.hashes[j]&^classMask
	if hi != hj {
		return hi < hj
	}
	return s.at[i] < s.at[j]
}
func (s byHashThenTime) Swap(i, j int) {
	s.hashes[i], s.hashes[j] = s.hashes[j], s.hashes[i]
	s.at[i], s.at[j] = s.at[j], s.at[i]
}

// keyHash returns the first 64 bits of an invite key (itself hex SHA-256).
func keyHash(key string) uint64 {
	h, _ := strconv.ParseUint(key[:16], 16, 64)
	return h
}
