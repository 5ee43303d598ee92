// Package addrlist reads the address lists operators import for bulk
// invites as people export them: CSV or TSV with a header row (address
// books' and list managers' exports recognised by their header, one row
// per person), vCard files (one row per card), and plain lists as
// mailing-list software writes them or as pasted from a To: line (one row
// per address, several per line). Text is UTF-8, UTF-16 or Windows-1252
// (see decodedInput); phone numbers in national form need a region.
//
// Every address is a row or part of a reject: none is silently dropped.
//
// The reader streams: memory does not grow with the file, so lists of a
// million addresses import as easily as ten. A bad row never stops the
// import and never takes its neighbours down with it; it comes back as a
// Row with Err set, and a RejectWriter writes those rows to a file in the
// input's own format so the operator can fix and re-import them.
//
// Deduplication is left to the importer: the reader returns every row.
package addrlist
