package tasks_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/tasks"
)

func TestNewInviteNormalises(t *testing.T) {
	in := tasks.Invite{
		Campaign: "  spring  ",
		RoomID:   " !abcdef:example.org ",
		Medium:   "EMAIL",
		Address:  " Alice.Smith@EXAMPLE.org ",
		IDServer: " Vector.IM:443 ",
	}
	before := time.Now().UTC()
	inv := mustNewInvite(t, in)

	if inv.Campaign != "spring" || inv.RoomID != "!abcdef:example.org" || inv.IDServer != "vector.im:443" {
		t.Errorf("not trimmed/lower-cased: %+v", inv)
	}
	if inv.Medium != tasks.MediumEmail || inv.Address != "alice.smith@example.org" {
		t.Errorf("medium/address = %q/%q", inv.Medium, inv.Address)
	}
	if inv.Sender != tasks.DefaultSender {
		t.Errorf("Sender = %q, want %q", inv.Sender, tasks.DefaultSender)
	}
	if inv.EnqueuedAt.Before(before) || inv.EnqueuedAt.Location() != time.UTC {
		t.Errorf("EnqueuedAt = %v, want now in UTC", inv.EnqueuedAt)
	}
}

func TestNewInviteKeepsGivenTimeInUTC(t *testing.T) {
	in := sampleInvite()
	in.EnqueuedAt = time.Date(2025, 3, 1, 13, 0, 0, 0, time.FixedZone("CET", 3600))
	inv := mustNewInvite(t, in)
	if !inv.EnqueuedAt.Equal(in.EnqueuedAt) || inv.EnqueuedAt.Location() != time.UTC {
		t.Errorf("EnqueuedAt = %v, want %v in UTC", inv.EnqueuedAt, in.EnqueuedAt)
	}
}

func TestNewInviteMSISDN(t *testing.T) {
	in := sampleInvite()
	in.Medium, in.Address = tasks.MediumMSISDN, "+44 (20) 7946-0958"
	if inv := mustNewInvite(t, in); inv.Address != "442079460958" {
		t.Errorf("Address = %q", inv.Address)
	}
}

