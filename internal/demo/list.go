package demo

import (
	"bufio"
	"fmt"
	"os"
)

// writeList writes the demo's mailing list: n rows of "name,email", of
// which a few are bad (no '@', empty, a phone number in the email column)
// and a few are duplicates or on a banned domain.
func writeList(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "name,email")
	for i := 0; i < n; i++ {
		switch {
		case i%211 == 100:
			fmt.Fprintf(w, "Bad Row %d,user%d.example.org\n", i, i) // no @
		case i%307 == 150:
			fmt.Fprintf(w, "Empty %d,\n", i)
		case i%401 == 200:
			fmt.Fprintf(w, "Phone %d,+44 20 7946 %04d\n", i, i) // wrong medium
		case i%97 == 50:
			fmt.Fprintf(w, "Banned %d,member%d@banned.example\n", i, i)
		case i%149 == 75 && i > 0:
			fmt.Fprintf(w, "Again %d,member%d@example.org\n", i, i-1) // duplicate of the previous row
		default:
			fmt.Fprintf(w, "Member %d,member%d@example.org\n", i, i)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
