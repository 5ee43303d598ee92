package archtest

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/mxinvite/mxinvite"

// pkg is one package of the module as its non-test files say.
type pkg struct {
	dir     string          // relative to the module root, "/" separated
	imports map[string]bool // import paths
	lines   int             // lines of non-test Go code
	files   map[string]string
}

// loadPackages parses every non-test Go file of the module.
func loadPackages(t *testing.T) map[string]*pkg {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*pkg{}
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "testdata" || strings.HasPrefix(name, ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, src, parser.ImportsOnly)
		if err != nil {
			return err
		}
		p := out[rel]
		if p == nil {
			p = &pkg{dir: rel, imports: map[string]bool{}, files: map[string]string{}}
			out[rel] = p
		}
		for _, imp := range f.Imports {
			p.imports[strings.Trim(imp.Path.Value, `"`)] = true
		}
		p.lines += strings.Count(string(src), "\n")
		p.files[filepath.Base(path)] = string(src)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The core packages import only what is below them: tasks and matrix
// nothing of the module, record only them, rdb record and them, and the
// executor (worker) and the producer only those, plus, for the worker, the
// leaves it lends itself to: what it tells its observers (observe), how
// asynq's logs reach its logger (asynqlog), who joined (track, which
// uses its senders), the turns of a sender's invites (turns), its token
// files (tokenfile) and its asynq servers, one per lane (lanes).
func TestImportsPointDown(t *testing.T) {
	below := map[string][]string{
		"tasks":              {},
		"matrix":             {},
		"internal/record":    {"tasks", "matrix"},
		"internal/rdb":       {"internal/record", "tasks", "matrix"},
		"internal/producer":  {"internal/rdb", "internal/record", "tasks", "matrix"},
		"internal/observe":   {"matrix"},
		"internal/asynqlog":  {},
		"internal/track":     {"internal/rdb", "internal/record", "tasks", "matrix"},
		"internal/turns":     {"tasks"},
		"internal/tokenfile": {},
		"internal/lanes":     {"tasks"},
		"worker": {"internal/rdb", "internal/record", "tasks", "matrix",
			"internal/observe", "internal/asynqlog", "internal/track", "internal/turns", "internal/tokenfile", "internal/lanes"},
	}
	pkgs := loadPackages(t)
	for dir, allowed := range below {
		p := pkgs[dir]
		if p == nil {
			t.Errorf("package %s not found", dir)
			continue
		}
		for imp := range p.imports {
			rel, ok := strings.CutPrefix(imp, module+"/")
			if ok && !slices.Contains(allowed, rel) {
				t.Errorf("%s imports %s: only %v are below it", dir, rel, allowed)
			}
		}
	}
	// Nothing but the binary imports cmd; nothing below the executor
	// imports it.
	for dir, p := range pkgs {
		for imp := range p.imports {
			if strings.HasPrefix(imp, module+"/cmd") {
				t.Errorf("%s imports the binary %s", dir, imp)
			}
		}
	}
}

// One package owns Redis: only it, connection setup, test helpers,
// benchmarks and the binary's wiring import go-redis, and only it makes
// Lua scripts.
func TestOnePackageOwnsRedis(t *testing.T) {
	mayImport := []string{
		"internal/rdb",                        // the owner
		"internal/redisconn",                  // connection setup (URLs, TLS, Sentinel)
		"internal/redisserver",                // test helper: runs redis-server
		"internal/redistest",                  // test helper
		"internal/snapshot",                   // test helper: dumps and restores keys
		"internal/snapshot/cmd/snapshot-dump", // its command (writes testdata/snapshots)
		"internal/bench",                      // benchmarks
		"cmd/mxinvite",                        // the binary's wiring
	}
	for dir, p := range loadPackages(t) {
		if p.imports["github.com/redis/go-redis/v9"] && !slices.Contains(mayImport, dir) {
			t.Errorf("%s imports go-redis: Redis belongs to internal/rdb", dir)
		}
		if dir == "internal/rdb" {
			continue
		}
		for name, src := range p.files {
			if strings.Contains(src, "NewScript(") {
				t.Errorf("%s/%s makes a Lua script: scripts belong to internal/rdb", dir, name)
			}
		}
	}
}

// worker/ is the executor, no more: about 2.6k lines at most.
func TestWorkerIsTheExecutor(t *testing.T) {
	p := loadPackages(t)["worker"]
	if p == nil {
		t.Fatal("no worker package")
	}
	if p.lines > 2600 {
		t.Errorf("worker/ has %d lines of non-test code; the executor should stay under 2,600 (move what is not execution out)", p.lines)
	}
	t.Logf("worker/: %d lines in %d files", p.lines, len(p.files))
}
