package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mxinvite/mxinvite/internal/redisconn"
	"github.com/mxinvite/mxinvite/internal/simulator"
)

// simFiles are the files `simulate` writes so that its printed commands
// can be pasted as they are.
type simFiles struct {
	dir, accessToken, idToken, addresses string
	temp                                 bool // dir was created here: removed at exit
}

// sampleAddresses fill the sample address list.
var sampleAddresses = []string{"alice@example.org", "bob@example.org", "carol@example.org"}

// writeSimFiles writes the token files and a sample address list in dir,
// or in a new temporary directory when dir is "".
func writeSimFiles(dir string) (simFiles, error) {
	f := simFiles{dir: dir}
	var err error
	if dir == "" {
		f.temp = true
		if f.dir, err = os.MkdirTemp("", "mxinvite-sim-"); err != nil {
			return f, fail("simulate: %v", err)
		}
	} else if err = os.MkdirAll(dir, 0o700); err != nil {
		return f, usageErr("--token-dir %s: %v", dir, err)
	}
	f.accessToken = filepath.Join(f.dir, "access-token")
	f.idToken = filepath.Join(f.dir, "id-access-token")
	f.addresses = filepath.Join(f.dir, "addresses.txt")
	for path, content := range map[string]string{
		f.accessToken: simulator.DefaultAccessToken + "\n",
		f.idToken:     simulator.DefaultIDAccessToken + "\n",
		f.addresses:   strings.Join(sampleAddresses, "\n") + "\n",
	} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			f.cleanup()
			return f, usageErr("--token-dir %s: %v", f.dir, err)
		}
	}
	return f, nil
}

// cleanup removes a temporary directory; a --token-dir is kept.
func (f simFiles) cleanup() {
	if f.temp && f.dir != "" {
		_ = os.RemoveAll(f.dir)
	}
}

// simGuide is what the printed guide needs.
type simGuide struct {
	addr  string // host:port listened on
	files simFiles
	room  simulator.Room
	cfg   simulator.Config // defaults not yet applied
	// redis is the Redis URL the pasted commands will use: MXINVITE_REDIS
	// when set (redacted), else the default.
	redis string
}

// guideRedis is the Redis the guide's commands use as pasted: the
// environment's (as every command reads it), else redisconn's default.
func guideRedis(getenv func(string) string) string {
	if v := getenv(envVarName("redis")); v != "" {
		return redisconn.Redact(v) + " (from " + envVarName("redis") + ")"
	}
	return redisconn.DefaultURL
}

// printSimGuide prints where the simulator listens and ready-to-paste
// mxinvite commands that talk to it.
func printSimGuide(w io.Writer, g simGuide) {
	base := "http://" + g.addr
	alias := ""
	if len(g.room.Aliases) > 0 {
		alias = " (alias " + g.room.Aliases[0] + ")"
	}
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("mxinvite simulator listening on %s", base)
	p("  homeserver       %s  (stats: %s/_sim/stats)", base, base)
	p("  access token     %s for %s, in %s", simulator.DefaultAccessToken, simulator.DefaultUserID, g.files.accessToken)
	p("  identity server  %s, plain http: mxinvite needs --identity-scheme http", g.addr)
	p("  identity token   %s, in %s", simulator.DefaultIDAccessToken, g.files.idToken)
	p("  room             %s%s", g.room.ID, alias)
	p("  addresses        %s (%d sample addresses)", g.files.addresses, len(sampleAddresses))
	for _, m := range describeModes(g.cfg) {
		p("  mode             %s", m)
	}
	profile := strings.Join([]string{
		"--homeserver", base, "--access-token-file", shellQuote(g.files.accessToken),
		"--id-server", g.addr, "--id-access-token-file", shellQuote(g.files.idToken), "--identity-scheme", "http",
	}, " ")
	p("")
	p("Paste (they use the Redis at %s; add --redis URL for another):", g.redis)
	p("  mxinvite preflight %s --room %s", profile, shellQuote(g.room.ID))
	p("  mxinvite enqueue %s --room %s --campaign sim --file %s", profile, shellQuote(g.room.ID), shellQuote(g.files.addresses))
	p("  mxinvite worker %s --until-idle", profile)
	if g.cfg.RequireTerms || len(g.cfg.Terms) > 0 {
		terms := g.cfg.Terms
		if len(terms) == 0 {
			terms = []simulator.Policy{simulator.DefaultPolicy()}
		}
		var urls []string
		for _, t := range terms {
			urls = append(urls, `"`+t.URL+`"`)
		}
		p("")
		p("The identity server wants its terms accepted first: add --accept-identity-terms to the commands, or accept by hand:")
		p(`  curl -X POST -H 'Authorization: Bearer %s' -d '{"user_accepts":[%s]}' %s/_matrix/identity/v2/terms`,
			simulator.DefaultIDAccessToken, strings.Join(urls, ","), base)
	}
	p("")
	p("Control at run time (POST JSON to %s; see docs/simulator.md):", base)
	p(`  /_sim/tokens/revoke {"access_token"}   /_sim/tokens/add {"access_token","user_id"}   /_sim/id_tokens/forget {"user_id"}`)
	p(`  /_sim/no_3pid {"style"}   /_sim/store_limit {"burst","interval"}   /_sim/terms {"policies"}   /_sim/down {"down"}`)
	p(`  /_sim/bind {"address","user_id"[,"after":"30s"][,"join":true]}   /_sim/join {"room_id","user_id"}   /_sim/membership {"room_id","user_id","membership"}`)
	p(`  /_sim/rules {"rules":[{"pattern","status","retry_after_ms","hang","delay","body",...}]}   /_sim/invite_limits {"scale"}`)
	p(`  /_sim/refused {"patterns"}   /_sim/3pid_lookup {"disabled"}   /_sim/block_invites {"user_id","blocks"}   /_sim/reset`)
}

// shellQuote quotes s for a POSIX shell when it needs it; room IDs start
// with "!", which interactive shells expand unless single-quoted.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
