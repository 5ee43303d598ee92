package addrlist

import (
	"strings"
	"unicode"
)

// exportFormat is an address book's or list manager's CSV export,
// recognised by its header. Such a file has one row per person, often with
// several email and phone columns: the Reader makes one invite per row,
// from the first column (in the order below) that holds an address.
//
// Column names are compared by columnKey ("E-mail 2 Address" is
// "email2address"); '#' in a name matches a number ("email#value" is
// Google's "E-mail 1 - Value", "E-mail 2 - Value", …).
//
// docs/lists.md has the same table for operators; keep the two together.
type exportFormat struct {
	name string
	// requires are names of which the header must have every one.
	requires []string
	// email and phone are the address columns, most preferred first.
	email, phone []string
}

// exportFormats are tried in order; the first whose requires all match wins.
var exportFormats = []exportFormat{
	{
		name:     "Google Contacts",
		requires: []string{"email#value"},
		email:    []string{"email#value"},
		phone:    []string{"phone#value"},
	},
	{
		name:     "Outlook",
		requires: []string{"emailaddress", "email2address"},
		email:    []string{"emailaddress", "email2address", "email3address"},
		phone: []string{"mobilephone", "primaryphone", "homephone", "businessphone", "homephone2",
			"businessphone2", "otherphone", "carphone", "companymainphone"},
	},
	{
		name:     "Thunderbird",
		requires: []string{"primaryemail"},
		email:    []string{"primaryemail", "secondaryemail"},
		phone:    []string{"mobilenumber", "workphone", "homephone"},
	},
	{
		name:     "Mailchimp",
		requires: []string{"emailaddress", "memberrating"},
		email:    []string{"emailaddress"},
		phone:    []string{"phonenumber"},
	},
	{
		name:     "Google Groups",
		requires: []string{"memberemail"},
		email:    []string{"memberemail"},
	},
	{
		name:     "Google Groups (classic)",
		requires: []string{"emailaddress", "groupstatus"},
		email:    []string{"emailaddress"},
	},
	{
		name:     "Discourse",
		requires: []string{"email", "username", "trustlevel"},
		email:    []string{"email", "secondaryemails"},
	},
	{
		name:     "Slack",
		requires: []string{"email", "username", "billingactive"},
		email:    []string{"email"},
	},
}

// labelledContacts describes a contacts export not in exportFormats whose
// email columns carry a label ("Email (Home)", "Work Email", "E-mail: work"),
// as Apple Contacts data does once converted to CSV (Numbers, exporter
// apps): each such column, in header order, is an email column.
const labelledContacts = "contacts (labelled email columns)"

// findExport returns the export format header is in, with the indices of
// its email and phone columns, most preferred first; ok is false for an
// export not recognised.
func findExport(header []string) (name string, email, phone []int, ok bool) {
	keys := headerKeys(header)
	for _, f := range exportFormats {
		if hasAll(keys, f.requires) {
			return f.name, columnsMatching(keys, f.email), columnsMatching(keys, f.phone), true
		}
	}
	return "", nil, nil, false
}

// findLabelled returns the labelled email and phone columns of header (see
// labelledContacts), in header order.
func findLabelled(header []string) (email, phone []int) {
	for i, k := range headerKeys(header) {
		switch {
		case isLabelled(k, "email"), isLabelled(k, "mail"):
			email = append(email, i)
		case isLabelled(k, "phone"), isLabelled(k, "mobile"), isLabelled(k, "tel"):
			phone = append(phone, i)
		}
	}
	return email, phone
}

func headerKeys(header []string) []string {
	keys := make([]string, len(header))
	for i, h := range header {
		keys[i] = columnKey(h)
	}
	return keys
}

// isLabelled reports whether key is kind with a label: "email(home)",
// "email:work", "homeemail", "workemail".
func isLabelled(key, kind string) bool {
	if rest, ok := strings.CutPrefix(key, kind); ok {
		return strings.HasPrefix(rest, "(") || strings.HasPrefix(rest, ":")
	}
	if label, ok := strings.CutSuffix(key, kind); ok {
		switch label {
		case "home", "work", "other", "personal", "business", "private", "school", "primary", "main", "icloud":
			return true
		}
	}
	return false
}

func hasAll(keys, names []string) bool {
	for _, name := range names {
		if len(columnsMatching(keys, []string{name})) == 0 {
			return false
		}
	}
	return true
}

// columnsMatching returns the indices of keys matching names, in the order
// of names, then of the header.
func columnsMatching(keys, names []string) []int {
	var out []int
	for _, name := range names {
		for i, k := range keys {
			if keyMatches(k, name) {
				out = append(out, i)
			}
		}
	}
	return out
}

// keyMatches compares a column key with a name in which '#' matches one or
// more digits.
func keyMatches(key, name string) bool {
	for name != "" {
		if name[0] == '#' {
			n := 0
			for n < len(key) && unicode.IsDigit(rune(key[n])) {
				n++
			}
			if n == 0 {
				return false
			}
			key, name = key[n:], name[1:]
			continue
		}
		if key == "" || key[0] != name[0] {
			return false
		}
		key, name = key[1:], name[1:]
	}
	return key == ""
}
