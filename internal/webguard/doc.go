// Package webguard is the one lock on every door of mxinvite's HTTP
// listeners (`worker --http`: /metrics, asynqmon, the dashboard; `mxinvite
// dashboard`). [Guard.Handler] wraps a whole listener:
//
//   - Health paths (/healthz, /readyz) answer anyone: they show no personal
//     data and probes must reach them.
//   - Every other path refuses a Host header that is not this server's
//     (loopback names, the IP the client connected to, the host of
//     Options.PublicURL, Options.AllowedHosts): a web page cannot reach the
//     listener by pointing a name of its own at it (DNS rebinding).
//   - Every state-changing request (not GET, HEAD or OPTIONS) from another
//     origin is refused (net/http.CrossOriginProtection: Sec-Fetch-Site, or
//     Origin against Host).
//   - With a token, every path but the health and open ones (the login page
//     and its assets) needs it: "Authorization: Bearer TOKEN" (programs, e.g.
//     Prometheus), or the cookie of a session opened at the login form. A
//     session is recorded here, in the process, one per login; logout ends
//     it, and a restart ends them all. The cookie holds a random session
//     ID (never the token), HttpOnly, SameSite=Strict, Secure when the
//     public URL is https or a trusted proxy says the client used https.
//   - Every answer carries a strict Content-Security-Policy (a handler may
//     set a narrower-purpose one of its own, as asynqmon's page does),
//     X-Frame-Options DENY and frame-ancestors 'none', nosniff and
//     no-referrer.
//
// Without a token nothing asks for one; [CheckListen] keeps such a listener
// on loopback.
package webguard
