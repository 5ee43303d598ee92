package rdb

import (
	"strconv"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
)

// Keys names every Redis key mxinvite uses. Every key of its own starts with
// the prefix (default DefaultPrefix):
//
//	{prefix}:invite:{key}            hash   one record per invite: its identity, progress and final result (record.go)
//	{prefix}:campaign:{name}:counts  hash   per-campaign counters (counts.go)
//	{prefix}:campaign:{name}:invites zset   invite keys of the campaign, scored by enqueue time (ms): the index of earlier releases (index.go)
//	{prefix}:campaign:{name}:order   list   invite keys of the campaign in registration order, after those of :invites (index.go)
//	{prefix}:campaign:{name}:meta    hash   what the campaign is: room_id, sender, id_server, medium, created_at_ms;
//	                                        finished_room_id, finished_sender (what its finished records share: shared.go)
//	{prefix}:campaigns               set    campaign names
//	{prefix}:results                 stream one entry per final result, for downstream consumers
//	{prefix}:gate:{sender}           hash   the sender's shared rate-limit gate of 3PID invites (gate.go)
//	{prefix}:gate:{sender}:mxid      hash   the same sender's gate of invites by Matrix ID (GateName; with its :fails, :owed)
//	{prefix}:gate:{sender}:fails     set    invites whose answers were ambiguous since the sender's last success (backoff.go)
//	{prefix}:gate:{sender}:owed      set    invites whose last failure was spared provisionally (backoff.go)
//	{prefix}:pause:{scope}:{name}    hash   a pause holding a sender's or a campaign's invites (pause.go)
//	{prefix}:pauses                  zset   "{scope}:{name}" of every pause, scored by its start (ms)
//	{prefix}:senders                 hash   sender name -> when a worker serving it last said so (ms; served.go)
//	{prefix}:workers                 zset   worker ID -> until when its heartbeat says it is alive (ms; liveness.go)
//	{prefix}:workers:refs            zset   the same, for workers that read tasks.InviteRef payloads (liveness.go)
//	{prefix}:worker:{id}:held        set    invites that worker began and may still hold (active, owner = id; takeover.go)
//	{prefix}:schedules               hash   recurring campaign name -> definition (JSON; schedule.go)
//	{prefix}:schedule-ticks          hash   recurring campaign name -> its last tick (JSON)
//	{prefix}:schedule:{name}:tick:{t} string the scheduler that fired tick t (unix s); expires after a day
//
// {key} is tasks.Invite.Key(): a hash of sender, room, medium and normalised
// address, so a record survives re-invites (--again) and is found again by
// the producer to skip invites already queued or done.
//
// Some of asynq v0.26's own keys are named here too (asynqTask,
// asynqZset): cancel and purge delete the tasks of many invites per round
// trip, which asynq's Inspector does one by one, and EnqueueTasks
// (asynqtask.go) writes a batch of tasks per round trip, which asynq's
// client does one by one. Tests check that layout through asynq's
// Inspector and against asynq's client's own writes, so an asynq upgrade
// that changes it fails them.
type Keys struct{ prefix string }

// DefaultPrefix is the key prefix when none is configured.
const DefaultPrefix = "mxinvite"

// NewKeys names keys under prefix ("" means DefaultPrefix).
func NewKeys(prefix string) Keys {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return Keys{prefix: prefix}
}

// Prefix is the prefix of every key of mxinvite's own.
func (k Keys) Prefix() string { return k.prefix }

func (k Keys) invite(key string) string       { return k.prefix + ":invite:" + key }
func (k Keys) counts(campaign string) string  { return k.prefix + ":campaign:" + campaign + ":counts" }
func (k Keys) invites(campaign string) string { return k.prefix + ":campaign:" + campaign + ":invites" }
func (k Keys) order(campaign string) string   { return k.prefix + ":campaign:" + campaign + ":order" }
func (k Keys) meta(campaign string) string    { return k.prefix + ":campaign:" + campaign + ":meta" }
func (k Keys) campaigns() string              { return k.prefix + ":campaigns" }
func (k Keys) results() string                { return k.prefix + ":results" }
func (k Keys) gate(sender string) string      { return k.prefix + ":gate:" + sender }
func (k Keys) fails(sender string) string     { return k.prefix + ":gate:" + sender + ":fails" }
func (k Keys) owed(sender string) string      { return k.prefix + ":gate:" + sender + ":owed" }

// GateName is the name a sender's gate of one rate-limit path goes by in
// gate keys (and the sender argument of Failed and Recovered): the
// sender's own for 3PID invites, so issue 20's gates and their data stay
// where they were, "{sender}:mxid" for invites by Matrix ID. Sender names
// have no ':' (tasks), so no two names meet.
func GateName(sender string, path record.Path) string {
	if path == record.Path3PID {
		return sender
	}
	return sender + ":" + string(path)
}

func (k Keys) pauses() string             { return k.prefix + ":pauses" }
func (k Keys) senders() string            { return k.prefix + ":senders" }
func (k Keys) workers() string            { return k.prefix + ":workers" }
func (k Keys) workersReadingRefs() string { return k.prefix + ":workers:refs" }
func (k Keys) held(worker string) string  { return k.prefix + ":worker:" + worker + ":held" }
func (k Keys) schedules() string          { return k.prefix + ":schedules" }
func (k Keys) scheduleTicks() string      { return k.prefix + ":schedule-ticks" }

func (k Keys) pause(scope, name string) string { return k.prefix + ":pause:" + scope + ":" + name }

// pauseMember is a pause's member in the pauses zset.
func pauseMember(scope, name string) string { return scope + ":" + name }

func (k Keys) scheduleTick(name string, tick time.Time) string {
	return k.prefix + ":schedule:" + name + ":tick:" + strconv.FormatInt(tick.Unix(), 10)
}

// ownPattern matches every key of mxinvite's own (for cleaning up a demo).
func (k Keys) ownPattern() string { return k.prefix + ":*" }

// asynq v0.26's layout (its internal/base/keys.go): a task's hash, and the
// sorted sets of its scheduled, retry, archived and completed tasks.
func asynqTask(queue, id string) string    { return "asynq:{" + queue + "}:t:" + id }
func asynqZset(queue, state string) string { return "asynq:{" + queue + "}:" + state }

// asynqList is asynq's list of a queue's pending tasks (state "pending").
func asynqList(queue, state string) string { return "asynq:{" + queue + "}:" + state }
func asynqQueuePattern(queue string) string {
	return "asynq:{" + queue + "}:*"
}

// asynqLanesPattern matches the keys of every lane under base
// (asynq:{base:sender:lane}:…; tasks/queue.go).
func asynqLanesPattern(base string) string { return "asynq:{" + base + ":*" }

// asynqQueues is asynq's set of queue names.
const asynqQueues = "asynq:queues"

// asynq v0.26's task states, as its task hashes' "state" field and its
// sorted sets name them.
const (
	asynqPending   = "pending"
	asynqScheduled = "scheduled"
	asynqRetry     = "retry"
	asynqArchived  = "archived"
	asynqCompleted = "completed"
)
