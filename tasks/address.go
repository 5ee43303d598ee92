package tasks

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Size limits from RFC 5321 (email) and ITU-T E.164 (phone numbers).
const (
	maxEmailBytes       = 254
	maxEmailLocalBytes  = 64
	maxDomainBytes      = 253
	maxDomainLabelBytes = 63
	minMSISDNDigits     = 8
	maxMSISDNDigits     = 15
)

// NormalizeAddress normalises s as an address of medium m; see
// NormalizeEmail and NormalizeMSISDN.
func NormalizeAddress(m Medium, s string) (string, error) {
	switch m {
	case MediumEmail:
		return NormalizeEmail(s)
	case MediumMSISDN:
		return NormalizeMSISDN(s)
	}
	return "", fieldError("medium", string(m), `must be "email" or "msisdn"`)
}

// NormalizeEmail checks that s is a single bare addr-spec (local@domain) and
// returns it in the one form servers compare: surrounding spaces removed,
// the local part lower-cased and the domain in IDNA A-label form
// ("Jürgen@Bücher.DE" and "jürgen@xn--bcher-kva.de" are one address; the
// first is rejected, see below, the second becomes "…@xn--bcher-kva.de").
//
// Why lower-case the local part, which RFC 5321 lets a receiving domain
// treat case-sensitively: Synapse canonicalises email 3PIDs (its
// canonicalise_email case-folds the local part and lower-cases the domain,
// after MSC2265), identity servers store bindings that way, and the hashed
// v2 lookup only finds a binding whose address hashes to the same bytes. So
// "USER@example.org" and "user@example.org" are one person to the servers,
// and must be one invite here; sending the folded form makes the lookup
// match on every server, not only on those that fold it themselves.
//
// The local part must be a dot-atom of printable ASCII (no quoted strings).
// Internationalised local parts (RFC 6531) are rejected: they reach a
// mailbox only over SMTPUTF8, which identity servers' mailers do not
// promise, and Unicode case folding is not done the same way everywhere.
// The domain may be internationalised; see domainToASCII.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", addressError(s, "must not be empty")
	}
	if !utf8.ValidString(s) {
		return "", addressError(s, "must be valid UTF-8")
	}
	if strings.ContainsAny(s, "<>") {
		return "", addressError(s, "must be a bare address local@domain, not a display-name form")
	}
	at := strings.IndexByte(s, '@')
	if at < 0 || strings.IndexByte(s[at+1:], '@') >= 0 {
		return "", addressError(s, `must contain exactly one "@"`)
	}
	local, domain := s[:at], s[at+1:]
	if reason := localPartProblem(local); reason != "" {
		return "", addressError(s, reason)
	}
	ascii, reason := domainToASCII(domain)
	if reason == "" {
		reason = domainProblem(ascii) // the limits apply to what we hand on
	}
	if reason != "" {
		return "", addressError(s, reason)
	}
	if len(local)+1+len(ascii) > maxEmailBytes {
		return "", addressError(s, fmt.Sprintf("must be at most %d bytes", maxEmailBytes))
	}
	lower := strings.ToLower(local) // ASCII only (checked above): lower-casing is case folding
	if lower == local && ascii == domain {
		return s, nil // the common case: no allocation
	}
	return lower + "@" + ascii, nil
}

// NormalizeMSISDN checks that s is a phone number in international form and
// returns its digits: Matrix msisdn 3PIDs are E.164 numbers without "+".
//
// Accepted: an optional leading "+" or "00", then digits with optional
// separators (space, '-', '.', '(' and ')'), 8 to 15 digits in all, the first
// (the country code) not 0. National numbers ("020 7946 0958") are rejected
// because the country cannot be guessed safely.
func NormalizeMSISDN(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", addressError(s, "must not be empty")
	}
	// Room for an "00" prefix plus the longest E.164 number.
	var digits [maxMSISDNDigits + 2]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			if n == len(digits) {
				return "", addressError(s, fmt.Sprintf("must have at most %d digits (E.164)", maxMSISDNDigits))
			}
			digits[n] = c
			n++
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		case c == '+':
			if i != 0 {
				return "", addressError(s, `may have "+" only at the start`)
			}
		default:
			r, _ := utf8.DecodeRuneInString(s[i:])
			if unicode.IsLetter(r) {
				return "", addressError(s, "must not contain letters")
			}
			return "", addressError(s, fmt.Sprintf("must not contain %q", r))
		}
	}
	number := digits[:n]
	if s[0] != '+' && n >= 2 && number[0] == '0' && number[1] == '0' {
		number = number[2:] // "00" is the international call prefix, like "+"
	}
	if len(number) < minMSISDNDigits || len(number) > maxMSISDNDigits {
		return "", addressError(s, fmt.Sprintf("must have %d to %d digits (E.164), not %d", minMSISDNDigits, maxMSISDNDigits, len(number)))
	}
	if number[0] == '0' {
		return "", addressError(s, "must start with a country code, not 0 (use the international form, e.g. +44 20 7946 0958)")
	}
	if len(number) == len(s) {
		return s, nil // already digits only: no allocation
	}
	return string(number), nil
}

func addressError(value, reason string) *FieldError {
	return fieldError("address", value, reason)
}

// localPartProblem describes what is wrong with an email local part, or
// returns "" if it is a valid dot-atom.
func localPartProblem(local string) string {
	if len(local) == 0 || len(local) > maxEmailLocalBytes {
		return fmt.Sprintf("local part must be 1 to %d characters", maxEmailLocalBytes)
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return `local part must not start or end with "." or contain ".."`
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if c >= utf8.RuneSelf {
			return "local part must be ASCII: internationalised local parts (RFC 6531) need SMTPUTF8 end to end, which identity servers do not promise"
		}
		if c != '.' && !isAtext(c) {
			return fmt.Sprintf("local part must not contain %q", rune(c))
		}
	}
	return ""
}

// isAtext reports whether c may appear in an RFC 5322 atom. This excludes
// spaces, controls and the specials ()<>[]:;@\,." that would need quoting.
func isAtext(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// domainProblem describes what is wrong with an email domain, or returns ""
// if it is a valid (possibly internationalised) domain name.
func domainProblem(domain string) string {
	if domain == "" {
		return "domain must not be empty"
	}
	if len(domain) > maxDomainBytes {
		return fmt.Sprintf("domain must be at most %d bytes", maxDomainBytes)
	}
	if strings.IndexByte(domain, '.') < 0 {
		return `domain must contain a "."`
	}
	for label := range strings.SplitSeq(domain, ".") {
		if reason := labelProblem(label, true); reason != "" {
			return "domain " + reason
		}
	}
	return ""
}

// labelProblem describes what is wrong with one DNS label, or returns "".
// With unicodeOK, letters of any script (and combining marks after the
// first character, which many scripts need) are allowed, as in IDNs.
func labelProblem(label string, unicodeOK bool) string {
	if label == "" {
		return `must not have an empty label (leading, trailing or doubled ".")`
	}
	if len(label) > maxDomainLabelBytes {
		return fmt.Sprintf("labels must be at most %d bytes", maxDomainLabelBytes)
	}
	if label[0] == '-' || label[len(label)-1] == '-' {
		return `labels must not start or end with "-"`
	}
	for i, r := range label {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '-':
		case unicodeOK && r >= utf8.RuneSelf && (unicode.IsLetter(r) || (i > 0 && unicode.IsMark(r))):
		default:
			return fmt.Sprintf("must not contain %q", r)
		}
	}
	return ""
}
