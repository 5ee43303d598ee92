package dashboard

import (
	"context"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
)

// server holds the dashboard's handlers.
type server struct {
	opts  Options
	src   Source
	guard *guard
	pages pages
}

// New returns the dashboard's handler, to be mounted at "/". It serves the
// pages, their fragments and JSON, the downloads and the actions; with
// Options.Token set, every one of them needs the token.
func New(o Options) (http.Handler, error) {
	o = o.WithDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	g, err := newGuard(o)
	if err != nil {
		return nil, err
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &server{opts: o, src: o.Source, guard: g, pages: p}
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, err
	}

	open := http.NewServeMux() // what the login page needs
	open.Handle("GET /static/{file}", http.StripPrefix("/static/", http.FileServerFS(static)))
	open.HandleFunc("GET /login", s.loginPage)
	open.HandleFunc("POST /login", s.login)

	private := http.NewServeMux()
	private.HandleFunc("GET /{$}", s.campaignsPage)
	private.HandleFunc("GET /fragment/campaigns", s.campaignsFragment)
	private.HandleFunc("GET /api/campaigns", s.campaignsJSON)
	private.HandleFunc("GET /c/{name}", s.campaignPage)
	private.HandleFunc("GET /c/{name}/fragment", s.campaignFragment)
	private.HandleFunc("GET /api/c/{name}", s.campaignJSON)
	private.HandleFunc("GET /c/{name}/confirm", s.confirmPage)
	private.HandleFunc("GET /c/{name}/results.csv", s.download("results", "csv"))
	private.HandleFunc("GET /c/{name}/results.jsonl", s.download("results", "jsonl"))
	private.HandleFunc("GET /c/{name}/failures.csv", s.download("failures", "csv"))
	private.HandleFunc("POST /c/{name}/resume", s.action(s.resume))
	private.HandleFunc("POST /c/{name}/cancel", s.action(s.cancel))
	private.HandleFunc("POST /c/{name}/retry", s.action(s.retry))
	private.HandleFunc("POST /logout", s.action(s.logout))

	root := http.NewServeMux()
	root.Handle("/static/", open)
	root.Handle("/login", open)
	root.Handle("/", s.requireAccess(private))
	return secure(o.Token == "", root), nil
}

// requireAccess lets through requests with access (any, without a token),
// sends a browser's page request to the login form, and answers 401 to
// everything else.
func (s *server) requireAccess(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := s.guard.authenticate(r)
		if !ok {
			noStore(w)
			if r.Method == http.MethodGet && wantsPage(r) {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="mxinvite dashboard"`)
			http.Error(w, "log in first: this dashboard needs its token", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), accessKey{}, a)))
	})
}

// wantsPage tells a page navigation from a fragment, JSON or download fetch.
func wantsPage(r *http.Request) bool {
	p := r.URL.Path
	if strings.HasPrefix(p, "/api/") || strings.HasSuffix(p, "/fragment") || strings.HasPrefix(p, "/fragment/") ||
		strings.HasSuffix(p, ".csv") || strings.HasSuffix(p, ".jsonl") {
		return false
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// action wraps a POST handler: cross-site requests and requests without
// the session's CSRF token are refused before it runs.
func (s *server) action(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if !s.guard.checkPost(r, accessOf(r.Context())) {
			s.message(w, r, http.StatusForbidden, messageView{
				Title: "Refused", Class: "bad", Back: "/",
				Text: "This action came from another site, or from a page too old to act from (its form token did not match). Nothing was changed.",
			})
			return
		}
		h(w, r)
	}
}
