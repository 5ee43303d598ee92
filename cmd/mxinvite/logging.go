package main

import (
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/mxinvite/mxinvite/internal/config"
	"github.com/rs/zerolog"
	"github.com/urfave/cli/v3"
)

func logFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "log-level", Value: config.DefaultLogLevel, Sources: env("log-level"),
			Usage: "debug, info, warn or error"},
		&cli.StringFlag{Name: "log-format", Value: config.DefaultLogFormat, Sources: env("log-format"),
			Usage: "json, console, or auto (console on a terminal)"},
	}
}

// newLogger builds the process logger from the log flags. Tokens never reach
// it: the matrix and worker packages redact them before logging.
func newLogger(cmd *cli.Command, w io.Writer) (*zerolog.Logger, error) {
	level, err := zerolog.ParseLevel(cmd.String("log-level"))
	if err != nil || level == zerolog.NoLevel {
		return nil, usageErr("--log-level %q: want debug, info, warn or error", cmd.String("log-level"))
	}
	out := w
	switch cmd.String("log-format") {
	case "json":
	case "console":
		out = zerolog.ConsoleWriter{Out: w}
	case "auto":
		if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			out = zerolog.ConsoleWriter{Out: w}
		}
	default:
		return nil, usageErr("--log-format %q: want json, console or auto", cmd.String("log-format"))
	}
	l := zerolog.New(out).Level(level).Hook(millisecondTime{})
	return &l, nil
}

// millisecondTime stamps each line with the time to the millisecond (UTC):
// paces and waits are milliseconds apart, and zerolog's own timestamp
// (whole seconds, set by a package variable) cannot show them.
type millisecondTime struct{}

func (millisecondTime) Run(e *zerolog.Event, _ zerolog.Level, _ string) {
	e.Str(zerolog.TimestampFieldName, time.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00"))
}
