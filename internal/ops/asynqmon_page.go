package ops

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/hibiken/asynqmon"
)

// asynqmonHandler serves asynqmon with mxinvite's limits: its page without
// third-party fonts and under a CSP of its own, and its writes cut down to
// pausing and resuming queues.
type asynqmonHandler struct {
	h        *asynqmon.HTTPHandler
	writable bool
	index    []byte // the page as asynqmon renders it
	page     []byte // the page as served
	csp      string
}

const (
	asynqmonAPI    = AsynqmonPath + "api/"
	asynqmonStatic = AsynqmonPath + "static/"
)

var (
	// thirdPartyLink is a <link> to another host (asynqmon's Google Fonts).
	thirdPartyLink = regexp.MustCompile(`<link[^>]*\shref="(?:https?:)?//[^"]*"[^>]*>`)
	// inlineScript is an inline <script> and its text.
	inlineScript = regexp.MustCompile(`(?s)<script>(.*?)</script>`)
	// remoteRef is any reference to another host left in the page.
	remoteRef = regexp.MustCompile(`(?:src|href)="(?:https?:)?//`)
)

// newAsynqmonHandler renders asynqmon's page once, drops its links to
// third-party hosts (the UI falls back to the system's sans-serif; its
// icons are SVG) and builds the CSP that allows its two inline scripts by
// their hashes. Material-UI injects <style> elements, hence style-src
// 'unsafe-inline' on these pages only.
func newAsynqmonHandler(h *asynqmon.HTTPHandler, writable bool) (*asynqmonHandler, error) {
	rec := newBufferedResponse()
	h.ServeHTTP(rec, httpGet(AsynqmonPath))
	if rec.status != http.StatusOK || !bytes.Contains(rec.body.Bytes(), []byte("<html")) {
		return nil, fmt.Errorf("asynqmon: its page did not render (%d)", rec.status)
	}
	m := &asynqmonHandler{h: h, writable: writable, index: bytes.Clone(rec.body.Bytes())}
	m.page = thirdPartyLink.ReplaceAll(m.index, nil)
	if loc := remoteRef.FindIndex(m.page); loc != nil {
		return nil, fmt.Errorf("asynqmon: its page loads from another host: %.80q", m.page[loc[0]:])
	}
	var hashes []string
	for _, s := range inlineScript.FindAllSubmatch(m.page, -1) {
		sum := sha256.Sum256(s[1])
		hashes = append(hashes, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	}
	if len(hashes) == 0 {
		return nil, errors.New("asynqmon: its page has no inline script: the CSP would not match its build")
	}
	m.csp = "default-src 'none'; script-src 'self' " + strings.Join(hashes, " ") + "; style-src 'self' 'unsafe-inline'; " +
		"img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; form-action 'self'; " +
		"base-uri 'none'; frame-ancestors 'none'"
	return m, nil
}

func (m *asynqmonHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", m.csp)
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, asynqmonAPI):
		w.Header().Set("Cache-Control", "no-store") // task payloads: invitees' addresses
		if m.writable && !safeMethod(r.Method) && !queuePauseOrResume(r) {
			http.Error(w, "refused: mxinvite lets asynqmon pause and resume queues only; "+
				"its task actions would bypass mxinvite's records: use mxinvite cancel, retry or purge", http.StatusForbidden)
			return
		}
		m.h.ServeHTTP(w, r)
	case strings.HasPrefix(p, asynqmonStatic):
		m.h.ServeHTTP(w, r)
	default:
		// A file of its build (favicon, manifest) or, for any other path,
		// its page: render, and serve ours instead of its page.
		rec := newBufferedResponse()
		m.h.ServeHTTP(rec, r)
		if rec.status == http.StatusOK && bytes.Equal(rec.body.Bytes(), m.index) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			_, _ = w.Write(m.page)
			return
		}
		rec.copyTo(w)
	}
}

// Close closes asynqmon's Redis connections.
func (m *asynqmonHandler) Close() error { return m.h.Close() }

func safeMethod(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// queuePauseOrResume matches POST /asynq/api/queues/{queue}:pause|:resume,
// the only writes that leave mxinvite's records true (a paused queue's
// invites stay queued, and resume where they were).
func queuePauseOrResume(r *http.Request) bool {
	rest, ok := strings.CutPrefix(r.URL.Path, asynqmonAPI+"queues/")
	if r.Method != http.MethodPost || !ok || strings.Contains(rest, "/") {
		return false
	}
	q, ok := strings.CutSuffix(rest, ":pause")
	if !ok {
		q, ok = strings.CutSuffix(rest, ":resume")
	}
	return ok && q != ""
}

// bufferedResponse holds an answer in memory (asynqmon's page and small
// files: the large scripts under static/ are not buffered).
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newBufferedResponse() *bufferedResponse { return &bufferedResponse{header: http.Header{}} }

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

func (b *bufferedResponse) copyTo(w http.ResponseWriter) {
	for k, v := range b.header {
		if k != "Content-Security-Policy" {
			w.Header()[k] = v
		}
	}
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}

func httpGet(path string) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, path, nil) // a constant path: no error
	return r
}
