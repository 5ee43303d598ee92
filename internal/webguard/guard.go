package webguard

import (
	"context"
	"crypto/subtle"
	"html/template"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"strings"
)

// Guard protects the paths of a listener: see the package documentation.
// One Guard serves a whole listener, so that one login opens every page of
// it; it is safe for concurrent use.
type Guard struct {
	token    []byte
	public   *url.URL // nil without Options.PublicURL
	hosts    map[string]bool
	trusted  []netip.Prefix
	sessions *sessions
	cop      *http.CrossOriginProtection
}

// New builds a Guard.
func New(o Options) (*Guard, error) {
	o = o.WithDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	g := &Guard{
		token:    []byte(o.Token),
		hosts:    map[string]bool{},
		trusted:  o.TrustedProxies,
		sessions: newSessions(o.SessionTTL, o.MaxSessions, o.Now),
		cop:      http.NewCrossOriginProtection(),
	}
	if o.PublicURL != "" {
		u, _ := parsePublicURL(o.PublicURL) // checked by Validate
		g.public = u
		g.hosts[normalHost(u.Hostname())] = true
		// Behind a proxy that passes its upstream's Host, a browser without
		// Sec-Fetch-Site sends Origin: the public URL's origin.
		if err := g.cop.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
			return nil, err
		}
	}
	for _, h := range o.AllowedHosts {
		g.hosts[normalHost(h)] = true
	}
	return g, nil
}

// HasToken reports whether a token is required.
func (g *Guard) HasToken() bool { return len(g.token) > 0 }

// Routes say which paths of a listener need less than everything.
type Routes struct {
	// Health paths (exact) answer anyone, whatever the Host: /healthz and
	// /readyz, which probes reach by any name and which hold no personal
	// data.
	Health []string
	// Open paths need no token (the Host and cross-origin checks stay): the
	// login page and the assets it loads. An entry ending in "/" is a
	// prefix.
	Open []string
}

func (rt Routes) health(p string) bool {
	for _, h := range rt.Health {
		if p == h {
			return true
		}
	}
	return false
}

func (rt Routes) open(p string) bool {
	if cleanPath(p) != p {
		return false // "/static/../api": the mux would serve another path
	}
	for _, o := range rt.Open {
		if p == o || strings.HasSuffix(o, "/") && strings.HasPrefix(p, o) {
			return true
		}
	}
	return false
}

// cleanPath is path.Clean keeping a trailing slash.
func cleanPath(p string) string {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// Access is who a request is, as the Guard found it.
type Access struct {
	// Bearer is set for a request that carried the token itself: not a
	// browser's ambient credential, so it needs no CSRF token.
	Bearer bool
	// Session is the ID of the request's login session ("" without one).
	// It is a credential: bind CSRF tokens to it, never show it.
	Session string
}

type accessKey struct{}

// guardedKey marks a request this Guard already checked, so that a handler
// wrapped twice (the dashboard inside the worker's listener) is checked once.
type guardedKey struct{}

// AccessOf returns the Access a Guard put in the request's context.
func AccessOf(ctx context.Context) Access {
	a, _ := ctx.Value(accessKey{}).(Access)
	return a
}

// Handler wraps a listener's handler: headers on every answer; health
// paths served as they are; elsewhere a foreign Host is refused (421), a
// cross-origin state-changing request is refused (403), and with a token a
// request without it is sent to the login form (a browser opening a page)
// or refused (401).
func (g *Guard) Handler(next http.Handler, routes Routes) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if done, _ := r.Context().Value(guardedKey{}).(*Guard); done == g {
			next.ServeHTTP(w, r)
			return
		}
		setSecurityHeaders(w)
		if routes.health(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		if !g.hostAllowed(r) {
			misdirected(w)
			return
		}
		if err := g.cop.Check(r); err != nil {
			refused(w, r)
			return
		}
		a, ok := g.authenticate(r)
		if !ok && !routes.open(r.URL.Path) {
			g.unauthorized(w, r)
			return
		}
		ctx := context.WithValue(r.Context(), guardedKey{}, g)
		ctx = context.WithValue(ctx, accessKey{}, a)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// authenticate returns the request's access, or false when a token is
// required and the request has no valid one. A request with an
// Authorization header is judged by it alone.
func (g *Guard) authenticate(r *http.Request) (Access, bool) {
	if !g.HasToken() {
		return Access{}, true
	}
	if h := r.Header.Get("Authorization"); h != "" {
		t, ok := strings.CutPrefix(h, "Bearer ")
		if ok && g.checkToken(t) {
			return Access{Bearer: true}, true
		}
		return Access{}, false
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || !g.sessions.valid(c.Value) {
		return Access{}, false
	}
	return Access{Session: c.Value}, true
}

// checkToken compares a token in constant time.
func (g *Guard) checkToken(t string) bool {
	return g.HasToken() && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(t)), g.token) == 1
}

// unauthorized sends a browser opening a page to the login form, and
// answers 401 to everything else (scripts, fetches, Prometheus).
func (g *Guard) unauthorized(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	mode := r.Header.Get("Sec-Fetch-Mode")
	if r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html") && (mode == "" || mode == "navigate") {
		http.Redirect(w, r, LoginPath+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="mxinvite"`)
	http.Error(w, "log in first: this server needs its token (Authorization: Bearer TOKEN, or the login form at "+LoginPath+")",
		http.StatusUnauthorized)
}

var refusedPage = template.Must(template.New("refused").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Refused · mxinvite</title></head>
<body><main><h1>Refused</h1><p>This request came from another site. Nothing was changed.</p></main></body></html>
`))

// refused answers a cross-origin state-changing request: a page for a
// browser, a line for anything else.
func refused(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	if !strings.Contains(r.Header.Get("Accept"), "text/html") {
		http.Error(w, "refused: this request came from another site (Sec-Fetch-Site or Origin); nothing was changed", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusForbidden)
	_ = refusedPage.Execute(w, nil)
}
