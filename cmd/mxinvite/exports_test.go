package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/internal/simulator"
)

// exportPath is a fixture exported the way its program exports (see
// testdata/lists/exports/README.md).
func exportPath(name string) string { return listPath(filepath.Join("exports", name)) }

// 21 (done when): every format has a fixture exported as its program does,
// and an import through the CLI accounts for every address in it: invited
// (valid) + rejected = the addresses (persons, for contacts exports and
// vCards) in the file; the invites are in Redis, the rejects in the rejects
// file, one row each, and the summary names how the list was read.
func TestExportedListsCountEveryAddress(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	for _, tc := range []struct {
		file      string
		args      []string
		addresses int64    // in the file: addresses, or persons/cards for contacts
		rejected  int64    // of them
		invites   int64    // distinct invites enqueued
		export    string   // Plan.Export
		want      []string // addresses that must be invited
		notWanted []string // addresses that must not be (a person's second address)
		fresh     bool     // in a Redis of its own: an earlier case holds its invites
	}{
		{file: "to-lines.txt", addresses: 13, rejected: 1, invites: 12,
			want: []string{"a@x.example.org", "b@y.example.org", "c@z.example.org", "jane@example.org", "bob@example.net", "t2@example.org", "m@example.org"}},
		{file: "mailman3-members.txt", addresses: 4, invites: 4, want: []string{"bob.smith@example.com", "jane.doe@example.com"}},
		{file: "outlook.csv", addresses: 6, rejected: 2, invites: 4, export: "Outlook",
			want: []string{"renee@example.org", "bob2@example.net", "eve@example.org", "gustav@example.org"}, notWanted: []string{"eve@work.example.com"}},
		{file: "google-contacts.csv", addresses: 5, rejected: 2, invites: 3, export: "Google Contacts",
			want: []string{"ana@example.org", "ben@example.net", "emile@xn--exmple-cua.org"}, notWanted: []string{"ana.work@example.com"}},
		{file: "thunderbird.csv", addresses: 3, rejected: 1, invites: 2, export: "Thunderbird", want: []string{"hans@example.de", "ivy@example.jp"}},
		{file: "mailchimp.csv", addresses: 4, rejected: 1, invites: 3, export: "Mailchimp", want: []string{"kim@example.org", "mo@example.net"}},
		{file: "google-groups.csv", addresses: 3, invites: 3, export: "Google Groups", want: []string{"omar@example.com"}},
		{file: "discourse-users.csv", addresses: 4, rejected: 1, invites: 3, export: "Discourse",
			want: []string{"quinn@example.org", "sam1@example.org"}, notWanted: []string{"q.work@example.com", "sam2@example.org"}},
		{file: "slack-members.csv", addresses: 4, rejected: 1, invites: 3, export: "Slack", want: []string{"victor@example.net"}},
		{file: "labelled-contacts.csv", addresses: 2, invites: 2, export: "contacts (labelled email columns)",
			want: []string{"yara@work.example.com", "zed@example.org"}},
		{file: "apple-contacts.vcf", addresses: 4, rejected: 2, invites: 2, export: "vCard",
			want: []string{"johnny@example.org", "fiona.with.a.rather.long.address.that.the.exporter.folded@example.org"}, notWanted: []string{"j.home@example.net"}},
		{file: "contacts-v4.vcf", addresses: 2, invites: 2, export: "vCard", want: []string{"wren@example.org", "xavier@example.org"}},
		{file: "excel-unicode.txt", addresses: 2, invites: 2, want: []string{"zoe@example.org", "asa@example.se"}},
		// Thunderbird as a phone campaign: the mobile numbers, Ivy has none.
		{file: "thunderbird.csv", args: []string{"--medium", "msisdn"}, addresses: 3, rejected: 1, invites: 2, export: "Thunderbird",
			want: []string{"4915123456789", "447700900456"}},
		// National numbers: one person written two ways is one invite.
		{file: "phones-us.csv", args: []string{"--region", "US"}, addresses: 5, rejected: 1, invites: 3,
			want: []string{"14155550132", "14155550199", "442079460958"}},
		// Without a region, national numbers are rejected with a hint.
		{file: "phones-us.csv", addresses: 5, rejected: 3, invites: 2, want: []string{"14155550132", "442079460958"}, fresh: true},
	} {
		if tc.fresh {
			e = newCLIEnv(t, simulator.Config{})
		}
		name := tc.file + strings.Join(tc.args, "")
		campaign := strings.NewReplacer(".", "-", " ", "").Replace(name)
		rejects := filepath.Join(e.dir, campaign+".rejects")
		r := mxinvite(t, e.enqueueArgs(campaign, exportPath(tc.file), append([]string{"--json", "--rejects", rejects}, tc.args...)...)...)
		var got struct {
			Read, Valid, Rejected, Enqueued, Duplicates int64
			List                                        struct{ Export, Why, Encoding string }
		}
		if err := json.Unmarshal([]byte(r.stdout), &got); r.code != 0 || err != nil {
			t.Errorf("%s: exit %d (%v)\n%s%s", name, r.code, err, r.stdout, r.stderr)
			continue
		}
		if got.Read != tc.addresses || got.Valid+got.Rejected != tc.addresses || got.Rejected != tc.rejected || got.Enqueued != tc.invites {
			t.Errorf("%s: read %d, valid %d, rejected %d, enqueued %d; want %d addresses, %d rejected, %d invites",
				name, got.Read, got.Valid, got.Rejected, got.Enqueued, tc.addresses, tc.rejected, tc.invites)
		}
		if got.List.Export != tc.export || got.List.Why == "" || got.List.Encoding == "" {
			t.Errorf("%s: read as %+v, want export %q with the reason", name, got.List, tc.export)
		}
		records := e.records(campaign)
		if int64(len(records)) != tc.invites {
			t.Errorf("%s: Redis holds %d invites, want %d", name, len(records), tc.invites)
		}
		for _, a := range tc.want {
			if _, ok := records[a]; !ok {
				t.Errorf("%s: %s not invited (%d invites)", name, a, len(records))
			}
		}
		for _, a := range tc.notWanted {
			if _, ok := records[a]; ok {
				t.Errorf("%s: %s invited: one invite per person", name, a)
			}
		}
		if n := countRejects(t, rejects); n != tc.rejected {
			t.Errorf("%s: the rejects file holds %d rejects, want %d", name, n, tc.rejected)
		}
	}
}

