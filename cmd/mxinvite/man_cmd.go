package main

import (
	"context"

	"github.com/urfave/cli/v3"
)

// manCommand prints the man page (`make man` writes it to docs/mxinvite.1).
// Hidden: it is for packagers and the Makefile, not an everyday command.
func manCommand() *cli.Command {
	return &cli.Command{
		Name:         "man",
		Usage:        "print the man page (roff), generated from the command definitions",
		Hidden:       true,
		OnUsageError: onUsageError,
		Action: func(_ context.Context, cmd *cli.Command) error {
			_, err := cmd.Root().Writer.Write([]byte(manPage(cmd.Root())))
			return err
		},
	}
}
