package tasks

import (
	"encoding/json"
	"fmt"

	"github.com/hibiken/asynq"
)

// TypeInvite3PID is the asynq task type of a third-party invite.
const TypeInvite3PID = "invite:3pid"

// DefaultQueue is the asynq queue invites go to, so that workers can give
// invites their own concurrency and priority.
const DefaultQueue = "invites"

// DefaultSender is the sender profile used when an invite names none.
const DefaultSender = "default"

// DefaultMaxRetry is how often asynq retries a failed invite. Identity
// servers and homeservers rate-limit and go down for maintenance; with
// asynq's exponential backoff, 25 retries span several days.
const DefaultMaxRetry = 25

// MaxPayloadBytes caps the encoded size of an invite. Real invites are a few
// hundred bytes; the cap keeps a corrupt or hostile payload from costing the
// worker more than a glance.
const MaxPayloadBytes = 64 << 10

// Payload validates the invite and encodes it as the task payload (JSON).
func (i Invite) Payload() ([]byte, error) {
	if err := i.Validate(); err != nil {
		return nil, err
	}
	payload, err := json.Marshal(i)
	if err != nil {
		return nil, fmt.Errorf("tasks: encoding invite: %w", err)
	}
	if len(payload) > MaxPayloadBytes {
		return nil, payloadTooLarge(payload)
	}
	return payload, nil
}

// Task builds the asynq task for the invite. It sets TaskID(i.TaskID()),
// Queue(DefaultQueue) and MaxRetry(DefaultMaxRetry) first, so the caller's
// opts override them (asynq applies the last option of each kind).
func (i Invite) Task(opts ...asynq.Option) (*asynq.Task, error) {
	payload, err := i.Payload()
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypeInvite3PID, payload, i.taskOptions(opts)...), nil
}

// TaskOptions are the asynq options of the invite's task: those Task sets
// (TaskID, Queue(DefaultQueue), MaxRetry(DefaultMaxRetry)) followed by
// extra, which override them. For producers that write the task without
// asynq's client (internal/rdb.NewAsynqTask).
func (i Invite) TaskOptions(extra ...asynq.Option) []asynq.Option { return i.taskOptions(extra) }

// taskOptions returns the default options for the invite followed by extra.
func (i Invite) taskOptions(extra []asynq.Option) []asynq.Option {
	opts := make([]asynq.Option, 0, 3+len(extra))
	opts = append(opts,
		asynq.TaskID(i.TaskID()),
		asynq.Queue(DefaultQueue),
		asynq.MaxRetry(DefaultMaxRetry),
	)
	return append(opts, extra...)
}

func payloadTooLarge(payload []byte) *FieldError {
	return fieldError("payload", string(payload[:min(len(payload), 2*maxErrorValueRunes)]),
		fmt.Sprintf("is %d bytes, more than the %d-byte limit", len(payload), MaxPayloadBytes))
}
