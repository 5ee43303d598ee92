package testkit

import (
	"strings"

	"github.com/hibiken/asynq"
)

// Tests look at asynq's queues the way an operator does: a base queue and
// the lanes of each sender under it (tasks/queue.go).

// QueuesUnder lists asynq's queues that are base or under it.
func QueuesUnder(in *asynq.Inspector, base string) []string {
	all, err := in.Queues()
	if err != nil {
		return nil
	}
	var out []string
	for _, q := range all {
		if q == base || strings.HasPrefix(q, base+":") {
			out = append(out, q)
		}
	}
	return out
}

// QueueInfo adds up the counts of base and its lanes (zero when none
// exists).
func QueueInfo(in *asynq.Inspector, base string) asynq.QueueInfo {
	var sum asynq.QueueInfo
	sum.Queue = base
	for _, q := range QueuesUnder(in, base) {
		qi, err := in.GetQueueInfo(q)
		if err != nil {
			continue
		}
		sum.Size += qi.Size
		sum.Pending += qi.Pending
		sum.Active += qi.Active
		sum.Scheduled += qi.Scheduled
		sum.Retry += qi.Retry
		sum.Archived += qi.Archived
		sum.Completed += qi.Completed
		sum.Aggregating += qi.Aggregating
		sum.Processed += qi.Processed
		sum.Failed += qi.Failed
	}
	return sum
}

// Tasks lists the tasks of base and its lanes with list (one of the
// Inspector's List…Tasks methods).
func Tasks(in *asynq.Inspector, base string, list func(queue string, opts ...asynq.ListOption) ([]*asynq.TaskInfo, error)) []*asynq.TaskInfo {
	var out []*asynq.TaskInfo
	for _, q := range QueuesUnder(in, base) {
		tasks, err := list(q, asynq.PageSize(100000))
		if err == nil {
			out = append(out, tasks...)
		}
	}
	return out
}
