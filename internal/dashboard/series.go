package dashboard

import "time"

// series is one campaign's history: buckets of equal width, at most max of
// them. When the next event falls beyond the last bucket, the width doubles
// and neighbouring buckets merge, so a campaign of weeks costs as much
// memory as one of hours (max buckets), with coarser points.
type series struct {
	width   time.Duration
	start   time.Time // start of buckets[0], a multiple of width since the zero time
	buckets []Bucket
	max     int

	recent   [recentSlots]recentSlot // finished invites per 10 s, for the rate now
	first    time.Time               // first event seen
	lastSeen time.Time               // last event seen (for eviction)
}

// recentSlots of recentSlot span the rate window (a minute) and one more.
const (
	recentSlot0 = 10 * time.Second
	recentSlots = 7
	rateWindow  = time.Minute
)

type recentSlot struct {
	start int64 // slot start, unix ms; 0 for unused
	n     int
}

// event is one final result read from the stream.
type event struct {
	at                    time.Time
	requests, rateLimited int
	success               bool
}

func newSeries(max int) *series {
	return &series{width: time.Minute, max: max}
}

// add counts e. Events come in stream order (Redis time, never decreasing);
// one earlier than the first bucket is counted in the first bucket.
func (s *series) add(e event) {
	if s.buckets == nil {
		s.start = e.at.Truncate(s.width)
		s.first = e.at
	}
	s.lastSeen = e.at
	idx := int(e.at.Sub(s.start) / s.width)
	for idx >= s.max {
		s.coarsen()
		idx = int(e.at.Sub(s.start) / s.width)
	}
	idx = max(idx, 0)
	for len(s.buckets) <= idx {
		s.buckets = append(s.buckets, Bucket{Start: s.start.Add(time.Duration(len(s.buckets)) * s.width)})
	}
	b := &s.buckets[idx]
	b.Requests += e.requests
	b.RateLimited += e.rateLimited
	if e.success {
		b.Accepted++
	} else {
		b.Failed++
	}
	s.addRecent(e.at)
}

// coarsen doubles the width: each old bucket lies inside one new bucket,
// because every width is a minute times a power of two.
func (s *series) coarsen() {
	old := s.buckets
	s.width *= 2
	s.start = s.start.Truncate(s.width)
	s.buckets = make([]Bucket, 0, s.max)
	for _, b := range old {
		idx := int(b.Start.Sub(s.start) / s.width)
		for len(s.buckets) <= idx {
			s.buckets = append(s.buckets, Bucket{Start: s.start.Add(time.Duration(len(s.buckets)) * s.width)})
		}
		n := &s.buckets[idx]
		n.Requests += b.Requests
		n.RateLimited += b.RateLimited
		n.Accepted += b.Accepted
		n.Failed += b.Failed
	}
}

func (s *series) addRecent(at time.Time) {
	slot := at.Truncate(recentSlot0).UnixMilli()
	i := int((slot / recentSlot0.Milliseconds()) % recentSlots)
	if s.recent[i].start != slot {
		s.recent[i] = recentSlot{start: slot}
	}
	s.recent[i].n++
}

// rate is the number of invites finished per minute over the last minute
// before now (or since the first one, when that is more recent; at least
// 10 s, so a first result does not read as a huge rate).
func (s *series) rate(now time.Time) float64 {
	from := now.Add(-rateWindow)
	n := 0
	for _, r := range s.recent {
		if r.start != 0 && r.start >= from.Truncate(recentSlot0).UnixMilli() && r.start <= now.UnixMilli() {
			n += r.n
		}
	}
	if n == 0 {
		return 0
	}
	span := now.Sub(from.Truncate(recentSlot0))
	if s.first.After(from) {
		span = now.Sub(s.first)
	}
	span = max(span, recentSlot0)
	return float64(n) / span.Minutes()
}

// timeline copies the series out. With until set (a campaign still
// running), empty buckets stretch it to until: minutes in which nothing
// finished are part of the story (a pause, a rate limit).
func (s *series) timeline(until time.Time) Timeline {
	c := *s
	c.buckets = append(make([]Bucket, 0, len(s.buckets)), s.buckets...)
	if !until.IsZero() && len(c.buckets) > 0 {
		for int(until.Sub(c.start)/c.width) >= c.max {
			c.coarsen()
		}
		for idx := int(until.Sub(c.start) / c.width); len(c.buckets) <= idx; {
			c.buckets = append(c.buckets, Bucket{Start: c.start.Add(time.Duration(len(c.buckets)) * c.width)})
		}
	}
	return Timeline{Width: c.width, Buckets: c.buckets}
}
