package dashboard

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"

	"github.com/mxinvite/mxinvite/internal/webguard"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// pages are the templates, one set per page: each page defines "content",
// the layout wraps it.
type pages map[string]*template.Template

var funcs = template.FuncMap{"timeText": timeText}

func parsePages() (pages, error) {
	base, err := template.New("").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/chart.html")
	if err != nil {
		return nil, err
	}
	out := pages{}
	for _, name := range []string{"campaigns", "campaign", "confirm", "message", "login"} {
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

	Failures      FailurePage
	FailureStatus string
	PageNumber    int
	PageCount     int
	PrevPage      string
	NextPage      string

	Confirm confirmView
	Message *messageView
	Next    string
}

type confirmView struct {
	Action, Title, Question, Detail, Button, Class, Status string
}

type messageView struct {
	Title, Text, Class, Back string
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

// fail logs err and answers a plain 500: the details stay in the log.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.opts.Logger.Error().Err(err).Str("path", r.URL.Path).Msg("dashboard")
	http.Error(w, "the dashboard could not read or change the campaign data; see its log", http.StatusInternalServerError)
}

// message answers a page with one message.
func (s *server) message(w http.ResponseWriter, r *http.Request, status int, m messageView) {
	s.render(w, r, status, "message", "layout", &view{Title: m.Title, Message: &m})
}
