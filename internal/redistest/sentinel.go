package redistest

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/redisserver"
)

// SentinelSet is a primary, one replica and Sentinels watching them, all
// owned by the test.
type SentinelSet struct {
	// Master is the name the Sentinels monitor the primary under.
	Master string
	// Primary and Replica are the data nodes as started; after a failover
	// Replica is the primary (see PrimaryAddr).
	Primary, Replica *Server
	// Sentinels are the Sentinels' processes.
	Sentinels []*redisserver.Server
}

// SentinelOptions configures StartSentinels.
type SentinelOptions struct {
	// Sentinels is how many Sentinels watch the primary; a majority of them
	// must agree it is down. Default 1.
	Sentinels int
	// DownAfter and FailoverTimeout are the Sentinels' timings. Default
	// 1 s and 3 s, so a failover takes a few seconds.
	DownAfter, FailoverTimeout time.Duration
	// Data are the options of both data nodes (ReplicaOf is set for the
	// replica). AppendOnly is always on.
	Data Options
}

// StartSentinels starts the set and waits until every Sentinel sees the
// replica in sync with the primary, so that a failover can happen.
func StartSentinels(t testing.TB, opts SentinelOptions) *SentinelSet {
	t.Helper()
	if opts.Sentinels == 0 {
		opts.Sentinels = 1
	}
	data := opts.Data
	data.AppendOnly = true
	set := &SentinelSet{Master: "mxprimary"}
	set.Primary = StartOwned(t, data)
	data.ReplicaOf = set.Primary.Addr
	set.Replica = StartOwned(t, data)
	for range opts.Sentinels {
		s, err := redisserver.StartSentinel(redisserver.SentinelOptions{
			Dir: t.TempDir(), Master: set.Master, MasterAddr: set.Primary.Addr,
			Quorum: opts.Sentinels/2 + 1, DownAfter: opts.DownAfter, FailoverTimeout: opts.FailoverTimeout,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Stop)
		set.Sentinels = append(set.Sentinels, s)
	}
	set.waitReady(t)
	return set
}

// Addrs are the Sentinels' host:port.
func (s *SentinelSet) Addrs() []string {
	addrs := make([]string, len(s.Sentinels))
	for i, p := range s.Sentinels {
		addrs[i] = p.Addr
	}
	return addrs
}

// URL is the redis-sentinel:// URL of the set.
func (s *SentinelSet) URL() string {
	return "redis-sentinel://" + strings.Join(s.Addrs(), ",") + "/" + s.Master
}

// waitReady waits (at most 30 s) until each Sentinel knows the replica,
// sees its link to the primary up, and knows the other Sentinels.
func (s *SentinelSet) waitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, addr := range s.Addrs() {
		sc := redis.NewSentinelClient(&redis.Options{Addr: addr})
		for {
			if s.sentinelReady(sc) {
				break
			}
			if time.Now().After(deadline) {
				_ = sc.Close()
				t.Fatalf("redistest: Sentinel %s did not see the replica in sync within 30 s", addr)
			}
			time.Sleep(100 * time.Millisecond)
		}
		_ = sc.Close()
	}
}

func (s *SentinelSet) sentinelReady(sc *redis.SentinelClient) bool {
	ctx := context.Background()
	replicas, err := sc.Replicas(ctx, s.Master).Result()
	if err != nil || len(replicas) != 1 {
		return false
	}
	r := replicas[0]
	if r["flags"] != "slave" || r["master-link-status"] != "ok" {
		return false
	}
	others, err := sc.Sentinels(ctx, s.Master).Result()
	return err == nil && len(others) == len(s.Sentinels)-1
}

// PrimaryAddr is the primary's host:port according to the first Sentinel.
func (s *SentinelSet) PrimaryAddr(t testing.TB) string {
	t.Helper()
	sc := redis.NewSentinelClient(&redis.Options{Addr: s.Sentinels[0].Addr})
	defer sc.Close()
	hp, err := sc.GetMasterAddrByName(context.Background(), s.Master).Result()
	if err != nil || len(hp) != 2 {
		t.Fatalf("redistest: SENTINEL get-master-addr-by-name: %v %v", hp, err)
	}
	return net.JoinHostPort(hp[0], hp[1])
}

// WaitPrimary waits (at most limit) until the Sentinels name addr as the
// primary.
func (s *SentinelSet) WaitPrimary(t testing.TB, addr string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for s.PrimaryAddr(t) != addr {
		if time.Now().After(deadline) {
			t.Fatalf("redistest: the Sentinels still name %s the primary after %s, not %s; log:\n%s",
				s.PrimaryAddr(t), limit, addr, s.Sentinels[0].LogTail(30))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
