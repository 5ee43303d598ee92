package worker

import (
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/matrix"
)

// A request marked in flight at sentAt but written to the wire later (it
// waited for the sender's slot, an identity token, a loaded scheduler)
// counts as sent when it was written: the evidence of whose a 429 is
// compares send times.
func TestSendTimeIsWhenTheRequestWasWritten(t *testing.T) {
	marked := time.Now()
	j := &job{sentAt: 1_000_000, markedAt: marked}
	cases := []struct {
		name  string
		wrote time.Time
		want  int64
	}{
		{"written 250 ms after the mark", marked.Add(250 * time.Millisecond), 1_000_250},
		{"nothing written", time.Time{}, 1_000_000},
		{"a clock that says before the mark", marked.Add(-time.Second), 1_000_000},
	}
	for _, c := range cases {
		if got := j.sentOf(matrix.Outcome{WroteAt: c.wrote}); got != c.want {
			t.Errorf("%s: sent at %d, want %d", c.name, got, c.want)
		}
	}
}
