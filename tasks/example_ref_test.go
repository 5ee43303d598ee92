package tasks_test

import (
	"fmt"
	"time"

	"github.com/mxinvite/mxinvite/tasks"
)

// A producer that records its invites before enqueueing them (mxinvite's
// own) sends only a reference: the record holds the room and address. A
// worker reads either shape with DecodeDelivery; for a reference, the
// rest comes from the record (InviteRef.Invite checks that it hashes to
// the task's key).
func ExampleDecodeDelivery() {
	inv, err := tasks.NewInvite(tasks.Invite{
		Campaign: "spring-newsletter", RoomID: "!abcdef:example.org", Medium: tasks.MediumEmail,
		Address: "alice@example.org", EnqueuedAt: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ref, err := inv.Ref().Payload()
	if err != nil {
		fmt.Println(err)
		return
	}
	whole, err := inv.Payload()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(ref))
	for _, payload := range [][]byte{ref, whole} {
		d, err := tasks.DecodeDelivery(inv.TaskID(), payload)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(d.Key == inv.Key(), d.Campaign, d.Sender, d.Whole != nil)
	}

	// The record's identity fields make the invite back.
	back, err := inv.Ref().Invite("!abcdef:example.org", "email", "alice@example.org", "", "2025-03-01T12:00:00.000Z")
	fmt.Println(back == inv, err)
	_, err = inv.Ref().Invite("!abcdef:example.org", "email", "bob@example.org", "", "2025-03-01T12:00:00.000Z")
	fmt.Println(err != nil)
	// Output:
	// {"ref":true,"campaign":"spring-newsletter","sender":"default"}
	// true spring-newsletter default false
	// true spring-newsletter default true
	// true <nil>
	// true
}
