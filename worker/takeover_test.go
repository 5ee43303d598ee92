package worker

import (
	"errors"
	"testing"
)

// A second delivery of an invite this process is delivering (a takeover's
// re-delivery beside the delivery it replaced) waits: it is handed back
// without beginning, and nothing is sent.
func TestASecondDeliveryOfAnInviteHeldHereWaits(t *testing.T) {
	hs := newFakeHS(t)
	h, l := newFakeHandler(t, hs)
	task, inv := inviteTask(t, "a@example.org")
	if !h.holding.take(inv.Key()) {
		t.Fatal("take of a free invite refused")
	}
	err := h.ProcessTask(t.Context(), task)
	var hb *handBackError
	if !errors.As(err, &hb) || !hb.recorded || len(hs.seen()) != 0 || len(l.finals) != 0 {
		t.Fatalf("second delivery: %v, %d requests, finals %+v; want a hand-back and nothing sent", err, len(hs.seen()), l.finals)
	}
	h.holding.release(inv.Key())
	if err := h.ProcessTask(t.Context(), task); err != nil || len(hs.seen()) != 1 {
		t.Fatalf("once released: %v, %d requests; want one, sent", err, len(hs.seen()))
	}
}
