package addrlist_test

import (
	"io"
	"strconv"
)

// generatedList is an io.Reader that produces a list row by row, so tests
// and benchmarks can read large inputs without big files or buffers.
type generatedList struct {
	header string
	rows   int
	row    func(i int, buf []byte) []byte // appends row i, with its newline
	next   int
	line   []byte
	off    int
}

func (g *generatedList) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if g.off == len(g.line) {
			switch {
			case g.header != "":
				g.line, g.header = append(g.line[:0], g.header...), ""
			case g.next < g.rows:
				g.line = g.row(g.next, g.line[:0])
				g.next++
			default:
				if n == 0 {
					return 0, io.EOF
				}
				return n, nil
			}
			g.off = 0
		}
		c := copy(p[n:], g.line[g.off:])
		g.off += c
		n += c
	}
	return n, nil
}

// badEvery makes every badEvery-th generated row a reject.
const badEvery = 1000

// csvRows generates "email,name,city" records; every badEvery-th address
// lacks its "@".
func csvRows(rows int) *generatedList {
	return &generatedList{header: "email,name,city\n", rows: rows, row: func(i int, b []byte) []byte {
		b = append(b, "user"...)
		b = strconv.AppendInt(b, int64(i), 10)
		if i%badEvery != badEvery-1 {
			b = append(b, '@')
		}
		b = append(b, "Example"...)
		b = strconv.AppendInt(b, int64(i%97), 10)
		b = append(b, ".org,User "...)
		b = strconv.AppendInt(b, int64(i), 10)
		return append(b, ",Berlin\n"...)
	}}
}

// plainRows generates a plain list: mostly bare addresses, every tenth with
// a display name, every badEvery-th without "@".
func plainRows(rows int) *generatedList {
	return &generatedList{rows: rows, row: func(i int, b []byte) []byte {
		named := i%10 == 0
		if named {
			b = append(b, "User "...)
			b = strconv.AppendInt(b, int64(i), 10)
			b = append(b, " <"...)
		}
		b = append(b, "user"...)
		b = strconv.AppendInt(b, int64(i), 10)
		if i%badEvery != badEvery-1 {
			b = append(b, '@')
		}
		b = append(b, "example.org"...)
		if named {
			b = append(b, '>')
		}
		return append(b, '\n')
	}}
}
