package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/internal/simulator"
)

func TestPurgeCommand(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{Rules: []simulator.Rule{{Pattern: "*@example.net", Status: 403, ErrCode: "M_FORBIDDEN"}}})
	r := mxinvite(t, join([]string{"enqueue", "--no-preflight"}, e.redisArgs(), e.profileArgs(), []string{
		"--room", simulator.DefaultRoomID, "--campaign", "spring", "--file", listPath("good_bad_dups.csv"),
		"--rejects", filepath.Join(e.dir, "rejects.csv")})...)
	if r.code != 0 || !strings.Contains(r.stdout, "enqueued 10,") {
		t.Fatalf("enqueue: exit %d, %s %s", r.code, r.stdout, r.stderr)
	}
	e.runWorker()
	keys := len(e.keys())

	for _, tc := range []struct {
		args  []string
		words string
	}{
		{nil, "give --campaign NAME, --finished-before DATE, or both"},
		{[]string{"--campaign", "nope"}, `--campaign "nope": no such campaign`},
		{[]string{"--finished-before", "yesterday"}, `--finished-before "yesterday": want a date`},
		{[]string{"--finished-before", "2999-01-01"}, "is in the future"},
		{[]string{"--campaign", "spring", "extra"}, `unexpected argument "extra"`},
	} {
		r := mxinvite(t, join([]string{"purge"}, e.redisArgs(), tc.args)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.words) {
			t.Errorf("purge %q: exit %d, stderr %q; want exit 2 saying %q", tc.args, r.code, r.stderr, tc.words)
		}
	}

	r = mxinvite(t, join([]string{"purge", "--campaign", "spring", "--dry-run"}, e.redisArgs())...)
	want := "campaign spring: dry run: would purge 10 invite records, 1 asynq tasks, 10 results stream entries; " +
		"0 invites kept (not finished, or finished later); campaigns deleted: spring\n"
	if r.code != 0 || r.stdout != want || len(e.keys()) != keys {
		t.Fatalf("dry run: exit %d, stdout %q, stderr %q; want %q and nothing deleted", r.code, r.stdout, r.stderr, want)
	}
	r = mxinvite(t, join([]string{"purge", "--campaign", "spring"}, e.redisArgs())...)
	if r.code != 0 || r.stdout != strings.Replace(want, "dry run: would purge", "purged", 1) {
		t.Fatalf("purge: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	// Left: the sender's rate-limit gate, the senders workers serve and the
	// (empty) results stream, which are not the campaign's; asynq's own
	// bookkeeping.
	for _, k := range e.keys() {
		if strings.HasPrefix(k, e.prefix+":") && k != e.prefix+":gate:default" && k != e.prefix+":results" && k != e.prefix+":senders" {
			t.Errorf("key %s left after purging the only campaign", k)
		}
	}
	if n, err := e.rdb.XLen(context.Background(), e.prefix+":results").Result(); err != nil || n != 0 {
		t.Errorf("results stream holds %d entries (%v) after the purge, want 0", n, err)
	}
}
