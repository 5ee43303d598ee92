package tasks_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/mxinvite/mxinvite/tasks"
)

func ExampleNewInvite() {
	inv, err := tasks.NewInvite(tasks.Invite{
		Campaign:   "spring-newsletter",
		RoomID:     "!abcdef:example.org",
		Medium:     tasks.MediumMSISDN,
		Address:    "+44 (20) 7946-0958",
		EnqueuedAt: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(inv.Address, inv.Sender)
	fmt.Println(inv.TaskID())

	task, err := inv.Task() // ready for asynq.Client.Enqueue
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(task.Type())
	fmt.Println(string(task.Payload()))

	// The worker side: a broken payload names the field and is never worth retrying.
	broken := []byte(`{"campaign":"x","room_id":"abc","medium":"email","address":"a@example.org",` +
		`"sender":"default","enqueued_at":"2025-03-01T12:00:00Z"}`)
	_, err = tasks.DecodeInvite(broken)
	fmt.Println(err, errors.Is(err, tasks.ErrInvalid))
	// Output:
	// 442079460958 default
	// inv:74df7c14a0d9e64d6596130a68ff8def
	// invite:3pid
	// {"campaign":"spring-newsletter","room_id":"!abcdef:example.org","medium":"msisdn","address":"442079460958","sender":"default","enqueued_at":"2025-03-01T12:00:00Z"}
	// room_id "abc": must be a room ID: "!opaque:server" (room versions 1-11) or "!" followed by 43 URL-safe base64 characters (room version 12) true
}
