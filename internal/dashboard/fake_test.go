package dashboard

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
)

// fakeSource serves fixed campaigns and records the actions asked of it.
type fakeSource struct {
	mu        sync.Mutex
	campaigns []Campaign
	results   map[string][]record.Result
	timeline  Timeline
	actions   []string
}

func (f *fakeSource) Campaigns(context.Context) ([]Campaign, error) { return f.campaigns, nil }

func (f *fakeSource) Campaign(_ context.Context, name string) (Campaign, error) {
	for _, c := range f.campaigns {
		if c.Name == name {
			return c, nil
		}
	}
	return Campaign{}, fmt.Errorf("%q: %w", name, ErrUnknownCampaign)
}

func (f *fakeSource) Timeline(context.Context, string) (Timeline, error) { return f.timeline, nil }

func (f *fakeSource) Results(_ context.Context, name string, failedOnly bool, fn func(record.Result) error) error {
	for _, r := range f.results[name] {
		if failedOnly && (!r.Final() || r.StatusCode == matrix.Success) {
			continue
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeSource) FindInvites(_ context.Context, q string) ([]record.Detail, error) {
	var out []record.Detail
	for _, rs := range f.results {
		for _, r := range rs {
			if strings.EqualFold(r.Address, strings.TrimSpace(q)) || r.TaskID == q {
				out = append(out, record.Detail{Result: r})
			}
		}
	}
	return out, nil
}

func (f *fakeSource) Invite(_ context.Context, key string) (record.Detail, error) {
	for _, rs := range f.results {
		for _, r := range rs {
			if r.Key == key {
				return record.Detail{Result: r}, nil
			}
		}
	}
	return record.Detail{}, fmt.Errorf("%s: %w", key, ErrUnknownInvite)
}

func (f *fakeSource) CancelInvite(_ context.Context, key string) (record.CancelOneStats, error) {
	f.record("cancel-invite " + key)
	return record.CancelOneStats{Before: record.StateQueued, Cancelled: true, TaskRemoved: true}, nil
}

func (f *fakeSource) RetryInvite(_ context.Context, key string) (record.Verdict, error) {
	f.record("retry-invite " + key)
	return record.Registered, nil
}

func (f *fakeSource) record(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.actions = append(f.actions, s)
}

func (f *fakeSource) done() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.actions...)
}

func (f *fakeSource) Resume(_ context.Context, scope, name string) error {
	f.record("resume " + scope + " " + name)
	return nil
}

func (f *fakeSource) Cancel(_ context.Context, name string) (record.CancelStats, error) {
	f.record("cancel " + name)
	return record.CancelStats{Cancelled: 2}, nil
}

func (f *fakeSource) Retry(_ context.Context, name string, code matrix.StatusCode) (record.RetryStats, error) {
	f.record(fmt.Sprintf("retry %s %d", name, code))
	return record.RetryStats{Enqueued: 1}, nil
}

// hostileName is a campaign name made of markup and URL syntax.
const hostileName = `<b>x</b>/../?a=1#"'`

func newFakeSource() *fakeSource {
	t0 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	res := []record.Result{
		{Campaign: hostileName, Key: "k-ok", Address: "ok@example.org", State: record.StateDone, Status: "Success", StatusCode: matrix.Success,
			Delivery: record.DeliveryUserID, UserID: "@ok:example.org"},
		{Campaign: hostileName, Key: "k-notfound", TaskID: "inv:k-notfound", Address: "=1+2@example.org", Medium: "email", State: record.StateDone, Status: "NotFound",
			StatusCode: matrix.NotFound, HTTPStatus: 404, ErrCode: "M_NOT_FOUND", Error: `<script>alert("x")</script>`, FinishedAt: t0},
		{Campaign: hostileName, Key: "k-late", Address: "late@example.org", State: record.StateQueued},
	}
	return &fakeSource{
		campaigns: []Campaign{{
			Name: hostileName, Room: "!r:example.org", Sender: "<i>s</i>", Created: t0,
			Counts: record.CampaignCounts{Campaign: hostileName, Enqueued: 3,
				States: map[record.State]int{"done": 2, "queued": 1}, Statuses: map[string]int{"Success": 1, "NotFound": 1}},
			Pause: &Pause{Scope: ScopeSender, Name: "default", Reason: `token <dead> & "gone"`, Since: t0},
		}},
		results:  map[string][]record.Result{hostileName: res},
		timeline: Timeline{Width: time.Minute, Buckets: []Bucket{{Start: t0, Requests: 3, Accepted: 1, Failed: 1, RateLimited: 1}}},
	}
}
