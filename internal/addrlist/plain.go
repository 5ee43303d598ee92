package addrlist

import "strings"

// isCommentStart reports whether a plain-list line starting with c is a
// comment: Mailman and Sympa exports use '#', some tools ';'.
func isCommentStart(c byte) bool { return c == '#' || c == ';' }

// listEntry returns the address part of a plain-list line: trimmed, with a
// trailing comment removed, and unquoted if the whole line is one quoted CSV
// field (see unquoteCSVLine).
func listEntry(line string) string {
	entry := strings.TrimSpace(stripTrailingComment(strings.TrimSpace(line)))
	if unquoted, ok := unquoteCSVLine(entry); ok {
		return unquoted
	}
	return entry
}

// unquoteCSVLine undoes the quoting of a line that is a single CSV field
// holding quotes: a one-column CSV written without a header, as Mailman 3's
// Postorius writes its member list, turns "Doe, Jane" <jane@example.org>
// into """Doe, Jane"" <jane@example.org>". Such a line starts and ends with
// '"' and has its inner quotes doubled.
func unquoteCSVLine(s string) (string, bool) {
	if len(s) < 4 || s[0] != '"' || s[len(s)-1] != '"' || !strings.Contains(s, `""`) {
		return "", false
	}
	inner := s[1 : len(s)-1]
	if strings.Count(inner, `"`) != 2*strings.Count(inner, `""`) {
		return "", false // a quote not doubled: not one CSV field
	}
	return strings.ReplaceAll(inner, `""`, `"`), true
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
