package importer

import (
	"context"
	"maps"
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/tasks"
)

func TestDryRunWritesNothing(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	// alice and frank are known already; frank has his final result.
	e.run(e.opts(), strings.NewReader("email\nalice@example.org\nfrank@example.org\n"))
	frank, _ := tasks.NewInvite(tasks.Invite{Campaign: "spring", RoomID: testRoom, Medium: tasks.MediumEmail, Address: "frank@example.org"})
	if err := e.rdb.HSet(ctx, e.prefix+":invite:"+frank.Key(), "state", "done").Err(); err != nil {
		t.Fatal(err)
	}

	before := e.snapshot()
	var dbsize int64
	if e.redis.Owned {
		dbsize = e.rdb.DBSize(ctx).Val()
	}
	opts := e.opts()
	opts.Medium, opts.DryRun = tasks.MediumEmail, true
	st, rejects := e.runFile(opts, "good_bad_dups.csv")
	wantStats(t, st, 15, 12, 8, 2, 1, 1, 3)
	if !st.DryRun || st.ImportRun != "" {
		t.Errorf("stats %+v: want a dry run without a run ID", st)
	}
	if n := strings.Count(rejects, "\n"); n != 4 {
		t.Errorf("a dry run still writes the rejects: got %d lines, want header + 3\n%s", n, rejects)
	}

	opts.Again = true
	st, _ = e.runFile(opts, "good_bad_dups.csv")
	wantStats(t, st, 15, 12, 9, 2, 1, 0, 3)

	opts.Producer = nil // no Redis at all: everything would be new
	st, _ = e.runFile(opts, "good_bad_dups.csv")
	wantStats(t, st, 15, 12, 10, 2, 0, 0, 3)

	if after := e.snapshot(); !maps.Equal(before, after) {
		t.Fatalf("the dry runs changed Redis: %d keys before, %d after", len(before), len(after))
	}
	if e.redis.Owned {
		if got := e.rdb.DBSize(ctx).Val(); got != dbsize {
			t.Fatalf("DBSIZE %d after the dry runs, %d before", got, dbsize)
		}
	}
}
