// Command snapshot-dump writes the keys of a Redis to a snapshot file (see
// package internal/snapshot), for the upgrade tests in internal/compat:
//
//	go run ./internal/snapshot/cmd/snapshot-dump -redis redis://127.0.0.1:6390 \
//	    -out testdata/snapshots/session2.json -note "written by mxinvite c7b0e37"
//
// It only reads. Point it at a Redis nobody is writing to (a test Redis,
// after its workers stopped): the keys are read one after another.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/snapshot"
)

// defaultPatterns are mxinvite's keys under the default prefix and asynq's.
const defaultPatterns = "asynq:*,mxinvite:*"

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "snapshot-dump:", err)
		os.Exit(2)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("snapshot-dump", flag.ContinueOnError)
	url := fs.String("redis", "", "Redis URL, redis://host:port[/db] (required)")
	out := fs.String("out", "", "file to write, - for stdout (required)")
	patterns := fs.String("patterns", defaultPatterns, "comma-separated SCAN MATCH patterns")
	note := fs.String("note", "", "free text stored in the file: what wrote the data")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *url == "":
		return errors.New("-redis: required")
	case *out == "":
		return errors.New("-out: required (- for stdout)")
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	opts, err := redis.ParseURL(*url)
	if err != nil {
		return fmt.Errorf("-redis %s: %w", *url, err)
	}
	var pats []string
	for _, p := range strings.Split(*patterns, ",") {
		if p = strings.TrimSpace(p); p != "" {
			pats = append(pats, p)
		}
	}
	if len(pats) == 0 {
		return errors.New("-patterns: give at least one pattern")
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := snapshot.Dump(ctx, rdb, pats...)
	if err != nil {
		return err
	}
	s.Note = *note
	if *out == "-" {
		return s.Encode(stdout)
	}
	if err := s.WriteFile(*out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d keys written to %s\n", len(s.Keys), *out)
	return nil
}
