package snapshot

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/redistest"
)

// fill writes one key of every type under prefix, one of them expiring.
func fill(t *testing.T, ctx context.Context, rdb *redis.Client, prefix string) {
	t.Helper()
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, prefix+"string", "v\x00binary\xff", 0)
		p.HSet(ctx, prefix+"hash", "state", "queued", "attempts", "2")
		p.RPush(ctx, prefix+"list", "a", "b", "c")
		p.SAdd(ctx, prefix+"set", "x", "y")
		p.ZAdd(ctx, prefix+"zset", redis.Z{Score: 1.5, Member: "m1"}, redis.Z{Score: 2, Member: "m2"})
		p.XAdd(ctx, &redis.XAddArgs{Stream: prefix + "stream", ID: "1-1", Values: []any{"k", "v"}})
		p.Set(ctx, prefix+"expiring", "soon", time.Hour)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// values reads the value of every key of s, in a canonical text form per
// type. (DUMP payloads cannot be compared: a set or hash kept as a hash
// table may serialise its members in another order after RESTORE.)
func values(t *testing.T, ctx context.Context, rdb *redis.Client, s Snapshot) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, k := range s.Keys {
		var v any
		var err error
		switch k.Type {
		case "string":
			v, err = rdb.Get(ctx, k.Key).Result()
		case "hash":
			v, err = rdb.HGetAll(ctx, k.Key).Result() // fmt prints maps sorted
		case "list":
			v, err = rdb.LRange(ctx, k.Key, 0, -1).Result()
		case "set":
			var m []string
			m, err = rdb.SMembers(ctx, k.Key).Result()
			slices.Sort(m)
			v = m
		case "zset":
			v, err = rdb.ZRangeWithScores(ctx, k.Key, 0, -1).Result()
		case "stream":
			v, err = rdb.XRange(ctx, k.Key, "-", "+").Result()
		default:
			t.Fatalf("%s: type %q", k.Key, k.Type)
		}
		if err != nil {
			t.Fatalf("reading %s: %v", k.Key, err)
		}
		out[k.Key] = fmt.Sprint(v)
	}
	return out
}

func TestDumpEncodeDecodeLoadRestoresEveryType(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	prefix := redistest.Unique(t, "snap") + ":"
	fill(t, ctx, rdb, prefix)
	rdb.Set(ctx, redistest.Unique(t, "other"), "not matched", 0)

	s, err := Dump(ctx, rdb, prefix+"*")
	if err != nil {
		t.Fatal(err)
	}
	wantTypes := map[string]string{"string": "string", "hash": "hash", "list": "list", "set": "set",
		"zset": "zset", "stream": "stream", "expiring": "string"}
	if len(s.Keys) != len(wantTypes) {
		t.Fatalf("dumped %d keys, want %d (only those matching the pattern): %+v", len(s.Keys), len(wantTypes), s.Keys)
	}
	for _, k := range s.Keys {
		if want := wantTypes[strings.TrimPrefix(k.Key, prefix)]; k.Type != want {
			t.Errorf("%s: type %q, want %q", k.Key, k.Type, want)
		}
	}
	if k, _ := s.Find(prefix + "expiring"); k.PTTLms <= 0 || k.PTTLms > time.Hour.Milliseconds() {
		t.Errorf("expiring key: pttl_ms %d, want in (0, 1h]", k.PTTLms)
	}
	if k, _ := s.Find(prefix + "hash"); k.PTTLms != 0 {
		t.Errorf("persistent key: pttl_ms %d, want 0", k.PTTLms)
	}
	before := values(t, ctx, rdb, s)

	var file bytes.Buffer
	if err := s.Encode(&file); err != nil {
		t.Fatal(err)
	}
	back, err := Decode(bytes.NewReader(file.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range s.Keys {
		rdb.Del(ctx, k.Key)
	}
	rdb.Set(ctx, prefix+"hash", "a string in the way", 0) // RESTORE ... REPLACE overwrites it
	if err := Load(ctx, rdb, back); err != nil {
		t.Fatal(err)
	}
	after := values(t, ctx, rdb, s)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s: restored %s, dumped %s", k, after[k], v)
		}
	}
	if got := rdb.HGet(ctx, prefix+"hash", "state").Val(); got != "queued" {
		t.Errorf("restored hash field state = %q, want queued", got)
	}
	if ttl := rdb.PTTL(ctx, prefix+"expiring").Val(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("restored expiring key has TTL %v, want in (0, 1h]", ttl)
	}
	if ttl := rdb.PTTL(ctx, prefix+"hash").Val(); ttl != -1 {
		t.Errorf("restored persistent key has TTL %v, want none (-1)", ttl)
	}
}

