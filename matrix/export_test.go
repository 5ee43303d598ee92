package matrix

// QueuedLookups is how many addresses wait in r for a lookup request after
// the one in flight, for tests that hold the first request and need the
// rest queued before they release it.
func QueuedLookups(r *Resolver) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, lane := range r.lanes {
		for _, b := range lane.queue {
			n += len(b.pids)
		}
	}
	return n
}
