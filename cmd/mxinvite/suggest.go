package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/urfave/cli/v3"
)

// checkCommandNames names an unknown command as such before urfave parses
// the line: urfave takes an unknown word for a positional argument of the
// command above it and then fails on the first flag after it ("flag
// provided but not defined: -campaign" for `mxinvite statsu --campaign x`).
// It follows the words before the first flag down the command tree.
func checkCommandNames(root *cli.Command, args []string) error {
	if slices.Contains(args, "--generate-shell-completion") {
		return nil // a completion script asking: it must get candidates, not an error
	}
	c, path, typed := root, root.Name, ""
	for _, a := range args {
		if strings.HasPrefix(a, "-") || len(c.Commands) == 0 {
			return nil
		}
		if a == "help" || a == "h" || (c == root && a == "completion") {
			return nil
		}
		sub := c.Command(a)
		if sub == nil {
			msg := fmt.Sprintf("unknown command %q", typed+a)
			if s := closest(a, commandNames(c)); s != "" {
				msg += fmt.Sprintf(", did you mean %q?", typed+s)
			}
			return usageErr("%s (%s --help lists the commands)", msg, path)
		}
		c, path, typed = sub, path+" "+sub.Name, typed+sub.Name+" "
	}
	return nil
}

func commandNames(c *cli.Command) []string {
	var names []string
	for _, sub := range c.Commands {
		if !sub.Hidden {
			names = append(names, sub.Names()...)
		}
	}
	return names
}

// unknownFlag is urfave's message for a flag the command does not define.
var unknownFlag = regexp.MustCompile(`^flag provided but not defined: -+(\S+)$`)

// suggestFlag rewrites urfave's unknown-flag error with the closest flag the
// command has: "unknown flag --campain, did you mean --campaign?".
func suggestFlag(cmd *cli.Command, err error) error {
	m := unknownFlag.FindStringSubmatch(err.Error())
	if m == nil || cmd == nil {
		return err
	}
	var names []string
	for _, f := range cmd.Flags {
		names = append(names, f.Names()...)
	}
	msg := "unknown flag --" + m[1]
	if s := closest(m[1], names); s != "" {
		msg += ", did you mean --" + s + "?"
	}
	return fmt.Errorf("%s (%s --help lists its flags)", msg, cmd.FullName())
}

// closest returns the candidate nearest to word by edit distance (adjacent
// transpositions count as one edit, the commonest typo), or "" when none is
// close enough to be what was meant: at most a third of the word's length.
func closest(word string, candidates []string) string {
	best, bestDist := "", -1
	for _, c := range slices.Compact(slices.Sorted(slices.Values(candidates))) {
		d := editDistance(strings.ToLower(word), strings.ToLower(c))
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	if bestDist < 0 || bestDist > max(1, len(word)/3) {
		return ""
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
