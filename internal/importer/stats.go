package importer

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mxinvite/mxinvite/internal/addrlist"
)

// Stats count what an import did with its rows: a row is an address (a
// line or cell holding an address list gives several) or, for a contacts
// export or vCard file, a person. Read = Valid + Rejected, and
// once the import is over Valid = Enqueued + Duplicates + AlreadyQueued +
// AlreadyDone + NotImported. In a dry run they say what a real import would
// do. Every count is of invites Redis now holds as the summary says: an
// interrupted import counts the batches it registered, all of them.
type Stats struct {
	// Read counts the rows read (blank and comment lines are not rows).
	Read int64 `json:"read"`
	// Valid counts the rows holding a usable address.
	Valid int64 `json:"valid"`
	// Enqueued counts the invites registered and enqueued: new invites of
	// this campaign (or re-invites with Options.Again).
	Enqueued int64 `json:"enqueued"`
	// Duplicates counts valid rows naming an invite an earlier row of the
	// same import already named.
	Duplicates int64 `json:"duplicates"`
	// AlreadyQueued counts invites some earlier import left pending.
	AlreadyQueued int64 `json:"already_queued"`
	// AlreadyDone counts invites that already have a final result (re-invite
	// them with Options.Again).
	AlreadyDone int64 `json:"already_done"`
	// OtherCampaigns counts, by campaign, the invites of AlreadyQueued and
	// AlreadyDone that belong to another campaign than Options.Campaign:
	// they go, or went, out under that campaign, and are not this one's.
	OtherCampaigns map[string]HeldCounts `json:"other_campaigns,omitempty"`
	// NotImported counts valid rows read but not registered because the
	// import stopped (interrupted, or Redis failed): running the same import
	// again imports them.
	NotImported int64 `json:"not_imported,omitempty"`
	// Rejected counts the rows written to the rejects file.
	Rejected int64 `json:"rejected"`
	// NotEnqueued counts invites registered but not enqueued when an
	// error (Redis out of memory, a lost connection) stopped the import:
	// their records say queued, and the same import again enqueues them.
	NotEnqueued int64 `json:"registered_not_enqueued,omitempty"`

	// ScheduledFrom and ScheduledUntil are the earliest and latest process
	// times of the invites enqueued (not of rows already queued elsewhere or
	// duplicates), when the import is scheduled (a future Start or a
	// Spread); zero otherwise.
	ScheduledFrom  time.Time `json:"scheduled_from,omitzero"`
	ScheduledUntil time.Time `json:"scheduled_until,omitzero"`

	// DryRun is set when nothing was written to Redis.
	DryRun bool `json:"dry_run"`
	// DuplicatesUnchecked counts the valid rows of a dry run that came after
	// its duplicate-detection limit and were not checked (see dryrun.go).
	DuplicatesUnchecked int64 `json:"duplicates_unchecked,omitempty"`
	// ImportRun is the run ID every registration of the import carries.
	ImportRun string `json:"import_run,omitempty"`
	// List says how the list was read: format, columns, medium and why
	// (set once the import is over).
	List *addrlist.Plan `json:"list,omitempty"`
	// Bytes counts the input bytes consumed so far, for progress bars.
	Bytes int64 `json:"-"`
}

// HeldCounts are the invites of an import that another campaign holds.
type HeldCounts struct {
	Queued int64 `json:"queued"`
	Done   int64 `json:"done"`
}

// String is the one-line summary of the import.
func (s Stats) String() string {
	var b strings.Builder
	enq := "enqueued"
	if s.DryRun {
		b.WriteString("dry run: ")
		enq = "would enqueue"
	}
	fmt.Fprintf(&b, "read %d, valid %d, %s %d, duplicates %d, already queued %d, already done %d, rejected %d",
		s.Read, s.Valid, enq, s.Enqueued, s.Duplicates, s.AlreadyQueued, s.AlreadyDone, s.Rejected)
	if s.NotImported > 0 {
		fmt.Fprintf(&b, ", not imported %d (the import stopped)", s.NotImported)
	}
	if len(s.OtherCampaigns) > 0 {
		b.WriteString("; held by other campaigns (sent under them, not this one):")
		for i, name := range slices.Sorted(maps.Keys(s.OtherCampaigns)) {
			if i > 0 {
				b.WriteByte(',')
			}
			c := s.OtherCampaigns[name]
			fmt.Fprintf(&b, " %s %d queued %d done", name, c.Queued, c.Done)
		}
	}
	if !s.ScheduledFrom.IsZero() {
		fmt.Fprintf(&b, "; scheduled %s … %s", s.ScheduledFrom.UTC().Format(time.RFC3339), s.ScheduledUntil.UTC().Format(time.RFC3339))
	}
	if s.NotEnqueued > 0 {
		fmt.Fprintf(&b, ", registered but not enqueued %d (run the same import again to enqueue them)", s.NotEnqueued)
	}
	if s.DuplicatesUnchecked > 0 {
		fmt.Fprintf(&b, " (%d rows not checked for duplicates)", s.DuplicatesUnchecked)
	}
	return b.String()
}

// counters are the live Stats, updated by the reader and the pool while the
// progress reporter reads them.
type counters struct {
	read, valid, rejected                            atomic.Int64
	enqueued, duplicates, alreadyQueued, alreadyDone atomic.Int64
	unchecked, bytes, unqueued                       atomic.Int64
	from, until                                      atomic.Int64 // unix ns; 0: not scheduled

	mu    sync.Mutex
	other map[string]HeldCounts
}

// heldBy counts an invite of another campaign (done or queued).
func (c *counters) heldBy(campaign string, done bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.other == nil {
		c.other = map[string]HeldCounts{}
	}
	h := c.other[campaign]
	if done {
		h.Done++
	} else {
		h.Queued++
	}
	c.other[campaign] = h
}

// scheduled widens the scheduled window to include at.
func (c *counters) scheduled(at time.Time) {
	if at.IsZero() {
		return
	}
	ns := at.UnixNano()
	for cur := c.from.Load(); cur == 0 || ns < cur; cur = c.from.Load() {
		if c.from.CompareAndSwap(cur, ns) {
			break
		}
	}
	for cur := c.until.Load(); ns > cur; cur = c.until.Load() {
		if c.until.CompareAndSwap(cur, ns) {
			break
		}
	}
}

// snapshot returns the counters as Stats.
func (c *counters) snapshot() Stats {
	s := Stats{
		Read: c.read.Load(), Valid: c.valid.Load(), Rejected: c.rejected.Load(),
		Enqueued: c.enqueued.Load(), Duplicates: c.duplicates.Load(),
		AlreadyQueued: c.alreadyQueued.Load(), AlreadyDone: c.alreadyDone.Load(),
		DuplicatesUnchecked: c.unchecked.Load(), Bytes: c.bytes.Load(), NotEnqueued: c.unqueued.Load(),
	}
	c.mu.Lock()
	if len(c.other) > 0 {
		s.OtherCampaigns = maps.Clone(c.other)
	}
	c.mu.Unlock()
	if ns := c.from.Load(); ns != 0 {
		s.ScheduledFrom = time.Unix(0, ns).UTC()
		s.ScheduledUntil = time.Unix(0, c.until.Load()).UTC()
	}
	return s
}
