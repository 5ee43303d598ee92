package snapshot

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

// Format and Version identify the file format (see the package doc).
const (
	Format  = "mxinvite-redis-snapshot"
	Version = 1
)

// Snapshot is a set of Redis keys with their values and expiries.
type Snapshot struct {
	// Format is always [Format].
	Format string `json:"format"`
	// Version is the file format's version, [Version].
	Version int `json:"version"`
	// RedisVersion is the redis_version of the server that wrote the
	// payloads (RESTORE needs a server at least as new).
	RedisVersion string `json:"redis_version,omitempty"`
	// Note says what wrote the data (free text, for people).
	Note string `json:"note,omitempty"`
	// Patterns are the SCAN MATCH patterns that were dumped.
	Patterns []string `json:"patterns"`
	// Keys are the keys, sorted by name.
	Keys []Key `json:"keys"`
}

// Key is one Redis key.
type Key struct {
	// Key is the key's name (UTF-8).
	Key string `json:"key"`
	// Type is what TYPE answered: string, hash, list, set, zset, stream.
	Type string `json:"type"`
	// PTTLms is the time to live left when dumped, in milliseconds; 0
	// means no expiry.
	PTTLms int64 `json:"pttl_ms"`
	// Dump is the DUMP payload.
	Dump []byte `json:"dump"` // encoding/json writes []byte as standard base64
}

// Find returns the key named name, if the snapshot has it.
func (s Snapshot) Find(name string) (Key, bool) {
	i := sort.Search(len(s.Keys), func(i int) bool { return s.Keys[i].Key >= name })
	if i < len(s.Keys) && s.Keys[i].Key == name {
		return s.Keys[i], true
	}
	return Key{}, false
}

// Encode writes s as indented JSON, keys sorted by name.
func (s Snapshot) Encode(w io.Writer) error {
	s.Format, s.Version = Format, Version
	s.Keys = append([]Key(nil), s.Keys...)
	sort.Slice(s.Keys, func(i, j int) bool { return s.Keys[i].Key < s.Keys[j].Key })
	if err := s.validate(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", " ")
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// Decode reads a snapshot written by Encode, refusing another format or
// version, and entries that Load could not restore (naming the entry).
func Decode(r io.Reader) (Snapshot, error) {
	var s Snapshot
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		var b64 base64.CorruptInputError
		if errors.As(err, &b64) {
			return Snapshot{}, fmt.Errorf("snapshot: a \"dump\" field is not base64: %w", err)
		}
		return Snapshot{}, fmt.Errorf("snapshot: %w", err)
	}
	if s.Format != Format {
		return Snapshot{}, fmt.Errorf("snapshot: \"format\" is %q, want %q", s.Format, Format)
	}
	if s.Version != Version {
		return Snapshot{}, fmt.Errorf("snapshot: \"version\" is %d; this code reads version %d", s.Version, Version)
	}
	if err := s.validate(); err != nil {
		return Snapshot{}, err
	}
	return s, nil
}

// validate checks what Load relies on: names sorted and unique, a payload
// and a non-negative TTL for each.
func (s Snapshot) validate() error {
	for i, k := range s.Keys {
		switch {
		case k.Key == "":
			return fmt.Errorf("snapshot: keys[%d]: \"key\" is empty", i)
		case i > 0 && s.Keys[i-1].Key >= k.Key:
			return fmt.Errorf("snapshot: keys[%d] %q: not after %q (keys must be sorted and unique)", i, k.Key, s.Keys[i-1].Key)
		case len(k.Dump) == 0:
			return fmt.Errorf("snapshot: keys[%d] %q: \"dump\" is empty", i, k.Key)
		case k.PTTLms < 0:
			return fmt.Errorf("snapshot: keys[%d] %q: \"pttl_ms\" %d is negative", i, k.Key, k.PTTLms)
		}
	}
	return nil
}

// ReadFile decodes the snapshot in the file at path.
func ReadFile(path string) (Snapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		return Snapshot{}, err
	}
	defer f.Close()
	s, err := Decode(f)
	if err != nil {
		return Snapshot{}, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// WriteFile encodes s into the file at path (replacing it).
func (s Snapshot) WriteFile(path string) error {
	var b bytes.Buffer
	if err := s.Encode(&b); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
