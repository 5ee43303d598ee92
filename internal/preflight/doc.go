// Package preflight checks, before a bulk import, what Synapse and Dendrite
// only check after the identity server has already emailed an invitee: that
// the sender's token works, the room exists and the sender is joined to it
// with enough power to invite, and that the identity server answers with
// the identity access token. Every check is read-only.
package preflight