// countRejects counts the rejects in a rejects file of any format.
func countRejects(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	text := strings.TrimPrefix(string(b), "\uFEFF")
	switch {
	case strings.HasPrefix(text, "BEGIN:VCARD"):
		return int64(strings.Count(text, "\nX-MXINVITE-REJECT:"))
	case strings.Contains(text, "  # line "):
		var n int64
		for sc := bufio.NewScanner(strings.NewReader(text)); sc.Scan(); n++ {
		}
		return n
	}
	rd := csv.NewReader(strings.NewReader(text))
	rd.FieldsPerRecord = -1
	rows, err := rd.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return int64(len(rows) - 1)
}

// 21.1: each address of a line is its own row in the summary, the rejects
// file (only the bad part, so the fixed file re-imports without resending
// its neighbours) and the invites; the text summary says how it was read.
func TestAddressListsInALine(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	rejects := filepath.Join(e.dir, "to.rejects.txt")
	r := mxinvite(t, e.enqueueArgs("to", exportPath("to-lines.txt"), "--rejects", rejects)...)
	if r.code != 0 || !strings.Contains(r.stdout, "list: plain list (utf-8): one row per address (a line may hold a list)") ||
		!strings.Contains(r.stdout, "read 13, valid 12, enqueued 12,") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	b, _ := os.ReadFile(rejects)
	if string(b) != "bogus  # line 5: bad syntax: email must contain exactly one \"@\"\n" {
		t.Errorf("rejects file: %q", b)
	}
	fixed := e.file("fixed.txt", strings.Replace(string(b), "bogus", "bogus@example.org", 1))
	if r := mxinvite(t, e.enqueueArgs("to", fixed)...); r.code != 0 || !strings.Contains(r.stdout, "read 1, valid 1, enqueued 1,") {
		t.Errorf("the fixed reject: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
}

// 21.5: national numbers need --region, from the flag, MXINVITE_REGION or
// the config file's lists.region; without one they are rejected with a hint.
func TestNationalPhonesNeedARegion(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	rejects := filepath.Join(e.dir, "phones.rejects.csv")
	r := mxinvite(t, e.enqueueArgs("p0", exportPath("phones-us.csv"), "--dry-run", "--rejects", rejects)...)
	b, _ := os.ReadFile(rejects)
	if r.code != 0 || !strings.Contains(string(b), `"bad syntax: national phone number without a region: msisdn ""(415) 555-0132"" is in national form: give --region`) {
		t.Fatalf("exit %d %s%s\nrejects:\n%s", r.code, r.stdout, r.stderr, b)
	}
	rejectsArgs := []string{"--dry-run", "--rejects", rejects} // never beside the fixture
	t.Setenv("MXINVITE_REGION", "US")
	if r := mxinvite(t, e.enqueueArgs("p1", exportPath("phones-us.csv"), rejectsArgs...)...); !strings.Contains(r.stdout, "valid 4, would enqueue 3, duplicates 1,") {
		t.Errorf("MXINVITE_REGION=US: %s%s", r.stdout, r.stderr)
	}
	os.Unsetenv("MXINVITE_REGION") // t.Setenv restores it
	config := e.file("mxinvite.yaml", "lists:\n  region: US\n")
	if r := mxinvite(t, e.enqueueArgs("p2", exportPath("phones-us.csv"), append(rejectsArgs, "--config", config)...)...); !strings.Contains(r.stdout, "valid 4, would enqueue 3, duplicates 1,") {
		t.Errorf("lists.region: US: %s%s", r.stdout, r.stderr)
	}
	if r := mxinvite(t, e.enqueueArgs("p3", exportPath("phones-us.csv"), append(rejectsArgs, "--region", "XX")...)...); r.code != exitUsage || !strings.Contains(r.stderr, `--region "XX"`) {
		t.Errorf("--region XX: exit %d %s", r.code, r.stderr)
	}
	bad := e.file("bad.yaml", "lists:\n  region: Mars\n")
	if r := mxinvite(t, e.enqueueArgs("p4", exportPath("phones-us.csv"), append(rejectsArgs, "--config", bad)...)...); r.code != exitUsage || !strings.Contains(r.stderr, "lists.region") {
		t.Errorf("lists.region: Mars: exit %d %s", r.code, r.stderr)
	}
}

// 21.4: Windows-1252 names stay right in the rejects (UTF-8, with a byte
// order mark for spreadsheet programs), detected or given by --encoding.
func TestEncodingsKeepNames(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	list := e.file("latin1.csv", "name,email\nRen\xe9e M\xfcller,renee@example\nJ\xfcrgen,juergen@example.org\n")
	for _, args := range [][]string{nil, {"--encoding", "latin1"}} {
		rejects := filepath.Join(e.dir, "latin1.rejects.csv")
		r := mxinvite(t, e.enqueueArgs("enc", list, append([]string{"--dry-run", "--rejects", rejects}, args...)...)...)
		b, _ := os.ReadFile(rejects)
		if r.code != 0 || !strings.HasPrefix(string(b), "\uFEFFname,email,line,reason\nRenée Müller,renee@example,2,") {
			t.Errorf("%q: exit %d %s%s\nrejects: %q", args, r.code, r.stdout, r.stderr, b)
		}
		if !strings.Contains(r.stdout, "windows-1252") {
			t.Errorf("%q: the summary does not name the encoding: %s", args, r.stdout)
		}
	}
	if r := mxinvite(t, e.enqueueArgs("enc", list, "--encoding", "klingon")...); r.code != exitUsage || !strings.Contains(r.stderr, `--encoding "klingon"`) {
		t.Errorf("--encoding klingon: exit %d %s", r.code, r.stderr)
	}
}

// 21.6: a file without a single valid address is exit 2 with a hint, also
// in a dry run.
func TestNoValidAddressIsExit2(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	list := e.file("contacts.csv", "Name;Contact;City\nAlice;alice at example.org;Paris\n")
	for _, dry := range []string{"--dry-run", "--again"} {
		r := mxinvite(t, e.enqueueArgs("none", list, dry)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "no valid address: all 6 rows were rejected") ||
			!strings.Contains(r.stderr, "--column NAME") {
			t.Errorf("%s: exit %d\n%s%s", dry, r.code, r.stdout, r.stderr)
		}
	}
	header := e.file("header.csv", "email,name\n,Alice\nnot-an-address,Bob\n")
	r := mxinvite(t, e.enqueueArgs("none", header, "--dry-run")...)
	if r.code != exitUsage || !strings.Contains(r.stderr, `its columns are ["email" "name"]: give --column NAME`) {
		t.Errorf("a header without an address: exit %d\n%s", r.code, r.stderr)
	}
}

// 21.7: --rejects /dev/stdout writes the rejects to the command's output,
// before the summary, and replaces nothing.
func TestRejectsToStdout(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	r := mxinvite(t, e.enqueueArgs("out", exportPath("mailchimp.csv"), "--dry-run", "--rejects", "/dev/stdout")...)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "Email Address,") || !strings.Contains(r.stdout, "kim@@example.org") ||
		!strings.Contains(r.stdout, "\ncampaign out, room ") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if st, err := os.Lstat("/dev/stdout"); err != nil || st.Mode().IsRegular() {
		t.Errorf("/dev/stdout is now %v (%v)", st.Mode(), err)
	}
}

// 21.7, the lead's part: a campaign whose invites are all held by other
// campaigns exists, empty, and status says where its addresses are.
func TestCampaignHeldElsewhereExistsEmpty(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	if r := mxinvite(t, e.enqueueArgs("first", exportPath("google-groups.csv"))...); r.code != 0 {
		t.Fatalf("first: exit %d %s", r.code, r.stderr)
	}
	if r := mxinvite(t, e.enqueueArgs("second", exportPath("google-groups.csv"))...); r.code != 0 {
		t.Fatalf("second: exit %d %s", r.code, r.stderr)
	}
	r := mxinvite(t, join([]string{"status", "--campaign", "second"}, e.redisArgs())...)
	if r.code != 0 || !strings.Contains(r.stdout, "empty") || !strings.Contains(r.stdout, "first") {
		t.Errorf("status of a campaign held elsewhere: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// 21.5: a recurring campaign keeps its list's region and encoding for its
// ticks, and refuses a bad one when added.
func TestScheduleKeepsRegionAndEncoding(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	list := e.file("phones.csv", "Name,Phone\nAlex,(415) 555-0132\n")
	add := join([]string{"schedule", "add", "--campaign", "weekly", "--cron", "@weekly", "--room", simulator.DefaultRoomID,
		"--file", list, "--region", "us", "--encoding", "windows-1252"}, e.redisArgs())
	if r := mxinvite(t, add...); r.code != 0 {
		t.Fatalf("schedule add: exit %d %s", r.code, r.stderr)
	}
	r := mxinvite(t, join([]string{"schedule", "list", "--json"}, e.redisArgs())...)
	if !strings.Contains(r.stdout, `"encoding":"windows-1252","region":"US"`) {
		t.Errorf("schedule list --json: %s", r.stdout)
	}
	if r := mxinvite(t, append(add, "--region", "ZZ")...); r.code != exitUsage || !strings.Contains(r.stderr, `--region "ZZ"`) {
		t.Errorf("--region ZZ: exit %d %s", r.code, r.stderr)
	}
}