func TestValidateRules(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*tasks.Invite)
		field  string // "" = valid
		reason string
	}{
		{name: "sample is valid", modify: func(*tasks.Invite) {}},
		{name: "campaign of 200 runes", modify: func(i *tasks.Invite) { i.Campaign = strings.Repeat("ü", 200) }},
		{name: "campaign with punctuation and colon", modify: func(i *tasks.Invite) { i.Campaign = "Q1: «Frühling» #2" }},
		{name: "msisdn", modify: func(i *tasks.Invite) { i.Medium, i.Address = tasks.MediumMSISDN, "442079460958" }},
		{name: "no id_server", modify: func(i *tasks.Invite) { i.IDServer = "" }},
		{name: "id_server with port", modify: func(i *tasks.Invite) { i.IDServer = "id.example.org:8090" }},
		{name: "id_server single label", modify: func(i *tasks.Invite) { i.IDServer = "localhost" }},
		{name: "id_server IPv4", modify: func(i *tasks.Invite) { i.IDServer = "192.0.2.7:8090" }},
		{name: "id_server IPv6", modify: func(i *tasks.Invite) { i.IDServer = "[2001:db8::1]:8090" }},
		{name: "sender charset", modify: func(i *tasks.Invite) { i.Sender = "Team_A.bot-2" }},
		{name: "room server with port", modify: func(i *tasks.Invite) { i.RoomID = "!x:example.org:8448" }},
		{name: "room version 12", modify: func(i *tasks.Invite) { i.RoomID = v12Room }},
		{name: "room version 12, spec example", modify: func(i *tasks.Invite) { i.RoomID = "!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ" }},
		{name: "room legacy of 255 bytes", modify: func(i *tasks.Invite) { i.RoomID = "!" + strings.Repeat("a", 248) + ":e.org" }},
		{name: "generation", modify: func(i *tasks.Invite) { i.Generation = 3 }},

		{name: "empty campaign", modify: func(i *tasks.Invite) { i.Campaign = "" }, field: "campaign", reason: "must not be empty"},
		{name: "campaign of 201 runes", modify: func(i *tasks.Invite) { i.Campaign = strings.Repeat("a", 201) }, field: "campaign", reason: "at most 200"},
		{name: "campaign with newline", modify: func(i *tasks.Invite) { i.Campaign = "a\nb" }, field: "campaign", reason: "control"},
		{name: "campaign with bidi override", modify: func(i *tasks.Invite) { i.Campaign = "a\u202eb" }, field: "campaign", reason: "invisible"},
		{name: "campaign invalid UTF-8", modify: func(i *tasks.Invite) { i.Campaign = "a\xff" }, field: "campaign", reason: "UTF-8"},
		{name: "empty room", modify: func(i *tasks.Invite) { i.RoomID = "" }, field: "room_id", reason: "must not be empty"},
		{name: "room without !", modify: func(i *tasks.Invite) { i.RoomID = "abc" }, field: "room_id", reason: roomForms},
		{name: "room alias", modify: func(i *tasks.Invite) { i.RoomID = "#room:example.org" }, field: "room_id", reason: roomForms},
		{name: "room without colon", modify: func(i *tasks.Invite) { i.RoomID = "!abcdef" }, field: "room_id", reason: roomForms},
		{name: "room empty opaque part", modify: func(i *tasks.Invite) { i.RoomID = "!:example.org" }, field: "room_id", reason: "non-empty opaque part"},
		{name: "room empty server", modify: func(i *tasks.Invite) { i.RoomID = "!abc:" }, field: "room_id", reason: "non-empty opaque part and server"},
		{name: "room v12 of 42 chars", modify: func(i *tasks.Invite) { i.RoomID = v12Room[:43] }, field: "room_id", reason: roomForms},
		{name: "room v12 of 44 chars", modify: func(i *tasks.Invite) { i.RoomID = v12Room + "x" }, field: "room_id", reason: roomForms},
		{name: "room v12 with +", modify: func(i *tasks.Invite) { i.RoomID = "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3og+M" }, field: "room_id", reason: roomForms},
		{name: "room v12 with padding", modify: func(i *tasks.Invite) { i.RoomID = "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogL=" }, field: "room_id", reason: roomForms},
		{name: "room v12 with other sigil", modify: func(i *tasks.Invite) { i.RoomID = "$31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM" }, field: "room_id", reason: roomForms},
		{name: "room with space", modify: func(i *tasks.Invite) { i.RoomID = "!ab c:example.org" }, field: "room_id", reason: "whitespace"},
		{name: "room with control", modify: func(i *tasks.Invite) { i.RoomID = "!ab\x00c:example.org" }, field: "room_id", reason: "control"},
		{name: "room too long", modify: func(i *tasks.Invite) { i.RoomID = "!" + strings.Repeat("a", 249) + ":e.org" }, field: "room_id", reason: "at most 255 bytes"},
		{name: "unknown medium", modify: func(i *tasks.Invite) { i.Medium = "fax" }, field: "medium", reason: `"email" or "msisdn"`},
		{name: "medium not canonical", modify: func(i *tasks.Invite) { i.Medium = "EMAIL" }, field: "medium"},
		{name: "bad address", modify: func(i *tasks.Invite) { i.Address = "nobody" }, field: "address", reason: `exactly one "@"`},
		{name: "address not normalised", modify: func(i *tasks.Invite) { i.Address = "Alice.Smith@EXAMPLE.org" }, field: "address", reason: `must be normalised (as "alice.smith@example.org")`},
		{name: "msisdn not normalised", modify: func(i *tasks.Invite) { i.Medium, i.Address = tasks.MediumMSISDN, "+442079460958" }, field: "address", reason: "must be normalised"},
		{name: "email in msisdn", modify: func(i *tasks.Invite) { i.Medium = tasks.MediumMSISDN }, field: "address", reason: "letters"},
		{name: "id_server scheme", modify: func(i *tasks.Invite) { i.IDServer = "https://vector.im" }, field: "id_server", reason: "without a scheme"},
		{name: "id_server path", modify: func(i *tasks.Invite) { i.IDServer = "vector.im/_matrix" }, field: "id_server", reason: "without a path"},
		{name: "id_server userinfo", modify: func(i *tasks.Invite) { i.IDServer = "user@vector.im" }, field: "id_server", reason: `without "@"`},
		{name: "id_server port 0", modify: func(i *tasks.Invite) { i.IDServer = "vector.im:0" }, field: "id_server", reason: "1 to 65535"},
		{name: "id_server port too big", modify: func(i *tasks.Invite) { i.IDServer = "vector.im:65536" }, field: "id_server", reason: "1 to 65535"},
		{name: "id_server port not numeric", modify: func(i *tasks.Invite) { i.IDServer = "vector.im:https" }, field: "id_server", reason: "1 to 65535"},
		{name: "id_server empty port", modify: func(i *tasks.Invite) { i.IDServer = "vector.im:" }, field: "id_server", reason: "empty port"},
		{name: "id_server two ports", modify: func(i *tasks.Invite) { i.IDServer = "vector.im:80:90" }, field: "id_server", reason: "1 to 65535"},
		{name: "id_server underscore", modify: func(i *tasks.Invite) { i.IDServer = "id_server.example" }, field: "id_server", reason: "must not contain '_'"},
		{name: "id_server trailing dot", modify: func(i *tasks.Invite) { i.IDServer = "vector.im." }, field: "id_server", reason: "empty label"},
		{name: "id_server bad IPv6", modify: func(i *tasks.Invite) { i.IDServer = "[vector.im]:80" }, field: "id_server", reason: "IPv6"},
		{name: "id_server space", modify: func(i *tasks.Invite) { i.IDServer = "vector im" }, field: "id_server", reason: "must not contain ' '"},
		{name: "empty sender", modify: func(i *tasks.Invite) { i.Sender = "" }, field: "sender", reason: "must not be empty"},
		{name: "sender looks like a token", modify: func(i *tasks.Invite) { i.Sender = "syt_abc/def==" }, field: "sender", reason: "profile name"},
		{name: "sender with space", modify: func(i *tasks.Invite) { i.Sender = "my bot" }, field: "sender", reason: "profile name"},
		{name: "zero enqueued_at", modify: func(i *tasks.Invite) { i.EnqueuedAt = time.Time{} }, field: "enqueued_at", reason: "must be set"},
		{name: "negative generation", modify: func(i *tasks.Invite) { i.Generation = -1 }, field: "generation", reason: "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := sampleInvite()
			tt.modify(&inv)
			err := inv.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error for %s", tt.field)
			}
			fe := assertFieldError(t, err, tt.field)
			if !strings.Contains(fe.Reason, tt.reason) {
				t.Errorf("reason %q does not contain %q", fe.Reason, tt.reason)
			}
		})
	}
}

