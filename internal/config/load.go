package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxFileBytes bounds what Load reads: a configuration is a few kilobytes.
const maxFileBytes = 1 << 20

// ErrSyntax is what a FileError Is: the file is not a valid configuration
// document (bad YAML, unknown key, wrong type).
var ErrSyntax = errors.New("configuration file refused")

// FileError is a problem found while reading the file, with its line when
// the YAML decoder knows it.
type FileError struct {
	Path string
	// Problems are the decoder's findings, each "line N: ..." where known.
	Problems []string
}

func (e *FileError) Error() string {
	return e.Path + ": " + strings.Join(e.Problems, "; ")
}

func (e *FileError) Is(target error) bool { return target == ErrSyntax }

// Load reads and strictly decodes the file at path, without applying
// defaults or validating (see WithDefaults and Validate).
func Load(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return Config{}, err
	}
	if len(data) > maxFileBytes {
		return Config{}, &FileError{Path: path, Problems: []string{fmt.Sprintf("larger than %d bytes", maxFileBytes)}}
	}
	return Parse(path, data)
}

// Parse strictly decodes data (named name in errors): an unknown key, a
// repeated key, a value of the wrong type or a second document is an error.
// An empty document is an empty Config.
func Parse(name string, data []byte) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(&c)
	if errors.Is(err, io.EOF) {
		return Config{}, nil
	}
	if err != nil {
		return Config{}, &FileError{Path: name, Problems: problems(err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Config{}, &FileError{Path: name, Problems: []string{fmt.Sprintf("line %d: a second YAML document; keep one", extra.Line)}}
	}
	return c, nil
}

// unknownField matches yaml's "line 3: field concurency not found in type config.Worker".
var unknownField = regexp.MustCompile(`^line (\d+): field (\S+) not found in type \S+$`)

// problems turns the decoder's error into one-line findings, in words an
// operator knows (keys, not Go types).
func problems(err error) []string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	out := make([]string, 0, len(te.Errors))
	for _, p := range te.Errors {
		if m := unknownField.FindStringSubmatch(p); m != nil {
			p = fmt.Sprintf("line %s: unknown key %q", m[1], m[2])
		}
		p = strings.ReplaceAll(p, "time.Duration", "a duration such as 30s")
		out = append(out, p)
	}
	return out
}
