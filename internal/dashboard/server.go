package dashboard

import (
	"fmt"
	"io/fs"
	"net/http"

	"github.com/mxinvite/mxinvite/internal/webguard"
)

// server holds the dashboard's handlers.
type server struct {
	opts  Options
	src   Source
	guard *webguard.Guard
	csrf  csrf
	pages pages
}

// New returns the dashboard's handler, to be mounted at "/". It serves the
// pages, their fragments and JSON, the downloads and the actions, behind
// Options.Guard (or one of its own): with a token, every one of them but
// OpenPaths needs it.
func New(o Options) (http.Handler, error) {
	o = o.WithDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	g := o.Guard
	if g == nil {
		var err error
		if g, err = webguard.New(webguard.Options{Token: o.Token, SessionTTL: o.SessionTTL, Now: o.Now}); err != nil {
			return nil, fmt.Errorf("dashboard: %w", err)
		}
	}
	c, err := newCSRF()
	if err != nil {
		return nil, err
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &server{opts: o, src: o.Source, guard: g, csrf: c, pages: p}
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	// Open (OpenPaths): what the login page needs.
	mux.Handle("GET /static/{file}", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	// Everything else needs the token, when there is one.
	mux.HandleFunc("GET /{$}", s.campaignsPage)
	mux.HandleFunc("GET /fragment/campaigns", s.campaignsFragment)
	mux.HandleFunc("GET /api/campaigns", s.campaignsJSON)
	mux.HandleFunc("GET /c/{name}", s.campaignPage)
	mux.HandleFunc("GET /c/{name}/fragment", s.campaignFragment)
	mux.HandleFunc("GET /api/c/{name}", s.campaignJSON)
	mux.HandleFunc("GET /c/{name}/failures/fragment", s.failuresFragment)
	mux.HandleFunc("GET /api/c/{name}/failures", s.failuresJSON)
	mux.HandleFunc("GET /c/{name}/confirm", s.confirmPage)
	mux.HandleFunc("GET /search", s.searchPage)
	mux.HandleFunc("GET /i/{key}", s.invitePage)
	mux.HandleFunc("GET /api/i/{key}", s.inviteJSON)
	mux.HandleFunc("GET /i/{key}/confirm", s.inviteConfirmPage)
	mux.HandleFunc("POST /i/{key}/cancel", s.action(s.cancelInvite))
	mux.HandleFunc("POST /i/{key}/retry", s.action(s.retryInvite))
	mux.HandleFunc("GET /c/{name}/results.csv", s.download("results", "csv"))
	mux.HandleFunc("GET /c/{name}/results.jsonl", s.download("results", "jsonl"))
	mux.HandleFunc("GET /c/{name}/failures.csv", s.download("failures", "csv"))
	mux.HandleFunc("POST /c/{name}/resume", s.action(s.resume))
	mux.HandleFunc("POST /c/{name}/cancel", s.action(s.cancel))
	mux.HandleFunc("POST /c/{name}/retry", s.action(s.retry))
	mux.HandleFunc("POST /logout", s.action(s.logout))
	return g.Handler(mux, webguard.Routes{Open: OpenPaths()}), nil
}

// action wraps a POST handler: requests without the session's CSRF token
// are refused before it runs (the Guard refused cross-origin ones).
func (s *server) action(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		a := webguard.AccessOf(r.Context())
		if !s.csrf.check(r, a, a.Session) {
			s.message(w, r, http.StatusForbidden, messageView{
				Title: "Refused", Class: "bad", Back: "/",
				Text: "This action came from another site, or from a page too old to act from (its form token did not match). Nothing was changed.",
			})
			return
		}
		h(w, r)
	}
}
