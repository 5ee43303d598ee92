// Package importer runs a bulk import: it streams an address list (see
// internal/addrlist), writes the rows it cannot use to a rejects file, and
// registers and enqueues the others through a worker.Producer with a pool of
// goroutines, a batch of rows at a time.
//
// Memory does not grow with the input. Duplicate rows are recognised by
// Redis, not by a set of addresses kept here: every registration of one
// import carries the import's run ID, so the second row naming an invite
// finds the first one's run ID on the invite's record and is counted as a
// duplicate (see worker.RegisterOptions.ImportRun). A dry run writes nothing
// to Redis and so cannot do that; it keeps one 8-byte hash per valid row
// instead, up to a limit (see dryrun.go).
//
// With a spread, the import is counted in a first pass, so that row i of n
// valid rows can be scheduled at start + i·spread/n; input that cannot be
// read twice (stdin) is spooled to a temporary file for that.
package importer
