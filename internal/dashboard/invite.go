package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
)

// inviteView is one invite as its page shows it.
type inviteView struct {
	record.Detail
	Path, CampaignPath string
	// CanCancel: not sent yet (queued, scheduled, retrying, paused);
	// CanRetry: finished without success, or cancelled.
	CanCancel, CanRetry bool
	// Wait says what the invite waits for, "" when nothing.
	Wait string
}

func newInviteView(d record.Detail, now time.Time) inviteView {
	v := inviteView{Detail: d, Path: invitePath(d.Key), CampaignPath: campaignPath(d.Campaign)}
	switch d.State {
	case record.StateQueued, record.StateScheduled, record.StateRetrying, record.StatePaused:
		v.CanCancel = true
	case record.StateCancelled:
		v.CanRetry = true
	case record.StateDone:
		v.CanRetry = d.StatusCode != matrix.Success
	}
	if d.State.Pending() && d.NotBefore.After(now) {
		v.Wait = "next attempt not before " + timeText(d.NotBefore) + " (in " + durationText(d.NotBefore.Sub(now)) + ")"
		if d.LimitScope != "" {
			v.Wait += ", after a 429 of scope " + string(d.LimitScope)
		}
	}
	return v
}

func invitePath(key string) string { return "/i/" + url.PathEscape(key) }

// searchPage finds invites by address (any spelling) or task ID across
// campaigns, and campaigns by name.
func (s *server) searchPage(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	v := &view{Title: "Search", Query: q}
	if q == "" {
		s.render(w, r, http.StatusOK, "search", "layout", v)
		return
	}
	found, err := s.src.FindInvites(r.Context(), q)
	switch {
	case errors.Is(err, ErrBadQuery):
		v.Message = &messageView{Text: "“" + q + "” is not an email address, a phone number or a task ID (inv:…). To find a campaign by name, use the campaign list's search.", Class: "bad"}
	case err != nil:
		s.fail(w, r, err)
		return
	}
	v.Invites = found
	s.render(w, r, http.StatusOK, "search", "layout", v)
}

// invite reads the invite of the path, answering 404 (or 500) itself.
func (s *server) invite(w http.ResponseWriter, r *http.Request) (inviteView, bool) {
	key := r.PathValue("key")
	d, err := s.src.Invite(r.Context(), key)
	if errors.Is(err, ErrUnknownInvite) {
		s.message(w, r, http.StatusNotFound, messageView{Title: "No such invite", Class: "bad", Back: "/search",
			Text: "There is no invite with key “" + key + "” under this key prefix (purged, or never enqueued)."})
		return inviteView{}, false
	}
	if err != nil {
		s.fail(w, r, err)
		return inviteView{}, false
	}
	return newInviteView(d, time.Now()), true
}

func (s *server) invitePage(w http.ResponseWriter, r *http.Request) {
	iv, ok := s.invite(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "invite", "layout", &view{Title: iv.Address, Invite: iv})
}

func (s *server) inviteJSON(w http.ResponseWriter, r *http.Request) {
	if iv, ok := s.invite(w, r); ok {
		writeJSON(w, iv.Detail)
	}
}

// inviteConfirmPage asks before cancelling or retrying one invite.
func (s *server) inviteConfirmPage(w http.ResponseWriter, r *http.Request) {
	iv, ok := s.invite(w, r)
	if !ok {
		return
	}
	v := &view{Title: "Confirm", Invite: iv}
	switch r.URL.Query().Get("action") {
	case "cancel":
		if !iv.CanCancel {
			s.message(w, r, http.StatusConflict, messageView{Title: "Cannot cancel", Class: "bad", Back: iv.Path,
				Text: fmt.Sprintf("This invite is %s: only an invite not sent yet can be cancelled.", iv.State)})
			return
		}
		v.Confirm = confirmView{Action: "cancel", Title: "Cancel the invite of " + iv.Address + "?", Class: "danger", Button: "Cancel this invite",
			Question: fmt.Sprintf("It is %s in campaign %s. It is marked cancelled and its task is removed from the queue; the other invites stay as they are.", iv.State, iv.Campaign),
			Detail:   "Retry it later from this page to send it after all."}
	case "retry":
		if !iv.CanRetry {
			s.message(w, r, http.StatusConflict, messageView{Title: "Cannot retry", Class: "bad", Back: iv.Path,
				Text: "Only an invite that ended without success, or was cancelled, is retried (a delivered invite is never sent again)."})
			return
		}
		v.Confirm = confirmView{Action: "retry", Title: "Retry the invite of " + iv.Address + "?", Class: "primary", Button: "Retry this invite",
			Question: "It is enqueued again, alone, as a new generation, and sent by a worker.",
			Detail:   "It may email its invitee again if its first attempt reached the identity server."}
	default:
		s.message(w, r, http.StatusBadRequest, messageView{Title: "Unknown action", Class: "bad", Back: iv.Path, Text: "Choose cancel or retry."})
		return
	}
	v.Confirm.Post, v.Confirm.Back = iv.Path+"/"+v.Confirm.Action, iv.Path
	s.render(w, r, http.StatusOK, "confirm", "layout", v)
}

func (s *server) cancelInvite(w http.ResponseWriter, r *http.Request) {
	iv, ok := s.invite(w, r)
	if !ok {
		return
	}
	st, err := s.src.CancelInvite(r.Context(), iv.Key)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	text := fmt.Sprintf("The invite of %s is cancelled (it was %s)", iv.Address, st.Before)
	switch {
	case st.Cancelled && st.TaskRemoved:
		text += "; its task is removed from the queue."
	case st.Cancelled:
		text += "; its task was not in the queue (a worker holding it ends it without sending)."
	default:
		text = fmt.Sprintf("The invite of %s was not cancelled: it is %s.", iv.Address, st.Before)
	}
	s.message(w, r, http.StatusOK, messageView{Title: "Cancelled", Back: iv.Path, Text: text})
}

func (s *server) retryInvite(w http.ResponseWriter, r *http.Request) {
	iv, ok := s.invite(w, r)
	if !ok {
		return
	}
	if !iv.CanRetry {
		s.message(w, r, http.StatusConflict, messageView{Title: "Cannot retry", Class: "bad", Back: iv.Path,
			Text: fmt.Sprintf("This invite is %s: only an invite that ended without success, or was cancelled, is retried.", iv.State)})
		return
	}
	v, err := s.src.RetryInvite(r.Context(), iv.Key)
	if errors.Is(err, ErrNotRetriable) {
		s.message(w, r, http.StatusConflict, messageView{Title: "Cannot retry", Class: "bad", Back: iv.Path, Text: err.Error()})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	text := "The invite of " + iv.Address + " is enqueued again; a worker sends it."
	if v != record.Registered {
		text = "The invite of " + iv.Address + " was not enqueued again: " + v.String() + "."
	}
	s.message(w, r, http.StatusOK, messageView{Title: "Retried", Back: iv.Path, Text: text})
}
