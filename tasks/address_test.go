package tasks_test

import (
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/tasks"
)

func TestNormalizeEmail(t *testing.T) {
	long := strings.Repeat("a", 63)
	tests := []struct {
		name   string
		in     string
		want   string // normalised result when valid
		reason string // substring of FieldError.Reason when invalid
	}{
		{name: "plain", in: "alice@example.org", want: "alice@example.org"},
		{name: "trims spaces", in: "  alice@example.org\t", want: "alice@example.org"},
		{name: "whole address lower-cased", in: "Alice.Smith@Example.ORG", want: "alice.smith@example.org"},
		{name: "upper-case twin", in: "USER60@example.org", want: "user60@example.org"},
		{name: "atext specials", in: "a!#$%&'*+-/=?^_`{|}~b@example.org", want: "a!#$%&'*+-/=?^_`{|}~b@example.org"},
		{name: "plus tag", in: "bob+news@mail.example.co.uk", want: "bob+news@mail.example.co.uk"},
		{name: "digits and hyphens in domain", in: "x@a-1.b2", want: "x@a-1.b2"},
		{name: "IDN domain as A-label", in: "juergen@Bücher.Example", want: "juergen@xn--bcher-kva.example"},
		{name: "A-label kept", in: "user@xn--bcher-kva.de", want: "user@xn--bcher-kva.de"},
		{name: "A-label lower-cased", in: "user@XN--BCHER-KVA.DE", want: "user@xn--bcher-kva.de"},
		{name: "IDN with combining marks", in: "a@भारत.भारत", want: "a@xn--h2brj9c.xn--h2brj9c"},
		{name: "full-width domain mapped", in: "a@ｅｘａｍｐｌｅ.org", want: "a@example.org"},
		{name: "ß kept (non-transitional)", in: "a@straße.de", want: "a@xn--strae-oqa.de"},
		{name: "double hyphen in ASCII label", in: "a@r3--sn-x.example.org", want: "a@r3--sn-x.example.org"},
		{name: "local part of 64", in: long + "b@example.org", want: long + "b@example.org"},

		{name: "empty", in: "", reason: "must not be empty"},
		{name: "only spaces", in: "   ", reason: "must not be empty"},
		{name: "no at", in: "alice.example.org", reason: `exactly one "@"`},
		{name: "two ats", in: "a@b@example.org", reason: `exactly one "@"`},
		{name: "display name", in: "Alice <alice@example.org>", reason: "not a display-name form"},
		{name: "angle brackets only", in: "<alice@example.org>", reason: "not a display-name form"},
		{name: "empty local part", in: "@example.org", reason: "local part must be 1 to 64"},
		{name: "local part of 65", in: long + "bc@example.org", reason: "local part must be 1 to 64"},
		{name: "leading dot", in: ".alice@example.org", reason: `must not start or end with "."`},
		{name: "trailing dot", in: "alice.@example.org", reason: `must not start or end with "."`},
		{name: "double dot", in: "al..ice@example.org", reason: `contain ".."`},
		{name: "space in local part", in: "al ice@example.org", reason: `must not contain ' '`},
		{name: "comma", in: "a,b@example.org", reason: `must not contain ','`},
		{name: "semicolon", in: "a;b@example.org", reason: `must not contain ';'`},
		{name: "quote", in: `"a"@example.org`, reason: `must not contain '"'`},
		{name: "backslash", in: `a\b@example.org`, reason: `must not contain '\\'`},
		{name: "parenthesis", in: "a(b)@example.org", reason: `must not contain '('`},
		{name: "colon", in: "a:b@example.org", reason: `must not contain ':'`},
		{name: "control char", in: "a\x01b@example.org", reason: `must not contain '\x01'`},
		{name: "non-ASCII local part", in: "jürgen@example.org", reason: "local part must be ASCII: internationalised local parts (RFC 6531) need SMTPUTF8"},
		{name: "bad A-label", in: "a@xn--zz-.example.org", reason: "not a valid internationalised domain name"},
		{name: "IDN with a private-use character", in: "a@\ue000x.example.org", reason: "not a valid internationalised domain name"},
		{name: "IDN label too long", in: "a@" + strings.Repeat("ü", 60) + ".org", reason: "at most 63 bytes"},
		{name: "empty domain", in: "alice@", reason: "domain must not be empty"},
		{name: "dotless domain", in: "alice@localhost", reason: `domain must contain a "."`},
		{name: "leading dot in domain", in: "alice@.example.org", reason: "empty label"},
		{name: "trailing dot in domain", in: "alice@example.org.", reason: "empty label"},
		{name: "double dot in domain", in: "alice@example..org", reason: "empty label"},
		{name: "leading hyphen", in: "alice@-example.org", reason: `start or end with "-"`},
		{name: "trailing hyphen", in: "alice@example-.org", reason: `start or end with "-"`},
		{name: "underscore in domain", in: "alice@ex_ample.org", reason: `must not contain '_'`},
		{name: "space in domain", in: "alice@example.org extra", reason: `must not contain ' '`},
		{name: "IP literal", in: "alice@[192.0.2.1]", reason: `must not contain '['`},
		{name: "label of 64", in: "a@" + strings.Repeat("x", 64) + ".org", reason: "at most 63 bytes"},
		{name: "domain over 253", in: "a@" + strings.Repeat(long+".", 4) + "org", reason: "domain must be at most 253"},
		{name: "address over 254", in: long + "@" + strings.Repeat(strings.Repeat("x", 60)+".", 3) + "example.org", reason: "must be at most 254"},
		{name: "invalid UTF-8", in: "a@ex\xffample.org", reason: "valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tasks.NormalizeEmail(tt.in)
			checkNormalized(t, got, err, tt.want, tt.reason)
			if err == nil {
				again, err := tasks.NormalizeEmail(got)
				if err != nil || again != got {
					t.Errorf("not idempotent: NormalizeEmail(%q) = %q, %v", got, again, err)
				}
			}
		})
	}
}

