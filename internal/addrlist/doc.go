// Package addrlist reads the address lists operators import for bulk
// invites: CSV or TSV exports with a header row, and plain lists with one
// address per line as mailing-list software writes them.
//
// The reader streams: memory does not grow with the file, so lists of a
// million addresses import as easily as ten. A bad row never stops the
// import and never takes its neighbours down with it; it comes back as a
// Row with Err set, and a RejectWriter writes those rows to a file in the
// input's own format so the operator can fix and re-import them.
//
// Deduplication is left to the importer: the reader returns every row.
package addrlist
