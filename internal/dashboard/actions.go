package dashboard

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/mxinvite/mxinvite/matrix"
)

// confirmPage is the confirmation step of every action: a page (no script
// needed) that says what will happen and posts the action's form.
func (s *server) confirmPage(w http.ResponseWriter, r *http.Request) {
	c, ok := s.campaign(w, r)
	if !ok {
		return
	}
	v := &view{Title: "Confirm", Campaign: c}
	switch r.URL.Query().Get("action") {
	case "resume":
		if c.Pause == nil {
			s.message(w, r, http.StatusConflict, messageView{Title: "Not paused", Text: "Nothing holds this campaign's invites any more.", Back: c.Path})
			return
		}
		v.Confirm = confirmView{
			Action: "resume", Title: "Resume " + c.Pause.Scope + " " + c.Pause.Name + "?", Class: "primary", Button: "Resume",
			Question: "Paused because: " + c.Pause.Reason,
			Detail:   "Resuming sends the held invites again. If the cause is not fixed, the worker pauses again.",
		}
		if c.Pause.Scope == ScopeSender {
			v.Confirm.Detail += " A sender pause holds the invites of every campaign of this sender."
		}
	case "cancel":
		v.Confirm = confirmView{
			Action: "cancel", Title: "Cancel campaign " + c.Name + "?", Class: "danger", Button: "Cancel unsent invites",
			Question: fmt.Sprintf("%d invites have not finished. Those not being sent right now are removed from the queue.", c.Pending),
			Detail:   "Finished results stay. An invite being sent right now cannot be recalled.",
		}
	case "retry":
		code, err := matrix.ParseStatusCode(r.URL.Query().Get("status"))
		if err != nil || code == matrix.Success {
			s.message(w, r, http.StatusBadRequest, messageView{Title: "Which status?", Class: "bad", Back: c.Path,
				Text: "Choose a failure status to retry (Success invites are never sent again)."})
			return
		}
		n := c.Counts.Statuses[code.String()]
		v.Confirm = confirmView{
			Action: "retry", Title: fmt.Sprintf("Retry %s (%d)?", code, int(code)), Class: "primary", Button: "Retry",
			Status:   code.String(),
			Question: fmt.Sprintf("%d invites of %s ended %s (%d). They are enqueued again and sent by a worker.", n, c.Name, code, int(code)),
			Detail:   "Each of them may email its invitee again if the first attempt reached the identity server.",
		}
	default:
		s.message(w, r, http.StatusBadRequest, messageView{Title: "Unknown action", Class: "bad", Back: c.Path, Text: "Choose resume, cancel or retry."})
		return
	}
	v.Confirm.Post, v.Confirm.Back = c.Path+"/"+v.Confirm.Action, c.Path
	s.render(w, r, http.StatusOK, "confirm", "layout", v)
}

func (s *server) resume(w http.ResponseWriter, r *http.Request) {
	c, ok := s.campaign(w, r)
	if !ok {
		return
	}
	if c.Pause == nil {
		s.message(w, r, http.StatusConflict, messageView{Title: "Not paused", Text: "Nothing holds this campaign's invites any more.", Back: c.Path})
		return
	}
	err := s.src.Resume(r.Context(), c.Pause.Scope, c.Pause.Name)
	if errors.Is(err, ErrNotSupported) {
		s.message(w, r, http.StatusNotImplemented, messageView{Title: "Cannot resume here", Class: "bad", Back: c.Path, Text: err.Error()})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.message(w, r, http.StatusOK, messageView{Title: "Resumed", Back: c.Path,
		Text: fmt.Sprintf("The %s %s is resumed: its held invites go out again.", c.Pause.Scope, c.Pause.Name)})
}

func (s *server) cancel(w http.ResponseWriter, r *http.Request) {
	c, ok := s.campaign(w, r)
	if !ok {
		return
	}
	st, err := s.src.Cancel(r.Context(), c.Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.message(w, r, http.StatusOK, messageView{Title: "Cancelled", Back: c.Path,
		Text: fmt.Sprintf("%d invites cancelled, %d being sent right now (not recalled), %d finished (kept).", st.Cancelled, st.InFlight, st.Finished)})
}

func (s *server) retry(w http.ResponseWriter, r *http.Request) {
	c, ok := s.campaign(w, r)
	if !ok {
		return
	}
	code, err := matrix.ParseStatusCode(r.PostFormValue("status"))
	if err != nil || code == matrix.Success {
		s.message(w, r, http.StatusBadRequest, messageView{Title: "Which status?", Class: "bad", Back: c.Path,
			Text: "Choose a failure status to retry (Success invites are never sent again)."})
		return
	}
	st, err := s.src.Retry(r.Context(), c.Name, code)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.message(w, r, http.StatusOK, messageView{Title: "Retried", Back: c.Path,
		Text: fmt.Sprintf("%d invites that ended %s (%d) enqueued again, %d skipped (already pending).", st.Enqueued, code, int(code), st.Skipped)})
}
