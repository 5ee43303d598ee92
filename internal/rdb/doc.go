// Package rdb owns mxinvite's Redis data: every key name (keys.go), every
// Lua script, every read and write, retention (cancel, purge, the results
// stream's trim) and the schedule store. Nothing else in mxinvite builds a
// key name or talks to Redis, except connection setup (internal/redisconn),
// test helpers, benchmarks and the binary's wiring.
//
// Scripts are documented as asynq documents its own (internal/rdb there):
// a KEYS[i] -> … / ARGV[i] -> … block above each, and every key a script
// touches comes in KEYS — no Lua builds a key name. The invite's states and
// their transitions come from internal/record: the Lua gets the state names
// and the transition table from it (lua.go), and refuses any other state
// change.
//
// To add a Redis operation: name its keys in keys.go, write it in the file
// of its concern (or a new one) as a method of Client, document and test it
// against a real Redis (rdbtest_test.go starts one), and, if the worker's
// job loop needs it, add it to the interface in worker/ledger.go.
//
// mxinvite targets a single Redis (or a primary with replicas, or Sentinel),
// as asynq does, not Redis Cluster.
package rdb
