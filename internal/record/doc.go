// Package record holds the values every part of mxinvite shares about an
// invite and its campaign: the invite's states and the one table of their
// transitions (state.go), the result record as people and programs read it
// (result.go), campaign counts, info and outlook, pauses, and the verdicts of
// a registration.
//
// It is a leaf: it imports only tasks and matrix, and knows nothing of Redis
// (internal/rdb stores these values) or of asynq (worker/ executes invites).
// A newcomer reads state.go first: it is the invite's life in one table.
package record
