package main

import (
	"context"
	"errors"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/urfave/cli/v3"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/redisconn"
	"github.com/mxinvite/mxinvite/tasks"
)

// redisFlags are shared by every command that talks to Redis.
func redisFlags() []cli.Flag {
	return []cli.Flag{
		configFlag(),
		&cli.StringFlag{Name: "redis", Value: redisconn.DefaultURL, Sources: env("redis"),
			Usage: "Redis: redis://[user[:password]@]host:port[/db], rediss:// for TLS, " +
				"redis-sentinel://host:port[,host:port…]/master[/db] (rediss-sentinel:// for TLS), or host:port"},
		&cli.StringFlag{Name: "redis-password-file", Sources: env("redis-password-file"),
			Usage: "file holding the Redis password (of the URL's ACL user, else of the default user)"},
		&cli.StringFlag{Name: "redis-ca-file", Sources: env("redis-ca-file"),
			Usage: "PEM file of the CA that signed Redis's TLS certificate (rediss://; default: the system's CAs)"},
		&cli.StringFlag{Name: "redis-cert-file", Sources: env("redis-cert-file"),
			Usage: "client certificate (PEM) for a Redis with tls-auth-clients; give --redis-key-file too"},
		&cli.StringFlag{Name: "redis-key-file", Sources: env("redis-key-file"), Usage: "key of --redis-cert-file (PEM)"},
		&cli.StringFlag{Name: "redis-sentinel-password-file", Sources: env("redis-sentinel-password-file"),
			Usage: "file holding the Sentinels' own password, when they have one (redis-sentinel://)"},
		&cli.StringFlag{Name: "prefix", Value: rdb.DefaultPrefix, Sources: env("prefix"),
			Usage: "prefix of every key mxinvite writes in Redis"},
		&cli.StringFlag{Name: "queue", Value: tasks.DefaultQueue, Sources: env("queue"),
			Usage: "asynq queue of invite tasks"},
	}
}

// redisOptions reads the Redis flags (the config file fills the same
// redisconn.Options).
func redisOptions(cmd *cli.Command) redisconn.Options {
	return redisconn.Options{
		URL:          cmd.String("redis"),
		PasswordFile: cmd.String("redis-password-file"),
		TLSCAFile:    cmd.String("redis-ca-file"),
		TLSCertFile:  cmd.String("redis-cert-file"),
		TLSKeyFile:   cmd.String("redis-key-file"),
		Sentinel:     redisconn.Sentinel{PasswordFile: cmd.String("redis-sentinel-password-file")},
	}
}

// redisFlagOf names the flag of each redisconn option.
var redisFlagOf = map[string]string{
	"url": "redis", "password_file": "redis-password-file", "tls_ca_file": "redis-ca-file",
	"tls_cert_file": "redis-cert-file", "tls_key_file": "redis-key-file",
	"sentinel.password_file": "redis-sentinel-password-file", "sentinel": "redis-sentinel-password-file",
}

// connectRedis reads the Redis flags and checks the server answers, so that
// a bad URL, an unreachable Redis, TLS against a plain port or a refused
// password is one clear line and exit code 2 before anything is done.
func connectRedis(ctx context.Context, cmd *cli.Command) (asynq.RedisConnOpt, redis.UniversalClient, error) {
	o := redisOptions(cmd)
	opt, rdb, err := redisconn.Connect(ctx, o)
	var oe *redisconn.OptionError
	switch {
	case err == nil:
		return opt, rdb, nil
	case errors.As(err, &oe):
		flag := redisFlagOf[oe.Field]
		if flag == "" {
			flag = "redis"
		}
		if oe.Value == "" {
			return nil, nil, usageErr("--%s: %s", flag, oe.Reason)
		}
		return nil, nil, usageErr("--%s %q: %s", flag, oe.Value, oe.Reason)
	}
	return nil, nil, usageErr("--redis %s: %v", o, err)
}

// redactURL hides a password in a Redis URL.
func redactURL(raw string) string { return redisconn.Redact(raw) }

// connectStore is connectRedis with mxinvite's Redis client on top, under
// --prefix; closing the client closes the connection.
func connectStore(ctx context.Context, cmd *cli.Command) (asynq.RedisConnOpt, *rdb.Client, error) {
	opt, conn, err := connectRedis(ctx, cmd)
	if err != nil {
		return nil, nil, err
	}
	return opt, rdb.New(conn, rdb.Options{Prefix: cmd.String("prefix"), CloseConn: true}), nil
}

// openProducer is connectStore with a producer for --queue on top; closing
// the store closes the connection.
func openProducer(ctx context.Context, cmd *cli.Command) (*producer.Producer, *rdb.Client, error) {
	_, store, err := connectStore(ctx, cmd)
	if err != nil {
		return nil, nil, err
	}
	return producer.New(store, cmd.String("queue")), store, nil
}
