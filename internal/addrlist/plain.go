package addrlist

import "strings"

// isCommentStart reports whether a plain-list line starting with c is a
// comment: Mailman and Sympa exports use '#', some tools ';'.
func isCommentStart(c byte) bool { return c == '#' || c == ';' }

// listEntry returns the address part of a plain-list line: trimmed, with a
// trailing comment removed.
func listEntry(line string) string {
	return strings.TrimSpace(stripTrailingComment(strings.TrimSpace(line)))
}

// stripTrailingComment removes a " # comment" from the end of s. The '#'
// must follow whitespace and sit outside quotes and parentheses, because '#'
// is legal in local parts ("a#b@example.org") and display names
// ("\"Team #1\" <t@example.org>").
func stripTrailingComment(s string) string {
	if strings.IndexByte(s, '#') < 0 {
		return s // the common case
	}
	inQuotes, depth := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++ // a quoted-pair: the next character is literal
		case '"':
			inQuotes = !inQuotes
		case '(':
			if !inQuotes {
				depth++
			}
		case ')':
			if !inQuotes && depth > 0 {
				depth--
			}
		case '#':
			if !inQuotes && depth == 0 && i > 0 && (s[i-1] == ' ' || s[i-1] == '\t') {
				return s[:i]
			}
		}
	}
	return s
}
