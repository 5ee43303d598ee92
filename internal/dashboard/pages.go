package dashboard

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/mxinvite/mxinvite/internal/webguard"
)

// campaignsPerPage is how many campaign cards the list shows per page.
const campaignsPerPage = 20

// campaignsView is the campaign list: every campaign matching the search
// (name, room or sender, case-insensitive) and the state filter, a page of
// campaignsPerPage at a time. The fragment that refreshes it gets the same
// query string, so a filtered page stays filtered.
func (s *server) campaignsView(r *http.Request) (*view, error) {
	cs, err := s.src.Campaigns(r.Context())
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	v := &view{Title: "Campaigns", Query: strings.TrimSpace(q.Get("q")), StateFilter: q.Get("state"), StateOptions: campaignStates}
	needle := strings.ToLower(v.Query)
	var match []campaignView
	for _, c := range cs {
		cv := newCampaignView(c)
		if needle != "" && !strings.Contains(strings.ToLower(c.Name+"\x00"+c.Room+"\x00"+c.Sender), needle) {
			continue
		}
		if v.StateFilter != "" && cv.State != v.StateFilter {
			continue
		}
		match = append(match, cv)
	}
	v.Matching = len(match)
	v.PageCount = max(1, (len(match)+campaignsPerPage-1)/campaignsPerPage)
	pageNo, _ := strconv.Atoi(q.Get("page"))
	v.PageNumber = min(max(pageNo, 1), v.PageCount)
	from := (v.PageNumber - 1) * campaignsPerPage
	v.Campaigns = match[from:min(from+campaignsPerPage, len(match))]
	for _, cv := range v.Campaigns {
		v.Pending += cv.Pending
	}
	v.Shown = len(v.Campaigns)
	link := func(n int) string {
		l := url.Values{}
		if v.Query != "" {
			l.Set("q", v.Query)
		}
		if v.StateFilter != "" {
			l.Set("state", v.StateFilter)
		}
		l.Set("page", strconv.Itoa(n))
		return "/?" + l.Encode()
	}
	v.LiveSrc = "/fragment/campaigns?" + strings.TrimPrefix(link(v.PageNumber), "/?")
	if v.PageNumber > 1 {
		v.PrevPage = link(v.PageNumber - 1)
	}
	if v.PageNumber < v.PageCount {
		v.NextPage = link(v.PageNumber + 1)
	}
	return v, nil
}

func (s *server) campaignsPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.campaignsView(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "campaigns", "layout", v)
}

func (s *server) campaignsFragment(w http.ResponseWriter, r *http.Request) {
	v, err := s.campaignsView(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "campaigns", "campaigns-live", v)
}

func (s *server) campaignsJSON(w http.ResponseWriter, r *http.Request) {
	cs, err := s.src.Campaigns(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if cs == nil {
		cs = []Campaign{}
	}
	writeJSON(w, cs)
}

// campaign reads the named campaign, answering 404 (or 500) itself when it
// cannot.
func (s *server) campaign(w http.ResponseWriter, r *http.Request) (campaignView, bool) {
	name := r.PathValue("name")
	c, err := s.src.Campaign(r.Context(), name)
	if errors.Is(err, ErrUnknownCampaign) {
		s.message(w, r, http.StatusNotFound, messageView{
			Title: "No such campaign", Class: "bad", Back: "/",
			Text: "There is no campaign named “" + name + "” under this key prefix.",
		})
		return campaignView{}, false
	}
	if err != nil {
		s.fail(w, r, err)
		return campaignView{}, false
	}
	return newCampaignView(c), true
}

// liveView is the campaign's live part: counts and timeline.
func (s *server) liveView(w http.ResponseWriter, r *http.Request) (*view, bool) {
	c, ok := s.campaign(w, r)
	if !ok {
		return nil, false
	}
	t, err := s.src.Timeline(r.Context(), c.Name)
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	if t.PacePerMinute == nil {
		t.PacePerMinute = c.PacePerMinute
	}
	return &view{Title: c.Name, Campaign: c, Pending: c.Pending, Chart: newChart(t)}, true
}

func (s *server) campaignFragment(w http.ResponseWriter, r *http.Request) {
	if v, ok := s.liveView(w, r); ok {
		s.render(w, r, http.StatusOK, "campaign", "campaign-live", v)
	}
}

func (s *server) campaignPage(w http.ResponseWriter, r *http.Request) {
	v, ok := s.liveView(w, r)
	if !ok {
		return
	}
	g, err := groupFailures(r.Context(), s.src, v.Campaign.Name, groupSamples)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Groups = g
	s.render(w, r, http.StatusOK, "campaign", "layout", v)
}

// failuresFragment is the failures section alone, for its own (slower)
// live refresh: grouping walks the campaign's records.
func (s *server) failuresFragment(w http.ResponseWriter, r *http.Request) {
	c, ok := s.campaign(w, r)
	if !ok {
		return
	}
	g, err := groupFailures(r.Context(), s.src, c.Name, groupSamples)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "campaign", "failures-live", &view{Title: c.Name, Campaign: c, Groups: g})
}

// failuresJSON is the grouped failures for scripts.
func (s *server) failuresJSON(w http.ResponseWriter, r *http.Request) {
	c, ok := s.campaign(w, r)
	if !ok {
		return
	}
	g, err := groupFailures(r.Context(), s.src, c.Name, groupSamples)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if g.Groups == nil {
		g.Groups = []FailureGroup{}
	}
	writeJSON(w, g)
}

func (s *server) campaignJSON(w http.ResponseWriter, r *http.Request) {
	c, err := s.src.Campaign(r.Context(), r.PathValue("name"))
	if errors.Is(err, ErrUnknownCampaign) {
		http.Error(w, "no such campaign", http.StatusNotFound)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, c)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	noStore(w)
	_ = json.NewEncoder(w).Encode(v)
}

// loginPage shows the login form (or goes home when no login is needed).
func (s *server) loginPage(w http.ResponseWriter, r *http.Request) {
	if !s.guard.HasToken() {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.renderLogin(w, r, http.StatusOK, nil)
}

func (s *server) renderLogin(w http.ResponseWriter, r *http.Request, status int, m *messageView) {
	v := &view{Title: "Log in", Next: webguard.SafeNext(r.FormValue("next")), Message: m}
	v.CSRF = s.csrf.token(loginBinding)
	s.render(w, r, status, "login", "layout", v)
}

// login checks the token typed in the form and opens a session.
func (s *server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if !s.guard.HasToken() {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if !s.csrf.check(r, webguard.Access{}, loginBinding) {
		s.renderLogin(w, r, http.StatusForbidden, &messageView{Text: "This login came from another site or an old page; try again."})
		return
	}
	if !s.guard.Login(w, r, r.PostFormValue("token")) {
		s.renderLogin(w, r, http.StatusUnauthorized, &messageView{Text: "Wrong token."})
		return
	}
	http.Redirect(w, r, webguard.SafeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

// logout ends the session: its cookie no longer opens anything, even a
// copy kept elsewhere.
func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	s.guard.Logout(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
