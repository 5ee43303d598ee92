package record

import (
	"errors"
	"time"
)

// CancelStats says what a campaign's cancel did.
type CancelStats struct {
	// Cancelled invites had their tasks removed and are now "cancelled".
	Cancelled int `json:"cancelled"`
	// InFlight invites were being sent and could not be cancelled.
	InFlight int `json:"in_flight"`
	// Finished invites keep their results.
	Finished int `json:"finished"`
	// AlreadyCancelled invites were cancelled by an earlier cancel.
	AlreadyCancelled int `json:"already_cancelled"`
	// TasksLeft are the cancelled invites' tasks left in asynq's pending
	// list (removing each is a scan of the list): a worker takes each,
	// finds its invite cancelled and ends it at once, sending nothing. They
	// count as pending in asynq (and asynq_queue_size) until then.
	TasksLeft int `json:"tasks_left"`
}

// RetryStats says what a retry of a campaign's failures did.
type RetryStats struct {
	// Enqueued invites were re-invited as a new generation.
	Enqueued int `json:"enqueued"`
	// Skipped invites had that status but could not be re-enqueued (pending again already).
	Skipped int `json:"skipped"`
}

// PurgeOptions choose what a purge deletes. At least one of Campaign and
// FinishedBefore is required; given both, only that campaign's invites
// finished before the time go.
type PurgeOptions struct {
	// Campaign limits the purge to one campaign. Default: every campaign.
	Campaign string
	// FinishedBefore limits the purge to invites finished before this
	// time (to the second). Default zero: every finished invite.
	FinishedBefore time.Time
	// DryRun counts what would go and deletes nothing.
	DryRun bool
	// BatchSize is how many index entries (or stream entries) one script
	// call looks at: each call blocks Redis for its duration. Default
	// DefaultPurgeBatch.
	BatchSize int
}

// DefaultPurgeBatch is PurgeOptions.BatchSize's default.
const DefaultPurgeBatch = 500

// PurgeStats say what a purge deleted (or, in a dry run, would delete).
type PurgeStats struct {
	// Records counts the finished invites' records deleted, with their
	// index entries and share of the campaign counters.
	Records int `json:"records"`
	// Tasks counts the asynq tasks deleted (archived, completed or waiting
	// to retry, with the invite's task ID).
	Tasks int `json:"tasks"`
	// StreamEntries counts the results stream entries deleted.
	StreamEntries int `json:"stream_entries"`
	// StaleIndexEntries counts index entries without a record (expired by
	// the finished-record TTL), dropped.
	StaleIndexEntries int `json:"stale_index_entries"`
	// Kept counts the invites the purged campaigns still hold: not
	// finished, or not finished before FinishedBefore.
	Kept int `json:"kept"`
	// CampaignsDeleted are the campaigns left without any invite, whose
	// counters and name were deleted too.
	CampaignsDeleted []string `json:"campaigns_deleted"`
	// DryRun is set when nothing was deleted.
	DryRun bool `json:"dry_run"`
}

// ErrUnknownCampaign is returned for a campaign Redis does not know.
var ErrUnknownCampaign = errors.New("no such campaign")
