package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/mxinvite/mxinvite/internal/config"
	"github.com/mxinvite/mxinvite/worker"
)

// profileFlagsGiven reports whether the command line or the environment
// describe a sender (the flags of profileFlags, or the tokens' variables).
func profileFlagsGiven(cmd *cli.Command) bool {
	for _, f := range []string{"homeserver", "access-token-file", "id-server", "id-access-token-file"} {
		if cmd.IsSet(f) {
			return true
		}
	}
	return os.Getenv("MXINVITE_ACCESS_TOKEN") != "" || os.Getenv("MXINVITE_ID_ACCESS_TOKEN") != ""
}

// resolveSenders returns the senders of the command (config.ResolveSenders
// over the file and the profile flags).
func resolveSenders(cmd *cli.Command) ([]config.ResolvedSender, error) {
	lc, _ := fileConfig(cmd)
	f := config.SenderFlags{Given: profileFlagsGiven(cmd), Name: cmd.String("sender")}
	if f.Given {
		if cmd.IsSet("homeserver") {
			f.Homeserver = cmd.String("homeserver")
		}
		if cmd.IsSet("id-server") {
			f.IDServer = cmd.String("id-server")
		}
		var err error
		if f.AccessToken, err = readToken(cmd, "access-token-file", "MXINVITE_ACCESS_TOKEN"); err != nil {
			return nil, err
		}
		if f.AccessToken != "" {
			f.AccessTokenFile = cmd.String("access-token-file")
		}
		if f.IDToken, err = readToken(cmd, "id-access-token-file", "MXINVITE_ID_ACCESS_TOKEN"); err != nil {
			return nil, err
		}
		if f.IDToken != "" {
			f.IDTokenFile = cmd.String("id-access-token-file")
		}
	}
	list, err := config.ResolveSenders(lc.cfg, f)
	var ue *config.UsageError
	if errors.As(err, &ue) {
		return nil, usageErr("%s", ue.Msg)
	}
	return list, err
}

// senderProfiles reads the token files of the command's senders.
func senderProfiles(cmd *cli.Command) ([]worker.Profile, error) {
	list, err := resolveSenders(cmd)
	if err != nil {
		return nil, err
	}
	out := make([]worker.Profile, 0, len(list))
	for _, s := range list {
		p, err := s.Profile(s.Field())
		if err != nil {
			return nil, configErr(cmd, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// readProfile is the one sender a command acts as (preflight, enqueue's
// checks, alias lookups): the one --sender names.
func readProfile(cmd *cli.Command) (worker.Profile, error) {
	profiles, err := senderProfiles(cmd)
	if err != nil {
		return worker.Profile{}, err
	}
	name := cmd.String("sender")
	names := make([]string, len(profiles))
	for i, p := range profiles {
		if p.Name == name {
			return p, nil
		}
		names[i] = p.Name
	}
	return worker.Profile{}, usageErr("--sender %q: no such sender (the configuration has %s)", name, strings.Join(names, ", "))
}

// configErr is an error about the file's contents: exit code 2, naming the file.
func configErr(cmd *cli.Command, err error) error {
	if lc, ok := fileConfig(cmd); ok {
		return usageErr("--config %s: %v", lc.path, err)
	}
	return usageErr("%v", err)
}

// stringers lets a log line show profiles by their redacting String.
func stringers(ps []worker.Profile) []fmt.Stringer {
	out := make([]fmt.Stringer, len(ps))
	for i, p := range ps {
		out[i] = p
	}
	return out
}
