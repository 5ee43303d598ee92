// Package dendritetest runs a real Matrix homeserver, Dendrite v0.13.8, next
// to a TLS identity server of its own, for end-to-end tests of 3PID invites.
//
// Dendrite is not imported: its binaries are built once with `go install`
// into a cache directory that survives between runs (see [Install]), then
// each [Start] generates a fresh configuration, keys and SQLite databases in
// t.TempDir(), starts the identity server ([IdentityServer], v1 identity API
// over https with a test CA passed to Dendrite through SSL_CERT_FILE) and the
// homeserver on loopback ports only, and stops both in t.Cleanup.
//
// Everything listens on 127.0.0.1. Every wait is bounded in time.
//
// Behaviour of Dendrite v0.13.8 on POST /_matrix/client/v3/rooms/{roomId}/invite
// with a 3PID body, as observed by TestDendriteSmoke (id_access_token is
// ignored, even absent):
//
//   - success: 200 {}; the identity server sees GET /_matrix/identity/api/v1/lookup
//     then POST /_matrix/identity/api/v1/store-invite (form-encoded medium,
//     address, room_id, sender, sender_display_name); one
//     m.room.third_party_invite state event (state_key = the token). The same
//     address twice gives two store-invites and two events: no deduplication.
//     Any medium (msisdn, made-up ones) is passed to the identity server.
//   - id_server not in trusted_third_party_id_servers: 400 M_SERVER_NOT_TRUSTED;
//     missing address/medium/id_server: 400 M_BAD_JSON; bad token: 401
//     M_UNKNOWN_TOKEN. None of these calls the identity server.
//   - inviter not in the room: 500 {"Err":""} (no errcode); room alias instead of
//     an ID: 500 {"Err":""}; unknown room: 404 M_NOT_FOUND. All three AFTER
//     store-invite (one call each).
//   - identity server failing (store-invite 500) or down: 500 {"Err":""}.
//   - 3PID bound at the identity server: signed lookup, GET .../pubkey/ed25519:0,
//     then a plain m.room.member invite; no store-invite.
//   - rate limiting on, non-admin device: 429 {"errcode":"M_LIMIT_EXCEEDED",
//     "retry_after_ms":<cooloff_ms>}, no Retry-After header, identity server not
//     called. Admin accounts are never limited.
//   - PUT .../invite/{txnId}: 404 M_UNRECOGNIZED.
package dendritetest
