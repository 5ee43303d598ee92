package importer

import "time"

// schedule gives each valid row its process time. Row i of n is sent at
// start + i·spread/n, so n rows fill [start, start+spread) evenly; rows that
// turn out to be duplicates leave their slot empty rather than shift the
// rows after them, which keeps every row's time independent of Redis.
type schedule struct {
	active bool // false: every row is sent as soon as possible
	start  time.Time
	spread time.Duration
	n      int64 // valid rows, counted in a first pass when spread > 0
}

// newSchedule builds the schedule of an import started at now.
func newSchedule(start time.Time, spread time.Duration, n int64, now time.Time) schedule {
	if start.IsZero() {
		start = now
	}
	return schedule{active: spread > 0 || start.After(now), start: start, spread: spread, n: n}
}

// at returns the process time of valid row i (0-based); zero means now.
func (s schedule) at(i int64) time.Time {
	if !s.active {
		return time.Time{}
	}
	if s.spread <= 0 || s.n <= 1 {
		return s.start
	}
	if i >= s.n {
		// The input changed between the passes: keep the extra rows at the
		// end of the window rather than past it.
		i = s.n - 1
	}
	// spread/n·i + (spread mod n)·i/n, in two parts so that a long spread
	// times a large row number cannot overflow int64 nanoseconds.
	d, n := int64(s.spread), s.n
	return s.start.Add(time.Duration(d/n*i + d%n*i/n))
}
