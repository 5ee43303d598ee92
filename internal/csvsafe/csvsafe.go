// Package csvsafe keeps the CSV files mxinvite writes for people safe to open
// in a spreadsheet, and reads their cells back unchanged.
//
// Addresses and the other columns of an address list come from public
// sign-ups: "=1+2@example.org" is a valid email address, and a spreadsheet
// opening a results or rejects file would run it as a formula (CSV
// injection). Following OWASP's advice, a cell whose first character is
// one of = + - @ tab or carriage return is written with a single quote in
// front, which spreadsheets show as text; Unquote undoes exactly that, so a
// written file re-imports to the same addresses.
package csvsafe

// triggers are the first characters that make a spreadsheet evaluate a cell.
const triggers = "=+-@\t\r"

// isTrigger reports whether c starts a formula.
func isTrigger(c byte) bool {
	for i := 0; i < len(triggers); i++ {
		if triggers[i] == c {
			return true
		}
	}
	return false
}

// Cell returns s as it must be written: with a leading "'" if a spreadsheet
// would take it for a formula, else unchanged. A cell that already starts
// with "'" is left alone, so neutralising twice is neutralising once.
func Cell(s string) string {
	if s == "" || !isTrigger(s[0]) {
		return s
	}
	return "'" + s
}

// Record neutralises every cell of record in place and returns it.
func Record(record []string) []string {
	for i, s := range record {
		record[i] = Cell(s)
	}
	return record
}

// Unquote returns the cell as it was before Cell: one leading "'" is removed
// when what follows starts with a formula character. Other cells, including
// a lone "'" or "'abc", are returned unchanged.
func Unquote(s string) string {
	if len(s) >= 2 && s[0] == '\'' && isTrigger(s[1]) {
		return s[1:]
	}
	return s
}
