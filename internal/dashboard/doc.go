// Package dashboard serves mxinvite's campaign dashboard: server-rendered
// pages (html/template, SVG charts drawn in Go templates, assets embedded)
// that show every campaign's progress, rate, ETA and pauses, a campaign's
// timeline, final statuses and failures, downloads of its results, and
// buttons for resume, cancel and retry.
//
// The pages read everything through a [Source]; [NewStoreSource] implements
// it over the worker package's public API and the results stream. [New]
// returns the http.Handler, mounted at "/" by `mxinvite dashboard` and by
// `mxinvite worker --http ADDR --dashboard`.
//
// Safe by default, through a webguard.Guard (the listener's own in a
// worker): webguard.CheckListen refuses a non-loopback address unless a
// token is configured; with a token every page, fragment, download and
// action but OpenPaths needs it (a bearer header, or the HttpOnly
// SameSite=Strict cookie of a session the login form opens, recorded in the
// process and ended by logout); a Host that is not the server's own is
// refused (no DNS rebinding). Every action is a POST checked by
// net/http.CrossOriginProtection and by a CSRF token bound to the session.
// Every answer carries a strict Content-Security-Policy (no inline
// script), X-Content-Type-Options and frame-ancestors 'none'.
package dashboard
