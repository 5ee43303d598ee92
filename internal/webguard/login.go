package webguard

import (
	"html/template"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// SessionCookie holds a login session's ID.
const SessionCookie = "mxinvite_session"

// LoginPath is where a browser without a session is sent; the listener
// serves a login form there (the dashboard's, or LoginHandler's).
const LoginPath = "/login"

// Login opens a session when typed is the token, setting its cookie; it
// reports whether it did. The caller has already checked the request's
// origin (Handler did) and any form token of its own.
func (g *Guard) Login(w http.ResponseWriter, r *http.Request, typed string) bool {
	if !g.checkToken(typed) {
		return false
	}
	id, exp := g.sessions.create()
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: id, Path: "/", Expires: exp,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: g.secure(r),
	})
	return true
}

// Logout ends the request's session, if any, and clears its cookie: the
// cookie stops working even where a copy of it was kept.
func (g *Guard) Logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		g.sessions.end(c.Value)
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: g.secure(r),
	})
}

// secure says whether the client reached this server over https: directly,
// through the public URL, or by a trusted proxy's word.
func (g *Guard) secure(r *http.Request) bool {
	if r.TLS != nil || g.public != nil && g.public.Scheme == "https" {
		return true
	}
	return g.fromTrustedProxy(r) && strings.EqualFold(strings.TrimSpace(firstField(r.Header.Get("X-Forwarded-Proto"))), "https")
}

func (g *Guard) fromTrustedProxy(r *http.Request) bool {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap()
	for _, p := range g.trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// firstField is the first of a comma-separated header's values (the one the
// proxy nearest the client wrote, when proxies chain).
func firstField(s string) string {
	f, _, _ := strings.Cut(s, ",")
	return f
}

// SafeNext keeps a redirect target on this site: a path, not "//host".
func SafeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || next[0] != '/' || len(next) > 1 && (next[1] == '/' || next[1] == '\\') ||
		u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>Log in · mxinvite</title></head>
<body><main>
<h1>mxinvite</h1>
{{if .LoggedIn}}<p>You are logged in.</p>
<form method="post" action="/logout"><button type="submit">Log out</button></form>
{{else}}<p>This server shows personal data (addresses); it asks for the token in the file given to <code>--dashboard-token-file</code>.</p>
{{with .Message}}<p role="alert">{{.}}</p>{{end}}
<form method="post" action="/login">
<input type="hidden" name="next" value="{{.Next}}">
<label>Token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit">Log in</button>
</form>{{end}}
</main></body></html>
`))

// LoginHandler serves a plain login form at LoginPath (GET, POST) and
// logout (POST /logout), for a listener without the dashboard, whose own
// pages do the same. Mount it behind Handler, with LoginPath open and
// /logout not.
func (g *Guard) LoginHandler() http.Handler {
	mux := http.NewServeMux()
	show := func(w http.ResponseWriter, r *http.Request, status int, msg string) {
		_, loggedIn := g.authenticate(r)
		noStore(w)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		_ = loginPage.Execute(w, struct {
			LoggedIn      bool
			Message, Next string
		}{loggedIn && g.HasToken() && msg == "", msg, SafeNext(r.FormValue("next"))})
	}
	mux.HandleFunc("GET "+LoginPath, func(w http.ResponseWriter, r *http.Request) { show(w, r, http.StatusOK, "") })
	mux.HandleFunc("POST "+LoginPath, func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if !g.Login(w, r, r.PostFormValue("token")) {
			show(w, r, http.StatusUnauthorized, "Wrong token.")
			return
		}
		http.Redirect(w, r, SafeNext(r.PostFormValue("next")), http.StatusSeeOther)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		g.Logout(w, r)
		http.Redirect(w, r, LoginPath, http.StatusSeeOther)
	})
	return mux
}
