package tasks

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// domainProfile converts email domains to the A-label form mail servers and
// identity servers look up. It is idna.Lookup (UTS #46 mapping for lookup:
// case, width and compatibility mapping, NFC, the Bidi rule, CheckJoiners,
// non-transitional so "ß" stays "ß") without CheckHyphens, as browsers do:
// ASCII labels such as "r3--sn-x" are in real use, and domainProblem checks
// leading and trailing hyphens anyway.
var domainProfile = idna.New(
	idna.MapForLookup(), idna.BidiRule(), idna.Transitional(false), idna.CheckHyphens(false),
)

// domainToASCII returns domain lower-cased and with every internationalised
// label in A-label ("xn--…") form, or a reason it cannot be converted. A
// plain ASCII domain without A-labels, by far the most common, only needs
// lower-casing; A-labels are run through the profile too, so that a label
// that does not decode to a valid IDN is rejected rather than sent.
func domainToASCII(domain string) (string, string) {
	lower := strings.ToLower(domain)
	if isASCII(lower) && !strings.Contains(lower, "xn--") {
		return lower, ""
	}
	if strings.Contains(domain, "..") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return lower, "" // domainProblem names the empty label better than IDNA does
	}
	ascii, err := domainProfile.ToASCII(domain)
	if err != nil {
		return "", "domain is not a valid internationalised domain name (IDNA: " + strings.TrimPrefix(err.Error(), "idna: ") + ")"
	}
	return ascii, ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
