package addrlist_test

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mxinvite/mxinvite/internal/addrlist"
	"github.com/mxinvite/mxinvite/tasks"
)

func ExampleReader() {
	list := "Name,Email\n" +
		"Alice,alice@Example.ORG\n" +
		"Bob,bob@example\n" +
		"\"Carol, Jr.\",carol@example.org\n"
	rd, err := addrlist.NewReader(strings.NewReader(list), addrlist.Options{Medium: tasks.MediumEmail})
	if err != nil {
		fmt.Println(err)
		return
	}
	rejects := addrlist.NewRejectWriter(os.Stdout, rd)
	for {
		row, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		if row.Err != nil {
			_ = rejects.Write(row)
			continue
		}
		fmt.Println(row.Line, row.Address)
	}
	_ = rejects.Flush()
	// Output:
	// 2 alice@example.org
	// 4 carol@example.org
	// Name,Email,line,reason
	// Bob,bob@example,3,"bad syntax: email domain must contain a ""."""
}
