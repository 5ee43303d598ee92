package worker

// Key layout. Every key starts with Config.KeyPrefix (default "mxinvite"):
//
//	{prefix}:invite:{key}            hash   one record per invite: its identity, progress and final result
//	{prefix}:campaign:{name}:counts  hash   per-campaign counters (see below)
//	{prefix}:campaign:{name}:invites zset   invite keys of the campaign, scored by enqueue time (ms)
//	{prefix}:campaign:{name}:meta    hash   what the campaign is: room_id, sender, id_server, medium, created_at_ms
//	{prefix}:campaigns               set    campaign names
//	{prefix}:results                 stream one entry per final result, for downstream consumers
//	{prefix}:gate:{sender}           hash   the sender's shared rate-limit gate (see gate.go)
//	{prefix}:gate:{sender}:fails     set    invites whose answers were ambiguous since the sender's last success (backoff.go)
//	{prefix}:pause:{scope}:{name}    hash   a pause holding a sender's or a campaign's invites (see pause.go)
//	{prefix}:pauses                  zset   "{scope}:{name}" of every pause, scored by its start (ms)
//	{prefix}:senders                 hash   sender name -> when a worker serving it last said so (ms; see served.go)
//
// {key} is tasks.Invite.Key(): a hash of sender, room, medium and normalised
// address, so a record survives re-invites (--again) and is found again by the
// producer to skip invites already queued or done.
//
// Campaign counters: "state:{queued|scheduled|active|retrying|paused|done|
// cancelled}" (current states of its invites), "status:{Name}" (final
// results by libQuotient status name), "requests" (invite requests sent),
// "rate_limited" (429 answers), "possible_duplicates" (invites that
// succeeded after an ambiguous attempt). Every invite of the campaign is in
// its index and in exactly one state, so the index's size (ZCARD, reported
// as "enqueued") is the sum of the state counters; a re-invite replaces its
// record and keeps it one invite. (Data written before session 2 also has
// an "enqueued" counter of registrations ever made; nothing reads it.)
//
// Campaign meta: room_id, sender, id_server and medium of its invites ("*"
// once two registrations disagree), created_at_ms of its first
// registration (Unix ms), written by registerScript.
//
// Lua scripts build these keys from the prefix in ARGV: mxinvite targets a
// single Redis (or a primary with replicas), as asynq does, not Redis Cluster.
type keys struct{ prefix string }

func (k keys) invite(key string) string       { return k.prefix + ":invite:" + key }
func (k keys) counts(campaign string) string  { return k.prefix + ":campaign:" + campaign + ":counts" }
func (k keys) invites(campaign string) string { return k.prefix + ":campaign:" + campaign + ":invites" }
func (k keys) meta(campaign string) string    { return k.prefix + ":campaign:" + campaign + ":meta" }
func (k keys) campaigns() string              { return k.prefix + ":campaigns" }
func (k keys) gate(sender string) string      { return k.prefix + ":gate:" + sender }

// Invite states kept in the record's "state" field and counted per campaign.
const (
	StateQueued    = "queued"
	StateScheduled = "scheduled"
	StateActive    = "active"
	StateRetrying  = "retrying"
	StateDone      = "done"
	// StatePaused: held by a sender or campaign pause (not sent until resumed).
	StatePaused = "paused"
	// StateCancelled: removed by Cancel before it was sent; the record stays
	// so the campaign's counts still add up, and a later registration of the
	// same invite replaces it as a new generation.
	StateCancelled = "cancelled"
)
