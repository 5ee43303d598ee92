// Command install-dendrite builds the Dendrite binaries used by the
// dendritetest package into their cache directory (once; later runs are
// no-ops) and prints where they are and how long it took. CI runs it before
// the tests so that the first test does not pay for the build:
//
//	go run ./internal/dendritetest/cmd/install-dendrite
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/mxinvite/mxinvite/internal/dendritetest"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	start := time.Now()
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	b, err := dendritetest.Install(ctx, logf)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("dendrite %s ready in %s (%s)\n", dendritetest.DendriteVersion, b.Dir,
		time.Since(start).Round(time.Millisecond))
}