func TestNewInviteRejectsInvalid(t *testing.T) {
	in := sampleInvite()
	in.RoomID = "#alias:example.org"
	_, err := tasks.NewInvite(in)
	assertFieldError(t, err, "room_id")

	in = sampleInvite()
	in.Medium = "pager"
	_, err = tasks.NewInvite(in)
	assertFieldError(t, err, "medium")
}

// TestV12RoomRoundTrips checks that a version 12 room ID survives the
// payload encoding unchanged and gets a key of its own.
func TestV12RoomRoundTrips(t *testing.T) {
	in := sampleInvite()
	in.RoomID = v12Room
	inv := mustNewInvite(t, in)
	payload, err := inv.Payload()
	if err != nil {
		t.Fatal(err)
	}
	got, err := tasks.DecodeInvite(payload)
	if err != nil || got.RoomID != v12Room {
		t.Fatalf("decoded %+v, %v", got, err)
	}
	legacy := sampleInvite()
	if got.Key() == mustNewInvite(t, legacy).Key() {
		t.Errorf("v12 and legacy rooms share the key %s", got.Key())
	}
}

func TestValidateRoomID(t *testing.T) {
	for _, ok := range []string{v12Room, "!abc:example.org"} {
		if err := tasks.ValidateRoomID(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "#a:b", "!short", v12Room + "x"} {
		assertFieldError(t, tasks.ValidateRoomID(bad), "room_id")
	}
}
