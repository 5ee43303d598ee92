package main

import (
	"errors"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/mxinvite/mxinvite/internal/addrlist"
	"github.com/mxinvite/mxinvite/internal/importer"
	"github.com/mxinvite/mxinvite/tasks"
)

// planList reads --campaign, --room, --sender, --id-server, --medium,
// --column and --file into an importer.Plan and checks it (Plan.Check),
// naming the flag of any problem: exit code 2 before anything is contacted.
func planList(cmd *cli.Command) (importer.Plan, error) {
	p := importer.Plan{Input: cmd.String("file")}
	var err error
	if p.Options.Medium, p.Options.MediumFromList, err = listMedium(cmd); err != nil {
		return p, err
	}
	p.Options.Campaign, p.Options.Column = cmd.String("campaign"), cmd.String("column")
	if p.Options.Encoding, p.Options.Region, err = listText(cmd); err != nil {
		return p, err
	}
	p.Options.Sender, p.Options.IDServer = cmd.String("sender"), cmd.String("id-server")
	if p.Options.Priority, err = priorityOf(cmd); err != nil {
		return p, err
	}
	if p.Room, p.Alias, err = roomFlag(cmd, true); err != nil {
		return p, err
	}
	var in *importer.InputError
	switch err := p.Check(); {
	case err == nil:
		return p, nil
	case errors.Is(err, importer.ErrNoInput):
		return p, usageErr("--file: give a path, or - for stdin")
	case errors.As(err, &in):
		return p, usageErr("--file %v", in)
	default:
		return p, fieldFlagErr(err)
	}
}

// listText reads --encoding and --region, refusing values the list reader
// would refuse, named by their flag.
func listText(cmd *cli.Command) (encoding, region string, err error) {
	encoding, region = strings.TrimSpace(cmd.String("encoding")), strings.ToUpper(strings.TrimSpace(cmd.String("region")))
	if addrlist.CheckEncoding(encoding) != nil {
		return "", "", usageErr("--encoding %q: unknown; want utf-8, utf-16le, utf-16be, windows-1252, latin1, … (a WHATWG label)", encoding)
	}
	if addrlist.CheckRegion(region) != nil {
		return "", "", usageErr("--region %q: want an ISO 3166 country code with a phone numbering plan, such as GB, US or DE", region)
	}
	return encoding, region, nil
}

// pastLeeway is how far in the past --at may be without --allow-past: a
// time typed a moment ago, or clocks a little apart.
const pastLeeway = time.Minute

// checkNotPast refuses a --at time more than pastLeeway in the past unless
// --allow-past: a past date is more likely a typo (the wrong year) than a
// wish to send now.
func checkNotPast(cmd *cli.Command, at time.Time) error {
	if at.IsZero() || cmd.Bool("allow-past") || !at.Before(time.Now().Add(-pastLeeway)) {
		return nil
	}
	return usageErr("--at %s: is %s in the past; give --allow-past to send now anyway",
		at.UTC().Format(time.RFC3339), time.Since(at).Round(time.Second))
}

// allowPastFlag goes with --at.
// priorityFlag is a campaign's claim on its sender's turns.
func priorityFlag() cli.Flag {
	return &cli.StringFlag{Name: "priority", Sources: env("priority"),
		Usage: "the campaign's turn among its sender's campaigns: high (before the others), normal (sharing with them) or low (after them); default: the campaign's, normal for a new one"}
}

// priorityOf reads --priority ("" keeps the campaign's).
func priorityOf(cmd *cli.Command) (tasks.Priority, error) {
	s := strings.TrimSpace(cmd.String("priority"))
	if s == "" {
		return "", nil
	}
	p, err := tasks.ParsePriority(s)
	if err != nil {
		return "", usageErr("--priority %q: must be high, normal or low", s)
	}
	return p, nil
}

func allowPastFlag() cli.Flag {
	return &cli.BoolFlag{Name: "allow-past", Usage: "accept an --at time more than a minute in the past (send now)"}
}
