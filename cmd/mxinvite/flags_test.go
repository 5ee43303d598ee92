package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v3"
)

// flagInfo is one flag of one command, as the CLI defines it.
type flagInfo struct {
	path, name string
	flag       cli.Flag
	envVars    []string
}

// allFlags walks the command tree newApp builds.
func allFlags(t *testing.T) []flagInfo {
	t.Helper()
	var out []flagInfo
	walkCommands(newApp(io.Discard, io.Discard), func(path string, cmd *cli.Command) {
		for _, f := range cmd.Flags {
			fi := flagInfo{path: path, name: f.Names()[0], flag: f}
			if s, ok := f.(interface{ GetEnvVars() []string }); ok {
				fi.envVars = s.GetEnvVars()
			}
			out = append(out, fi)
		}
	})
	if len(out) < 50 {
		t.Fatalf("only %d flags found: the walk is broken", len(out))
	}
	return out
}

// oneLine checks an exit-2 refusal: one line on stderr, naming want.
func oneLine(t *testing.T, what string, r result, want string) {
	t.Helper()
	if r.code != exitUsage || !strings.Contains(r.stderr, want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("%s: exit %d, stderr %q; want 2 and one line naming %q", what, r.code, r.stderr, want)
	}
}

func TestUnknownCommandsAndStrayArgumentsExit2(t *testing.T) {
	oneLine(t, "mxinvite bogus", mxinvite(t, "bogus"), `unknown command "bogus"`)
	oneLine(t, "mxinvite schedule bogus", mxinvite(t, "schedule", "bogus"), `unknown command "schedule bogus"`)
	// Refused before anything is done: no Redis is reachable at port 1.
	oneLine(t, "status with a stray argument",
		mxinvite(t, "status", "--redis", "redis://127.0.0.1:1", "--campaign", "c", "spring"), `status: unexpected argument "spring"`)
	oneLine(t, "enqueue with a forgotten --file",
		mxinvite(t, "enqueue", "--room", "!r:x", "--campaign", "c", "list.csv"), `enqueue: unexpected argument "list.csv"`)
	oneLine(t, "schedule add with a stray argument",
		mxinvite(t, "schedule", "add", "x"), `schedule add: unexpected argument "x"`)
	if r := mxinvite(t, "help", "status"); r.code != 0 || !strings.Contains(r.stdout, "mxinvite status") {
		t.Errorf("help status: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
}

func TestVersion(t *testing.T) {
	r := mxinvite(t, "--version")
	if r.code != 0 || !regexp.MustCompile(`^mxinvite version \S+\n$`).MatchString(r.stdout) {
		t.Fatalf("--version: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
}

// outOfRange returns a value the flag's range refuses, or "" when the flag
// has no range.
func outOfRange(f cli.Flag) string {
	name := f.Names()[0]
	switch f.(type) {
	case *cli.IntFlag:
		if r, ok := intRanges[name]; ok {
			return fmt.Sprint(r.min - 1)
		}
	case *cli.DurationFlag:
		if r, ok := durationRanges[name]; ok {
			return (r.min - time.Millisecond).String()
		}
	case *cli.Float64Flag:
		if r, ok := floatRanges[name]; ok {
			if !math.IsInf(r.max, 1) {
				return fmt.Sprint(r.max + 0.5)
			}
			return fmt.Sprint(r.min - 1)
		}
	}
	return ""
}

// TestEveryNumericFlagIsRangeChecked: every Int, Duration and Float64 flag
// of every command has a range, and a value outside it is refused with exit
// 2 naming the flag, before anything is done.
func TestEveryNumericFlagIsRangeChecked(t *testing.T) {
	checked := 0
	for _, fi := range allFlags(t) {
		switch fi.flag.(type) {
		case *cli.StringFlag, *cli.StringSliceFlag, *cli.BoolFlag:
			continue
		case *cli.IntFlag, *cli.DurationFlag, *cli.Float64Flag:
		default:
			t.Errorf("%s --%s: flag type %T: give it a range in ranges.go and a case here", fi.path, fi.name, fi.flag)
			continue
		}
		bad := outOfRange(fi.flag)
		if bad == "" {
			t.Errorf("%s --%s has no range in ranges.go", fi.path, fi.name)
			continue
		}
		args := append(strings.Fields(fi.path), "--"+fi.name, bad)
		oneLine(t, strings.Join(args, " "), mxinvite(t, args...), "--"+fi.name)
		checked++
	}
	t.Logf("%d numeric flags checked", checked)
	// The ones the issue names, and a value from the environment.
	oneLine(t, "worker --concurrency 0", mxinvite(t, "worker", "--concurrency", "0"), "--concurrency")
	oneLine(t, "enqueue --concurrency 0", mxinvite(t, "enqueue", "--concurrency", "0"), "--concurrency")
	t.Setenv("MXINVITE_CONCURRENCY", "0")
	oneLine(t, "MXINVITE_CONCURRENCY=0 worker", mxinvite(t, "worker"), "MXINVITE_CONCURRENCY")
}

// readmeEnvSection is the README's part between the env markers.
func readmeEnvSection(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- env:begin -->")
	section, _, ok2 := strings.Cut(rest, "<!-- env:end -->")
	if !ok || !ok2 {
		t.Fatal("README has no <!-- env:begin --> … <!-- env:end --> section")
	}
	return section
}

// TestREADMEListsTheEnvironmentVariables compares README's "Environment
// variables" with the flags: the flags without a variable are exactly
// those the README lists, and every variable not named MXINVITE_<FLAG> is
// in the README's table of those.
func TestREADMEListsTheEnvironmentVariables(t *testing.T) {
	section := readmeEnvSection(t)
	code := regexp.MustCompile("`([^`]+)`")
	without := map[string]bool{} // "path --flag"
	everyBut := map[string]map[string]bool{}
	renamed := map[string]string{} // "path --flag" -> variable
	for line := range strings.SplitSeq(section, "\n") {
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		if len(cells) != 2 || !strings.HasPrefix(strings.TrimSpace(cells[0]), "`") {
			continue
		}
		first := code.FindStringSubmatch(cells[0])[1]
		second := code.FindAllStringSubmatch(cells[1], -1)
		switch {
		case strings.Contains(first, " --"): // the renamed table
			renamed[first] = second[0][1]
		case strings.Contains(cells[1], "every flag but"):
			everyBut[first] = map[string]bool{}
			for _, m := range second {
				everyBut[first][m[1]] = true
			}
		case strings.Contains(cells[1], "every flag"):
			everyBut[first] = map[string]bool{}
		default:
			for _, m := range second {
				without[first+" "+m[1]] = true
			}
		}
	}
	if len(without) == 0 || len(renamed) == 0 || len(everyBut) == 0 {
		t.Fatalf("README's env section did not parse: %d without, %d renamed, %d whole commands", len(without), len(renamed), len(everyBut))
	}
	listed := func(fi flagInfo) bool {
		if but, ok := everyBut[fi.path]; ok {
			return !but["--"+fi.name]
		}
		return without[fi.path+" --"+fi.name]
	}
	seen := map[string]bool{}
	for _, fi := range allFlags(t) {
		key := fi.path + " --" + fi.name
		seen[key] = true
		switch {
		case listed(fi) && len(fi.envVars) > 0:
			t.Errorf("%s has %v, but README lists it among the flags without a variable", key, fi.envVars)
		case !listed(fi) && len(fi.envVars) == 0:
			t.Errorf("%s has no variable, and README does not list it among those without one", key)
		case len(fi.envVars) > 1:
			t.Errorf("%s has several variables %v", key, fi.envVars)
		case len(fi.envVars) == 1 && fi.envVars[0] != envVarName(fi.name) && renamed[key] != fi.envVars[0]:
			t.Errorf("%s is set by %s, which README's table of other names does not say", key, fi.envVars[0])
		case len(fi.envVars) == 1 && renamed[key] != "" && renamed[key] != fi.envVars[0]:
			t.Errorf("%s is set by %s; README says %s", key, fi.envVars[0], renamed[key])
		}
	}
	for key := range without {
		if !seen[key] {
			t.Errorf("README lists %s, which is no flag", key)
		}
	}
	for key := range renamed {
		if !seen[key] {
			t.Errorf("README renames %s, which is no flag", key)
		}
	}
}

// One --json convention (README "Output for scripts"): every --json prints
// one JSON document — an object, or an array for lists — never one
// object per line.
func TestJSONConvention(t *testing.T) {
	n := 0
	walkCommands(newApp(io.Discard, io.Discard), func(path string, cmd *cli.Command) {
		for _, f := range cmd.Flags {
			if bf, ok := f.(*cli.BoolFlag); ok && bf.Name == "json" {
				n++
				if !strings.HasPrefix(bf.Usage, "print ") || !strings.Contains(bf.Usage, "one JSON ") || strings.Contains(bf.Usage, "per line") {
					t.Errorf("%s --json: usage %q does not say it prints one JSON document", path, bf.Usage)
				}
			}
		}
	})
	if n < 6 {
		t.Errorf("%d commands with --json, want at least 6", n)
	}
}

// The README's walk-through against the simulator writes its files under a
// directory .gitignore ignores (and removes it at the end): it leaves
// nothing untracked in the checkout.
func TestReadmeWalkThroughLeavesNothingUntracked(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	ignore, err := os.ReadFile(filepath.Join("..", "..", ".gitignore"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`--token-dir (\S+)`).FindAllStringSubmatch(string(readme), -1)
	if len(m) == 0 {
		t.Fatal("the README's walk-through has no --token-dir")
	}
	for _, d := range m {
		top := strings.SplitN(d[1], "/", 2)[0]
		if !slices.Contains(strings.Split(string(ignore), "\n"), "/"+top+"/") {
			t.Errorf("--token-dir %s: %s/ is not ignored by .gitignore, so the walk-through leaves it untracked", d[1], top)
		}
		if !strings.Contains(string(readme), "rm -r "+d[1]) {
			t.Errorf("--token-dir %s is not removed at the end of the walk-through", d[1])
		}
	}
}
