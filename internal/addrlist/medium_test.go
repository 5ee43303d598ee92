package addrlist_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/internal/addrlist"
	"github.com/mxinvite/mxinvite/tasks"
)

// A phone-like address column makes the list an msisdn list, unless the
// medium is given; other lists stay email.
func TestMediumFromList(t *testing.T) {
	rd := newReader(t, openList(t, "phones.csv"), addrlist.Options{MediumFromList: true})
	if rd.Medium() != tasks.MediumMSISDN {
		t.Fatalf("Medium() = %q for a %q column, want msisdn", rd.Medium(), rd.Header()[1])
	}
	checkRows(t, readAll(t, rd), []want{
		{line: 2, address: "442079460958"},
		{line: 3, address: "442079460959"},
		{line: 4, address: "12025550143"},
		{line: 5, kind: addrlist.ErrBadSyntax, reason: "msisdn \"020 7946 0958\" is in national form: give --region"},
		{line: 6, address: "4930901820"},
		{line: 7, kind: addrlist.ErrWrongMedium, reason: "looks like an email address, want msisdn"},
	})
	for header, want := range map[string]tasks.Medium{
		"name,Phone Number":   tasks.MediumMSISDN,
		"name,TEL":            tasks.MediumMSISDN,
		"name,mobile_number":  tasks.MediumMSISDN,
		"name,Cell":           tasks.MediumMSISDN,
		"name,E-Mail":         tasks.MediumEmail,
		"email,phone":         tasks.MediumEmail, // email wins the address column
		"name,address":        tasks.MediumEmail,
		"bob@example.org,x":   tasks.MediumEmail, // a plain list
		"+44 20 7946 0958,xy": tasks.MediumEmail,
	} {
		rd := newReader(t, strings.NewReader(header+"\n"), addrlist.Options{MediumFromList: true})
		if rd.Medium() != want {
			t.Errorf("%q: Medium() = %q, want %q", header, rd.Medium(), want)
		}
	}
	// A given medium wins over the column name.
	rd = newReader(t, openList(t, "phones.csv"), addrlist.Options{Medium: tasks.MediumEmail, MediumFromList: true})
	if rows := readAll(t, rd); rd.Medium() != tasks.MediumEmail || !errors.Is(rows[0].Err, addrlist.ErrWrongMedium) {
		t.Errorf("--medium email on a phone column: Medium() %q, first row %+v", rd.Medium(), rows[0])
	}
}

// A "medium" column, as a results CSV has, gives each row its medium.
func TestMediumColumn(t *testing.T) {
	input := "task_id,medium,address\n" +
		"inv:1,msisdn,442079460958\n" +
		"inv:2,email,alice@example.org\n" +
		"inv:3,,bob@example.org\n" +
		"inv:4,email,442079460959\n" +
		"inv:5,fax,carol@example.org\n"
	for _, opts := range []addrlist.Options{{MediumFromList: true}, {}} {
		checkRows(t, readString(t, input, opts), []want{
			{line: 2, address: "442079460958"},
			{line: 3, address: "alice@example.org"},
			{line: 4, address: "bob@example.org"},
			{line: 5, kind: addrlist.ErrWrongMedium, reason: "looks like a phone number (msisdn), want email"},
			{line: 6, kind: addrlist.ErrBadSyntax, reason: `medium column "fax": want email or msisdn`},
		})
	}
	rows := readString(t, input, addrlist.Options{MediumFromList: true})
	if rows[0].Medium != tasks.MediumMSISDN || rows[1].Medium != tasks.MediumEmail {
		t.Errorf("media %q, %q", rows[0].Medium, rows[1].Medium)
	}
	// A given medium is the only one accepted, whatever the column says.
	rows = readString(t, input, addrlist.Options{Medium: tasks.MediumEmail})
	if !errors.Is(rows[0].Err, addrlist.ErrWrongMedium) || rows[4].Err != nil {
		t.Errorf("with --medium email: %+v", rows)
	}
}
