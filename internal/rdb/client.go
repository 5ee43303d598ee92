package rdb

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Client reads and writes mxinvite's data in one Redis. It is safe for
// concurrent use. It does not own the go-redis client it is given.
type Client struct {
	rdb   redis.UniversalClient
	k     Keys
	opts  Options
	owned bool // Close closes rdb
	// servers is asynq's servers' connection (ServerConn): rdb, or a pool
	// of its own when Open made the connection.
	servers redis.UniversalClient

	// The success path's writes, group-committed (batch.go).
	begins   *batcher[beginReq, beginRes]
	finishes *batcher[finishReq, finishRes]
}

// Options configure a Client. Zero fields take the defaults written on them.
type Options struct {
	// Prefix prefixes every key of mxinvite's own. Default DefaultPrefix.
	Prefix string
	// StreamMaxLen caps the results stream, approximately (XADD MAXLEN ~:
	// Redis trims whole nodes, so a few hundred more may stay). Default 0:
	// never trimmed (producers, readers); the worker passes its setting.
	StreamMaxLen int64
	// FinishedTTL, when positive, makes a finished invite's record expire
	// this long after its final result. Default 0: kept until purged.
	FinishedTTL time.Duration
	// WorkerID is the identity of the worker process using the client: its
	// deliveries mark the invites they hold with it (takeover.go). Default
	// "": nothing is marked (producers, readers, tests).
	WorkerID string
	// CloseConn makes Close close the go-redis client given to New.
	// Default false: the caller closes it.
	CloseConn bool
}

// New returns a Client over rdb.
func New(rdb redis.UniversalClient, opts Options) *Client {
	c := &Client{rdb: rdb, servers: rdb, k: NewKeys(opts.Prefix), opts: opts, owned: opts.CloseConn}
	c.begins = newBatcher(maxDeliveryBatch, deliveryLinger, c.writeBegins)
	c.finishes = newBatcher(maxDeliveryBatch, deliveryLinger, c.writeFinishes)
	return c
}

// Open connects to the Redis that opt describes (asynq's connection
// options: a URL's, Sentinel's, TLS…) and returns a Client that owns the
// connection (Close closes it). asynq's servers get a pool of their own
// (ServerConn).
func Open(opt asynq.RedisConnOpt, opts Options) (*Client, error) {
	conn, ok := opt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return nil, fmt.Errorf("redis option %T does not make a go-redis client", opt)
	}
	servers, ok := opt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		_ = conn.Close()
		return nil, fmt.Errorf("redis option %T does not make a go-redis client", opt)
	}
	opts.CloseConn = true
	c := New(conn, opts)
	c.servers = servers
	return c, nil
}

// Close closes the connections if the Client owns them (Open, CloseConn).
func (c *Client) Close() error {
	if !c.owned {
		return nil
	}
	err := c.rdb.Close()
	if c.servers != c.rdb {
		if e := c.servers.Close(); err == nil {
			err = e
		}
	}
	return err
}

// Conn is the go-redis client underneath, for asynq's client, inspector and
// server, which keep their own keys through it.
func (c *Client) Conn() redis.UniversalClient { return c.rdb }

// ServerConn is the go-redis client for asynq's servers. When Open made
// the connection it is a second pool: a worker runs an asynq server per
// lane (internal/lanes), and their bookkeeping (dequeue polls, forwarders,
// heartbeats, a burst of each when a server starts) took the shared pool's
// connections from the invites' gate and record scripts, which then waited
// for one: with 500 lane servers starting, 6,458 waits of 52 ms on average
// in 3 s (2,000 of 11 ms with the second pool; bench P4c). Otherwise it is
// Conn.
func (c *Client) ServerConn() redis.UniversalClient { return c.servers }

// Keys names the client's keys.
func (c *Client) Keys() Keys { return c.k }

// Ping reports whether Redis answers.
func (c *Client) Ping(ctx context.Context) error {
	if err := c.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("no answer to PING: %w", err)
	}
	return nil
}

// Time is Redis's clock, the one every process shares.
func (c *Client) Time(ctx context.Context) (time.Time, error) {
	t, err := c.rdb.Time(ctx).Result()
	if err != nil {
		return time.Time{}, fmt.Errorf("read the Redis clock: %w", err)
	}
	return t, nil
}
