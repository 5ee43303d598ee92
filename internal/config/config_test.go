package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// secretFile writes content to a file in a temporary directory.
func secretFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func parse(t *testing.T, doc string) (Config, error) {
	t.Helper()
	c, err := Parse("test.yaml", []byte(doc))
	if err != nil {
		return c, err
	}
	c = c.WithDefaults()
	return c, c.Validate()
}

func TestGoodFile(t *testing.T) {
	tok := secretFile(t, "a.token", "tok-a\n")
	idTok := secretFile(t, "a.id", "id-a")
	pw := secretFile(t, "pw", "s3cret\n")
	c, err := parse(t, `
redis: {url: "redis://redis:6379/2", password_file: `+pw+`}
prefix: mx
worker:
  concurrency: 7
  retry_waits: [1s, 2s]
  max_retries: 0
  shutdown_timeout: 1m
senders:
  - name: a
    homeserver: https://a.example.org
    access_token_file: `+tok+`
    identity_servers: [{host: "id.a:8090", token_file: `+idTok+`}, {host: vector.im}]
    concurrency: 2
  - name: b
    homeserver: http://127.0.0.1:8008
    access_token_file: `+tok+`
`)
	if err != nil {
		t.Fatal(err)
	}
	if c.Queue != "invites" || c.Prefix != "mx" || c.Worker.Concurrency != 7 || *c.Worker.MaxRetries != 0 ||
		c.Worker.ShutdownTimeout != time.Minute || c.Worker.MaxRateLimitWait != 24*time.Hour {
		t.Fatalf("config %+v", c)
	}
	if p := c.Worker.Policy(); p.MaxRetries != 0 || !reflect.DeepEqual(p.Waits, []time.Duration{time.Second, 2 * time.Second}) ||
		len(p.Timeouts) != 3 {
		t.Fatalf("policy %+v", p)
	}
	profiles, err := c.Profiles()
	if err != nil {
		t.Fatal(err)
	}
	a := profiles[0]
	if len(profiles) != 2 || a.Name != "a" || a.AccessToken != "tok-a" || a.IDServer != "id.a:8090" ||
		a.IDAccessToken != "id-a" || len(a.IDServerTokens) != 0 || a.MaxConcurrency != 2 || profiles[1].IDServer != "" {
		t.Fatalf("profiles %v", profiles)
	}
	u, err := c.Redis.ConnURL()
	if err != nil || u != "redis://:s3cret@redis:6379/2" {
		t.Fatalf("ConnURL %q, %v", u, err)
	}
}

func TestStrictDecoding(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"prefix: mx\nworker:\n  concurency: 3\n", `test.yaml: line 3: unknown key "concurency"`},
		{"senders:\n  - name: a\n    homesrever: https://x\n", `test.yaml: line 3: unknown key "homesrever"`},
		{"prefix: a\nprefix: b\n", `line 2: mapping key "prefix" already defined at line 1`},
		{"worker:\n  shutdown_timeout: 30\n", "line 2: cannot unmarshal !!int `30` into a duration such as 30s"},
		{"worker: {concurrency: many}\n", "line 1: cannot unmarshal !!str `many` into int"},
		{"prefix: a\n---\nprefix: b\n", "line 2: a second YAML document"},
		{"prefix: [a\n", "line 1"},
	} {
		_, err := Parse("test.yaml", []byte(tc.doc))
		if !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error %v, want one line with %q", tc.doc, err, tc.want)
		}
	}
	if c, err := Parse("empty.yaml", nil); err != nil || !reflect.DeepEqual(c, Config{}) {
		t.Errorf("empty file: %+v, %v", c, err)
	}
}

func TestValidateNamesTheField(t *testing.T) {
	sender := "  - {name: a, homeserver: 'https://a.example.org', access_token_file: /t}\n"
	for _, tc := range []struct{ doc, field string }{
		{"senders:\n" + sender + "  - {name: b, homeserver: 'matrix.example.org', access_token_file: /t}\n", "senders[1].homeserver: "},
		{"senders:\n" + sender + "  - {name: b, homeserver: 'ftp://x', access_token_file: /t}\n", "senders[1].homeserver: "},
		{"senders:\n  - {name: b, homeserver: 'https://x'}\n", "senders[0].access_token_file: "},
		{"senders:\n" + sender + sender, "senders[1].name: "},
		{"senders:\n  - {name: a, homeserver: 'https://x', access_token_file: /t, identity_servers: [{host: 'https://vector.im'}]}\n",
			"senders[0].identity_servers[0].host: "},
		{"senders:\n  - {name: a, homeserver: 'https://x', access_token_file: /t, concurrency: -1}\n", "senders[0].concurrency: "},
		{"redis: {url: 'localhost:6379'}\n", "redis.url: "},
		{"redis: {url: 'redis://:pw@h:1', password_file: /p}\n", "redis.url: "},
		{"redis: {tls_ca_file: /ca.pem}\n", "redis.tls_ca_file: "},
		{"redis: {sentinel: {addrs: ['s:26379']}}\n", "redis.sentinel.master: "},
		{"redis: {sentinel: {master: m, addrs: [s]}}\n", "redis.sentinel.addrs[0]: "},
		{"worker: {concurrency: -2}\n", "worker.concurrency: "},
		{"worker: {timeouts: [1s, 0s]}\n", "worker.timeouts[1]: "},
		{"worker: {max_retries: -1}\n", "worker.max_retries: "},
		{"log: {level: loud}\n", "log.level: "},
	} {
		_, err := parse(t, tc.doc)
		var fe *FieldError
		if !errors.As(err, &fe) || !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), tc.field) {
			t.Errorf("%q: error %v, want one starting %q", tc.doc, err, tc.field)
		}
	}
}

