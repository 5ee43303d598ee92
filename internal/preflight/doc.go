// Package preflight checks, before a bulk import, what Synapse and Dendrite
// only check after the identity server has already emailed an invitee: that
// the sender's token works, the room exists and the sender is joined to it
// with enough power to invite, and that the identity server answers with
// the identity access token. Without a configured identity token it
// obtains one from the sender's account (matrix.IdentityTokens) and names
// any identity-server terms still to accept. When the token may read the
// sender's Synapse rate-limit override, a note says what the limit means
// for the campaign's length. Every check is read-only, except accepting
// terms when asked to.
package preflight
