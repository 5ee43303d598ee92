// Package simulator is an in-process Matrix homeserver and identity server
// that follows Synapse's rules for third-party (3PID) invites.
//
// It exists so that mxinvite can be tested, demonstrated and benchmarked
// without a real Synapse: one [http.Handler] serves both the client-server
// API paths (/_matrix/client/...) and the identity service v2 paths
// (/_matrix/identity/v2/...), plus unauthenticated control paths under
// /_sim/ (stats, reset, accepted invites, outage switch).
//
// What it reproduces, because mxinvite has to cope with it on real servers:
//
//   - Synapse's order of checks for POST /rooms/{roomId}/invite: parameters,
//     then the per-sender rate limit, then the identity server (lookup and
//     store-invite, i.e. an email is sent), and only then the room and
//     membership checks. A 403 "not in room" therefore arrives after the
//     invitee was emailed; the stats count such emails.
//   - Synapse's non-spec idempotent PUT /rooms/{roomId}/invite/{txnId},
//     whose successful answers are cached per access token for a TTL.
//   - 429 M_LIMIT_EXCEEDED in three shapes (Synapse, Dendrite, bare proxy),
//     and whether clients come back before the advised time ("early").
//   - Faults: latency, 5xx (before or after the invite was stored), hangs,
//     non-JSON 200s, scripted answers per address pattern, and outages.
//
// Every accepted invite is logged ([Server.Accepted]) and a second
// acceptance of the same (room, medium, address) is counted as a duplicate,
// which is how tests and benchmarks prove that no invitee is emailed twice.
//
// The package imports nothing from the rest of mxinvite: clients talk to it
// over HTTP only. Package simtest starts it under httptest for tests.
package simulator
