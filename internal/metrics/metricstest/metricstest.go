// Package metricstest reads Prometheus text exposition in tests, so that
// they check metrics by their content, as a scraper would see them.
package metricstest

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Series maps a series, written as the exposition writes it
// (`name{label="value",...}`, labels sorted by name), to its value.
type Series map[string]float64

// Parse reads the text format (comments skipped, no timestamps expected).
func Parse(text string) (Series, error) {
	s := Series{}
	for i, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cut := strings.LastIndexByte(line, ' ')
		if cut < 0 {
			return nil, fmt.Errorf("line %d %q: no value", i+1, line)
		}
		v, err := strconv.ParseFloat(line[cut+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("line %d %q: %v", i+1, line, err)
		}
		s[line[:cut]] = v
	}
	return s, nil
}

// Has reports whether the series exists.
func (s Series) Has(series string) bool {
	_, ok := s[series]
	return ok
}

// Count is how many series start with prefix (a metric name, or a name
// and the start of its labels).
func (s Series) Count(prefix string) int {
	n := 0
	for k := range s {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n
}

// Scrape GETs url and parses the answer, failing the test unless it is a
// 200 in the text format.
func Scrape(t testing.TB, url string) Series {
	t.Helper()
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %s %v\n%s", url, resp.Status, err, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("scrape %s: Content-Type %q, want the text format", url, ct)
	}
	s, err := Parse(string(body))
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	return s
}
