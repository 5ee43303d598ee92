package addrlist

import (
	"fmt"

	"github.com/mxinvite/mxinvite/tasks"
)

// Input formats, as given in Options.Format and returned by Reader.Format.
const (
	FormatCSV   = "csv"   // a header row, then comma- or semicolon-separated records
	FormatTSV   = "tsv"   // a header row, then tab-separated records
	FormatLines = "lines" // one address per line, as mailing-list software exports
	FormatVCard = "vcard" // vCard 3.0/4.0 (.vcf), as phones and address books export
)

// Options control how a Reader interprets its input.
type Options struct {
	// Format forces the input format: FormatCSV, FormatTSV or FormatLines.
	// Empty means detect it from the first line.
	Format string
	// Column is the header name of the address column, matched without
	// regard to case, spaces, '-' and '_'. Empty means the first header, in
	// order of preference, among email, mail, address, phone, msisdn,
	// phone_number, mobile, mobile_number, telephone, tel, cell.
	// Setting it means the input must be CSV or TSV with that column.
	Column string
	// Medium, if set, is the only medium accepted: rows that look like the
	// other medium are rejected as ErrWrongMedium. Empty means infer it per
	// row: an address with "@" is an email address, one starting with '+',
	// '(' or a digit a phone number; anything else is rejected as a bad
	// email address, the likelier typo.
	Medium tasks.Medium
	// MediumFromList, with Medium empty, takes the medium from the list
	// instead of inferring it per row: an address column with a phone-like
	// name (phone, msisdn, mobile, tel, telephone, cell, …) makes it msisdn,
	// anything else (and plain lists) email. Whenever Medium is empty, a
	// "medium" column (as in a results CSV) gives each row its own.
	MediumFromList bool
	// Encoding is the input's character encoding, by its WHATWG label
	// ("utf-8", "utf-16le", "windows-1252", "latin1", …). Empty means
	// detect it: a byte order mark says UTF-8 or UTF-16, and a line that is
	// not valid UTF-8 is read as Windows-1252 (the superset of Latin-1 that
	// spreadsheet programs on Windows write).
	Encoding string
	// Region is the ISO 3166 country (e.g. "GB") of phone numbers written
	// in national form ("020 7946 0958"). Empty means national numbers are
	// rejected, never guessed; international ones ("+44 …") need no region.
	Region string
}

func (o Options) check() error {
	switch o.Format {
	case "", FormatCSV, FormatTSV:
	case FormatLines, FormatVCard:
		if o.Column != "" {
			return fmt.Errorf("addrlist: a column (%q) needs csv or tsv input, not %s", o.Column, o.Format)
		}
	default:
		return fmt.Errorf("addrlist: unknown format %q (want %s, %s, %s or %s)", o.Format, FormatCSV, FormatTSV, FormatLines, FormatVCard)
	}
	if _, err := lookupEncoding(o.Encoding); err != nil {
		return err
	}
	if err := checkRegion(o.Region); err != nil {
		return err
	}
	if o.Medium != "" && o.Medium != tasks.MediumEmail && o.Medium != tasks.MediumMSISDN {
		return fmt.Errorf("addrlist: unknown medium %q (want %s or %s)", o.Medium, tasks.MediumEmail, tasks.MediumMSISDN)
	}
	return nil
}

// CheckEncoding refuses an Options.Encoding label the reader does not know.
func CheckEncoding(label string) error {
	_, err := lookupEncoding(label)
	return err
}

// CheckRegion refuses an Options.Region that is not an ISO 3166 country
// code with a phone numbering plan.
func CheckRegion(region string) error { return checkRegion(region) }
