package addrlist

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/mxinvite/mxinvite/tasks"
)

// resolve turns an address cell or list entry into a medium and a normalised
// address, or explains why it cannot be invited. want is the row's medium
// ("" = infer it from the address).
func (r *Reader) resolve(cell string, want tasks.Medium) (tasks.Medium, string, error) {
	address, err := extractAddress(cell)
	if err != nil {
		return want, "", err
	}
	if address == "" {
		return want, "", ErrEmpty
	}
	medium := inferMedium(address, want)
	if want != "" && medium != want {
		return medium, "", fmt.Errorf("%w: looks like %s, want %s", ErrWrongMedium, describeMedium(medium), want)
	}
	if medium == tasks.MediumMSISDN {
		// A results CSV (it has a medium column) writes numbers as Matrix
		// does: international, without '+'.
		if address, err = internationalPhone(address, r.opts.Region, r.mediumCol >= 0); err != nil {
			return medium, "", err
		}
	}
	normalised, err := tasks.NormalizeAddress(medium, address)
	if err != nil {
		reason := err.Error()
		var fieldErr *tasks.FieldError
		if errors.As(err, &fieldErr) {
			reason = fieldErr.Reason // the value is in the row already
		}
		return medium, "", fmt.Errorf("%w: %s %s", ErrBadSyntax, medium, reason)
	}
	return medium, normalised, nil
}

// rowMedium returns the medium a CSV/TSV row is checked against: its
// "medium" cell when the list has that column and the cell is not empty
// (a results CSV re-imported), else the list's.
func (r *Reader) rowMedium(fields []string) (tasks.Medium, error) {
	if r.mediumCol < 0 || r.mediumCol >= len(fields) || strings.TrimSpace(fields[r.mediumCol]) == "" {
		return r.medium, nil
	}
	m, err := tasks.ParseMedium(fields[r.mediumCol])
	if err != nil {
		return r.medium, fmt.Errorf("%w: %s column %q: want email or msisdn", ErrBadSyntax, mediumColumn, strings.TrimSpace(fields[r.mediumCol]))
	}
	return m, nil
}

// extractAddress returns the bare address in s, which may be in one of the
// forms mailing-list software writes: "Name <addr>", "\"Last, First\" <addr>"
// or "addr (Name)". Most entries are bare, so those skip net/mail.
func extractAddress(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > 7 && strings.EqualFold(s[:7], "mailto:") {
		s = s[7:] // a link copied from a web page, or a vCard 4.0 URI
	}
	if strings.IndexByte(s, '@') < 0 || !strings.ContainsAny(s, `<("`) {
		return s, nil // bare, or a phone number such as "+44 (20) 7946 0958"
	}
	parsed, err := mail.ParseAddress(s)
	if err == nil {
		return parsed.Address, nil
	}
	// net/mail is strict about display names (an unquoted comma, say); the
	// address in angle brackets is still unambiguous.
	if lt := strings.LastIndexByte(s, '<'); lt >= 0 {
		if gt := strings.IndexByte(s[lt:], '>'); gt > 0 {
			return strings.TrimSpace(s[lt+1 : lt+gt]), nil
		}
	}
	return "", fmt.Errorf("%w: cannot extract an address (%v)", ErrBadSyntax, err)
}

// inferMedium decides which medium an address is meant to be. An "@" makes
// it an email address and a leading '+', '(' or digit a phone number; for
// anything else the wanted medium is assumed (email if none), so that the
// reject names the rule the operator most likely broke.
func inferMedium(address string, want tasks.Medium) tasks.Medium {
	if strings.IndexByte(address, '@') >= 0 {
		return tasks.MediumEmail
	}
	if c := address[0]; c == '+' || c == '(' || ('0' <= c && c <= '9') {
		return tasks.MediumMSISDN
	}
	if want != "" {
		return want
	}
	return tasks.MediumEmail
}

func describeMedium(m tasks.Medium) string {
	if m == tasks.MediumMSISDN {
		return "a phone number (msisdn)"
	}
	return "an email address"
}
