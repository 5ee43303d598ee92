package rdb

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/record"
)

// The Lua's transition table is record.Transitions: check() accepts
// exactly the table's changes, for every op and every pair of states.
func TestLuaStateTableIsTheRecordTable(t *testing.T) {
	_, conn := newTestClient(t)
	probe := redis.NewScript(luaPrelude + `
local ok = pcall(check, ARGV[1], ARGV[2] ~= '' and ARGV[2] or false, ARGV[3] ~= '' and ARGV[3] or false)
return ok and 1 or 0
`)
	ops := []record.Op{record.OpRegister, record.OpReinvite, record.OpAdopt, record.OpBegin, record.OpHold,
		record.OpAttempt, record.OpHandBack, record.OpAbandon, record.OpFinish, record.OpCancel, record.OpForget}
	states := append([]record.State{record.StateNone}, record.States...)
	checked := 0
	for _, op := range ops {
		for _, from := range states {
			for _, to := range states {
				got, err := probe.Run(t.Context(), conn, nil, string(op), string(from), string(to)).Int()
				if err != nil {
					t.Fatal(err)
				}
				want := from == to || record.Allowed(op, from, to)
				if (got == 1) != want {
					t.Errorf("Lua check(%s, %q -> %q) = %v, table says %v", op, from, to, got == 1, want)
				}
				checked++
			}
		}
	}
	for _, tr := range record.Transitions {
		if !contains(ops, tr.Op) {
			t.Errorf("transition %+v: op %q not covered by this test", tr, tr.Op)
		}
	}
	t.Logf("%d (op, from, to) triples checked against %d transitions", checked, len(record.Transitions))
}

// A script refuses a state change the table does not have: a record in
// state "done" cannot be moved back to "active" by an attempt.
func TestScriptsRefuseTransitionsOutsideTheTable(t *testing.T) {
	c, conn := newTestClient(t)
	inv := testInvite(t, "x@example.org")
	register(t, c, record.RegisterOptions{}, &inv)
	conn.HSet(t.Context(), c.k.invite(inv.Key()), "state", "cancelled")
	err := c.Attempt(t.Context(), inv, record.Progress{Key: inv.Key(), Campaign: inv.Campaign}, record.StateActive, record.AttemptUpdate{})
	if err == nil || !strings.Contains(err.Error(), "not in the state table") {
		t.Fatalf("attempt on a cancelled record: %v, want a refusal naming the state table", err)
	}
}

// Every script takes the keys it touches in KEYS: no Lua builds a key name
// (no string with a ':' is concatenated, no asynq key is spelt), and state
// names come from ST, not literals.
func TestScriptsBuildNoKeysAndSpellNoStates(t *testing.T) {
	if len(sources) < 15 {
		t.Fatalf("%d scripts registered; every script must be made with newScript", len(sources))
	}
	// A string with a ':' joined to something builds a name; the counters'
	// field names ("state:queued", "status:Success") and the meta's
	// "held_by:{campaign}", the counters' "limited:{scope}" and "delivery:{delivery}" and the gate's per-room
	// fields "rb:", "rok:", "rl:" (scope.go) are the exceptions.
	concatKey := regexp.MustCompile(`\.\.\s*'[^']*:[^']*'|'[^']*:[^']*'\s*\.\.`)
	fieldName := regexp.MustCompile(`^'(state|status|held_by|limited|delivery|rb|rok|rl):'\s*\.\.$`)
	for name, src := range sources {
		body := strings.Replace(src, luaStates, "", 1)
		for _, m := range concatKey.FindAllString(body, -1) {
			if !fieldName.MatchString(m) {
				t.Errorf("script %s builds a key name: %q", name, m)
			}
		}
		if strings.Contains(body, "asynq:") || strings.Contains(body, "'inv:") {
			t.Errorf("script %s spells an asynq key or task ID", name)
		}
		for _, s := range record.States {
			for _, q := range []string{"'" + string(s) + "'", `"` + string(s) + `"`} {
				if strings.Contains(body, q) {
					t.Errorf("script %s spells the state %s as a literal (use ST.%s)", name, q, s)
				}
			}
		}
		if !strings.Contains(body, "KEYS[") {
			t.Errorf("script %s takes no KEYS", name)
		}
	}
}

// ExampleKeys shows the key layout under a prefix.
func ExampleKeys() {
	k := NewKeys("mx")
	fmt.Println(k.invite("0123"), k.counts("spring"), k.gate("default"), k.pause("sender", "default"))
	// Output: mx:invite:0123 mx:campaign:spring:counts mx:gate:default mx:pause:sender:default
}
