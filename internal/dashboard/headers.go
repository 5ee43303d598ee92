package dashboard

import (
	"net"
	"net/http"
)

// contentSecurityPolicy allows only this server's own script, style and
// forms: no inline script or style, no frames of these pages elsewhere.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// secure sets the security headers on every answer and, when no token is
// configured, refuses Host headers that do not name the loopback interface:
// a page on another site that points its own name at 127.0.0.1 (DNS
// rebinding) would otherwise read the pages as same-origin.
func secure(loopbackOnly bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if loopbackOnly && !loopbackHostHeader(r.Host) {
			http.Error(w, "this dashboard answers only to a loopback host name (localhost, 127.0.0.1, [::1]); "+
				"give it a --dashboard-token-file to serve other names", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func loopbackHostHeader(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return isLoopbackHost(host)
}

// noStore keeps answers holding personal data out of caches.
func noStore(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }
