// Package simulator is an in-process Matrix homeserver and identity server
// that follows Synapse's rules for third-party (3PID) invites.
//
// It exists so that mxinvite can be tested, demonstrated and benchmarked
// without a real Synapse: one [http.Handler] serves both the client-server
// API paths (/_matrix/client/...) and the identity service v2 paths
// (/_matrix/identity/v2/...), Synapse's admin override_ratelimit
// (/_synapse/admin/...), plus unauthenticated control paths under /_sim/
// (stats, reset, accepted invites, outage switch, and the run-time
// switches below: tokens, terms, store limit, no 3PID, bindings, joins
// and memberships, invite blocking, rules, rc_invites, refused
// addresses, 3PID lookups).
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
//   - Room version 12 IDs (![43 URL-safe base64], no server part), served
//     and logged with the request path as it was on the wire.
//   - Identity tokens as Element gets them: OpenID token, account/register
//     (one fresh token per registration, bound to the user), terms that
//     block every identity endpoint with 403 M_TERMS_NOT_SIGNED until the
//     user accepts them, and Synapse's bare 500 for every identity-server
//     refusal (unknown token, unsigned terms, Sydent's per-sender email
//     limit), with no email sent.
//   - Access tokens that die (revoked at run time: 401 M_UNKNOWN_TOKEN,
//     soft_logout false, counted) and new tokens for the same user.
//   - Servers without 3PID invites (Conduit's 404, tuwunel's 403), and
//     Synapse's admin override_ratelimit lifting the invite limit.
//   - Bound addresses (Config.Bindings, [Server.Bind]): the identity
//     server's v2 lookup maps them; a 3PID invite of one becomes, after
//     rc_third_party_invite, an invite of the account with rc_invites in
//     its three scopes (per room, per invitee, per issuer) and Synapse's
//     membership rules (already joined, banned, invite blocked); no email.
//     A later bind turns the address's accepted 3PID invites into
//     memberships (Sydent's onbind).
//   - Invites by Matrix ID ({"user_id"}), memberships that follow
//     invites and joins (/members, /joined_members, member state).
//   - 429s by scope and early requests per scope key, scripted answers
//     per address (advice, hangs, delays, odd bodies, sequences),
//     addresses the identity server refuses, and enable_3pid_lookup off.
//
// Every accepted invite is logged ([Server.Accepted]) and a second
// acceptance of the same (room, medium, address) is counted as a duplicate,
// which is how tests and benchmarks prove that no invitee is emailed twice.
//
// The package imports nothing from the rest of mxinvite: clients talk to it
// over HTTP only. Package simtest starts it under httptest for tests.
package simulator