func TestTokenFiles(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ content, want string }{
		{"", "senders[0].access_token_file: "},
		{"two\nlines\n", "one token on one line"},
	} {
		path := secretFile(t, "tok", tc.content)
		s := Sender{Name: "a", Homeserver: "https://a", AccessTokenFile: path}
		if _, err := s.Profile("senders[0]"); err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "lines") {
			t.Errorf("%q: %v, want %q and no content", tc.content, err, tc.want)
		}
	}
	missing := Config{Senders: []Sender{{Name: "a", Homeserver: "https://a", AccessTokenFile: secretFile(t, "ok", "t")},
		{Name: "b", Homeserver: "https://b", AccessTokenFile: "/nope",
			IdentityServers: []IdentityServer{{Host: "vector.im", TokenFile: filepath.Join(dir, "missing")}}}}}
	missing.Senders[1].AccessTokenFile = missing.Senders[0].AccessTokenFile
	_, err := missing.Profiles()
	if !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "senders[1].identity_servers[0].token_file: ") {
		t.Fatalf("missing token file: %v", err)
	}
}

func TestRedactedRoundTrip(t *testing.T) {
	c := Config{Redis: Redis{URL: "redis://u:hunter2@h:6379"},
		Senders: []Sender{{Name: "env", Homeserver: "https://a", AccessToken: "inline-token",
			IdentityServers: []IdentityServer{{Host: "vector.im", Token: "inline-id-token"}}}}}
	out, err := c.Redacted().YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"hunter2", "inline-token", "inline-id-token"} {
		if strings.Contains(string(out), secret) {
			t.Fatalf("printed config shows %q:\n%s", secret, out)
		}
	}
	back, err := Parse("printed", out)
	if err != nil {
		t.Fatalf("the printed config does not parse: %v\n%s", err, out)
	}
	back = back.WithDefaults()
	if err := back.Validate(); err != nil || back.Senders[0].AccessTokenFile != InlineSecret ||
		back.Redis.URL != "redis://u:REDACTED@h:6379" || *back.Worker.MaxRetries != 3 {
		t.Fatalf("read back %+v (%v)\n%s", back, err, out)
	}
}

// TestExampleFile keeps docs/config.example.yaml valid: it parses strictly
// and validates (its token files are the operator's, not read here).
func TestExampleFile(t *testing.T) {
	c, err := Load(filepath.Join("..", "..", "docs", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := c.SenderNames(); !reflect.DeepEqual(got, []string{"community", "conference"}) {
		t.Fatalf("senders %v", got)
	}
	if s, _ := c.Sender("community"); len(s.IdentityServers) != 2 || s.Concurrency != 4 || !c.Worker.Scheduler {
		t.Fatalf("community %+v", s)
	}
}

func TestConnURL(t *testing.T) {
	pw := secretFile(t, "pw", "p@ss/word\n")
	for _, tc := range []struct {
		r    Redis
		want string
	}{
		{Redis{URL: "redis://h:6379"}, "redis://h:6379"},
		{Redis{URL: "rediss://h:6380/1", Username: "mx", PasswordFile: pw}, "rediss://mx:p%40ss%2Fword@h:6380/1"},
		{Redis{URL: "redis://h:6379", Username: "mx"}, "redis://mx@h:6379"},
		{Redis{Sentinel: Sentinel{Master: "mymaster", Addrs: []string{"s1:26379", "s2:26379"}}},
			"redis-sentinel://s1:26379,s2:26379?master=mymaster"},
	} {
		got, err := tc.r.ConnURL()
		if err != nil || got != tc.want {
			t.Errorf("%+v: %q (%v), want %q", tc.r, got, err, tc.want)
		}
		if strings.Contains(RedactURL(got), "word") {
			t.Errorf("RedactURL(%q) shows the password", got)
		}
	}
	if _, err := (Redis{URL: "redis://h", PasswordFile: "/nope"}).ConnURL(); err == nil || !strings.HasPrefix(err.Error(), "redis.password_file: ") {
		t.Errorf("missing password file: %v", err)
	}
}
