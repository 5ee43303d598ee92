package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// SenderFlags are the sender settings the command line and the environment
// give (--sender, --homeserver, --access-token-file, --id-server,
// --id-access-token-file and the tokens' MXINVITE_* variables). They
// override the file's sender of that name, or describe the only sender.
type SenderFlags struct {
	// Given is set when any of the flags or variables below was given.
	Given bool
	// Name is --sender.
	Name string
	// Homeserver is --homeserver; "" when not given.
	Homeserver string
	// AccessToken is the token read from AccessTokenFile or the
	// environment; AccessTokenFile the file it came from ("" for the
	// environment). Both "" when neither was given.
	AccessToken, AccessTokenFile string
	// IDServer is --id-server; "" when not given.
	IDServer string
	// IDToken and IDTokenFile are the identity server's token, as above.
	IDToken, IDTokenFile string
}

// ResolvedSender is a sender and where it came from: its index in the file,
// or -1 for one only the flags describe.
type ResolvedSender struct {
	Sender
	Index int
}

// Field is the sender's path in errors: "senders[i]", or "flags".
func (s ResolvedSender) Field() string {
	if s.Index < 0 {
		return flagSenderField
	}
	return fmt.Sprintf("senders[%d]", s.Index)
}

// flagSenderField labels the sender the flags describe, in validation errors.
const flagSenderField = "flags"

// UsageError is a problem with the command line (exit code 2), naming the flag.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usage(format string, args ...any) error { return &UsageError{Msg: fmt.Sprintf(format, args...)} }

// ResolveSenders returns the senders of a command: the file's (c, with
// defaults), with the one f.Name names overridden by the flags, plus the
// flags' own sender when the file has none of that name (the flag-only
// setup: one sender, "default"). Errors about the flags' values are
// *UsageError naming the flag.
func ResolveSenders(c Config, f SenderFlags) ([]ResolvedSender, error) {
	var list []ResolvedSender
	for i, s := range c.WithDefaults().Senders { // WithDefaults: a deep copy
		list = append(list, ResolvedSender{Sender: s, Index: i})
	}
	if !f.Given {
		if len(list) == 0 {
			return nil, usage("--homeserver is required (or MXINVITE_HOMESERVER), or a --config file with senders")
		}
		return list, nil
	}
	i := slices.IndexFunc(list, func(s ResolvedSender) bool { return s.Name == f.Name })
	s := ResolvedSender{Sender: Sender{Name: f.Name}, Index: -1}
	if i >= 0 {
		s = list[i]
	}
	if err := f.apply(&s.Sender); err != nil {
		return nil, err
	}
	if i >= 0 {
		list[i] = s
	} else {
		list = append(list, s)
	}
	return list, nil
}

// apply overrides s with the flags.
func (f SenderFlags) apply(s *Sender) error {
	if f.Homeserver != "" {
		s.Homeserver = f.Homeserver
	}
	if s.Homeserver == "" {
		return usage("--homeserver is required (or MXINVITE_HOMESERVER)")
	}
	if f.AccessToken != "" {
		s.AccessToken, s.AccessTokenFile = f.AccessToken, f.AccessTokenFile
	}
	if s.AccessToken == "" && s.AccessTokenFile == "" {
		return usage("no access token: give --access-token-file or set MXINVITE_ACCESS_TOKEN")
	}
	if f.IDServer != "" {
		j := slices.IndexFunc(s.IdentityServers, func(is IdentityServer) bool { return is.Host == f.IDServer })
		first := IdentityServer{Host: f.IDServer}
		if j >= 0 {
			first = s.IdentityServers[j]
			s.IdentityServers = slices.Delete(s.IdentityServers, j, j+1)
		}
		s.IdentityServers = slices.Insert(s.IdentityServers, 0, first)
	}
	// A token with no identity server to send it to is of no use: invites
	// only carry the default server's token to that server.
	if f.IDToken != "" && len(s.IdentityServers) > 0 {
		s.IdentityServers[0].Token, s.IdentityServers[0].TokenFile = f.IDToken, f.IDTokenFile
	}
	return flagErr(s.Validate(flagSenderField))
}

// flagFields name, for each field of a sender the flags describe, the flag.
var flagFields = map[string]string{
	".name": "--sender", ".homeserver": "--homeserver", ".access_token_file": "--access-token-file",
	".identity_servers[0].host": "--id-server",
}

// flagErr turns a validation error of the flags' sender into one naming the flag.
func flagErr(err error) error {
	var fe *FieldError
	if err == nil || !errors.As(err, &fe) {
		return err
	}
	if flag, ok := flagFields[strings.TrimPrefix(fe.Field, flagSenderField)]; ok {
		return usage("%s: %v", flag, fe.Err)
	}
	return usage("%v", err)
}
