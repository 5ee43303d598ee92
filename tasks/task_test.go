package tasks

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
)

func validInvite(t *testing.T) Invite {
	t.Helper()
	inv, err := NewInvite(Invite{
		Campaign:   "c1",
		RoomID:     "!room:example.org",
		Medium:     MediumEmail,
		Address:    "bob@example.org",
		EnqueuedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestTaskCarriesTypeAndPayload(t *testing.T) {
	inv := validInvite(t)
	task, err := inv.Task()
	if err != nil {
		t.Fatal(err)
	}
	if task.Type() != TypeInvite3PID {
		t.Errorf("Type() = %q", task.Type())
	}
	decoded, err := DecodeInvite(task.Payload())
	if err != nil || decoded != inv {
		t.Errorf("payload decodes to %+v, %v; want %+v", decoded, err, inv)
	}
}

// asynq keeps a task's options private, so the option list Task passes to
// asynq.NewTask is checked here directly.
func TestTaskOptions(t *testing.T) {
	inv := validInvite(t)
	inv.Generation = 1

	got := optionValues(inv.taskOptions(nil))
	if got[asynq.TaskIDOpt] != inv.TaskID() || got[asynq.QueueOpt] != DefaultQueue || got[asynq.MaxRetryOpt] != DefaultMaxRetry {
		t.Errorf("defaults = %v", got)
	}

	// Caller options come last, so asynq lets them win.
	got = optionValues(inv.taskOptions([]asynq.Option{asynq.Queue("bulk"), asynq.MaxRetry(3)}))
	if got[asynq.QueueOpt] != "bulk" || got[asynq.MaxRetryOpt] != 3 || got[asynq.TaskIDOpt] != inv.TaskID() {
		t.Errorf("with overrides = %v", got)
	}
}

// optionValues folds options the way asynq does: the last of each type wins.
func optionValues(opts []asynq.Option) map[asynq.OptionType]any {
	m := map[asynq.OptionType]any{}
	for _, o := range opts {
		m[o.Type()] = o.Value()
	}
	return m
}

func TestTaskRejectsInvalidInvite(t *testing.T) {
	inv := validInvite(t)
	inv.RoomID = "nope"
	if _, err := inv.Task(); err == nil {
		t.Error("Task() accepted an invalid invite")
	}
	if _, err := inv.Payload(); err == nil {
		t.Error("Payload() accepted an invalid invite")
	}
}

func TestPayloadFieldNames(t *testing.T) {
	inv := validInvite(t)
	inv.IDServer = "vector.im"
	inv.Generation = 2
	payload, err := inv.Payload()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"campaign", "room_id", "medium", "address", "id_server", "sender", "enqueued_at", "generation"} {
		if _, ok := m[name]; !ok {
			t.Errorf("payload %s lacks %q", payload, name)
		}
	}
	if len(m) != 8 {
		t.Errorf("payload has %d fields, want 8: %s", len(m), payload)
	}

	first := validInvite(t) // generation 0, no id_server: both omitted
	payload, _ = first.Payload()
	m = nil
	_ = json.Unmarshal(payload, &m)
	if _, ok := m["generation"]; ok {
		t.Errorf("generation 0 should be omitted: %s", payload)
	}
	if _, ok := m["id_server"]; ok {
		t.Errorf("empty id_server should be omitted: %s", payload)
	}
}

func TestPayloadTooLarge(t *testing.T) {
	inv := validInvite(t)
	inv.Sender = strings.Repeat("x", MaxPayloadBytes) // a valid profile name, but far too big
	_, err := inv.Payload()
	if fe, ok := err.(*FieldError); !ok || fe.Field != "payload" {
		t.Errorf("Payload() = %v, want a payload FieldError", err)
	}
}