func TestEncodeIsDeterministicAndSorted(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	prefix := redistest.Unique(t, "snap") + ":"
	for _, n := range []string{"b", "a", "c:1", "c:0"} {
		rdb.HSet(ctx, prefix+n, "f", n)
	}
	encode := func(patterns ...string) string {
		s, err := Dump(ctx, rdb, patterns...)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := s.Encode(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	one := encode(prefix + "*")
	// Overlapping patterns dump each key once; only "patterns" differs.
	two := strings.Replace(encode(prefix+"c:*", prefix+"*"), `"`+prefix+`c:*",`+"\n  ", "", 1)
	if one != two {
		t.Errorf("two dumps of the same data differ:\n%s\n---\n%s", one, two)
	}
	s, _ := Decode(strings.NewReader(one))
	var names []string
	for _, k := range s.Keys {
		names = append(names, strings.TrimPrefix(k.Key, prefix))
	}
	if got := strings.Join(names, " "); got != "a b c:0 c:1" {
		t.Errorf("keys in the file: %s, want a b c:0 c:1", got)
	}
}

func TestDecodeRefusesWhatLoadCannotUse(t *testing.T) {
	const ok = `{"format":"mxinvite-redis-snapshot","version":1,"patterns":["p*"],"keys":[%s]}`
	for name, tc := range map[string]struct{ file, want string }{
		"other format":   {`{"format":"x","version":1}`, `"format" is "x"`},
		"newer version":  {`{"format":"mxinvite-redis-snapshot","version":2}`, `"version" is 2`},
		"unknown field":  {`{"format":"mxinvite-redis-snapshot","version":1,"extra":1}`, `unknown field "extra"`},
		"not base64":     {strings.Replace(ok, "%s", `{"key":"k","type":"string","pttl_ms":0,"dump":"%%%"}`, 1), `"dump" field is not base64`},
		"empty dump":     {strings.Replace(ok, "%s", `{"key":"k","type":"string","pttl_ms":0,"dump":""}`, 1), `keys[0] "k": "dump" is empty`},
		"negative ttl":   {strings.Replace(ok, "%s", `{"key":"k","type":"string","pttl_ms":-5,"dump":"AA=="}`, 1), `"pttl_ms" -5 is negative`},
		"unsorted":       {strings.Replace(ok, "%s", `{"key":"b","dump":"AA=="},{"key":"a","dump":"AA=="}`, 1), `keys[1] "a": not after "b"`},
		"duplicate":      {strings.Replace(ok, "%s", `{"key":"a","dump":"AA=="},{"key":"a","dump":"AA=="}`, 1), `keys[1] "a": not after "a"`},
		"empty key name": {strings.Replace(ok, "%s", `{"key":"","dump":"AA=="}`, 1), `keys[0]: "key" is empty`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tc.file))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Decode: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestLoadNamesTheKeyRedisRefuses(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	prefix := redistest.Unique(t, "snap") + ":"
	rdb.HSet(ctx, prefix+"good", "f", "v")
	rdb.HSet(ctx, prefix+"bad", "f", "v")
	s, err := Dump(ctx, rdb, prefix+"*")
	if err != nil {
		t.Fatal(err)
	}
	bad := s.Keys[0] // "bad" sorts first
	bad.Dump = append([]byte(nil), bad.Dump...)
	bad.Dump[len(bad.Dump)-1] ^= 0xff // breaks the payload's CRC64
	s.Keys[0] = bad
	err = Load(ctx, rdb, s)
	if err == nil || !strings.Contains(err.Error(), `RESTORE "`+prefix+`bad"`) {
		t.Fatalf("Load of a corrupted payload: %v, want an error naming %sbad", err, prefix)
	}
}

func TestDumpNeedsAPattern(t *testing.T) {
	if _, err := Dump(context.Background(), redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})); err == nil {
		t.Fatal("Dump without patterns: no error")
	}
}
