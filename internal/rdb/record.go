package rdb

import (
	"strconv"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
)

// An invite's record ({prefix}:invite:{key}, a hash) has these fields; a
// missing field reads as empty or 0 (empty and zero values are left out of
// finished records, which are what stays in Redis; finish also drops
// inflight, owner, begins, and task_id when it is tasks.TaskIDOf(key,
// generation); generation is written only when above 0; a Success has no
// status_code or status; a finished record has no medium when its address
// spells it (tasks.MediumOf), and no room_id or sender when its campaign's
// meta keeps the same as finished_room_id and finished_sender: shared.go;
// times are stampLayout).
//
//	identity  campaign room_id medium address sender enqueued_at [id_server] [process_at]
//	          generation, task_id (written when a worker begins it; else it is
//	          tasks.TaskIDOf(key, generation)), import_run, ix (its place
//	          in its campaign's list; none in the sorted set of earlier
//	          releases: index.go)
//	state     state (record.State), inflight ("1" while a request is out),
//	          owner (the worker ID of the delivery holding it, "" after a
//	          takeover's claim; takeover.go), takeovers (re-deliveries),
//	          begins (deliveries begun: a claim checks it did not change)
//	progress  attempts requests rate_limited retries ambiguous failures first_429_ms
//	          not_before_ms last_status last_http_status last_error cancelled_at
//	          limit_scope (whose its last 429 was: invitee, room, sender)
//	          last_429_res_ms (when that request's slot was reserved)
//	final     status_code status http_status errcode error finished_at possible_duplicate
//	          delivery (record.Delivery) user_id (the invitee's account, when known)
//	funnel    joined_at_ms registered_at_ms (finish.go for already_joined, track.go)

// stampLayout writes the record's and the stream's times: RFC 3339 in UTC
// to the millisecond (what Redis's clock and the index scores hold), six
// bytes shorter than RFC3339Nano's nine digits in each of a finished
// record's two times and its stream entry's two (issue 26). Readers parse
// either (time.RFC3339Nano accepts any fraction).
const stampLayout = "2006-01-02T15:04:05.000Z07:00"

// stamp formats t with stampLayout.
func stamp(t time.Time) string { return t.UTC().Format(stampLayout) }

// identityFields are the record fields that describe what was asked.
func identityFields(inv tasks.Invite) []any {
	f := []any{
		"campaign", inv.Campaign, "room_id", inv.RoomID, "medium", string(inv.Medium),
		"address", inv.Address, "sender", inv.Sender,
		"enqueued_at", stamp(inv.EnqueuedAt),
	}
	if inv.IDServer != "" {
		f = append(f, "id_server", inv.IDServer)
	}
	return f
}

// lastFields are what a failed attempt leaves in the record.
func lastFields(l *record.LastAttempt) []any {
	if l == nil {
		return nil
	}
	return []any{
		"retries", l.Retries, "ambiguous", l.Ambiguous, "failures", l.Failures,
		"first_429_ms", msOrZero(l.First429), "not_before_ms", msOrZero(l.NotBefore),
		"last_status", l.Status.String(), "last_http_status", l.HTTPStatus,
		"last_error", l.Error, "limit_scope", string(l.LimitScope),
	}
}

// finalFields are what a final result writes into the record. Empty and
// zero values are left out, and so are a Success's status_code (0) and
// status: a finished record without them is a Success (resultFromHash,
// luaForget, trackScript), which most finished records are.
func finalFields(f record.Final) []any {
	fields := []any{"finished_at", stamp(f.FinishedAt)}
	add := func(name string, v any, keep bool) {
		if keep {
			fields = append(fields, name, v)
		}
	}
	add("http_status", f.HTTPStatus, f.HTTPStatus != 0)
	add("status_code", int(f.Status), f.Status != matrix.Success)
	add("status", f.Status.String(), f.Status != matrix.Success)
	add("errcode", f.ErrCode, f.ErrCode != "")
	add("error", f.Error, f.Error != "")
	add("possible_duplicate", "1", f.PossibleDuplicate)
	add("retries", f.Retries, f.Retries > 0)
	add("ambiguous", f.Ambiguous, f.Ambiguous > 0)
	add("delivery", string(f.Delivery), f.Delivery != "")
	add("user_id", f.UserID, f.UserID != "")
	add("joined_at_ms", f.JoinedAt.UnixMilli(), !f.JoinedAt.IsZero())
	return fields
}

// resultFromHash decodes a record hash.
func resultFromHash(key string, h map[string]string) record.Result {
	num := func(f string) int { n, _ := strconv.Atoi(h[f]); return n }
	when := func(f string) time.Time { t, _ := time.Parse(time.RFC3339Nano, h[f]); return t }
	r := record.Result{
		TaskID: h["task_id"], Key: key, Campaign: h["campaign"], RoomID: h["room_id"],
		Medium: h["medium"], Address: h["address"], Sender: h["sender"], IDServer: h["id_server"],
		Generation: num("generation"), State: record.State(h["state"]),
		StatusCode: matrix.StatusCode(num("status_code")), Status: h["status"],
		HTTPStatus: num("http_status"), ErrCode: h["errcode"], Error: h["error"],
		Attempts: num("attempts"), Requests: num("requests"), RateLimited: num("rate_limited"),
		PossibleDuplicate: h["possible_duplicate"] == "1", LimitScope: record.LimitScope(h["limit_scope"]),
		EnqueuedAt: when("enqueued_at"), FinishedAt: when("finished_at"),
		Delivery: record.Delivery(h["delivery"]), UserID: h["user_id"],
		JoinedAtMS: int64(num("joined_at_ms")), RegisteredAtMS: int64(num("registered_at_ms")),
	}
	if r.TaskID == "" {
		r.TaskID = tasks.TaskIDOf(key, r.Generation)
	}
	if r.Medium == "" {
		r.Medium = string(tasks.MediumOf(r.Address)) // finish leaves out the medium the address spells
	}
	if r.Status == "" && r.State == record.StateDone {
		r.Status = r.StatusCode.String() // a Success keeps neither (finalFields)
	}
	return r
}

func msOrZero(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}

func msTime(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n == 0 {
		return time.Time{}
	}
	return time.UnixMilli(n)
}

func boolArg(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
