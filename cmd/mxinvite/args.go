package main

import (
	"context"
	"strings"

	"github.com/urfave/cli/v3"
)

// noArguments is every command's ArgValidator (set on the root, inherited):
// mxinvite takes flags only, so a word that is not a flag is a misspelt
// command or a forgotten "--", refused with exit 2 rather than ignored.
// help is exempt (its argument is the command to explain), and so is a
// command that says in ArgsUsage what its arguments are (probe URL).
func noArguments(_ context.Context, cmd *cli.Command) error {
	if cmd.Name == "help" || cmd.ArgsUsage != "" || cmd.Args().Len() == 0 {
		return nil
	}
	first, path := cmd.Args().First(), commandPath(cmd)
	if hasSubcommands(cmd) {
		return usageErr("unknown command %q (%s --help lists them)", strings.TrimSpace(path+" "+first),
			strings.TrimSpace("mxinvite "+path))
	}
	return usageErr("%s: unexpected argument %q (it takes flags only, e.g. --%s)", path, first, exampleFlag(cmd))
}

// hasSubcommands reports whether cmd has commands of its own (the help
// command urfave adds does not count).
func hasSubcommands(cmd *cli.Command) bool {
	for _, c := range cmd.Commands {
		if c.Name != "help" {
			return true
		}
	}
	return false
}

// commandPath is "schedule add" for that command, "" for the root.
func commandPath(cmd *cli.Command) string {
	lineage := cmd.Lineage() // cmd, its parent, …, the root
	names := make([]string, 0, len(lineage))
	for i := len(lineage) - 2; i >= 0; i-- {
		names = append(names, lineage[i].Name)
	}
	return strings.Join(names, " ")
}

// exampleFlag names the command's first visible flag, for the hint.
func exampleFlag(cmd *cli.Command) string {
	for _, f := range cmd.Flags {
		if v, ok := f.(cli.VisibleFlag); ok && v.IsVisible() {
			return f.Names()[0]
		}
	}
	return "help"
}

// usageErrorsAreExit2 makes every command report usage errors as one line
// and exit code 2, including parents without their own handler (schedule).
func usageErrorsAreExit2(root *cli.Command) {
	walkCommands(root, func(_ string, cmd *cli.Command) {
		if cmd.OnUsageError == nil {
			cmd.OnUsageError = onUsageError
		}
	})
}