func TestNormalizeMSISDN(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   string
		reason string
	}{
		{name: "plus and separators", in: "+44 (20) 7946-0958", want: "442079460958"},
		{name: "digits only", in: "442079460958", want: "442079460958"},
		{name: "00 prefix", in: "0044 20 7946 0958", want: "442079460958"},
		{name: "dots", in: "+1.202.555.0143", want: "12025550143"},
		{name: "trims spaces", in: "  +49 30 901820  ", want: "4930901820"},
		{name: "8 digits", in: "+12345678", want: "12345678"},
		{name: "15 digits", in: "+123456789012345", want: "123456789012345"},
		{name: "00 plus 15 digits", in: "00123456789012345", want: "123456789012345"},

		{name: "empty", in: "", reason: "must not be empty"},
		{name: "letters", in: "+44 20 7946 CALL", reason: "must not contain letters"},
		{name: "non-ASCII letters", in: "+44 20 7946 öö", reason: "must not contain letters"},
		{name: "extension", in: "+44 20 7946 0958 x12", reason: "must not contain letters"},
		{name: "slash", in: "+44/2079460958", reason: "must not contain '/'"},
		{name: "plus in the middle", in: "44+2079460958", reason: `"+" only at the start`},
		{name: "double plus", in: "++442079460958", reason: `"+" only at the start`},
		{name: "national form", in: "020 7946 0958", reason: "country code, not 0"},
		{name: "plus then zero", in: "+0044 20 7946 0958", reason: "country code, not 0"},
		{name: "too short", in: "+44 1234", reason: "8 to 15 digits"},
		{name: "too long", in: "+1234567890123456", reason: "8 to 15 digits"},
		{name: "far too long", in: strings.Repeat("1", 40), reason: "at most 15 digits"},
		{name: "only separators", in: "+ ( ) -", reason: "8 to 15 digits (E.164), not 0"},
		{name: "email", in: "alice@example.org", reason: "must not contain letters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tasks.NormalizeMSISDN(tt.in)
			checkNormalized(t, got, err, tt.want, tt.reason)
			if err == nil {
				again, err := tasks.NormalizeMSISDN(got)
				if err != nil || again != got {
					t.Errorf("not idempotent: NormalizeMSISDN(%q) = %q, %v", got, again, err)
				}
			}
		})
	}
}

func TestNormalizeAddressDispatchesOnMedium(t *testing.T) {
	if got, err := tasks.NormalizeAddress(tasks.MediumEmail, "Bob@EXAMPLE.org"); err != nil || got != "bob@example.org" {
		t.Errorf("email: got %q, %v", got, err)
	}
	if got, err := tasks.NormalizeAddress(tasks.MediumMSISDN, "+44 20 7946 0958"); err != nil || got != "442079460958" {
		t.Errorf("msisdn: got %q, %v", got, err)
	}
	_, err := tasks.NormalizeAddress("fax", "123")
	assertFieldError(t, err, "medium")
}

// checkNormalized compares a normalisation result with the expected value,
// or the error's reason with the expected substring.
func checkNormalized(t *testing.T, got string, err error, want, reason string) {
	t.Helper()
	if reason == "" {
		if err != nil || got != want {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
		return
	}
	if err == nil {
		t.Fatalf("got %q, want an error containing %q", got, reason)
	}
	fe := assertFieldError(t, err, "address")
	if !strings.Contains(fe.Reason, reason) {
		t.Errorf("reason %q does not contain %q", fe.Reason, reason)
	}
}
