package dashboard

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/mxinvite/mxinvite/internal/rdb"
)

// history aggregates the results stream ({prefix}:results: one entry per
// final result, written by the worker's finishScript) into one series per
// campaign. It reads the stream incrementally from where it stopped, a
// bounded number of entries per call (XRANGE with COUNT), so a request
// never waits for a whole long history, and memory holds at most
// maxSeries series of maxBuckets buckets whatever the stream's length.
//
// Times are the entries' IDs (Redis time at the finish), which never go
// back, unlike the workers' clocks. A stream trimmed by StreamMaxLen has
// lost its oldest entries: their minutes show nothing.
type history struct {
	store *rdb.Client
	opts  historyOptions

	mu     sync.Mutex
	cursor string // ID of the last entry read; "" before the first
	series map[string]*series
	// caughtUp is false while the last read stopped at its bound.
	caughtUp bool
}

type historyOptions struct {
	// pageSize is the COUNT of one XRANGE; perUpdate bounds the entries
	// read by one update; maxBuckets the buckets of a series; maxSeries the
	// campaigns kept (the least recently active is forgotten first).
	pageSize, perUpdate, maxBuckets, maxSeries int
}

func (o historyOptions) withDefaults() historyOptions {
	if o.pageSize == 0 {
		o.pageSize = 1000
	}
	if o.perUpdate == 0 {
		o.perUpdate = 50_000
	}
	if o.maxBuckets == 0 {
		o.maxBuckets = 240
	}
	if o.maxSeries == 0 {
		o.maxSeries = 512
	}
	return o
}

func newHistory(store *rdb.Client, opts historyOptions) *history {
	return &history{store: store, opts: opts.withDefaults(), series: map[string]*series{}}
}

// update reads the entries added since the last call (at most perUpdate)
// and returns Redis's clock, the "now" of rates.
func (h *history) update(ctx context.Context) (time.Time, error) {
	now, err := h.store.Time(ctx)
	if err != nil {
		return time.Time{}, err
	}
	read := 0
	for read < h.opts.perUpdate {
		msgs, err := h.store.ReadResults(ctx, h.cursor, h.opts.pageSize)
		if err != nil {
			return now, err
		}
		for _, m := range msgs {
			h.apply(m)
		}
		read += len(msgs)
		if len(msgs) > 0 {
			h.cursor = msgs[len(msgs)-1].ID
		}
		if len(msgs) < h.opts.pageSize {
			h.caughtUp = true
			return now, nil
		}
	}
	h.caughtUp = false
	return now, nil
}

// apply counts one stream entry in its campaign's series.
func (h *history) apply(m rdb.StreamEntry) {
	str := func(f string) string { return m.Fields[f] }
	num := func(f string) int { n, _ := strconv.Atoi(str(f)); return n }
	campaign := str("campaign")
	if campaign == "" || m.At.IsZero() {
		return
	}
	s := h.series[campaign]
	if s == nil {
		h.evict()
		s = newSeries(h.opts.maxBuckets)
		h.series[campaign] = s
	}
	s.add(event{
		at:       m.At,
		requests: num("requests"), rateLimited: num("rate_limited"),
		success: str("status") == "Success",
	})
}

// evict forgets the least recently active series when the map is full.
func (h *history) evict() {
	if len(h.series) < h.opts.maxSeries {
		return
	}
	var oldest string
	for name, s := range h.series {
		if oldest == "" || s.lastSeen.Before(h.series[oldest].lastSeen) {
			oldest = name
		}
	}
	delete(h.series, oldest)
}

// timeline brings the history up to date and returns the campaign's,
// stretched to now when running (see series.timeline).
func (h *history) timeline(ctx context.Context, campaign string, running bool) (Timeline, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now, err := h.update(ctx)
	if err != nil {
		return Timeline{}, err
	}
	if !running {
		now = time.Time{}
	}
	var t Timeline
	if s := h.series[campaign]; s != nil {
		t = s.timeline(now)
	} else {
		t = Timeline{Width: time.Minute}
	}
	t.Partial = !h.caughtUp
	return t, nil
}

// rates brings the history up to date and returns each campaign's rate now
// (finished invites per minute).
func (h *history) rates(ctx context.Context, campaigns []string) (map[string]float64, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now, err := h.update(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]float64, len(campaigns))
	for _, c := range campaigns {
		if s := h.series[c]; s != nil {
			out[c] = s.rate(now)
		}
	}
	return out, nil
}
