package importer

import (
	"bufio"
	"io"
	"strconv"
)

// GenerateCSV writes a CSV address list of n rows after the header
// "email,name": row i (1-based) is "user<i>@example.org,User <i>", except
// that every badEvery-th row (badEvery > 0) has "user<i>.example.org", an
// address without "@" that the importer rejects. Benchmarks and load tests
// stream it through an io.Pipe, so the list never sits in memory.
//
// Of n rows, n/badEvery are bad and the rest are distinct valid invites.
func GenerateCSV(w io.Writer, n, badEvery int) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("email,name\n")
	var line []byte
	for i := 1; i <= n; i++ {
		line = append(line[:0], "user"...)
		line = strconv.AppendInt(line, int64(i), 10)
		if badEvery > 0 && i%badEvery == 0 {
			line = append(line, ".example.org,User "...)
		} else {
			line = append(line, "@example.org,User "...)
		}
		line = strconv.AppendInt(line, int64(i), 10)
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}
