package addrlist_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"golang.org/x/text/encoding/unicode"

	"github.com/mxinvite/mxinvite/internal/addrlist"
	"github.com/mxinvite/mxinvite/tasks"
)

// addresses returns the address of each row, or "!" and the reason.
func addresses(rows []addrlist.Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Address
		if r.Err != nil {
			out[i] = "!" + r.Err.Error()
		}
	}
	return out
}

func TestAddressListsSplit(t *testing.T) {
	for in, want := range map[string][]string{
		`a@x.org; b@y.org; "C" <c@z.org>`:                {"a@x.org", "b@y.org", "c@z.org"},
		`"A" <a1@x.org>, "B" <b1@y.org>`:                 {"a1@x.org", "b1@y.org"},
		`"Doe, Jane" <jane@x.org>,bob@y.org`:             {"jane@x.org", "bob@y.org"},
		`Doe, Jane <jane@x.org>; Smith, Bob <bob@y.org>`: {"jane@x.org", "bob@y.org"},
		`Team: t1@x.org, t2@x.org;, after@x.org`:         {"t1@x.org", "t2@x.org", "after@x.org"},
		`a@x.org (Alice, the first), b@x.org`:            {"a@x.org", "b@x.org"},
		`a@x.org ::: b@x.org`:                            {"a@x.org", "b@x.org"},
		`bad, good@x.org`:                                {`!bad syntax: email must contain exactly one "@"`, "good@x.org"},
		`"Weird;Name" <w@x.org>;;`:                       {"w@x.org"},
		`<a@x.org>,<b@x.org>`:                            {"a@x.org", "b@x.org"},
		`mailto:m@x.org`:                                 {"m@x.org"},
		`+44 20 7946 0958, +1 202 555 0143`:              {"442079460958", "12025550143"},
	} {
		rows := readString(t, in+"\n", addrlist.Options{Format: addrlist.FormatLines})
		if got := addresses(rows); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s:\n got %q\nwant %q", in, got, want)
		}
	}
	// In a CSV cell: each address its own row, its Raw holding that
	// address alone in the cell.
	rows := readString(t, "name,email\nTeam,\"a@x.org, b@y.org; bad\"\n", addrlist.Options{})
	if len(rows) != 3 || rows[0].Address != "a@x.org" || rows[1].Address != "b@y.org" || rows[2].Err == nil ||
		rows[2].Raw[1] != "bad" || rows[0].Raw[1] != "a@x.org" || rows[2].Line != 2 {
		t.Errorf("cell with a list: %+v", rows)
	}
	if rows := readString(t, "undisclosed-recipients:;\n", addrlist.Options{Format: addrlist.FormatLines}); len(rows) != 0 {
		t.Errorf("an empty group is no address: %+v", rows)
	}
}

func TestVCard(t *testing.T) {
	in := "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nEMAIL;TYPE=INTERNET:second@x.org\r\nitem1.EMAIL;type=INTERNET;type=pref:fir\r\n st@x.org\r\nEND:VCARD\r\n" +
		"begin:vcard\r\nversion:4.0\r\nemail;pref=3:c@x.org\r\nEMAIL;PREF=1:b@x.org\r\nTEL;TYPE=home:+44 20 7946 0958\r\nTEL;TYPE=cell:+44 7700 900123\r\nend:vcard\r\n" +
		"BEGIN:VCARD\r\nVERSION:3.0\r\nTEL;TYPE=CELL:+1 202 555 0143\r\nEND:VCARD\r\n" +
		"BEGIN:VCARD\r\nVERSION:3.0\r\nEMAIL:no-end@x.org\r\n" + // END missing before the next card
		"BEGIN:VCARD\r\nEMAIL:last@x.org\r\nEND:VCARD\r\n"
	for medium, want := range map[tasks.Medium][]string{
		tasks.MediumEmail: {"first@x.org", "b@x.org", "!no address to invite by email: the card has only a phone number, TEL (give --medium msisdn for a phone campaign)",
			"no-end@x.org", "last@x.org"},
		tasks.MediumMSISDN: {"!no address to invite by phone: the card has only an email address, EMAIL", "447700900123", "12025550143",
			"!no address to invite by phone: the card has only an email address, EMAIL", "!no address to invite by phone: the card has only an email address, EMAIL"},
		"": {"first@x.org", "b@x.org", "12025550143", "no-end@x.org", "last@x.org"},
	} {
		rd := newReader(t, strings.NewReader(in), addrlist.Options{Medium: medium, MediumFromList: medium == tasks.MediumEmail})
		rows := readAll(t, rd)
		if got := addresses(rows); strings.Join(got, "|") != strings.Join(want, "|") || rd.Format() != addrlist.FormatVCard {
			t.Errorf("medium %q:\n got %q\nwant %q", medium, got, want)
		}
		if medium == tasks.MediumEmail {
			if rows[0].Line != 1 || rows[1].Line != 8 || !errors.Is(rows[2].Err, addrlist.ErrNoAddress) {
				t.Errorf("lines %d %d, err %v", rows[0].Line, rows[1].Line, rows[2].Err)
			}
			var out bytes.Buffer
			rw := addrlist.NewRejectWriter(&out, rd)
			rw.Write(rows[2])
			rw.Flush()
			want := "BEGIN:VCARD\r\nVERSION:3.0\r\nTEL;TYPE=CELL:+1 202 555 0143\r\nX-MXINVITE-REJECT:line 15: no address to invite by email: " +
				"the card has only a phone number\\, TEL (give --medium msisdn for a phone campaign)\r\nEND:VCARD\r\n"
			if out.String() != want {
				t.Errorf("vCard reject:\n%q\nwant\n%q", out.String(), want)
			}
		}
	}
}

