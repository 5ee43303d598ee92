// Package snapshot copies Redis keys to a file and back, byte for byte: each
// key's DUMP payload and its remaining time to live, restored with RESTORE.
// It exists so that a test can load Redis data written by an earlier
// release (testdata/snapshots) and prove that today's code still works on
// it.
//
// It is a test helper (with a small dump tool, cmd/snapshot-dump): one of
// the few places outside the package that owns Redis allowed to import
// go-redis. Nothing in the running service uses it.
//
// # File format (version 1)
//
// One JSON object, written by [Snapshot.Encode] with sorted keys so that
// the same data always gives the same file:
//
//	{
//	  "format": "mxinvite-redis-snapshot",   // always this string
//	  "version": 1,                          // this format; Decode refuses others
//	  "redis_version": "7.0.15",             // the server that wrote the payloads
//	  "note": "…",                           // free text: what wrote the data
//	  "patterns": ["asynq:*", "mxinvite:*"], // the SCAN MATCH patterns dumped
//	  "keys": [                              // sorted by key, each key once
//	    {"key": "mxinvite:invite:…", "type": "hash", "pttl_ms": 0, "dump": "base64…"}
//	  ]
//	}
//
// "dump" is the key's DUMP payload in standard base64: Redis's own
// serialisation (RDB encoding, RDB version and CRC64), which RESTORE checks.
// A payload cannot be edited by hand; to change data, load the snapshot,
// change Redis, and dump again. "type" is the key's TYPE, for people reading
// the file and for checks; RESTORE does not need it. "pttl_ms" is the time
// the key had left when it was dumped (0: no expiry); Load gives it the same
// time from the moment it is restored.
//
// Redis refuses a payload written by a newer RDB version than its own, so
// load a snapshot into a Redis at least as new as "redis_version".
//
// Only a single Redis (or a primary) is supported, as for the rest of
// mxinvite: SCAN on a cluster client sees one node. Dump a Redis nobody is
// writing to: the keys are read one after another, not at one instant.
package snapshot
