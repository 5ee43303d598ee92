package compat

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"testing"

	"github.com/redis/go-redis/v9"
)

// campaignData is one campaign as Redis holds it.
type campaignData struct {
	Counts  counts
	Records []record
}

// readAll reads every campaign's counters and records.
func readAll(t *testing.T, ctx context.Context, rdb *redis.Client) map[string]campaignData {
	t.Helper()
	names, err := campaignNames(ctx, rdb)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]campaignData{}
	for _, name := range names {
		c, err := campaignCounts(ctx, rdb, name)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := campaignRecords(ctx, rdb, name)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = campaignData{Counts: c, Records: recs}
	}
	return out
}

// problems lists every way the data breaks the counts identity of
// docs/campaigns.md: every invite of a campaign is in its index and in
// exactly one state (enqueued = the sum of the state counters = its
// records), the counters agree with the records state by state, and the
// statuses add up to done, status by status.
func problems(data map[string]campaignData) []string {
	var out []string
	bad := func(campaign, format string, args ...any) {
		out = append(out, fmt.Sprintf("campaign %s: %s", campaign, fmt.Sprintf(format, args...)))
	}
	for _, name := range slices.Sorted(maps.Keys(data)) {
		d := data[name]
		c := d.Counts
		if n := sum(c.States); n != c.Enqueued {
			bad(name, "enqueued %d, but the state counters add up to %d (%v)", c.Enqueued, n, c.States)
		}
		if len(d.Records) != c.Enqueued {
			bad(name, "enqueued %d, but %d records", c.Enqueued, len(d.Records))
		}
		if n := sum(c.Statuses); n != c.States[stateDone] {
			bad(name, "%d done, but the status counters add up to %d (%v)", c.States[stateDone], n, c.Statuses)
		}
		states, statuses := map[string]int{}, map[string]int{}
		for _, r := range d.Records {
			states[r.State]++
			if r.State == stateDone {
				statuses[r.Status]++
			}
			if r.Campaign != name {
				bad(name, "record %s says campaign %q", r.Key, r.Campaign)
			}
		}
		for _, s := range keysOf(states, c.States) {
			if states[s] != c.States[s] {
				bad(name, "%d records are %s, the counter says %d", states[s], s, c.States[s])
			}
		}
		for _, s := range keysOf(statuses, c.Statuses) {
			if statuses[s] != c.Statuses[s] {
				bad(name, "%d done records ended %s, the counter says %d", statuses[s], s, c.Statuses[s])
			}
		}
	}
	return out
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// keysOf returns the keys of a and b, sorted, each once.
func keysOf(a, b map[string]int) []string {
	all := maps.Clone(a)
	maps.Copy(all, b)
	return slices.Sorted(maps.Keys(all))
}

// stateCounts counts a campaign's records by state, leaving out zeros.
func stateCounts(recs []record) map[string]int {
	out := map[string]int{}
	for _, r := range recs {
		out[r.State]++
	}
	return out
}

// byKey indexes every record of every campaign by invite key.
func byKey(data map[string]campaignData) map[string]record {
	out := map[string]record{}
	for _, d := range data {
		for _, r := range d.Records {
			out[r.Key] = r
		}
	}
	return out
}

// sortedPauses sorts pauses by scope and name, for comparisons.
func sortedPauses(ps []pause) []pause {
	ps = slices.Clone(ps)
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Scope != ps[j].Scope {
			return ps[i].Scope < ps[j].Scope
		}
		return ps[i].Name < ps[j].Name
	})
	return ps
}
