package record

import (
	"os"
	"strings"
	"testing"
)

// docs/architecture.md shows the state table as Table renders it.
func TestArchitectureDocShowsTheStateTable(t *testing.T) {
	doc, err := os.ReadFile("../../docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), Table()) {
		t.Fatalf("docs/architecture.md does not show the state table as record.Table renders it:\n%s", Table())
	}
}

func TestAllowed(t *testing.T) {
	if !Allowed(OpBegin, StateQueued, StateActive) || Allowed(OpAttempt, StateDone, StateActive) || Allowed(OpCancel, StateActive, StateCancelled) {
		t.Fatal("Allowed disagrees with the table")
	}
}
