package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/internal/simulator"
)

// 12.7: a list whose column is "mobile" is a phone list without --medium,
// and re-importing results --failed --format csv of msisdn invites, whose
// medium column says msisdn, rejects nothing.
func TestPhoneListAndItsFailuresReimport(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{Rules: []simulator.Rule{{Pattern: "44*", Status: 403, ErrCode: "M_FORBIDDEN", Times: 1}}})
	r := mxinvite(t, e.enqueueArgs("phones", listPath("phones.csv"), "--rejects", filepath.Join(e.dir, "rejects.csv"))...)
	if r.code != 0 || !strings.Contains(r.stdout, "read 6, valid 4, enqueued 4, duplicates 0, already queued 0, already done 0, rejected 2") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for addr, rec := range e.records("phones") {
		if rec.Medium != "msisdn" {
			t.Errorf("%s: medium %q, want msisdn", addr, rec.Medium)
		}
	}
	e.runWorker()
	failed := filepath.Join(e.dir, "failed.csv")
	if r := mxinvite(t, join([]string{"results", "--campaign", "phones", "--failed", "--format", "csv", "-o", failed}, e.redisArgs())...); r.code != 0 {
		t.Fatalf("results: %d %s", r.code, r.stderr)
	}
	if got := csvColumn(t, failed, "medium"); len(got) != 2 || got[0] != "msisdn" {
		t.Fatalf("failed invites: media %q", got)
	}
	r = mxinvite(t, e.enqueueArgs("phones", failed, "--again")...)
	if r.code != 0 || !strings.Contains(r.stdout, "read 2, valid 2, enqueued 2, duplicates 0, already queued 0, already done 0, rejected 0") {
		t.Fatalf("re-import of the failures: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// --medium still wins over the list; a list without a valid address is
	// exit code 2, dry run or not.
	r = mxinvite(t, e.enqueueArgs("phones", failed, "--again", "--medium", "email", "--dry-run")...)
	if r.code != 2 || !strings.Contains(r.stdout, "rejected 2") || !strings.Contains(r.stderr, "no valid address") {
		t.Fatalf("--medium email: %s %s", r.stdout, r.stderr)
	}
}

// 12.8: an address a spreadsheet would run as a formula is written
// neutralised to the results and rejects CSVs, and both re-import to the
// same address.
func TestFormulaAddressesRoundTrip(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{Rules: []simulator.Rule{{Pattern: "=1+2@*", Status: 403, ErrCode: "M_FORBIDDEN", Times: 1}}})
	list := e.file("signups.csv", "email,name\n=1+2@example.org,=HYPERLINK(\"http://evil.example\")\n-1@example,+me\n")
	r := mxinvite(t, e.enqueueArgs("spring", list)...)
	if r.code != 0 || !strings.Contains(r.stdout, "enqueued 1,") || !strings.Contains(r.stdout, "rejected 1") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	rejectsPath := filepath.Join(e.dir, "signups.rejects.csv")
	rejects, _ := os.ReadFile(rejectsPath)
	if !strings.Contains(string(rejects), "'-1@example,'+me,3,") {
		t.Fatalf("rejects file:\n%s", rejects)
	}
	e.runWorker()
	failed := filepath.Join(e.dir, "failed.csv")
	if r := mxinvite(t, join([]string{"results", "--campaign", "spring", "--failed", "--format", "csv", "-o", failed}, e.redisArgs())...); r.code != 0 {
		t.Fatalf("results: %d %s", r.code, r.stderr)
	}
	raw, _ := os.ReadFile(failed)
	if !strings.Contains(string(raw), ",'=1+2@example.org,") || strings.Contains(string(raw), ",=1+2") {
		t.Fatalf("results CSV does not neutralise the address:\n%s", raw)
	}
	r = mxinvite(t, e.enqueueArgs("spring", failed, "--again")...)
	if r.code != 0 || !strings.Contains(r.stdout, "read 1, valid 1, enqueued 1,") {
		t.Fatalf("re-import of the results: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, ok := e.records("spring")["=1+2@example.org"]; !ok || len(e.records("spring")) != 1 {
		t.Fatalf("records after the re-import: %v", e.records("spring"))
	}
	// The rejects file, fixed, re-imports to the address as written before neutralising.
	fixed := e.file("fixed.csv", strings.Replace(string(rejects), "'-1@example,", "'-1@example.org,", 1))
	r = mxinvite(t, e.enqueueArgs("spring", fixed)...)
	if r.code != 0 || !strings.Contains(r.stdout, "read 1, valid 1, enqueued 1,") {
		t.Fatalf("re-import of the rejects: %s %s", r.stdout, r.stderr)
	}
	if _, ok := e.records("spring")["-1@example.org"]; !ok { // not "'-1@…", which is valid too
		t.Fatalf("records after the re-import of the rejects: %v", e.records("spring"))
	}
}
