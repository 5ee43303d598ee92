package composetest

import (
	"net"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/config"
	"github.com/mxinvite/mxinvite/internal/webguard"
)

// The services that run mxinvite (built from the Dockerfile).
func mxinviteServices(c composeFile) map[string]service {
	out := map[string]service{}
	for name, s := range c.Services {
		if s.Build != nil {
			out[name] = s
		}
	}
	return out
}

func TestDataVolumeIsWritable(t *testing.T) {
	c, _ := loadCompose(t)
	for name, s := range mxinviteServices(c) {
		i := slices.IndexFunc(s.Volumes, func(v string) bool { return strings.HasPrefix(strings.SplitN(v, ":", 3)[1], "/data") })
		if i < 0 {
			t.Errorf("%s mounts nothing at /data (where rejects and exports go)", name)
			continue
		}
		parts := strings.Split(s.Volumes[i], ":")
		if len(parts) > 2 && strings.Contains(parts[2], "ro") {
			t.Errorf("%s: %q is read-only", name, s.Volumes[i])
		}
		// A named volume takes the image's ownership of /data, which the
		// image's user can write; a host directory would keep the host's.
		if _, named := c.Volumes[parts[0]]; !named {
			t.Errorf("%s: %q is not a named volume of the file", name, s.Volumes[i])
		}
	}
}

func TestWorkerRunsTheScheduler(t *testing.T) {
	c, _ := loadCompose(t)
	w := c.Services["worker"]
	if len(w.Command) == 0 || w.Command[0] != "worker" || !slices.Contains(w.Command, "--scheduler") {
		t.Fatalf("worker command %q: want worker --scheduler", w.Command)
	}
	if w.StopGracePeriod == "" {
		t.Fatal("worker: no stop_grace_period: Docker kills it 10 s after SIGTERM")
	}
}

func TestHealthchecks(t *testing.T) {
	c, _ := loadCompose(t)
	r := c.Services["redis"]
	if r.Healthcheck == nil || !strings.Contains(strings.Join(r.Healthcheck.Test, " "), "redis-cli ping") {
		t.Errorf("redis healthcheck %+v: want redis-cli ping", r.Healthcheck)
	}
	w := c.Services["worker"]
	if w.Healthcheck == nil {
		t.Fatal("worker: no healthcheck")
	}
	test := w.Healthcheck.Test
	probe := test[len(test)-1]
	u, err := url.Parse(probe)
	if test[0] != "CMD" || err != nil || u.Path != "/readyz" {
		t.Fatalf("worker healthcheck %q: want CMD ... URL ending /readyz (the image has no shell)", test)
	}
	// The probe asks the address the worker serves.
	i := slices.Index(w.Command, "--http")
	if i < 0 || i+1 >= len(w.Command) {
		t.Fatalf("worker command %q: no --http ADDR", w.Command)
	}
	_, port, err := net.SplitHostPort(w.Command[i+1])
	if err != nil || port != u.Port() {
		t.Errorf("worker serves %q, the healthcheck asks %q", w.Command[i+1], probe)
	}
	// The worker starts: without a token its --http must be loopback (it
	// exits 2 otherwise, and the container restarts for ever).
	if err := webguard.CheckListen(w.Command[i+1], slices.Contains(w.Command, "--dashboard-token-file")); err != nil {
		t.Errorf("worker command %q: %v", w.Command, err)
	}
}

func TestStartOrder(t *testing.T) {
	c, _ := loadCompose(t)
	for name, s := range mxinviteServices(c) {
		if d, ok := s.DependsOn["redis"]; !ok || d.Condition != "service_healthy" {
			t.Errorf("%s depends_on %+v: want redis with condition service_healthy", name, s.DependsOn)
		}
	}
}

func TestRedisIsPrivateWithAPassword(t *testing.T) {
	c, text := loadCompose(t)
	r := c.Services["redis"]
	for _, p := range r.Ports {
		// Allowed: another port, on the host's loopback only.
		if !strings.HasPrefix(p, "127.0.0.1:") || strings.HasPrefix(p, "127.0.0.1:6379:") {
			t.Errorf("redis publishes %q on the host", p)
		}
	}
	cmd := strings.Join(append(r.Entrypoint, r.Command...), " ")
	if !strings.Contains(cmd, "requirepass") || !slices.Contains(r.Secrets, "redis_password") ||
		!strings.Contains(cmd, "/run/secrets/redis_password") {
		t.Errorf("redis command %q: want requirepass read from the redis_password secret", cmd)
	}
	if strings.Contains(text, "--requirepass") {
		t.Error("the password is on redis-server's command line (visible in ps)")
	}
	if r.Healthcheck == nil || !strings.Contains(strings.Join(r.Healthcheck.Test, " "), "REDISCLI_AUTH") {
		t.Errorf("redis healthcheck %+v does not authenticate", r.Healthcheck)
	}
	// The mxinvite services authenticate: their configuration names the
	// password file, mounted from the same secret.
	cfg := composeConfig(t, c)
	if cfg.Redis.PasswordFile != "/run/secrets/redis_password" {
		t.Errorf("the config's redis.password_file is %q", cfg.Redis.PasswordFile)
	}
	if u, err := url.Parse(cfg.Redis.URL); err != nil || u.Hostname() != "redis" {
		t.Errorf("the config's redis.url %q does not name the redis service", cfg.Redis.URL)
	}
}

