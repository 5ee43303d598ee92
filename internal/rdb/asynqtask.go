package rdb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"google.golang.org/protobuf/encoding/protowire"
)

// AsynqTask is an asynq task as EnqueueTasks writes it: what asynq's
// Client.EnqueueContext would write for the same task and options, so that
// asynq's servers and Inspector read it as their own. EnqueueTasks exists
// because asynq enqueues one task per round trip (issue 26: `enqueue` spent
// most of its time and Redis CPU on those round trips); a batch of tasks
// goes in one.
type AsynqTask struct {
	Queue   string
	ID      string
	Type    string
	Payload []byte
	// MaxRetry, Timeout, Deadline and Retention are asynq's task options
	// (asynq.MaxRetry, …); Timeout is asynq's default (30 min) when neither
	// it nor Deadline is set, as asynq's client does.
	MaxRetry  int
	Timeout   time.Duration
	Deadline  time.Time
	Retention time.Duration
	// ProcessAt, when after the time of EnqueueTasks' call, schedules the
	// task; otherwise it is pending at once.
	ProcessAt time.Time
	// AlsoIn, if set, is another queue where a task with the same ID
	// counts as this one (it is not written then): the base queue, where an
	// earlier release put the tasks that are now in lanes.
	AlsoIn string
}

// asynq v0.26's client defaults (its client.go).
const (
	asynqDefaultQueue   = "default"
	asynqDefaultRetry   = 25
	asynqDefaultTimeout = 30 * time.Minute
)

// NewAsynqTask composes a task from asynq's options as asynq's client does
// (later options override earlier ones). asynq.TaskID is required (the
// producer's task IDs are what deduplicates); asynq.Unique and asynq.Group
// are refused (no invite uses them); unknown options are ignored, as asynq
// ignores them.
func NewAsynqTask(typename string, payload []byte, opts ...asynq.Option) (AsynqTask, error) {
	t := AsynqTask{Queue: asynqDefaultQueue, Type: typename, Payload: payload, MaxRetry: asynqDefaultRetry}
	if strings.TrimSpace(typename) == "" {
		return t, errors.New("task typename cannot be empty")
	}
	for _, o := range opts {
		switch o.Type() {
		case asynq.MaxRetryOpt:
			t.MaxRetry = o.Value().(int)
		case asynq.QueueOpt:
			q := o.Value().(string)
			if strings.TrimSpace(q) == "" {
				return t, errors.New("queue name must contain one or more characters")
			}
			t.Queue = q
		case asynq.TaskIDOpt:
			t.ID = o.Value().(string)
		case asynq.TimeoutOpt:
			t.Timeout = o.Value().(time.Duration)
		case asynq.DeadlineOpt:
			t.Deadline = o.Value().(time.Time)
		case asynq.ProcessAtOpt:
			t.ProcessAt = o.Value().(time.Time)
		case asynq.ProcessInOpt:
			t.ProcessAt = time.Now().Add(o.Value().(time.Duration))
		case asynq.RetentionOpt:
			t.Retention = o.Value().(time.Duration)
		case asynq.UniqueOpt, asynq.GroupOpt:
			return t, fmt.Errorf("asynq option %s is not supported by EnqueueTasks", o)
		}
	}
	if strings.TrimSpace(t.ID) == "" {
		return t, errors.New("EnqueueTasks needs a task ID (asynq.TaskID)")
	}
	return t, nil
}

// message is the task's asynq TaskMessage in protobuf wire format (asynq
// v0.26's internal/proto/asynq.proto), fields in number order and zero
// values left out, as proto.Marshal writes them: type 1, payload 2, id 3,
// queue 4, retry 5, timeout 8, deadline 9, retention 12. TestAsynqTaskAsAsynqWritesIt
// compares it with what asynq's client writes.
func (t AsynqTask) message() []byte {
	deadline, timeout := int64(0), int64(t.Timeout.Seconds())
	if !t.Deadline.IsZero() {
		deadline = t.Deadline.Unix()
	}
	if deadline == 0 && timeout == 0 {
		timeout = int64(asynqDefaultTimeout.Seconds())
	}
	b := make([]byte, 0, 32+len(t.Type)+len(t.Payload)+len(t.ID)+len(t.Queue))
	str := func(n protowire.Number, s string) {
		if s != "" {
			b = protowire.AppendTag(b, n, protowire.BytesType)
			b = protowire.AppendString(b, s)
		}
	}
	num := func(n protowire.Number, v int64) {
		if v != 0 {
			b = protowire.AppendTag(b, n, protowire.VarintType)
			b = protowire.AppendVarint(b, uint64(v))
		}
	}
	str(1, t.Type)
	if len(t.Payload) > 0 {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendBytes(b, t.Payload)
	}
	str(3, t.ID)
	str(4, t.Queue)
	num(5, int64(int32(t.MaxRetry)))
	num(8, timeout)
	num(9, deadline)
	num(12, int64(t.Retention.Seconds()))
	return b
}

