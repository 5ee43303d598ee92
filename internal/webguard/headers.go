package webguard

import "net/http"

// ContentSecurityPolicy is set on every answer: only this server's own
// script, style and images, no inline script or style, forms only to this
// server, never in a frame. A handler that needs another policy (asynqmon's
// page) sets its own over it.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// setSecurityHeaders sets the headers every answer carries.
func setSecurityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// noStore keeps an answer out of caches.
func noStore(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }
