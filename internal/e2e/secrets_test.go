package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/matrix"
)

// TestNoSecretsInRedisOrLogs runs a small campaign through two worker
// processes (one reading its tokens from files, one from MXINVITE_* variables)
// at --log-level debug, and the invite, status and results commands, against
// a homeserver that echoes both tokens back in its error messages. Then it
// reads every key and every value in Redis, of every type, and everything
// every process wrote: neither token may appear anywhere.
func TestNoSecretsInRedisOrLogs(t *testing.T) {
	skipShort(t)
	t.Parallel()
	accessToken := "e2eAccessTok_" + randomHex(t)
	idToken := "e2eIdentityTok_" + randomHex(t)
	echo := "token " + accessToken + " rejected by identity server with " + idToken
	e := newCampaignEnv(t, redistest.StartOwned(t, redistest.Options{}), simulator.Config{
		Users:          []simulator.User{{AccessToken: accessToken, UserID: simulator.DefaultUserID}},
		IDAccessTokens: []string{idToken},
		Rules: []simulator.Rule{
			// Final failures whose messages carry both tokens.
			{Pattern: "*@forbidden.example", Status: 403, ErrCode: "M_FORBIDDEN", Error: echo},
			{Pattern: "*@bad.example", Status: 400, ErrCode: "M_INVALID_PARAM", Error: echo},
			// Retried ones: ambiguous 500 (re-check, retry), and a 429.
			{Pattern: "*@flaky.example", Status: 500, ErrCode: "M_UNKNOWN", Error: echo, Times: 1},
			{Pattern: "*@limited.example", Status: 429, ErrCode: "M_LIMIT_EXCEEDED", Error: echo, Times: 1},
		},
	})
	const campaign = "secrets"
	var addresses []string
	for i := range 12 {
		addresses = append(addresses, address(i))
	}
	addresses = append(addresses, "eve@forbidden.example", "mallory@bad.example",
		"flo@flaky.example", "lim@limited.example")

	// Everything each process writes goes to files in e.logDir.
	run := func(name string, args ...string) []byte {
		t.Helper()
		code, stdout, stderr := runCommand(t, e.logDir, name, nil, args...)
		if code != 0 {
			t.Fatalf("%s: exit code %d\nstdout: %s\nstderr: %s", name, code, stdout, stderr)
		}
		return stdout
	}
	for i, a := range addresses {
		run("invite-"+strconv.Itoa(i), append([]string{"invite"}, append(e.redisArgs(),
			"--campaign", campaign, "--room", simulator.DefaultRoomID, "--address", a)...)...)
	}
	// One invite for later, so a task payload is still in Redis at the scan.
	run("invite-later", append([]string{"invite"}, append(e.redisArgs(),
		"--campaign", campaign, "--room", simulator.DefaultRoomID, "--address", "later@e2e.example", "--in", "1h")...)...)

	flags := []string{"--log-level", "debug", "--concurrency", "4", "--retry-waits", "100ms,200ms",
		"--timeouts", "5s", "--max-retries", "3"}
	fromFiles := e.startWorker("worker-token-files", flags...)
	// The second worker gets its tokens from the environment instead.
	var envArgs []string
	for all, i := e.workerArgs(flags...), 0; i < len(all); i++ {
		if all[i] == "--access-token-file" || all[i] == "--id-access-token-file" {
			i++ // drop the flag and its value
			continue
		}
		envArgs = append(envArgs, all[i])
	}
	fromEnv := startProcess(t, e.logDir, "worker-token-env",
		[]string{"MXINVITE_ACCESS_TOKEN=" + accessToken, "MXINVITE_ID_ACCESS_TOKEN=" + idToken}, envArgs...)

	waitFor(t, "every invite but the scheduled one to be final", time.Minute, 50*time.Millisecond, func() bool {
		c, ok := e.tryCounts(campaign)
		return ok && c.States[record.StateDone] == len(addresses)
	})
	run("status", append([]string{"status"}, append(e.redisArgs(), "--campaign", campaign)...)...)
	run("status-json", append([]string{"status"}, append(e.redisArgs(), "--campaign", campaign, "--json")...)...)
	results := run("results-jsonl", append([]string{"results"}, append(e.redisArgs(), "--campaign", campaign)...)...)
	run("results-csv", append([]string{"results"}, append(e.redisArgs(), "--campaign", campaign, "--format", "csv")...)...)
	run("results-failed", append([]string{"results"}, append(e.redisArgs(), "--campaign", campaign, "--failed")...)...)

	// The campaign really exercised the tokens: accepted invites (valid
	// tokens), the echoing rules fired, and the records say so, redacted.
	st := e.sim.Stats()
	c := e.counts(campaign)
	if st.Accepted < 14 || c.Statuses[matrix.Success.String()] != 14 ||
		c.Statuses[matrix.ContentAccessError.String()] != 1 || c.Statuses[matrix.IncorrectRequest.String()] != 1 {
		t.Fatalf("simulator accepted %d; campaign counters %+v; want 14 Success, 1 ContentAccessError, 1 IncorrectRequest", st.Accepted, c)
	}
	if !bytes.Contains(results, []byte("token (REDACTED) rejected by identity server with (REDACTED)")) {
		t.Errorf("the results do not show the echoed message, redacted; the server's echo was not exercised:\n%s", results)
	}

	// Scan Redis while the workers still run (their server state is in
	// Redis too), then stop them so their shutdown logs are included.
	scan := scanRedis(t, e.rdb)
	for _, p := range []*process{fromFiles, fromEnv} {
		if code := p.terminate(30 * time.Second); code != 0 {
			t.Errorf("%s exited %d after SIGTERM, want 0", p.name, code)
		}
	}
	logs := readDir(t, e.logDir)

	hits := 0
	for name, secret := range map[string]string{"access token": accessToken, "identity token": idToken} {
		for _, key := range scan.find(secret) {
			hits++
			t.Errorf("the %s is in Redis: %s", name, key)
		}
		for file, content := range logs.files {
			if i := bytes.Index(content, []byte(secret)); i >= 0 {
				hits++
				t.Errorf("the %s is in %s: …%s…", name, file, content[max(0, i-80):min(len(content), i+len(secret)+40)])
			}
		}
	}
	t.Logf("secrets scan: %d Redis keys (%s), %d bytes of keys and values; %d output files of %d processes, %d bytes; %d token hits",
		scan.keys, scan.typesSeen(), scan.bytes, len(logs.files), len(logs.files)/2, logs.bytes, hits)

	// The scans read enough to mean something: every invite's record, the
	// counters, index, stream and asynq's keys; debug logs of every call.
	if scan.keys < len(addresses)+8 || scan.bytes < 10_000 || scan.types["stream"] == 0 || scan.types["hash"] == 0 ||
		scan.types["zset"] == 0 || scan.types["set"] == 0 {
		t.Errorf("the Redis scan read only %d keys (%s), %d bytes", scan.keys, scan.typesSeen(), scan.bytes)
	}
	if logs.bytes < 10_000 || !bytes.Contains(logs.files["worker-token-files.stderr"], []byte(`"matrix call"`)) ||
		!bytes.Contains(logs.files["worker-token-env.stderr"], []byte(`"matrix call"`)) {
		t.Errorf("the logs hold only %d bytes, or no debug line of a matrix call", logs.bytes)
	}
}