// enqueueTasksScript writes asynq tasks as asynq's own enqueue and schedule
// scripts do, many per call: a task whose hash exists already (any state),
// in its queue or in the other queue named for it, is left alone, as
// asynq's client answers ErrTaskIDConflict; otherwise its
// hash is written and its ID pushed on its queue's pending list, or added
// to its scheduled set. Each queue is added to asynq's set of queues.
//
// KEYS[1] -> asynq:queues
// KEYS[1+3(i-1)+1] -> task i's hash, asynq:{queue}:t:{id}
// KEYS[1+3(i-1)+2] -> its queue's pending list, or its scheduled zset
// KEYS[1+3(i-1)+3] -> its hash in another queue that counts too (AlsoIn),
//
//	or its own hash again
//
// ARGV[1] -> now, unix ns (a pending task's pending_since)
// ARGV[2], ARGV[3] -> asynq's state names "pending" and "scheduled"
// ARGV[4+3(i-1)..] -> per task i: its ID, its message, and "" (pending)
//
//	or its process-at time (unix s; scheduled)
//
// ARGV[4+3n..] -> the queues of the tasks, each once
//
// Returns one value per task: 1 written, 0 it existed.
var enqueueTasksScript = newScript("enqueue_tasks", `
local n = (#KEYS - 1) / 3
local out = {}
for i = 1, n do
  local task, list, other, a = KEYS[3 * i - 1], KEYS[3 * i], KEYS[3 * i + 1], 4 + 3 * (i - 1)
  if redis.call('EXISTS', task) == 1 or (other ~= task and redis.call('EXISTS', other) == 1) then
    out[i] = 0
  else
    local id, msg, at = ARGV[a], ARGV[a + 1], ARGV[a + 2]
    if at == '' then
      redis.call('HSET', task, 'msg', msg, 'state', ARGV[2], 'pending_since', ARGV[1])
      redis.call('LPUSH', list, id)
    else
      redis.call('HSET', task, 'msg', msg, 'state', ARGV[3])
      redis.call('ZADD', list, at, id)
    end
    out[i] = 1
  end
end
for j = 4 + 3 * n, #ARGV do redis.call('SADD', KEYS[1], ARGV[j]) end
return out
`)

// maxEnqueueTasks bounds the tasks of one enqueueTasksScript call (its
// reply is one table).
const maxEnqueueTasks = 1000

// EnqueueTasks writes tasks as asynq's client would, up to maxEnqueueTasks
// per round trip (each call atomic), and reports for each whether it was
// written (false: a task with its ID exists already, asynq's
// ErrTaskIDConflict). On error it returns the answers of the calls made
// before it (a prefix of ts).
func (c *Client) EnqueueTasks(ctx context.Context, ts []AsynqTask) ([]bool, error) {
	out := make([]bool, 0, len(ts))
	for len(ts) > 0 {
		n := min(len(ts), maxEnqueueTasks)
		written, err := c.enqueueTasks(ctx, ts[:n])
		if err != nil {
			return out, err
		}
		out = append(out, written...)
		ts = ts[n:]
	}
	return out, nil
}

func (c *Client) enqueueTasks(ctx context.Context, ts []AsynqTask) ([]bool, error) {
	now := time.Now()
	keys := make([]string, 0, 1+3*len(ts))
	args := make([]any, 0, 3+3*len(ts)+1)
	keys = append(keys, asynqQueues)
	args = append(args, now.UnixNano(), asynqPending, asynqScheduled)
	var queues []string
	seen := map[string]bool{}
	for _, t := range ts {
		if !seen[t.Queue] {
			seen[t.Queue] = true
			queues = append(queues, t.Queue)
		}
		at := ""
		list := asynqList(t.Queue, asynqPending)
		if t.ProcessAt.After(now) {
			at = fmt.Sprint(t.ProcessAt.Unix())
			list = asynqZset(t.Queue, asynqScheduled)
		}
		other := asynqTask(t.Queue, t.ID)
		if t.AlsoIn != "" {
			other = asynqTask(t.AlsoIn, t.ID)
		}
		keys = append(keys, asynqTask(t.Queue, t.ID), list, other)
		args = append(args, t.ID, t.message(), at)
	}
	for _, q := range queues {
		args = append(args, q)
	}
	res, err := enqueueTasksScript.Run(ctx, c.rdb, keys, args...).Int64Slice()
	if err == nil && len(res) != len(ts) {
		err = fmt.Errorf("%d values in the reply, want %d", len(res), len(ts))
	}
	if err != nil {
		return nil, fmt.Errorf("enqueue %d tasks: %w", len(ts), err)
	}
	out := make([]bool, len(ts))
	for i, v := range res {
		out[i] = v == 1
	}
	return out, nil
}
