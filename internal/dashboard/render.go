package dashboard

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"strings"

	"github.com/mxinvite/mxinvite/internal/record"

	"github.com/mxinvite/mxinvite/internal/webguard"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// pages are the templates, one set per page: each page defines "content",
// the layout wraps it.
type pages map[string]*template.Template

var funcs = template.FuncMap{"timeText": timeText, "timeTag": timeTag, "invitePath": invitePath}

func parsePages() (pages, error) {
	base, err := template.New("").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/chart.html")
	if err != nil {
		return nil, err
	}
	out := pages{}
	for _, name := range []string{"campaigns", "campaign", "confirm", "message", "login", "search", "invite"} {
		t, err := template.Must(base.Clone()).ParseFS(templateFiles, "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		out[name] = t
	}
	return out, nil
}

// view is what every template receives; a page fills the fields it shows.
type view struct {
	Title     string
	CSRF      string
	LoggedIn  bool
	RefreshMS int64

	Pending   int // invites pending on the page (the script polls slower at 0)
	Campaigns []campaignView
	Campaign  campaignView
	Chart     chart

	Groups FailureGroups

	// The campaign list's search, state filter and page.
	Query, StateFilter string
	LiveSrc            string // the list's fragment URL, with its query
	StateOptions       []string
	Shown, Matching    int
	PageNumber         int
	PageCount          int
	PrevPage           string
	NextPage           string

	// The invite search and page.
	Invites []record.Detail
	Invite  inviteView

	Confirm confirmView
	Message *messageView
	Next    string
}

type confirmView struct {
	Action, Title, Question, Detail, Button, Class, Status string
	// Post is where the form goes, Back the page "Back, do nothing" returns
	// to (the campaign's or the invite's).
	Post, Back string
}

type messageView struct {
	Title, Text, Class, Back, BackText string
}

// render executes one template into a buffer first, so a failure answers
// 500 instead of half a page.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, page, tmpl string, v *view) {
	t := s.pages[page]
	if t == nil {
		s.fail(w, r, fmt.Errorf("no page %q", page))
		return
	}
	a := webguard.AccessOf(r.Context())
	if v.CSRF == "" {
		v.CSRF = s.csrf.token(a.Session)
	}
	v.LoggedIn = a.Session != ""
	v.RefreshMS = s.opts.Refresh.Milliseconds()
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, tmpl, v); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	noStore(w)
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// fail logs err and answers a styled 500 page that says what is wrong
// (Redis unreachable, or the error), in the page's layout; a page that
// cannot be rendered either falls back to plain text.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.opts.Logger.Error().Err(err).Str("path", r.URL.Path).Msg("dashboard")
	m := messageView{Title: "The campaign data cannot be read", Class: "bad", Back: r.URL.RequestURI(), BackText: "Try again",
		Text: "The dashboard could not read or change the campaign data in Redis: " + err.Error() +
			". Nothing was changed by this page. Check that Redis is up and reachable from the dashboard (its log has the details)."}
	if isUnreachable(err) {
		m.Title = "Redis is unreachable"
	}
	t := s.pages["message"]
	var buf bytes.Buffer
	v := &view{Title: m.Title, Message: &m, RefreshMS: s.opts.Refresh.Milliseconds()}
	if t == nil || t.ExecuteTemplate(&buf, "layout", v) != nil {
		http.Error(w, "the dashboard could not read or change the campaign data; see its log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	noStore(w)
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = buf.WriteTo(w)
}

// isUnreachable says whether err is a failure to reach Redis (a dial
// error, a refused or reset connection, a timeout).
func isUnreachable(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"connection refused", "connection reset", "i/o timeout", "no route to host", "EOF", "broken pipe"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// message answers a page with one message.
func (s *server) message(w http.ResponseWriter, r *http.Request, status int, m messageView) {
	s.render(w, r, status, "message", "layout", &view{Title: m.Title, Message: &m})
}
