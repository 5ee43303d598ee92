package matrix

// ErrCode is the "errcode" of a Matrix error body. It is a string type so
// that callers compare it with the constants below using ==.
type ErrCode string

// Error codes of the Matrix client-server and identity APIs that mxinvite
// sees or maps (spec: "Standard error response"), with the server-specific
// ones that matter for 3PID invites.
const (
	// MForbidden: the inviter may not invite (banned invitee, already a
	// member, not in the room, power level too low).
	MForbidden ErrCode = "M_FORBIDDEN"
	// MUnknownToken: the access token is not recognised.
	MUnknownToken ErrCode = "M_UNKNOWN_TOKEN"
	// MMissingToken: no access token was sent.
	MMissingToken ErrCode = "M_MISSING_TOKEN"
	// MLimitExceeded: rate-limited; maps to TooManyRequests on any HTTP status.
	MLimitExceeded ErrCode = "M_LIMIT_EXCEEDED"
	// MNotFound: the resource (room, alias, state) does not exist.
	MNotFound ErrCode = "M_NOT_FOUND"
	// MUnrecognized: the server does not know the endpoint or method.
	MUnrecognized ErrCode = "M_UNRECOGNIZED"
	// MConsentNotGiven: the user must accept the server's terms (consent_uri).
	MConsentNotGiven ErrCode = "M_CONSENT_NOT_GIVEN"
	// MUnsupportedRoomVersion: the server does not support the room version.
	MUnsupportedRoomVersion ErrCode = "M_UNSUPPORTED_ROOM_VERSION"
	// MIncompatibleRoomVersion: the room version is incompatible with the server.
	MIncompatibleRoomVersion ErrCode = "M_INCOMPATIBLE_ROOM_VERSION"
	// MCannotLeaveServerNoticeRoom: server notice rooms cannot be left.
	MCannotLeaveServerNoticeRoom ErrCode = "M_CANNOT_LEAVE_SERVER_NOTICE_ROOM"
	// MUserDeactivated: the account is deactivated.
	MUserDeactivated ErrCode = "M_USER_DEACTIVATED"
	// MAccountLocked: the account is locked by an administrator.
	MAccountLocked ErrCode = "M_ACCOUNT_LOCKED"
	// MServerNotTrusted: Dendrite does not trust the identity server.
	MServerNotTrusted ErrCode = "M_SERVER_NOT_TRUSTED"
	// MBadJSON: the body is JSON but misses or mistypes a field (Dendrite).
	MBadJSON ErrCode = "M_BAD_JSON"
	// MNotJSON: the body is not JSON.
	MNotJSON ErrCode = "M_NOT_JSON"
	// MMissingParam: a required parameter is missing (Synapse).
	MMissingParam ErrCode = "M_MISSING_PARAM"
	// MInvalidParam: a parameter has a wrong value.
	MInvalidParam ErrCode = "M_INVALID_PARAM"
	// MUnknown: an unknown server error (Synapse's identity-server failures).
	MUnknown ErrCode = "M_UNKNOWN"
	// MInviteBlocked: the invitee blocks invites (spec v1.18).
	MInviteBlocked ErrCode = "M_INVITE_BLOCKED"
	// MSC4155InviteBlocked is M_INVITE_BLOCKED's unstable form (MSC4155,
	// MSC4380), which servers sent before v1.18 and some still send.
	MSC4155InviteBlocked ErrCode = "ORG.MATRIX.MSC4155.INVITE_BLOCKED"
	// MUnauthorized: the request is not authorised (identity API).
	MUnauthorized ErrCode = "M_UNAUTHORIZED"
	// MThreePIDDenied: the server refuses this third-party identifier.
	MThreePIDDenied ErrCode = "M_THREEPID_DENIED"
	// MThreePIDMediumNotSupported: the medium (e.g. msisdn) is not supported.
	MThreePIDMediumNotSupported ErrCode = "M_THREEPID_MEDIUM_NOT_SUPPORTED"
	// MResourceLimitExceeded: the server exceeded a resource limit (e.g. MAU).
	MResourceLimitExceeded ErrCode = "M_RESOURCE_LIMIT_EXCEEDED"
	// MGuestAccessForbidden: guests may not do this.
	MGuestAccessForbidden ErrCode = "M_GUEST_ACCESS_FORBIDDEN"
	// MTermsNotSigned: the identity server's terms were not accepted.
	MTermsNotSigned ErrCode = "M_TERMS_NOT_SIGNED"
	// MInvalidPepper: a v2 lookup used a pepper the identity server no
	// longer has; its answer carries the current one.
	MInvalidPepper ErrCode = "M_INVALID_PEPPER"
)

// InviteBlocked reports whether the code says the invitee blocks invites,
// in its stable or unstable form: a refusal of that one invitee, final.
func (c ErrCode) InviteBlocked() bool { return c == MInviteBlocked || c == MSC4155InviteBlocked }
