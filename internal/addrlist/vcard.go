package addrlist

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/mxinvite/mxinvite/tasks"
)

// vCard (RFC 2426 for 3.0, RFC 6350 for 4.0; what phones, Apple Contacts,
// Google Contacts and Outlook export as .vcf): one invite per card, to its
// preferred email address (or, for a phone campaign, its preferred phone
// number, mobile first). Lines are unfolded (a line starting with a space
// or tab continues the one before), group prefixes ("item1.EMAIL", Apple's)
// are ignored, and preference is read both ways: 3.0's TYPE=pref and 4.0's
// PREF=1..100 (lower is preferred).
//
// Only EMAIL and TEL values are kept, so a card's photo never sits in
// memory; a reject keeps the card's lines up to maxRecordBytes for the
// rejects file (a photo beyond that is left out of it).

const (
	vcardBegin = "BEGIN:VCARD"
	vcardEnd   = "END:VCARD"
	// vcardRejectProperty carries the reject's line and reason in the
	// rejects file; readers ignore X- properties they do not know.
	vcardRejectProperty = "X-MXINVITE-REJECT"
)

// isVCardLine reports whether line is the property want (BEGIN:VCARD or
// END:VCARD), in any case and with trailing spaces.
func isVCardLine(line []byte, want string) bool {
	return strings.EqualFold(string(bytes.TrimSpace(line)), want)
}

// cardValue is an EMAIL or TEL value of a card with its preference rank
// (lower is preferred).
type cardValue struct {
	value string
	rank  int
}

// nextCard returns the next card as a Row.
func (r *Reader) nextCard() (Row, error) {
	var first physicalLine
	for {
		line, err := r.src.next()
		if err != nil {
			return Row{}, err
		}
		if line.truncated {
			return r.malformed(line, tooLong), nil
		}
		if isBlank(line.text) {
			continue
		}
		if !isVCardLine(line.text, vcardBegin) {
			return r.malformed(line, "a line outside BEGIN:VCARD … END:VCARD"), nil
		}
		first = line.own()
		break
	}
	raw := []string{string(first.text)}
	rawBytes, shortened := len(first.text), false
	keep := func(text []byte) {
		if rawBytes+len(text) > maxRecordBytes {
			shortened = true
			return
		}
		raw = append(raw, string(text))
		rawBytes += len(text)
	}
	var emails, tels []cardValue
	var logical []byte // the EMAIL or TEL property being unfolded; nil for others
	flush := func() {
		if logical == nil {
			return
		}
		name, types, pref, value := parseCardProperty(string(logical))
		switch name {
		case "EMAIL":
			emails = append(emails, cardValue{value, pref})
		case "TEL":
			rank := pref * 2
			if !slices.Contains(types, "cell") && !slices.Contains(types, "mobile") && !slices.Contains(types, "iphone") {
				rank++ // a mobile number before a landline of the same preference
			}
			tels = append(tels, cardValue{value, rank})
		}
		logical = nil
	}
	ended := false
	for !ended {
		line, err := r.src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Row{}, err
		}
		text := line.text
		switch {
		case len(text) > 0 && (text[0] == ' ' || text[0] == '\t'):
			if logical != nil && len(logical)+len(text) <= maxLineBytes {
				logical = append(logical, text[1:]...)
			}
			keep(text)
			continue
		case isVCardLine(text, vcardBegin):
			r.src.unread(line.own()) // the END was missing: this card ends here
			ended = true
			continue
		}
		flush()
		keep(text)
		if isVCardLine(text, vcardEnd) {
			break
		}
		if n := cardPropertyName(text); n == "EMAIL" || n == "TEL" {
			logical = append([]byte(nil), text...)
		}
	}
	flush()
	row := r.cardRow(first.num, emails, tels)
	if shortened && row.Err != nil {
		row.Err = fmt.Errorf("%w (the card is longer than %d KiB: the rejects file keeps its start)", row.Err, maxRecordBytes>>10)
	}
	row.Raw = raw
	return row, nil
}

