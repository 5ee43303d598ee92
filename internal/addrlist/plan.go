package addrlist

import (
	"fmt"
	"strings"

	"github.com/mxinvite/mxinvite/tasks"
)

// Plan says how a Reader reads its list, and why: the operator sees which
// column(s) and medium were chosen before wondering why a contact was not
// invited. Its fields are for JSON; String is the sentence.
type Plan struct {
	// Format is FormatCSV, FormatTSV, FormatLines or FormatVCard.
	Format string `json:"format"`
	// Export names the program whose export the header was recognised as
	// ("Outlook", "Google Contacts", …); empty for any other list.
	Export string `json:"export,omitempty"`
	// Columns are the columns addresses are taken from, most preferred
	// first (CSV/TSV only).
	Columns []string `json:"columns,omitempty"`
	// Medium is email, msisdn, or "" when inferred per row.
	Medium tasks.Medium `json:"medium,omitempty"`
	// Why explains the columns and the medium.
	Why string `json:"why"`
	// Encoding is the input's encoding and how it was known.
	Encoding string `json:"encoding"`
	// Header is the header row of CSV/TSV input, for hints.
	Header []string `json:"header,omitempty"`
}

// Plan describes how the list is read. Call it after reading (the encoding
// of a list with a few Windows-1252 lines is known only then).
func (r *Reader) Plan() Plan {
	p := Plan{Format: r.format, Export: r.export, Medium: r.medium, Encoding: r.encoding, Header: r.Header()}
	if r.src.converted > 0 {
		p.Encoding = fmt.Sprintf("%s; %d lines not UTF-8 read as windows-1252 (from line %d; --encoding to say)",
			p.Encoding, r.src.converted, r.src.firstConverted)
	}
	var why []string
	switch {
	case r.format == FormatVCard:
		p.Export = "vCard"
		why = append(why, "one invite per card: its preferred "+cardProperties(r.medium))
	case r.export != "":
		for _, c := range r.addressCols(r.medium) {
			p.Columns = append(p.Columns, r.header[c])
		}
		why = append(why, "one invite per person: the first address in "+quotedNames(r.header, r.addressCols(r.medium)))
	case r.format == FormatLines:
		why = append(why, "one row per address (a line may hold a list)")
	case r.column < 0 || r.column >= len(r.header):
		why = append(why, "no rows (the input is empty)")
	default:
		p.Columns = []string{r.header[r.column]}
		how := "found by its name"
		if r.opts.Column != "" {
			how = "--column"
		}
		why = append(why, fmt.Sprintf("column %q (%s), one row per address (a cell may hold a list)", r.header[r.column], how))
	}
	switch {
	case r.opts.Medium != "":
		why = append(why, "medium "+string(r.medium)+" (--medium)")
	case r.medium == "":
		why = append(why, "medium per row: email for an address with @, msisdn for a phone number (--medium auto)")
	case r.mediumCol >= 0:
		why = append(why, fmt.Sprintf("medium %s, or the row's %q column", r.medium, r.header[r.mediumCol]))
	case r.medium == tasks.MediumMSISDN && r.column >= 0 && r.column < len(r.header):
		why = append(why, fmt.Sprintf("medium msisdn: the column's name %q says phone numbers", r.header[r.column]))
	case r.export != "" || r.format == FormatVCard:
		why = append(why, "medium email: contacts are invited by email (--medium msisdn for a phone campaign)")
	default:
		why = append(why, "medium email (--medium msisdn for a phone campaign)")
	}
	if r.mediumCol >= 0 && r.medium == "" {
		why = append(why, fmt.Sprintf("or the row's %q column", r.header[r.mediumCol]))
	}
	p.Why = strings.Join(why, "; ")
	return p
}

// String is the plan as one line.
func (p Plan) String() string {
	format := p.Format
	switch {
	case p.Format == FormatLines:
		format = "plain list"
	case p.Export != "" && p.Format != FormatVCard:
		format = p.Export + " export (" + p.Format + ")"
	case p.Export != "":
		format = p.Export
	}
	return fmt.Sprintf("%s (%s): %s", format, p.Encoding, p.Why)
}

func cardProperties(m tasks.Medium) string {
	switch m {
	case tasks.MediumEmail:
		return "EMAIL"
	case tasks.MediumMSISDN:
		return "TEL (mobile first)"
	}
	return "EMAIL, else its preferred TEL"
}
