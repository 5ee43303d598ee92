package tasks

import (
	"fmt"
	"strings"
)

// Every sender has its own asynq queues, so that one sender's backlog or
// pace never delays another's due invites: a worker serves each sender's
// queues with their own slots, and subscribes only to the senders it
// serves. Inside a sender, each campaign's invites go to one lane:
//
//	{base}:{sender}:high         campaigns of PriorityHigh
//	{base}:{sender}:n0 … n{N-1}  campaigns of PriorityNormal (NormalLanes)
//	{base}:{sender}:low          campaigns of PriorityLow
//
// A lane is FIFO. The worker gives the sender's turns to high first, then
// to the normal lanes in turn, then to low, so two campaigns in different
// normal lanes share the sender's rate and a later one is not starved; the
// producer puts a new campaign in the normal lane with the least work
// (internal/rdb). The base queue itself (DefaultQueue, "invites") is where
// earlier releases put every invite: workers keep serving it.

// Priority is a campaign's claim on its sender's turns.
type Priority string

// The priorities. The zero value means PriorityNormal.
const (
	PriorityHigh   Priority = "high"
	PriorityNormal Priority = "normal"
	PriorityLow    Priority = "low"
)

// NormalLanes is how many normal-priority lanes a sender has: up to this
// many of its campaigns share its rate at once; more queue behind one
// another in the lanes.
const NormalLanes = 3

// ParsePriority reads a priority ("" is normal).
func ParsePriority(s string) (Priority, error) {
	switch p := Priority(strings.ToLower(strings.TrimSpace(s))); p {
	case "":
		return PriorityNormal, nil
	case PriorityHigh, PriorityNormal, PriorityLow:
		return p, nil
	}
	return "", fieldError("priority", s, "must be high, normal or low")
}

// Lanes are a sender's lanes, in the order the worker gives them turns.
func Lanes() []string {
	out := []string{string(PriorityHigh)}
	for i := range NormalLanes {
		out = append(out, NormalLane(i))
	}
	return append(out, string(PriorityLow))
}

// NormalLane names normal lane i.
func NormalLane(i int) string { return fmt.Sprintf("n%d", i) }

// LaneQueue is the asynq queue of a sender's lane under base.
func LaneQueue(base, sender, lane string) string {
	return base + ":" + sender + ":" + lane
}

// SenderQueues are every queue of a sender under base, in Lanes order.
func SenderQueues(base, sender string) []string {
	lanes := Lanes()
	out := make([]string, len(lanes))
	for i, l := range lanes {
		out[i] = LaneQueue(base, sender, l)
	}
	return out
}

// LaneOf tells the sender and lane of a queue under base; ok is false for
// the base queue itself and for queues that are not base's.
func LaneOf(base, queue string) (sender, lane string, ok bool) {
	rest, found := strings.CutPrefix(queue, base+":")
	if !found {
		return "", "", false
	}
	i := strings.LastIndexByte(rest, ':')
	if i <= 0 {
		return "", "", false
	}
	return rest[:i], rest[i+1:], true
}

// QueuePriority is the priority of the lane a queue under base is; normal
// for the base queue itself.
func QueuePriority(base, queue string) Priority {
	if _, lane, ok := LaneOf(base, queue); ok {
		return LanePriority(lane)
	}
	return PriorityNormal
}

// LanePriority is the priority a lane serves.
func LanePriority(lane string) Priority {
	switch lane {
	case string(PriorityHigh):
		return PriorityHigh
	case string(PriorityLow):
		return PriorityLow
	}
	return PriorityNormal
}
