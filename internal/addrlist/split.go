package addrlist

import "strings"

// googleSeparator is how Google Contacts joins several values of one field
// in a cell ("a@example.org ::: b@example.org").
const googleSeparator = ":::"

// splitAddressList splits an address list as people paste or export it into
// its entries: RFC 5322 lists separated by ',' (what mail programs write in
// To: lines), Outlook's ';', Google Contacts' " ::: ", and groups
// ("Team: a@x.org, b@y.org;", whose name is dropped). A separator inside a
// quoted display name, angle brackets or a comment does not split. Empty
// entries ("a@x.org;;", a trailing ",") are dropped: they hold no address.
//
// Outlook writes display names "Last, First" without quotes; a fragment
// without '@' followed by a "Name <address>" entry is taken as the start of
// that entry's display name, so "Doe, Jane <jane@x.org>" stays one entry.
//
// The common case, a single bare address, returns s itself (nil, true):
// callers then keep the row as it is.
func splitAddressList(s string) (parts []string, single bool) {
	if !strings.ContainsAny(s, ",;:") {
		return nil, true
	}
	var raw []string
	inQuotes, angle, depth, start := false, 0, 0, 0
	cut := func(end, next int) {
		raw = append(raw, s[start:end])
		start = next
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && (inQuotes || depth > 0):
			i++ // a quoted-pair
		case c == '"' && depth == 0:
			inQuotes = !inQuotes
		case inQuotes:
		case c == '(':
			depth++
		case c == ')':
			if depth > 0 {
				depth--
			}
		case depth > 0:
		case c == '<':
			angle++
		case c == '>':
			if angle > 0 {
				angle--
			}
		case angle > 0:
		case c == ',' || c == ';':
			cut(i, i+1)
		case c == ':' && strings.HasPrefix(s[i:], googleSeparator):
			cut(i, i+len(googleSeparator))
			i += len(googleSeparator) - 1
		case c == ':' && isGroupName(s[start:i]):
			start = i + 1 // "Team: a@x.org, …": the group's name is no address
		}
	}
	raw = append(raw, s[start:])
	for i := 0; i < len(raw); i++ {
		entry := strings.TrimSpace(raw[i])
		if entry == "" {
			continue
		}
		for i+1 < len(raw) && isNameFragment(entry) && strings.Contains(raw[i+1], "<") {
			i++
			entry += "," + raw[i]
			entry = strings.TrimSpace(entry)
		}
		parts = append(parts, entry)
	}
	if len(parts) == 1 && parts[0] == strings.TrimSpace(s) {
		return nil, true
	}
	return parts, false
}

// isGroupName reports whether text before a ':' is an RFC 5322 group's
// display name rather than part of an address: it holds no '@' and no
// digit-led phone number ("tel:+44…" is not a group either).
func isGroupName(text string) bool {
	t := strings.TrimSpace(text)
	if t == "" || strings.ContainsAny(t, "@<>") || strings.EqualFold(t, "tel") || strings.EqualFold(t, "mailto") {
		return false
	}
	c := t[0]
	return !(c == '+' || ('0' <= c && c <= '9'))
}

// isNameFragment reports whether a list entry looks like the first half of
// an unquoted "Last, First <address>" display name: no '@', no angle
// brackets and not a phone number.
func isNameFragment(entry string) bool {
	if strings.ContainsAny(entry, "@<>") {
		return false
	}
	c := entry[0]
	return !(c == '+' || c == '(' || ('0' <= c && c <= '9'))
}
