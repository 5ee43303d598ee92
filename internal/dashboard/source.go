package dashboard

import (
	"context"
	"errors"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
)

// Source is everything the dashboard reads and does. NewStoreSource
// implements it over Redis; tests wrap it to fake what the worker package
// does not offer yet.
type Source interface {
	// Campaigns lists every campaign, sorted by name.
	Campaigns(ctx context.Context) ([]Campaign, error)
	// Campaign reads one campaign; ErrUnknownCampaign when there is none.
	Campaign(ctx context.Context, name string) (Campaign, error)
	// Timeline is the campaign's history, per minute (coarser for long
	// campaigns).
	Timeline(ctx context.Context, name string) (Timeline, error)
	// Results calls fn for every invite record of the campaign (only the
	// failed ones when failedOnly), without holding them all in memory.
	// The failures are grouped by cause from it.
	Results(ctx context.Context, name string, failedOnly bool, fn func(record.Result) error) error

	// FindInvites finds invites by address (any spelling) or task ID,
	// across campaigns; ErrBadQuery (wrapped) for a query that is neither.
	FindInvites(ctx context.Context, query string) ([]record.Detail, error)
	// Invite reads one invite by key; ErrUnknownInvite when there is none.
	Invite(ctx context.Context, key string) (record.Detail, error)
	// CancelInvite cancels one invite not sent yet, removing its task.
	CancelInvite(ctx context.Context, key string) (record.CancelOneStats, error)
	// RetryInvite re-enqueues one finished invite that did not succeed.
	RetryInvite(ctx context.Context, key string) (record.Verdict, error)

	// Resume lifts a pause (scope "sender" or "campaign", and its name).
	Resume(ctx context.Context, scope, name string) error
	// Cancel removes the campaign's invites not sent yet.
	Cancel(ctx context.Context, name string) (record.CancelStats, error)
	// Retry re-enqueues the campaign's invites that ended with code.
	Retry(ctx context.Context, name string, code matrix.StatusCode) (record.RetryStats, error)
}

// ErrUnknownCampaign is returned (wrapped) for a campaign that does not exist.
var ErrUnknownCampaign = errors.New("no such campaign")

// ErrUnknownInvite is returned (wrapped) for an invite key without a record.
var ErrUnknownInvite = errors.New("no such invite")

// ErrBadQuery is returned (wrapped) by FindInvites for a query that is
// neither an address nor a task ID.
var ErrBadQuery = errors.New("not an email address, a phone number or a task ID")

// ErrNotRetriable is returned (wrapped) by RetryInvite for an invite that
// was delivered or has not finished.
var ErrNotRetriable = errors.New("not retriable")

// ErrNotSupported is returned (wrapped) by an action the source cannot do
// (Resume before the worker package has pauses).
var ErrNotSupported = errors.New("not supported by this version of the worker")

// Campaign is one campaign as the pages show it. Fields a source cannot
// know are zero (Room, Sender, Created) or nil (Pause, PacePerMinute,
// ETASeconds): the pages say "unknown" rather than guess.
type Campaign struct {
	Name    string    `json:"name"`
	Room    string    `json:"room,omitempty"`
	Sender  string    `json:"sender,omitempty"`
	Created time.Time `json:"created,omitzero"`
	// Counts are the campaign's counters, as `mxinvite status --json`.
	Counts record.CampaignCounts `json:"counts"`
	// Pause is the pause holding the campaign's invites, if any.
	Pause *Pause `json:"paused"`
	// RatePerMinute is how many of its invites finished per minute lately.
	RatePerMinute float64 `json:"rate_per_minute"`
	// PacePerMinute is the sender's pace as its rate-limit gate knows it.
	PacePerMinute *float64 `json:"pace_per_minute"`
	// ETASeconds is the expected time until every invite is final, with
	// everything ahead of it on its sender; nil when unknown.
	ETASeconds *float64 `json:"eta_seconds"`
	// Waiting says in words what the campaign waits for ("behind 432
	// invites of campaign winter on sender default", "scheduled from 14:00
	// UTC"); "" when nothing holds it back.
	Waiting string `json:"waiting,omitempty"`
	// Lane and Priority are the sender's lane its invites go to and its
	// priority ("" for a campaign of an earlier release).
	Lane     string `json:"lane,omitempty"`
	Priority string `json:"priority,omitempty"`
	// Unserved is set when no running worker serves the campaign's sender
	// (none said so lately): its invites wait, "active" ones included (a
	// worker that died mid-request left them; asynq hands them to the next
	// worker about a minute after one starts).
	Unserved bool `json:"unserved,omitempty"`
}

// Pause is what holds invites back until someone (or the worker) resumes
// them: a sender whose token died, or a campaign whose first invites all
// failed alike.
type Pause struct {
	// Scope is "sender" or "campaign"; Name is the sender's or campaign's.
	Scope  string    `json:"scope"`
	Name   string    `json:"name"`
	Reason string    `json:"reason"`
	Since  time.Time `json:"since,omitzero"`
}

// Pause scopes.
const (
	ScopeSender   = "sender"
	ScopeCampaign = "campaign"
)

// Timeline is a campaign's history in buckets of equal width, oldest first.
type Timeline struct {
	// Width is each bucket's width: a minute, or a power of two of minutes
	// for campaigns longer than the cap on buckets.
	Width   time.Duration `json:"width_ns"`
	Buckets []Bucket      `json:"buckets"`
	// PacePerMinute is the sender's pace now, when known (drawn as a line).
	PacePerMinute *float64 `json:"pace_per_minute"`
	// Partial is set while the stream has not been read to its end yet
	// (a long history is read a bounded amount per request).
	Partial bool `json:"partial"`
}

// Bucket counts the invites that finished within [Start, Start+Width).
// Requests are attributed to the minute their invite finished: the stream
// has one entry per final result, not one per request.
type Bucket struct {
	Start time.Time `json:"start"`
	// Requests are the invite requests sent by the invites finished here;
	// RateLimited the 429 answers among them.
	Requests    int `json:"requests"`
	RateLimited int `json:"rate_limited"`
	// Accepted invites ended Success, Failed ones with any other status.
	Accepted int `json:"accepted"`
	Failed   int `json:"failed"`
}