func TestEncodings(t *testing.T) {
	text := "name\temail\r\nZoë\tzoe@exämple.org\r\n"
	le, _ := unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewEncoder().String(text)
	be, _ := unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewEncoder().String(text)
	for name, tc := range map[string]struct {
		input, encoding, desc string
	}{
		"UTF-16LE with BOM": {"\xff\xfe" + le, "", "utf-16le (byte order mark)"},
		"UTF-16BE with BOM": {"\xfe\xff" + be, "", "utf-16be (byte order mark)"},
		"UTF-16LE, no BOM":  {le, "", "utf-16le (detected)"},
		"UTF-16LE given":    {le, "utf-16le", "utf-16le (--encoding)"},
		"UTF-8 with BOM":    {"\uFEFF" + text, "", "utf-8 (byte order mark)"},
		"windows-1252":      {"name\temail\r\nZo\xeb\tzoe@ex\xe4mple.org\r\n", "", "utf-8; 1 lines not UTF-8 read as windows-1252"},
		"latin1 given":      {"name\temail\r\nZo\xeb\tzoe@ex\xe4mple.org\r\n", "latin1", "windows-1252 (--encoding)"},
	} {
		rd, err := addrlist.NewReader(strings.NewReader(tc.input), addrlist.Options{Encoding: tc.encoding})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		rows := readAll(t, rd)
		if len(rows) != 1 || rows[0].Address != "zoe@xn--exmple-cua.org" || rows[0].Raw[0] != "Zoë" {
			t.Errorf("%s: %+v", name, rows)
		}
		if p := rd.Plan(); !strings.HasPrefix(p.Encoding, tc.desc) {
			t.Errorf("%s: encoding %q, want %q", name, p.Encoding, tc.desc)
		}
	}
}

func TestNationalPhoneNumbers(t *testing.T) {
	list := "phone\n(415) 555-0132\n+1-415-555-0132\n4155550132\n442079460958\n020 7946 0958\n555-0100\n"
	for region, want := range map[string][]string{
		"US": {"14155550132", "14155550132", "14155550132", "442079460958", "!bad syntax: msisdn is not a phone number of region US (nor in international form)",
			"!bad syntax: msisdn is not a phone number of region US (nor in international form)"},
		"GB": {"!bad syntax: msisdn is not a phone number of region GB (nor in international form)", "14155550132",
			"!bad syntax: msisdn is not a phone number of region GB (nor in international form)",
			"442079460958", "442079460958", "!bad syntax: msisdn is not a phone number of region GB (nor in international form)"},
		"": {"!national", "14155550132", "!national", "442079460958", "!national", "!bad syntax: msisdn must have 8 to 15 digits (E.164), not 7"},
	} {
		rows := readString(t, list, addrlist.Options{Region: region, MediumFromList: true})
		got := addresses(rows)
		for i := range got {
			if want[i] == "!national" && errors.Is(rows[i].Err, addrlist.ErrNeedsRegion) && strings.Contains(got[i], "give --region") {
				got[i] = "!national"
			}
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("region %q:\n got %q\nwant %q", region, got, want)
		}
	}
	if _, err := addrlist.NewReader(strings.NewReader("x"), addrlist.Options{Region: "XX"}); err == nil {
		t.Error("region XX accepted")
	}
	// mxinvite's own results CSV writes numbers as Matrix does: digits are international.
	rows := readString(t, "medium,address\nmsisdn,447700900123\n", addrlist.Options{})
	if len(rows) != 1 || rows[0].Address != "447700900123" {
		t.Errorf("results CSV: %+v", rows)
	}
}

// A contacts export gives one row per person; its plan names the columns.
func TestExportsOnePersonOneRow(t *testing.T) {
	in := "First Name,E-mail Address,E-mail 2 Address,Mobile Phone\nA,,a2@x.org,\nB,,,+44 7700 900123\nC,c@x.org;c2@x.org,c3@x.org,\n"
	rd := newReader(t, strings.NewReader(in), addrlist.Options{MediumFromList: true})
	rows := readAll(t, rd)
	if got := addresses(rows); strings.Join(got, "|") != `a2@x.org|!no address to invite by email: only a phone number, in "Mobile Phone" (give --medium msisdn for a phone campaign)|c@x.org` {
		t.Errorf("rows %q", got)
	}
	p := rd.Plan()
	if p.Export != "Outlook" || strings.Join(p.Columns, "|") != "E-mail Address|E-mail 2 Address" || p.Medium != tasks.MediumEmail {
		t.Errorf("plan %+v", p)
	}
	// --column names one column: no export, each address a row.
	rows = readString(t, in, addrlist.Options{Column: "E-mail Address"})
	if got := addresses(rows); strings.Join(got, "|") != "!empty address|!empty address|c@x.org|c2@x.org" {
		t.Errorf("--column: %q", got)
	}
	// A phone campaign takes the phone columns.
	rows = readString(t, in, addrlist.Options{Medium: tasks.MediumMSISDN})
	if got := addresses(rows); !strings.HasPrefix(got[0], "!no address in \"Mobile Phone\"") || got[1] != "447700900123" {
		t.Errorf("msisdn: %q", got)
	}
}
