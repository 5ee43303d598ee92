package importer

import (
	"io"
	"strings"
	"testing"
)

// generated streams GenerateCSV(rows, badEvery) through a pipe.
func generated(rows, badEvery int) io.Reader {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(GenerateCSV(pw, rows, badEvery)) }()
	return pr
}

func TestGenerateCSV(t *testing.T) {
	var b strings.Builder
	if err := GenerateCSV(&b, 4, 2); err != nil {
		t.Fatal(err)
	}
	want := "email,name\nuser1@example.org,User 1\nuser2.example.org,User 2\nuser3@example.org,User 3\nuser4.example.org,User 4\n"
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}
