package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/mxinvite/mxinvite/tasks"
)

// readToken takes a token from the file flag, else from the environment
// variable; a file must hold exactly one non-empty line.
func readToken(cmd *cli.Command, fileFlag, envVar string) (string, error) {
	if path := cmd.String(fileFlag); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", usageErr("--%s: %v", fileFlag, err)
		}
		tok := strings.TrimSpace(string(b))
		switch {
		case tok == "":
			return "", usageErr("--%s %s: the file is empty", fileFlag, path)
		case strings.ContainsAny(tok, " \t\r\n"):
			return "", usageErr("--%s %s: a token file must hold one token on one line", fileFlag, path)
		}
		return tok, nil
	}
	return strings.TrimSpace(os.Getenv(envVar)), nil
}

// parseWhen reads --at (RFC 3339) or --in (a duration); zero means now.
func parseWhen(cmd *cli.Command) (time.Time, error) {
	at, in := cmd.String("at"), cmd.Duration("in")
	switch {
	case at != "" && in != 0:
		return time.Time{}, usageErr("--at and --in: give one, not both")
	case at != "":
		t, err := time.Parse(time.RFC3339, at)
		if err != nil {
			return time.Time{}, usageErr("--at %q: want an RFC 3339 time such as 2026-12-01T09:00:00Z", at)
		}
		return t, checkNotPast(cmd, t)
	case in < 0:
		return time.Time{}, usageErr("--in %s: must not be negative", in)
	case in > 0:
		return time.Now().Add(in), nil
	}
	return time.Time{}, nil
}

func fail(format string, args ...any) error { return fmt.Errorf(format, args...) }

// listFlags describe how an address list is read (enqueue, schedule add).
func listFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "medium", Usage: "email, msisdn, or auto (per row: an address with @ is email); " +
			"default: a medium column gives each row's, else msisdn for a phone-like address column (phone, mobile, tel, …), else email"},
		&cli.StringFlag{Name: "column", Usage: "CSV/TSV column holding the address (default: found by name: email, address, phone, …, " +
			"or by the header of a known export: Outlook, Google Contacts, Thunderbird, Mailchimp, …)"},
		&cli.StringFlag{Name: "encoding", Usage: "the list's character encoding: utf-8, utf-16le, utf-16be, windows-1252, latin1, … " +
			"(default: detected: a byte order mark, else UTF-8 with lines that are not read as windows-1252)"},
		&cli.StringFlag{Name: "region", Usage: "ISO 3166 country (GB, US, DE, …) of phone numbers written in national form, " +
			"such as (415) 555-0132; without it they are rejected, never guessed"},
	}
}

// listMedium reads --medium: the medium every row must have, "" for auto
// (inferred per row), and fromList when it was not given (taken from the
// list: see addrlist.Options.MediumFromList).
func listMedium(cmd *cli.Command) (medium tasks.Medium, fromList bool, err error) {
	if !cmd.IsSet("medium") {
		return "", true, nil
	}
	m := strings.TrimSpace(cmd.String("medium"))
	if strings.EqualFold(m, "auto") {
		return "", false, nil
	}
	if medium, err = tasks.ParseMedium(m); err != nil {
		return "", false, usageErr("--medium %q: want email, msisdn or auto", m)
	}
	return medium, false, nil
}

// acceptTermsFlag is --accept-identity-terms (preflight, enqueue, worker).
func acceptTermsFlag() cli.Flag {
	return &cli.BoolFlag{Name: "accept-identity-terms", Sources: env("accept-identity-terms"),
		Usage: "when no identity token is configured and one is obtained from the sender's account, accept the " +
			"identity server's terms on the sender's behalf (read them first: preflight lists them)"}
}
