package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/mxinvite/mxinvite/internal/config"
	"github.com/mxinvite/mxinvite/worker"
)

// flagSenderField labels the sender the profile flags describe, in the
// errors of config.Sender.Validate (translated to flag names by flagErr).
const flagSenderField = "flags"

// configuredSender is a sender and where it came from: its index in the
// file, or -1 for one only the flags describe.
type configuredSender struct {
	config.Sender
	index int
}

func (s configuredSender) field() string {
	if s.index < 0 {
		return flagSenderField
	}
	return fmt.Sprintf("senders[%d]", s.index)
}

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

// resolveSenders returns the senders of the command: the file's, with the
// one --sender names overridden by the profile flags, plus the flags' own
// sender when the file has none of that name (the flag-only setup: one
// sender, "default").
func resolveSenders(cmd *cli.Command) ([]configuredSender, error) {
	lc, _ := fileConfig(cmd)
	var list []configuredSender
	for i, s := range lc.cfg.WithDefaults().Senders { // WithDefaults: a deep copy
		list = append(list, configuredSender{Sender: s, index: i})
	}
	if !profileFlagsGiven(cmd) {
		if len(list) == 0 {
			return nil, usageErr("--homeserver is required (or MXINVITE_HOMESERVER), or a --config file with senders")
		}
		return list, nil
	}
	name := cmd.String("sender")
	i := slices.IndexFunc(list, func(s configuredSender) bool { return s.Name == name })
	s := configuredSender{Sender: config.Sender{Name: name}, index: -1}
	if i >= 0 {
		s = list[i]
	}
	if err := overrideSender(cmd, &s.Sender); err != nil {
		return nil, err
	}
	if i >= 0 {
		list[i] = s
	} else {
		list = append(list, s)
	}
	return list, nil
}

// overrideSender applies the profile flags (and the tokens' variables) to s.
// Tokens they name are read here, so their errors name the flag.
func overrideSender(cmd *cli.Command, s *config.Sender) error {
	if cmd.IsSet("homeserver") {
		s.Homeserver = cmd.String("homeserver")
	}
	if s.Homeserver == "" {
		return usageErr("--homeserver is required (or MXINVITE_HOMESERVER)")
	}
	tok, err := readToken(cmd, "access-token-file", "MXINVITE_ACCESS_TOKEN")
	if err != nil {
		return err
	}
	if tok != "" {
		s.AccessToken, s.AccessTokenFile = tok, cmd.String("access-token-file")
	}
	if s.AccessToken == "" && s.AccessTokenFile == "" {
		return usageErr("no access token: give --access-token-file or set MXINVITE_ACCESS_TOKEN")
	}
	if cmd.IsSet("id-server") {
		host := cmd.String("id-server")
		j := slices.IndexFunc(s.IdentityServers, func(is config.IdentityServer) bool { return is.Host == host })
		first := config.IdentityServer{Host: host}
		if j >= 0 {
			first = s.IdentityServers[j]
			s.IdentityServers = slices.Delete(s.IdentityServers, j, j+1)
		}
		s.IdentityServers = slices.Insert(s.IdentityServers, 0, first)
	}
	idTok, err := readToken(cmd, "id-access-token-file", "MXINVITE_ID_ACCESS_TOKEN")
	if err != nil {
		return err
	}
	// A token with no identity server to send it to is of no use: invites
	// only carry the default server's token to that server.
	if idTok != "" && len(s.IdentityServers) > 0 {
		s.IdentityServers[0].Token, s.IdentityServers[0].TokenFile = idTok, cmd.String("id-access-token-file")
	}
	return flagErr(s.Validate(flagSenderField))
}

// flagFields name, for each field of a sender the flags describe, the flag.
var flagFields = map[string]string{
	".name": "--sender", ".homeserver": "--homeserver", ".access_token_file": "--access-token-file",
	".identity_servers[0].host": "--id-server",
}

// flagErr turns a validation error of the flags' sender into one naming the
// flag, exit code 2.
func flagErr(err error) error {
	var fe *config.FieldError
	if err == nil || !errors.As(err, &fe) {
		return err
	}
	if flag, ok := flagFields[strings.TrimPrefix(fe.Field, flagSenderField)]; ok {
		return usageErr("%s: %v", flag, fe.Err)
	}
	return usageErr("%v", err)
}

// senderProfiles reads the token files of the command's senders.
func senderProfiles(cmd *cli.Command) ([]worker.Profile, error) {
	list, err := resolveSenders(cmd)
	if err != nil {
		return nil, err
	}
	out := make([]worker.Profile, 0, len(list))
	for _, s := range list {
		p, err := s.Profile(s.field())
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