func randomHex(t *testing.T) string {
	t.Helper()
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// redisScan is everything read from Redis: each key with the content of
// its value, whatever its type.
type redisScan struct {
	keys  int
	bytes int
	types map[string]int
	data  map[string][]byte // key -> its value's content, concatenated
}

func (s redisScan) typesSeen() string {
	out := ""
	for _, typ := range []string{"string", "hash", "list", "set", "zset", "stream"} {
		if s.types[typ] > 0 {
			out += fmt.Sprintf("%s %d, ", typ, s.types[typ])
		}
	}
	return out[:max(0, len(out)-2)]
}

// find lists the keys whose name or value contains secret.
func (s redisScan) find(secret string) []string {
	var hits []string
	for key, value := range s.data {
		if bytes.Contains([]byte(key), []byte(secret)) || bytes.Contains(value, []byte(secret)) {
			hits = append(hits, key)
		}
	}
	return hits
}

// scanRedis SCANs every key of the (test-owned) Redis and reads its whole
// value: string, hash, list, set, zset with scores, stream entries. A type
// it cannot read fails the test, so nothing is skipped silently.
func scanRedis(t *testing.T, rdb *redis.Client) redisScan {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := redisScan{types: map[string]int{}, data: map[string][]byte{}}
	var cursor uint64
	for range 10_000 { // bounded: a few hundred keys at most
		keys, next, err := rdb.Scan(ctx, cursor, "*", 1000).Result()
		if err != nil {
			t.Fatalf("SCAN: %v", err)
		}
		for _, key := range keys {
			if _, seen := s.data[key]; seen {
				continue // SCAN may return a key twice
			}
			typ, err := rdb.Type(ctx, key).Result()
			if err != nil {
				t.Fatalf("TYPE %s: %v", key, err)
			}
			var buf bytes.Buffer
			add := func(parts ...string) {
				for _, p := range parts {
					buf.WriteString(p)
					buf.WriteByte(0)
				}
			}
			switch typ {
			case "none":
				continue // expired between SCAN and TYPE
			case "string":
				v, err := rdb.Get(ctx, key).Result()
				if err != nil && err != redis.Nil {
					t.Fatalf("GET %s: %v", key, err)
				}
				add(v)
			case "hash":
				h, err := rdb.HGetAll(ctx, key).Result()
				if err != nil {
					t.Fatalf("HGETALL %s: %v", key, err)
				}
				for f, v := range h {
					add(f, v)
				}
			case "list":
				l, err := rdb.LRange(ctx, key, 0, -1).Result()
				if err != nil {
					t.Fatalf("LRANGE %s: %v", key, err)
				}
				add(l...)
			case "set":
				m, err := rdb.SMembers(ctx, key).Result()
				if err != nil {
					t.Fatalf("SMEMBERS %s: %v", key, err)
				}
				add(m...)
			case "zset":
				z, err := rdb.ZRangeWithScores(ctx, key, 0, -1).Result()
				if err != nil {
					t.Fatalf("ZRANGE %s: %v", key, err)
				}
				for _, m := range z {
					add(fmt.Sprint(m.Member), strconv.FormatFloat(m.Score, 'f', -1, 64))
				}
			case "stream":
				x, err := rdb.XRange(ctx, key, "-", "+").Result()
				if err != nil {
					t.Fatalf("XRANGE %s: %v", key, err)
				}
				for _, m := range x {
					add(m.ID)
					for f, v := range m.Values {
						add(f, fmt.Sprint(v))
					}
				}
			default:
				t.Fatalf("key %s has type %s, which the scan cannot read", key, typ)
			}
			s.keys++
			s.types[typ]++
			s.bytes += len(key) + buf.Len()
			s.data[key] = buf.Bytes()
		}
		cursor = next
		if cursor == 0 {
			return s
		}
	}
	t.Fatal("SCAN did not finish")
	return s
}

// outputFiles are the files every process wrote.
type outputFiles struct {
	files map[string][]byte
	bytes int
}

func readDir(t *testing.T, dir string) outputFiles {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := outputFiles{files: map[string][]byte{}}
	for _, ent := range entries {
		b, err := os.ReadFile(filepath.Join(dir, ent.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out.files[ent.Name()] = b
		out.bytes += len(b)
	}
	return out
}
