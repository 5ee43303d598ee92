// Package redisconn turns what an operator says about Redis — a URL, a CA
// file, an ACL user and its password file, Sentinel addresses — into the
// asynq connection option and go-redis client every mxinvite command uses,
// and checks the server answers with one clear line when it does not.
//
// Supported: one Redis (redis://, rediss:// for TLS, unix://), or a primary
// found through Sentinel (redis-sentinel://, rediss-sentinel://). Redis
// Cluster is not: asynq and mxinvite's Lua scripts build keys inside the
// scripts, which Cluster cannot route (see docs/redis.md).
//
// The command-line flags and the config file both fill an [Options].
package redisconn
