package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/urfave/cli/v3"
)

// probeCommand is a container healthcheck: the image has no shell and no
// curl, so the binary asks its own HTTP endpoint (worker --http).
func probeCommand() *cli.Command {
	return &cli.Command{
		Name:      "probe",
		Usage:     "GET a URL (e.g. http://127.0.0.1:9090/readyz); exit 0 if it answers 2xx, else 1 (for healthchecks)",
		ArgsUsage: "URL",
		Flags: []cli.Flag{
			&cli.DurationFlag{Name: "timeout", Value: 5 * time.Second, Usage: "give up after this long"},
		},
		OnUsageError: onUsageError,
		Action:       runProbe,
	}
}

// maxProbeBody bounds what is read of an answer: a line for the message.
const maxProbeBody = 512

func runProbe(ctx context.Context, cmd *cli.Command) error {
	if cmd.NArg() != 1 {
		return usageErr("probe: give one URL, e.g. http://127.0.0.1:9090/readyz")
	}
	raw := cmd.Args().First()
	if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageErr("probe %q: want an http:// or https:// URL", raw)
	}
	ctx, cancel := context.WithTimeout(ctx, cmd.Duration("timeout"))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return usageErr("probe %q: %v", raw, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fail("probe %s: %v", raw, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxProbeBody))
	if resp.StatusCode/100 != 2 {
		return fail("probe %s: %s: %q", raw, resp.Status, body)
	}
	fmt.Fprintf(cmd.Root().Writer, "%s %s\n", raw, resp.Status)
	return nil
}
