package main

import (
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/mxinvite/mxinvite/internal/addrlist"
	"github.com/mxinvite/mxinvite/internal/importer"
	"github.com/mxinvite/mxinvite/tasks"
)

// listPlan is what enqueue and schedule add both take from their flags: the
// fields every invite of a list shares, and the list. planList checks them
// the same way for both, before anything is contacted, so that a typo is
// one line and exit code 2 at once rather than a failure at every tick.
type listPlan struct {
	opts  importer.Options // Campaign, Sender, IDServer, Medium, MediumFromList, Column
	input string           // path, or "-" for stdin
	room  string           // as given: a room ID, or an alias to resolve
	alias bool
}

// planList checks --campaign, --room, --sender, --id-server, --medium,
// --column and --file. A file (not stdin) must exist and read as an address
// list: text, and for CSV/TSV a header naming the address column.
func planList(cmd *cli.Command) (listPlan, error) {
	p := listPlan{input: cmd.String("file"), room: cmd.String("room")}
	var err error
	if p.opts.Medium, p.opts.MediumFromList, err = listMedium(cmd); err != nil {
		return p, err
	}
	p.opts.Campaign, p.opts.Column = cmd.String("campaign"), cmd.String("column")
	if p.opts.Encoding, p.opts.Region, err = listText(cmd); err != nil {
		return p, err
	}
	p.opts.Sender, p.opts.IDServer = cmd.String("sender"), cmd.String("id-server")
	room, alias, err := roomFlag(cmd, true)
	if err != nil {
		return p, err
	}
	p.room = room
	if p.alias = alias; alias {
		room = "!alias:checked-later" // resolved by the homeserver, after these checks
	}
	// The fields every invite shares are checked by the rules the worker
	// applies; a *tasks.FieldError names the field, which names the flag.
	if _, err := tasks.NewInvite(tasks.Invite{Campaign: p.opts.Campaign, RoomID: room, Sender: p.opts.Sender,
		IDServer: p.opts.IDServer, Medium: tasks.MediumEmail, Address: "probe@example.org"}); err != nil {
		return p, fieldFlagErr(err)
	}
	if p.input == "" {
		return p, usageErr("--file: give a path, or - for stdin")
	}
	if p.input != "-" {
		if err := checkListFile(p.input, p.opts); err != nil {
			return p, err
		}
	}
	return p, nil
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

// checkListFile refuses a file that is missing, a directory, or not an
// address list (see importer.CheckInput), naming it.
func checkListFile(path string, opts importer.Options) error {
	f, err := os.Open(path)
	if err != nil {
		return usageErr("--file: %v", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return usageErr("--file %s: is a directory", path)
	}
	if err := importer.CheckInput(f, opts); err != nil {
		return usageErr("--file %s: %v", path, err)
	}
	return nil
}

// defaultRejects is where the rejects of the list at path go unless
// --rejects says otherwise: members.csv -> members.rejects.csv.
func defaultRejects(path string) string {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + ".rejects" + ext
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
func allowPastFlag() cli.Flag {
	return &cli.BoolFlag{Name: "allow-past", Usage: "accept an --at time more than a minute in the past (send now)"}
}
