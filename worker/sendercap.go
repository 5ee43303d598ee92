package worker

import "context"

// senderSlots caps one sender's invites in flight in this process
// (Profile.MaxConcurrency), so a small homeserver gets its share and no more
// while the worker's Concurrency serves every sender. A delivery holds a slot
// for its whole run, waits included, the way asynq counts Concurrency.
//
// A delivery that finds every slot taken waits for one, holding its asynq
// slot: senders are served in queue order as without a cap, the capped one
// just has fewer invites in flight. A nil *senderSlots has no cap.
type senderSlots struct {
	ch chan struct{}
}

// newSenderSlots returns a cap of n slots, or nil (no cap) for n <= 0.
func newSenderSlots(n int) *senderSlots {
	if n <= 0 {
		return nil
	}
	return &senderSlots{ch: make(chan struct{}, n)}
}

// acquire takes a slot, waiting for one. If the worker starts shutting down
// first, the task goes back to the queue at once (nothing was sent, so
// nothing is lost); if ctx ends, its error is returned. release gives the
// slot back; it must be called exactly once.
func (s *senderSlots) acquire(ctx context.Context, stopping <-chan struct{}) (release func(), err error) {
	if s == nil {
		return func() {}, nil
	}
	select {
	case s.ch <- struct{}{}:
		return func() { <-s.ch }, nil
	default:
	}
	select {
	case s.ch <- struct{}{}:
		return func() { <-s.ch }, nil
	case <-stopping:
		return nil, handBack(0)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
