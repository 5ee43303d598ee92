package dendritetest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// setYAML replaces the value of the key at the dotted path (e.g.
// "client_api.rate_limiting.enabled") in a block-style YAML document as
// written by gopkg.in/yaml.v2 (what generate-config prints: two-space
// indents, sequences not indented under their key). The new value is
// written as JSON, which is valid YAML flow syntax, so any JSON-encodable
// value works and no quoting can go wrong. The key must exist exactly once
// at that path, else an error is returned: a Dendrite upgrade that renames a
// key fails loudly instead of leaving the default silently in place.
func setYAML(doc, path string, value any) (string, error) {
	js, err := json.Marshal(value)
	if err != nil {
		return "", err
	}
	lines := strings.Split(doc, "\n")
	keys := strings.Split(path, ".")
	lo, hi := 0, len(lines) // the block searched for keys[i]
	for depth, key := range keys {
		prefix := strings.Repeat("  ", depth) + key + ":"
		found := -1
		for i := lo; i < hi; i++ {
			l := lines[i]
			if strings.HasPrefix(l, prefix) && (len(l) == len(prefix) || l[len(prefix)] == ' ') {
				if found >= 0 {
					return "", fmt.Errorf("setYAML %s: key %q found twice", path, key)
				}
				found = i
			}
		}
		if found < 0 {
			return "", fmt.Errorf("setYAML %s: key %q not found", path, key)
		}
		lo, hi = found+1, blockEnd(lines, found, depth)
		if depth == len(keys)-1 {
			repl := prefix + " " + string(js)
			out := append(append(append([]string{}, lines[:found]...), repl), lines[hi:]...)
			return strings.Join(out, "\n"), nil
		}
	}
	panic("unreachable")
}

// blockEnd returns the index of the first line after the value of the key
// on line i at the given depth: the value is every following line indented
// deeper, or at the same indent but starting with "- " (a yaml.v2 sequence).
func blockEnd(lines []string, i, depth int) int {
	indent := strings.Repeat("  ", depth)
	for j := i + 1; j < len(lines); j++ {
		l := lines[j]
		if strings.HasPrefix(l, indent+"  ") || strings.HasPrefix(l, indent+"- ") {
			continue
		}
		return j
	}
	return len(lines)
}
