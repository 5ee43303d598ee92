package importer

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Invites another campaign already queued or finished are reported under
// that campaign's name, and the scheduled window only covers what this
// import enqueued — in a real import and in a dry run alike.
func TestInvitesOfAnotherCampaign(t *testing.T) {
	e := newTestEnv(t)
	autumn := e.opts()
	autumn.Campaign = "autumn"
	e.run(autumn, strings.NewReader("a@example.org\nb@example.org\nc@example.org\n"))

	spring := e.opts()
	spring.Start = time.Now().Add(time.Hour).Truncate(time.Second)
	list := "a@example.org\nB@example.org\nd@example.org\n"
	dry := spring
	dry.DryRun = true
	for _, opts := range []Options{dry, spring} {
		st, _ := e.run(opts, strings.NewReader(list))
		wantStats(t, st, 3, 3, 1, 0, 2, 0, 0)
		if got := st.OtherCampaigns["autumn"]; len(st.OtherCampaigns) != 1 || got != (HeldCounts{Queued: 2}) {
			t.Errorf("dry run %v: other campaigns %+v, want autumn: 2 queued", opts.DryRun, st.OtherCampaigns)
		}
		if !st.ScheduledFrom.Equal(spring.Start) || !st.ScheduledUntil.Equal(spring.Start) {
			t.Errorf("dry run %v: scheduled %s … %s, want only d@ at %s", opts.DryRun, st.ScheduledFrom, st.ScheduledUntil, spring.Start)
		}
		if s := st.String(); !strings.Contains(s, "held by other campaigns (sent under them, not this one): autumn 2 queued 0 done") {
			t.Errorf("summary %q", s)
		}
	}
	// All of them held elsewhere: nothing is said to be scheduled.
	st, _ := e.run(spring, strings.NewReader("a@example.org\nb@example.org\n"))
	if !st.ScheduledFrom.IsZero() || st.Enqueued != 0 || strings.Contains(st.String(), "scheduled") {
		t.Errorf("nothing enqueued, yet %q", st)
	}
	if got := e.addresses("spring"); len(got) != 1 || got[0] != "d@example.org" {
		t.Errorf("spring's records: %q", got)
	}
}

// An import interrupted part-way (Ctrl-C cancels the context) sums up
// exactly what Redis holds: every batch it started is finished and
// counted, the rows it did not get to are counted as not imported.
func TestInterruptedImportSummaryMatchesRedis(t *testing.T) {
	e := newTestEnv(t)
	const rows = 3000
	var list strings.Builder
	for i := range rows {
		fmt.Fprintf(&list, "user%d@example.org\n", i%(rows-100)) // the last 100 are duplicates
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	src := &cancelAfter{r: strings.NewReader(list.String()), limit: int64(list.Len() / 2), cancel: cancel}
	opts := e.opts()
	opts.BatchSize, opts.Workers = 16, 4
	st, err := Run(ctx, opts, src, nil, nil)
	if err == nil || !src.cancelled.Load() {
		t.Fatalf("Run: %v, cancelled %v; want the interruption reported", err, src.cancelled.Load())
	}
	if st.Enqueued == 0 || st.Read == rows {
		t.Fatalf("stats %+v: the interruption should come part-way", st)
	}
	counts, err := e.prod.Store().Counts(context.Background(), "spring")
	if err != nil {
		t.Fatal(err)
	}
	records := len(e.addresses("spring"))
	tasks := e.queueInfo().Pending
	if int64(counts.Enqueued) != st.Enqueued || int64(records) != st.Enqueued || int64(tasks) != st.Enqueued {
		t.Errorf("summary says %d enqueued; Redis counts %d, holds %d records and %d tasks", st.Enqueued, counts.Enqueued, records, tasks)
	}
	if st.Valid != st.Enqueued+st.Duplicates+st.AlreadyQueued+st.AlreadyDone+st.NotImported || st.Read != st.Valid+st.Rejected {
		t.Errorf("stats do not add up: %+v", st)
	}

	// Running it again imports the rest, and every address once.
	st2, _ := e.run(e.opts(), strings.NewReader(list.String()))
	if st2.Enqueued+st2.AlreadyQueued != rows-100 || st2.AlreadyQueued != st.Enqueued {
		t.Errorf("second run %+v after first %+v", st2, st)
	}
	if got := e.queueInfo().Pending; got != rows-100 {
		t.Errorf("queue holds %d tasks, want %d", got, rows-100)
	}
}

// cancelAfter reads r in small pieces and cancels once limit bytes are read.
type cancelAfter struct {
	r         io.Reader
	n, limit  int64
	cancel    func()
	cancelled atomic.Bool
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	if len(p) > 512 {
		p = p[:512]
	}
	n, err := c.r.Read(p)
	if c.n += int64(n); c.n >= c.limit && !c.cancelled.Swap(true) {
		c.cancel()
	}
	return n, err
}
