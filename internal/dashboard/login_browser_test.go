package dashboard

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestLoginInBrowser: with a token, the browser is sent to the login form,
// the token typed there opens the pages through an HttpOnly cookie that
// scripts cannot read, no page holds the token, and logging out closes them.
func TestLoginInBrowser(t *testing.T) {
	b := newBrowser(t)
	h, err := New(Options{Source: newFakeSource(), Token: testToken, Refresh: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	b.open(ts.URL + campaignPath(hostileName))
	if !strings.HasPrefix(eval[string](b, "location.pathname"), "/login") {
		t.Fatalf("without login the browser is at %s, want /login", eval[string](b, "location.href"))
	}
	b.do(chromedp.SendKeys(chromedp.CSS(`input[name=token]`), testToken))
	b.clickAndWait(`form[action="/login"] button`)
	if got := b.text("h1.campaign-name"); got != hostileName {
		t.Fatalf("after login the page shows %q, want the campaign asked for first (%q)", got, hostileName)
	}
	if got := eval[string](b, "document.cookie"); got != "" {
		t.Errorf("document.cookie = %q: the session cookie must be HttpOnly", got)
	}
	if eval[bool](b, "document.documentElement.outerHTML.includes("+strconv.Quote(testToken)+")") {
		t.Error("the page holds the token")
	}
	// Live updates replace the nodes they refresh: the page does not grow.
	b.waitFor("+(document.getElementById('live').dataset.updates || 0) >= 1", 20*time.Second)
	nodes := eval[int](b, "document.getElementsByTagName('*').length")
	b.waitFor("+(document.getElementById('live').dataset.updates || 0) >= 6", 30*time.Second)
	if after := eval[int](b, "document.getElementsByTagName('*').length"); after != nodes {
		t.Errorf("%d elements after one update, %d after six: the page grows", nodes, after)
	}
	b.clickAndWait(`form.logout button`)
	b.open(ts.URL + "/")
	if !strings.HasPrefix(eval[string](b, "location.pathname"), "/login") {
		t.Errorf("after logout the browser is at %s, want /login", eval[string](b, "location.href"))
	}
}
