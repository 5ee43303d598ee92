package addrlist

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// ErrNeedsRegion is wrapped (with ErrBadSyntax) by the reject of a phone
// number in national form when Options.Region is empty: which country it
// belongs to is not guessed.
var ErrNeedsRegion = errors.New("national phone number without a region")

// checkRegion refuses a Region that is not an ISO 3166 alpha-2 code
// libphonenumber knows.
func checkRegion(region string) error {
	if region == "" {
		return nil
	}
	if !phonenumbers.GetSupportedRegions()[strings.ToUpper(region)] {
		return fmt.Errorf("addrlist: region %q: want an ISO 3166 country code such as GB, US or DE", region)
	}
	return nil
}

// internationalPhone returns s, a phone number as written in a list, in a
// form tasks.NormalizeMSISDN accepts: numbers already international ("+44
// 20 …", "0044 20 …") are returned as they are; national ones ("020 7946
// 0958", "(415) 555-0132") are parsed with libphonenumber for the region,
// must be valid there, and are returned in E.164 ("+442079460958"). digitsAreInternational says the
// list writes international numbers without '+' (mxinvite's own results
// CSVs, like Matrix, do).
//
// Without a region, a number without '+' or "00" is taken as international
// only when it is plain digits (no national punctuation such as
// parentheses) that libphonenumber finds valid with a country code:
// "442079460958" is, "4155550132" is not (it would be Switzerland's +41,
// with a digit too few). Anything else is a national number, rejected with
// a hint rather than guessed.
func internationalPhone(s, region string, digitsAreInternational bool) (string, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimPrefix(strings.TrimPrefix(t, "tel:"), "TEL:") // vCard 4.0's URI form
	if i := strings.Index(t, ";"); i >= 0 {
		t = t[:i] // ";ext=…" of a tel: URI
	}
	if t == "" || t[0] == '+' || strings.HasPrefix(t, "00") {
		return t, nil
	}
	digits, plain := phoneDigits(t)
	if digits == "" || (region == "" && (len(digits) < 8 || len(digits) > 15)) {
		// Letters, other characters, or too few or many digits for any
		// number: tasks names the problem.
		return t, nil
	}
	if region != "" {
		// Valid, not merely possible (of a possible length): the numbering
		// plan's allocations catch a US number read as British, or a local
		// number without its area code ("555-0100"). Ranges kept for
		// drama and examples (Ofcom's 07700 900xxx) are not valid.
		if n, err := phonenumbers.Parse(t, strings.ToUpper(region)); err == nil && phonenumbers.IsValidNumber(n) {
			return phonenumbers.Format(n, phonenumbers.E164), nil
		}
	}
	if plain && (digitsAreInternational || validInternational(digits)) {
		return "+" + digits, nil
	}
	if region != "" {
		return "", fmt.Errorf("%w: msisdn is not a phone number of region %s (nor in international form)", ErrBadSyntax, strings.ToUpper(region))
	}
	return "", fmt.Errorf("%w: %w: msisdn %q is in national form: give --region with its country (e.g. --region GB) "+
		"or write it in international form (+44 20 7946 0958)", ErrBadSyntax, ErrNeedsRegion, t)
}

// phoneDigits returns the digits of a phone number written with the usual
// separators, and whether it had none but spaces, '-' and '.' (no
// parentheses, which mark a national area code). It returns "" if s holds
// anything else.
func phoneDigits(s string) (digits string, plain bool) {
	var b strings.Builder
	plain = true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			b.WriteByte(c)
		case c == ' ' || c == '-' || c == '.':
		case c == '(' || c == ')':
			plain = false
		default:
			return "", false
		}
	}
	return b.String(), plain
}

// validInternational reports whether digits, read with a leading '+', are a
// valid number of some country.
func validInternational(digits string) bool {
	if digits[0] == '0' {
		return false
	}
	n, err := phonenumbers.Parse("+"+digits, "")
	return err == nil && phonenumbers.IsValidNumber(n)
}
