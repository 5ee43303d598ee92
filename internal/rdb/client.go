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
	c := &Client{rdb: rdb, k: NewKeys(opts.Prefix), opts: opts, owned: opts.CloseConn}
	c.begins = newBatcher(maxDeliveryBatch, deliveryLinger, c.writeBegins)
	c.finishes = newBatcher(maxDeliveryBatch, deliveryLinger, c.writeFinishes)
	return c
}

// Open connects to the Redis that opt describes (asynq's connection
// options: a URL's, Sentinel's, TLS…) and returns a Client that owns the
// connection (Close closes it).
func Open(opt asynq.RedisConnOpt, opts Options) (*Client, error) {
	conn, ok := opt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return nil, fmt.Errorf("redis option %T does not make a go-redis client", opt)
	}
	opts.CloseConn = true
	return New(conn, opts), nil
}

// Close closes the connection if the Client owns it (Open, CloseConn).
func (c *Client) Close() error {
	if !c.owned {
		return nil
	}
	return c.rdb.Close()
}

// Conn is the go-redis client underneath, for asynq's client, inspector and
// server, which keep their own keys through it.
func (c *Client) Conn() redis.UniversalClient { return c.rdb }

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
