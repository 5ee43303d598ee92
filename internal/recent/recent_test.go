package recent

import (
	"testing"
	"time"
)

func TestSetRemembersForAWhile(t *testing.T) {
	s := &Set{For: 50 * time.Millisecond}
	if s.Any("a") {
		t.Fatal("an empty set remembers a")
	}
	s.Note("a", "b")
	if !s.Any("x", "b") {
		t.Fatal("b noted, not remembered")
	}
	s.Forget("b")
	if s.Any("b") || !s.Any("a") {
		t.Fatal("Forget(b) did not forget b alone")
	}
	time.Sleep(60 * time.Millisecond)
	if s.Any("a") {
		t.Fatal("a remembered past For")
	}
	var zero Set
	zero.Note("a")
	if zero.Any("a") {
		t.Fatal("the zero Set remembers")
	}
}
