package dendritetest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// configParams are the settings Start writes into dendrite.yaml.
type configParams struct {
	ServerName   string
	TrustedIDs   []string // global.trusted_third_party_id_servers
	SharedSecret string   // client_api.registration_shared_secret
	RateLimit    bool
	Threshold    int
	CooloffMS    int
	ExemptUsers  []string
	LogLevel     string
}

// writeConfig generates a Dendrite configuration and signing key in dir and
// returns the configuration's path.
//
// The base is Dendrite's own `generate-config -ci -dir <dir> -server <name>`
// (SQLite files, media, search index and JetStream storage under dir;
// JetStream in memory; bcrypt cost 4; no key perspectives, so no call to
// matrix.org). It is then edited key by key (see setYAML), because -ci
// leaves registration open, which Dendrite refuses to start with unless told
// -really-enable-open-registration, and rate limiting off.
func writeConfig(ctx context.Context, bins Binaries, dir string, p configParams) (string, error) {
	gen := exec.CommandContext(ctx, bins.GenerateConfig, "-ci", "-dir", dir, "-server", p.ServerName)
	gen.Dir = dir
	base, err := gen.Output()
	if err != nil {
		return "", fmt.Errorf("generate-config: %w%s", err, stderrOf(err))
	}
	keyPath := filepath.Join(dir, "matrix_key.pem")
	keys := exec.CommandContext(ctx, bins.GenerateKeys, "-private-key", keyPath)
	keys.Dir = dir
	if out, err := keys.CombinedOutput(); err != nil {
		return "", fmt.Errorf("generate-keys: %w: %s", err, out)
	}
	if p.LogLevel == "" {
		p.LogLevel = "info"
	}
	if p.ExemptUsers == nil {
		p.ExemptUsers = []string{}
	}
	edits := []struct {
		path  string
		value any
	}{
		{"global.private_key", keyPath},
		{"global.disable_federation", true},
		{"global.trusted_third_party_id_servers", p.TrustedIDs},
		{"global.presence.enable_inbound", false},
		{"global.presence.enable_outbound", false},
		{"global.server_notices.enabled", false},
		{"client_api.registration_disabled", true},
		{"client_api.guests_disabled", true},
		{"client_api.registration_shared_secret", p.SharedSecret},
		{"client_api.rate_limiting.enabled", p.RateLimit},
		{"client_api.rate_limiting.threshold", p.Threshold},
		{"client_api.rate_limiting.cooloff_ms", p.CooloffMS},
		{"client_api.rate_limiting.exempt_user_ids", p.ExemptUsers},
		{"sync_api.search.enabled", false},
		{"mscs.mscs", []string{}},
		// "std" writes to stderr, which Start sends to the log file.
		{"logging", []map[string]string{{"type": "std", "level": p.LogLevel}}},
	}
	doc := string(base)
	for _, e := range edits {
		if doc, err = setYAML(doc, e.path, e.value); err != nil {
			return "", err
		}
	}
	path := filepath.Join(dir, "dendrite.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		return "", err
	}
	return path, nil
}

// stderrOf returns ": <stderr>" for an *exec.ExitError that captured it.
func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok && len(ee.Stderr) > 0 {
		return ": " + string(ee.Stderr)
	}
	return ""
}
