// Package matrix makes the Matrix client-server calls mxinvite needs, as
// "jobs" with the semantics of libQuotient's BaseJob: every call returns an
// Outcome whose Status carries libQuotient's status codes (same names, same
// numbers), so results persisted by mxinvite compare with libQuotient's.
//
// A call sends exactly one attempt. Retrying is the caller's decision, made
// with RetryPolicy.Next, because mxinvite's workers must decide with more
// context than a single call has (a shared rate limiter, a bound on the total
// wait, whether a second attempt could email the invitee twice; see
// Outcome.Ambiguous).
//
// Every call goes through one request→Outcome path (do.go), so the invite and
// the preflight calls classify answers identically. Access tokens never
// appear in an Outcome, an error, a log line or a String(): they are replaced
// by "(REDACTED)" as libQuotient does.
package matrix
