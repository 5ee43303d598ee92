package importer

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/testkit"
)

func TestSpreadIsEven(t *testing.T) {
	// 22 rows, rows 11 and 22 bad: 20 valid rows over 10 minutes, one every
	// 30 s (whole seconds, which is what asynq keeps).
	list := filepath.Join(t.TempDir(), "list.csv")
	f, err := os.Create(list)
	if err != nil {
		t.Fatal(err)
	}
	if err := GenerateCSV(f, 22, 11); err != nil {
		t.Fatal(err)
	}
	f.Close()

	for name, open := range map[string]func(*os.File) io.Reader{
		"file":         func(f *os.File) io.Reader { return f },                      // counted by reading it twice
		"pipe spooled": func(f *os.File) io.Reader { return struct{ io.Reader }{f} }, // cannot seek: spooled
	} {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t)
			spool := t.TempDir()
			start := time.Now().Add(time.Hour).Truncate(time.Second).UTC()
			opts := e.opts()
			opts.Start, opts.Spread, opts.TempDir = start, 10*time.Minute, spool
			f, err := os.Open(list)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, _ := e.run(opts, open(f))
			wantStats(t, st, 22, 20, 20, 0, 0, 0, 2)
			if !st.ScheduledFrom.Equal(start) || !st.ScheduledUntil.Equal(start.Add(570*time.Second)) {
				t.Errorf("scheduled window %s … %s, want %s … +9m30s", st.ScheduledFrom, st.ScheduledUntil, start)
			}
			var want []time.Time
			for i := range 20 {
				want = append(want, start.Add(time.Duration(i)*30*time.Second))
			}
			if got := e.recordTimes(t); !slices.EqualFunc(got, want, time.Time.Equal) {
				t.Errorf("records' process_at\n%v\nwant\n%v", got, want)
			}
			if got := e.scheduledTasks(t); !slices.EqualFunc(got, want, time.Time.Equal) {
				t.Errorf("asynq's scheduled tasks\n%v\nwant\n%v", got, want)
			}
			if left, _ := os.ReadDir(spool); len(left) != 0 {
				t.Errorf("spool files left behind: %v", left)
			}
		})
	}
}

// recordTimes returns the records' process_at times, sorted, and checks
// that every record says scheduled.
func (e *testEnv) recordTimes(t *testing.T) []time.Time {
	t.Helper()
	ctx := context.Background()
	var out []time.Time
	err := e.prod.Store().Results(ctx, "spring", func(r record.Result) error {
		if r.State != record.StateScheduled {
			t.Errorf("%s is %s, want scheduled", r.Address, r.State)
		}
		raw, err := e.rdb.HGet(ctx, e.prefix+":invite:"+r.Key, "process_at").Result()
		if err != nil {
			return err
		}
		at, err := time.Parse(time.RFC3339Nano, raw)
		out = append(out, at)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

// scheduledTasks returns the process times of the queue's scheduled tasks, sorted.
func (e *testEnv) scheduledTasks(t *testing.T) []time.Time {
	t.Helper()
	in := asynq.NewInspectorFromRedisClient(e.rdb)
	tasks := testkit.Tasks(in, e.queue, in.ListScheduledTasks)
	var out []time.Time
	for _, task := range tasks {
		out = append(out, task.NextProcessAt.UTC())
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

func TestScheduleArithmetic(t *testing.T) {
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	now := start.Add(-time.Hour)
	if at := newSchedule(time.Time{}, 0, 0, now).at(5); !at.IsZero() {
		t.Errorf("no start, no spread: %v, want zero (now)", at)
	}
	if at := newSchedule(start, 0, 0, now).at(5); !at.Equal(start) {
		t.Errorf("start only: %v, want %v", at, start)
	}
	// A year over ten million rows must not overflow int64 nanoseconds.
	year, n := 365*24*time.Hour, int64(10_000_000)
	s := newSchedule(start, year, n, now)
	if at, want := s.at(n-1), start.Add(year-year/time.Duration(n)); !at.Equal(want) {
		t.Errorf("last of %d rows over a year: %v, want %v", n, at, want)
	}
	if at := s.at(n / 2); !at.Equal(start.Add(year / 2)) {
		t.Errorf("middle row: %v, want %v", at, start.Add(year/2))
	}
	if at := s.at(n + 5); !at.Equal(s.at(n - 1)) {
		t.Errorf("row past the count: %v, want the last slot %v", at, s.at(n-1))
	}
	if at := newSchedule(time.Time{}, time.Minute, 2, now).at(1); !at.Equal(now.Add(30 * time.Second)) {
		t.Errorf("spread from now: %v, want now+30s", at)
	}
}
