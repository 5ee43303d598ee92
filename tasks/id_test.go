package tasks_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/tasks"
)

func TestKeyIsDeterministic(t *testing.T) {
	base := mustNewInvite(t, sampleInvite())
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(base.Key()) {
		t.Fatalf("Key() = %q, want 32 lower-case hex digits", base.Key())
	}

	same := map[string]func(*tasks.Invite){
		"different campaign":    func(i *tasks.Invite) { i.Campaign = "autumn" },
		"different enqueued_at": func(i *tasks.Invite) { i.EnqueuedAt = time.Now() },
		"different id_server":   func(i *tasks.Invite) { i.IDServer = "matrix.org" },
		"different generation":  func(i *tasks.Invite) { i.Generation = 2 },
		"domain case":           func(i *tasks.Invite) { i.Address = "Alice.Smith@EXAMPLE.ORG" },
		"surrounding spaces":    func(i *tasks.Invite) { i.Address = " alice.smith@example.org " },
		"local part case":       func(i *tasks.Invite) { i.Address = "ALICE.Smith@example.org" },
	}
	for name, modify := range same {
		inv := sampleInvite()
		modify(&inv)
		if got := inv.Key(); got != base.Key() {
			t.Errorf("%s: Key() = %s, want %s", name, got, base.Key())
		}
	}

	different := map[string]func(*tasks.Invite){
		"other local part": func(i *tasks.Invite) { i.Address = "alice.smith2@example.org" },
		"other room":       func(i *tasks.Invite) { i.RoomID = "!other:example.org" },
		"other sender":     func(i *tasks.Invite) { i.Sender = "sales" },
		"other medium":     func(i *tasks.Invite) { i.Medium, i.Address = tasks.MediumMSISDN, "442079460958" },
	}
	for name, modify := range different {
		inv := sampleInvite()
		modify(&inv)
		if got := inv.Key(); got == base.Key() {
			t.Errorf("%s: Key() = %s, the same as the base invite", name, got)
		}
	}
}

// TestKeyFieldsAreSeparated guards against a naive concatenation, where
// moving characters from one field to the next would give the same hash.
func TestKeyFieldsAreSeparated(t *testing.T) {
	a := sampleInvite()
	a.Sender, a.RoomID = "ab", "!c:example.org"
	b := sampleInvite()
	b.Sender, b.RoomID = "a", "b!c:example.org"
	if a.Key() == b.Key() {
		t.Errorf("shifting a byte between sender and room_id kept the key %s", a.Key())
	}
}

func TestKeyDefaultsSender(t *testing.T) {
	withDefault := sampleInvite()
	withDefault.Sender = tasks.DefaultSender
	empty := sampleInvite()
	empty.Sender = ""
	if withDefault.Key() != empty.Key() {
		t.Error("an empty sender should key like DefaultSender, as NewInvite fills it in")
	}
}

func TestTaskID(t *testing.T) {
	inv := mustNewInvite(t, sampleInvite())
	if got, want := inv.TaskID(), "inv:"+inv.Key(); got != want {
		t.Errorf("TaskID() = %q, want %q", got, want)
	}
	inv.Generation = 2
	if got, want := inv.TaskID(), "inv:"+inv.Key()+":g2"; got != want {
		t.Errorf("TaskID() with generation = %q, want %q", got, want)
	}
}

// TestKeyOnePersonOneInvite: spellings of one address that servers treat as
// one person give one key, and the address sent is the same canonical one.
func TestKeyOnePersonOneInvite(t *testing.T) {
	for _, pair := range [][2]string{
		{"USER60@example.org", "user60@example.org"},
		{"user@bücher.de", "user@xn--bcher-kva.de"},
		{"User@BÜCHER.de", "user@XN--BCHER-KVA.DE"},
	} {
		a, b := sampleInvite(), sampleInvite()
		a.Address, b.Address = pair[0], pair[1]
		na, nb := mustNewInvite(t, a), mustNewInvite(t, b)
		if a.Key() != b.Key() || na.Address != nb.Address {
			t.Errorf("%q and %q: keys %s, %s; addresses %q, %q; want one invite", pair[0], pair[1], a.Key(), b.Key(), na.Address, nb.Address)
		}
	}
}

// ParseTaskID reads back what TaskIDOf writes, and nothing else.
func TestParseTaskIDInvertsTaskIDOf(t *testing.T) {
	key := "0123456789abcdef0123456789abcdef"
	for _, gen := range []int{0, 1, 17} {
		k, g, ok := tasks.ParseTaskID(tasks.TaskIDOf(key, gen))
		if !ok || k != key || g != gen {
			t.Errorf("gen %d: got %q %d %v", gen, k, g, ok)
		}
		// A re-delivery's ID names the same invite.
		k, g, ok = tasks.ParseTaskID(tasks.RedeliveryTaskID(tasks.TaskIDOf(key, gen), 1733472000000))
		if !ok || k != key || g != gen {
			t.Errorf("re-delivery of gen %d: got %q %d %v", gen, k, g, ok)
		}
	}
	for _, bad := range []string{"", "inv:", "inv:0123", "x:" + key, "inv:" + key + ":g0", "inv:" + key + ":g01",
		"inv:" + key + ":gx", "inv:" + key + "x", "inv:0123456789abcdef0123456789abcdeZ"} {
		if _, _, ok := tasks.ParseTaskID(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}