// cardRow chooses a card's address: the preferred value of the medium the
// list is read as (email first when inferred per card).
func (r *Reader) cardRow(line int, emails, tels []cardValue) Row {
	slices.SortStableFunc(emails, func(a, b cardValue) int { return a.rank - b.rank })
	slices.SortStableFunc(tels, func(a, b cardValue) int { return a.rank - b.rank })
	type candidate struct {
		value string
		want  tasks.Medium
	}
	var candidates []candidate
	if r.medium != tasks.MediumMSISDN {
		for _, e := range emails {
			candidates = append(candidates, candidate{e.value, tasks.MediumEmail})
		}
	}
	if r.medium != tasks.MediumEmail {
		for _, t := range tels {
			candidates = append(candidates, candidate{t.value, tasks.MediumMSISDN})
		}
	}
	var firstErr error
	medium := r.medium
	for _, c := range candidates {
		if strings.TrimSpace(c.value) == "" {
			continue
		}
		m, address, err := r.resolve(c.value, c.want)
		if err == nil {
			return Row{Line: line, Medium: m, Address: address}
		}
		if firstErr == nil {
			firstErr, medium = err, m
		}
	}
	if firstErr != nil {
		return Row{Line: line, Medium: medium, Err: firstErr}
	}
	switch {
	case r.medium == tasks.MediumEmail && len(tels) > 0:
		return Row{Line: line, Medium: r.medium, Err: fmt.Errorf("%w to invite by email: the card has only a phone number, TEL "+
			"(give --medium msisdn for a phone campaign)", ErrNoAddress)}
	case r.medium == tasks.MediumMSISDN && len(emails) > 0:
		return Row{Line: line, Medium: r.medium, Err: fmt.Errorf("%w to invite by phone: the card has only an email address, EMAIL", ErrNoAddress)}
	}
	return Row{Line: line, Medium: r.medium, Err: fmt.Errorf("%w: the card has no EMAIL or TEL", ErrNoAddress)}
}

// cardPropertyName returns the upper-case name of the property a content
// line starts, without its group ("item1.EMAIL;type=pref:…" is EMAIL).
func cardPropertyName(line []byte) string {
	end := bytes.IndexAny(line, ";:")
	if end < 0 {
		return ""
	}
	name := line[:end]
	if dot := bytes.LastIndexByte(name, '.'); dot >= 0 {
		name = name[dot+1:]
	}
	return strings.ToUpper(string(bytes.TrimSpace(name)))
}

// parseCardProperty splits an unfolded content line into its name, its
// TYPE values (lower case, from TYPE=a,b, repeated TYPE= and 2.1's bare
// parameters), its preference rank (PREF=n, or 1 for TYPE=pref; 100, the
// least preferred, without either) and its value, unescaped.
func parseCardProperty(line string) (name string, types []string, pref int, value string) {
	colon := -1
	inQuotes := false
	for i := 0; i < len(line); i++ {
		if line[i] == '"' {
			inQuotes = !inQuotes
		} else if line[i] == ':' && !inQuotes {
			colon = i
			break
		}
	}
	if colon < 0 {
		return "", nil, 100, ""
	}
	head, value := line[:colon], line[colon+1:]
	params := strings.Split(head, ";")
	name = cardPropertyName([]byte(params[0] + ":"))
	pref = 100
	for _, p := range params[1:] {
		key, val, hasValue := strings.Cut(p, "=")
		key = strings.ToUpper(strings.TrimSpace(key))
		switch {
		case !hasValue: // vCard 2.1: EMAIL;INTERNET;PREF:…
			types = append(types, strings.ToLower(key))
		case key == "TYPE":
			for _, t := range strings.Split(strings.Trim(val, `"`), ",") {
				types = append(types, strings.ToLower(strings.TrimSpace(t)))
			}
		case key == "PREF":
			if n, err := strconv.Atoi(strings.TrimSpace(val)); err == nil && n >= 1 && n < pref {
				pref = n
			}
		}
	}
	if pref == 100 && slices.Contains(types, "pref") {
		pref = 1
	}
	return name, types, pref, unescapeCardValue(value)
}

// unescapeCardValue undoes vCard text escaping (\, \; \\ \n).
func unescapeCardValue(v string) string {
	if strings.IndexByte(v, '\\') < 0 {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
			switch v[i] {
			case 'n', 'N':
				b.WriteByte('\n')
			default:
				b.WriteByte(v[i])
			}
			continue
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// escapeCardValue escapes text for a vCard property value.
func escapeCardValue(v string) string {
	return strings.NewReplacer(`\`, `\\`, ",", `\,`, ";", `\;`, "\n", `\n`).Replace(v)
}
