// Package e2e holds mxinvite's multi-process reliability tests: the real
// `mxinvite` binary (built once per test run) against the in-process
// simulator and real redis-server processes, on loopback addresses only.
//
//   - TestCrashSafety: 2,000 invites, three worker processes, one killed
//     with SIGKILL mid-run and replaced; nothing lost, duplicates bounded by
//     what was in flight at the kill (none with the PUT/txnId form).
//   - TestRedisRestartMidCampaign: Redis (AOF on) stopped for about a
//     second mid-campaign; the worker reconnects by itself, nothing is lost
//     and nothing is sent twice, with PUT/txnId or plain POST.
//   - TestHomeserverOutage: the homeserver down for two seconds (503s, or
//     dropped connections); with a long enough retry schedule every invite
//     still ends Success.
//   - TestNoSecretsInRedisOrLogs: tokens never reach Redis, logs or the
//     output of invite/status/results, even when the server echoes them.
//   - TestOneLockOnEveryDoor: every route of `worker --http` with a token,
//     the dashboard, asynqmon and its writes refuses strangers, foreign
//     Hosts and other sites and opens to the token; `mxinvite resume` and
//     the dashboard's Resume clear /readyz and the paused gauge within 10 s.
//
// The figures they measure (in flight at a kill, duplicates, recovery and
// outage timings) are logged with t.Logf: run with -v to see them.
//
// The tests are skipped with -short. The package has no code of its own:
// everything is in its _test.go files.
package e2e
