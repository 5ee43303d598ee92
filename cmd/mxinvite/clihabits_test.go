package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// 21.8: an unknown command is named as one, with the closest command, at
// every level; an unknown flag gets the closest flag of its command.
func TestUnknownCommandsAndFlagsSuggest(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"statsu", "--campaign", "x"}, `unknown command "statsu", did you mean "status"?`},
		{[]string{"enqeue"}, `unknown command "enqeue", did you mean "enqueue"?`},
		{[]string{"schedule", "ad", "--campaign", "x"}, `unknown command "schedule ad", did you mean "schedule add"? (mxinvite schedule --help`},
		{[]string{"frobnicate"}, `unknown command "frobnicate" (mxinvite --help lists the commands)`},
		{[]string{"status", "--campain", "x"}, "unknown flag --campain, did you mean --campaign? (mxinvite status --help lists its flags)"},
		{[]string{"enqueue", "--dryrun"}, "unknown flag --dryrun, did you mean --dry-run?"},
	} {
		r := mxinvite(t, tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and one line saying %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	// A known command still runs, and help is not a typo.
	if r := mxinvite(t, "help", "status"); r.code != 0 || !strings.Contains(r.stdout, "campaign") {
		t.Errorf("help status: exit %d %s", r.code, r.stderr)
	}
}

// 21.8: `mxinvite completion bash|zsh|fish` prints a script that calls
// mxinvite back, and the call back lists the commands.
func TestShellCompletion(t *testing.T) {
	for shell, want := range map[string]string{"bash": "complete ", "zsh": "compdef", "fish": "complete -c mxinvite"} {
		r := mxinvite(t, "completion", shell)
		if r.code != 0 || !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "--generate-shell-completion") {
			t.Errorf("completion %s: exit %d, %d bytes without %q: %s", shell, r.code, len(r.stdout), want, r.stderr)
		}
	}
	// (The root's own call back reads os.Args, the test binary's here.)
	if r := mxinvite(t, "schedule", "--generate-shell-completion"); r.code != 0 || !strings.Contains(r.stdout, "add:") {
		t.Errorf("completion of schedule's commands: exit %d %q", r.code, r.stdout)
	}
	if r := mxinvite(t, "enqueue", "--cam", "--generate-shell-completion"); !strings.Contains(r.stdout, "--campaign") {
		t.Errorf("completion of enqueue's flags: %q %q", r.stdout, r.stderr)
	}
	if r := mxinvite(t, "completion", "tcsh"); r.code == 0 {
		t.Errorf("completion tcsh: exit 0: %q", r.stdout)
	}
}

// 21.8: the man page is generated from the command definitions; the one in
// docs/ must be what `make man` writes now.
func TestManPageIsUpToDate(t *testing.T) {
	r := mxinvite(t, "man")
	if r.code != 0 {
		t.Fatalf("man: exit %d %s", r.code, r.stderr)
	}
	for _, want := range []string{".TH MXINVITE 1", `.SS "mxinvite enqueue"`, `\fB\-\-region\fR`, "env MXINVITE_REGION",
		`.SS "mxinvite schedule add"`, `.SS "mxinvite completion"`, ".SH EXIT STATUS"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the man page lacks %q", want)
		}
	}
	if again := mxinvite(t, "man"); again.stdout != r.stdout {
		t.Error("two renderings differ: the man page is not reproducible")
	}
	committed, err := os.ReadFile(filepath.Join("..", "..", "docs", "mxinvite.1"))
	if err != nil || string(committed) != r.stdout {
		t.Errorf("docs/mxinvite.1 is not what the commands generate (%v): run make man", err)
	}
}
