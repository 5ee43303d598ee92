package rdb

import (
	"maps"
	"testing"

	"github.com/mxinvite/mxinvite/internal/record"
)

// checkIdentity asserts the counts identity of a campaign: every invite of
// its index has a record in exactly one state, the "state:*" counters equal
// the records' states, the index's size is their sum, and the statuses add
// up to done.
func checkIdentity(t testing.TB, c *Client, campaign string) record.CampaignCounts {
	t.Helper()
	ctx := t.Context()
	counts, err := c.Counts(ctx, campaign)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[record.State]int{}
	err = c.Results(ctx, campaign, func(r record.Result) error {
		if r.Campaign != campaign {
			t.Errorf("invite %s in the index of %s belongs to %s", r.Key, campaign, r.Campaign)
		}
		seen[r.State]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	// "recovering" is a display share of the stored "active".
	stored := maps.Clone(counts.States)
	stored[record.StateActive] += stored[record.StateRecovering]
	for _, s := range record.States {
		if stored[s] != seen[s] {
			t.Errorf("campaign %s: counter state:%s = %d, records in that state %d", campaign, s, stored[s], seen[s])
		}
		total += seen[s]
	}
	for s := range seen {
		if s == record.StateNone || !contains(record.States, s) {
			t.Errorf("campaign %s: %d records in unknown state %q", campaign, seen[s], s)
		}
	}
	if counts.Enqueued != total || counts.InStates() != total {
		t.Errorf("campaign %s: enqueued %d, in states %d, records %d", campaign, counts.Enqueued, counts.InStates(), total)
	}
	statuses := 0
	for _, n := range counts.Statuses {
		statuses += n
	}
	if statuses != counts.States[record.StateDone] {
		t.Errorf("campaign %s: statuses add up to %d, done %d", campaign, statuses, counts.States[record.StateDone])
	}
	return counts
}

func contains[T comparable](list []T, x T) bool {
	for _, v := range list {
		if v == x {
			return true
		}
	}
	return false
}