// pinned: a version of at least major.minor.patch (any suffix), or a digest.
var pinned = regexp.MustCompile(`^[\w./-]+(:\d+\.\d+\.\d+[\w.-]*)?(@sha256:[0-9a-f]{64})?$`)

func isPinned(image string) bool {
	return image == "scratch" || (pinned.MatchString(image) && (strings.Contains(image, ":") || strings.Contains(image, "@")))
}

func TestImagesArePinned(t *testing.T) {
	c, _ := loadCompose(t)
	for name, s := range c.Services {
		if s.Build == nil && !isPinned(s.Image) {
			t.Errorf("%s: image %q is not pinned to a version", name, s.Image)
		}
	}
	stages := readDockerfile(t)
	for _, st := range stages {
		if !isPinned(st.from) {
			t.Errorf("Dockerfile: FROM %q is not pinned to a version", st.from)
		}
	}
	// The Go toolchain stage names its Debian release too.
	if !regexp.MustCompile(`^golang:\d+\.\d+\.\d+-(bookworm|trixie|forky)$`).MatchString(stages[0].from) {
		t.Errorf("Dockerfile: build stage FROM %q: want golang:X.Y.Z-<debian release>", stages[0].from)
	}
	for _, bad := range []string{"latest", "7", "7.4-alpine"} {
		if isPinned("redis:" + bad) {
			t.Fatalf("the pin check accepts redis:%s", bad)
		}
	}
}

func TestImageRunsAsAnUnprivilegedUser(t *testing.T) {
	stages := readDockerfile(t)
	user := stages[len(stages)-1].user
	uid, _, _ := strings.Cut(user, ":")
	if user == "" || uid == "0" || uid == "root" {
		t.Fatalf("Dockerfile: the image runs as %q; want a non-root USER", user)
	}
	c, text := loadCompose(t)
	for name, s := range mxinviteServices(c) {
		if s.User != "" && s.User != user {
			t.Errorf("%s: user %q overrides the image's %q", name, s.User, user)
		}
	}
	// Compose bind-mounts file secrets with their host permissions (it
	// ignores uid/gid/mode for them): the instructions make them readable
	// by the image's user inside a directory only the operator can enter.
	for _, want := range []string{"install -d -m 0700 secrets", "chmod 0644 secrets/*"} {
		if !strings.Contains(text, want) {
			t.Errorf("docker-compose.yml does not say %q", want)
		}
	}
	for name, s := range c.Secrets {
		if dir := path.Dir(path.Clean(s.File)); dir != "secrets" {
			t.Errorf("secret %s: file %q is not in ./secrets", name, s.File)
		}
	}
}

func TestDockerignore(t *testing.T) {
	entries := lines(readFile(t, ".dockerignore"))
	for _, want := range []string{".git", "secrets", "data", "lists"} {
		if !slices.Contains(entries, want) {
			t.Errorf(".dockerignore lacks %q (entries %q)", want, entries)
		}
	}
	if ignored := lines(readFile(t, ".gitignore")); !slices.Contains(ignored, "/secrets/") {
		t.Errorf(".gitignore lacks /secrets/")
	}
}

// composeConfig is the mxinvite configuration the compose file mounts,
// parsed strictly and validated; its secret paths are mounted secrets.
func composeConfig(t *testing.T, c composeFile) config.Config {
	t.Helper()
	w := c.Services["worker"]
	target := w.Environment["MXINVITE_CONFIG"]
	i := slices.IndexFunc(w.Configs, func(m mount) bool { return m.Target == target })
	if target == "" || i < 0 {
		t.Fatalf("worker: MXINVITE_CONFIG %q is not a mounted config (%+v)", target, w.Configs)
	}
	src, ok := c.Configs[w.Configs[i].Source]
	if !ok {
		t.Fatalf("config %q is not defined", w.Configs[i].Source)
	}
	raw, err := config.Load(path.Join(root, src.File))
	if err != nil {
		t.Fatal(err)
	}
	cfg := raw.WithDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("%s: %v", src.File, err)
	}
	mounted := func(p string) bool {
		return strings.HasPrefix(p, "/run/secrets/") && slices.Contains(w.Secrets, strings.TrimPrefix(p, "/run/secrets/"))
	}
	files := []string{cfg.Redis.PasswordFile}
	for _, s := range cfg.Senders {
		files = append(files, s.AccessTokenFile)
		for _, is := range s.IdentityServers {
			if is.TokenFile != "" {
				files = append(files, is.TokenFile)
			}
		}
	}
	for _, f := range files {
		if !mounted(f) {
			t.Errorf("%s names %q, which is not a secret the worker mounts", src.File, f)
		}
	}
	grace, err := time.ParseDuration(w.StopGracePeriod)
	if err != nil || grace <= cfg.Worker.ShutdownTimeout {
		t.Errorf("worker stop_grace_period %q must exceed worker.shutdown_timeout %s (%v)", w.StopGracePeriod, cfg.Worker.ShutdownTimeout, err)
	}
	return cfg
}

func TestComposeConfigIsValid(t *testing.T) {
	c, _ := loadCompose(t)
	composeConfig(t, c)
}
