package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/internal/simulator"
)

// possiblyDuplicated reads "possibly duplicated N" from status output.
func possiblyDuplicated(t *testing.T, status string) int {
	t.Helper()
	m := regexp.MustCompile(`possibly duplicated (\d+)`).FindStringSubmatch(status)
	if m == nil {
		t.Fatalf("no \"possibly duplicated\" in status output:\n%s", status)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// addressList is n addresses at domain, one per line.
func addressList(n int, domain string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "user%d@%s\n", i, domain)
	}
	return b.String()
}

// dupEnv runs the "possibly duplicated" scenarios through the CLI: one
// campaign of 30 invites, the worker retrying every 10 ms.
type dupEnv struct{ *cliEnv }

const dupInvites = 30

func (e dupEnv) work(extra ...string) {
	e.t.Helper()
	args := join([]string{"worker", "--until-idle", "--log-level", "error", "--concurrency", "4",
		"--retry-waits", "10ms", "--max-retries", "30"}, e.redisArgs(), e.profileArgs(), extra)
	if r := mxinvite(e.t, args...); r.code != 0 {
		e.t.Fatalf("worker: exit %d %s", r.code, r.stderr)
	}
}

func (e dupEnv) enqueue(campaign, domain string) {
	e.t.Helper()
	r := mxinvite(e.t, e.enqueueArgs(campaign, e.file(campaign+".txt", addressList(dupInvites, domain)))...)
	if r.code != 0 {
		e.t.Fatalf("enqueue %s: exit %d %s %s", campaign, r.code, r.stdout, r.stderr)
	}
}

func (e dupEnv) status(campaign string) string {
	e.t.Helper()
	r := mxinvite(e.t, join([]string{"status", "--campaign", campaign}, e.redisArgs())...)
	if r.code != 0 {
		e.t.Fatalf("status %s: exit %d %s", campaign, r.code, r.stderr)
	}
	return r.stdout
}

// TestPossiblyDuplicatedIsZeroWhenNothingReachedTheServerTwice: a
// campaign retried through 503s (a proxy whose upstream is gone: nothing
// reached the homeserver) and 429s, whose invites the server saw once
// each, shows "possibly duplicated 0".
func TestPossiblyDuplicatedIsZeroWhenNothingReachedTheServerTwice(t *testing.T) {
	const n = dupInvites
	e := dupEnv{newCLIEnv(t, simulator.Config{
		Faults:    simulator.Faults{ErrorRate: 0.4, ErrorStatus: 503},
		RateLimit: simulator.RateLimit{PerSecond: 10, Burst: 2}, // slower than the gate starts (50/s): some are limited
	})}
	e.enqueue("proxy", "proxy.example")
	e.work()
	st := e.sim.Stats()
	if st.InviteStatuses[503] == 0 || st.RateLimited == 0 {
		t.Fatalf("the simulator answered %d 503s and %d 429s: the faults were not felt", st.InviteStatuses[503], st.RateLimited)
	}
	if st.Accepted != n || st.Duplicates != 0 || st.ExtraEmails != 0 {
		t.Fatalf("simulator: %d accepted, %d duplicates, %d extra emails; want %d, 0, 0", st.Accepted, st.Duplicates, st.ExtraEmails, n)
	}
	out := e.status("proxy")
	if !strings.Contains(out, fmt.Sprintf("Success (0)                  %d", n)) {
		t.Fatalf("status proxy: not all %d invites succeeded:\n%s", n, out)
	}
	if got := possiblyDuplicated(t, out); got != 0 {
		t.Errorf("status proxy: possibly duplicated %d, want 0 (the server saw each invite once)\n%s", got, out)
	}
}

// TestPossiblyDuplicatedCountsTheInviteesEmailedTwice: a campaign whose
// 500s came after the server stored the invite, resent as POST (no txnId
// to deduplicate it), shows exactly the invitees the simulator emailed
// twice.
func TestPossiblyDuplicatedCountsTheInviteesEmailedTwice(t *testing.T) {
	e := dupEnv{newCLIEnv(t, simulator.Config{Faults: simulator.Faults{ErrorRate: 0.4, AfterStore: true}})}
	e.enqueue("stored", "stored.example")
	e.work("--no-txn-id")
	st := e.sim.Stats()
	if st.ExtraEmails == 0 {
		t.Fatal("no invitee was emailed twice: the positive control proves nothing")
	}
	dup := 0
	for addr, emails := range st.Emails {
		if strings.HasSuffix(addr, "@stored.example") && emails > 1 {
			dup++
		}
	}
	if got := possiblyDuplicated(t, e.status("stored")); got != dup {
		t.Errorf("status stored: possibly duplicated %d, want %d (the invitees emailed more than once)", got, dup)
		recs := e.records("stored")
		for addr, emails := range st.Emails {
			if r := recs[addr]; strings.HasSuffix(addr, "@stored.example") && (emails > 1) != r.PossibleDuplicate {
				t.Logf("%s: emailed %d times; its record: %s, %d attempts, %d requests, possible duplicate %v",
					addr, emails, r.Status, r.Attempts, r.Requests, r.PossibleDuplicate)
			}
		}
	}
}
