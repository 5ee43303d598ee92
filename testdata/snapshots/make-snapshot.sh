#!/usr/bin/env bash
# make-snapshot.sh — write a Redis snapshot of an earlier mxinvite: Redis
# data written by the release at COMMIT, with campaigns caught mid-flight,
# for the upgrade tests in internal/compat. See testdata/snapshots/README.md
# for what the data holds; make-session2.sh and make-session4.sh name the
# releases the tests load.
#
# Usage, from anywhere in a clone with COMMIT in its history (needs go,
# git, redis-server, redis-cli, curl; nothing else is touched: its own
# Redis on a free loopback port, its own simulators, a temporary
# directory):
#
#   testdata/snapshots/make-snapshot.sh COMMIT NAME [OUT]   # OUT: default testdata/snapshots/NAME.json
#
# Steps (each checked against what the old binary reports before going on):
#   1. build the old binary in a temporary detached worktree at COMMIT;
#   2. campaign spring: 6 invites end Success, 2 into an unknown room end
#      ContentAccessError;
#   3. campaign closed: 7 invites into an unknown room; the breaker pauses
#      the campaign after 5 failures, 2 stay paused;
#   4. campaign autumn, sender "second": 2 end Success, then the sender's
#      token is revoked: the sender pauses (dead_token), 3 stay paused;
#   5. a recurring campaign "weekly" (schedule add);
#   6. spring again, against a simulator answering every invite 500: one
#      invite is left retrying, its retry 60 s ahead in asynq's retry set;
#   7. spring again, against a simulator with 2 s of latency: 8 invites
#      queued, 3 scheduled an hour ahead (enqueue --in 1h), a worker with
#      concurrency 2 SIGKILLed while two requests are in flight (2 of the
#      8 done, 2 in flight, 4 queued);
#   8. campaign winter: 3 enqueued, cancelled, one of them enqueued again
#      (generation 1, queued);
#   9. dump mxinvite:* and asynq:* with the new tree's snapshot-dump.
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: $0 COMMIT NAME [OUT]" >&2; exit 2; }
COMMIT=$1
NAME=$2
ROOM='!room:sim.local'     # the simulator's default room: the test's simulator has it
GONE='!gone:sim.local'     # no such room: invites end ContentAccessError
CLOSED='!closed:sim.local' # no such room either (the test creates it before resuming)
SECOND_TOKEN=sim-second-token

# Nothing from the caller's environment steers the old binary (a config
# file, another prefix or queue): only what this script sets.
while read -r v; do unset "$v"; done < <(compgen -e | grep '^MXINVITE_' || true)

repo=$(git rev-parse --show-toplevel)
out=${3:-$repo/testdata/snapshots/$NAME.json}
case $out in /*) ;; *) out=$PWD/$out ;; esac
work=$(mktemp -d "${TMPDIR:-/tmp}/mxinvite-$NAME.XXXXXX")
pids=()

log() { printf '== %s\n' "$*" >&2; }
die() {
	printf 'make-snapshot: %s\n' "$*" >&2
	exit 1
}

# cleanup stops what this script started (by pid: SIGTERM, then SIGKILL
# after 10 s) and removes the temporary directory and worktree.
cleanup() {
	local pid i
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for i in $(seq 1 50); do
		for pid in "${pids[@]}"; do
			kill -0 "$pid" 2>/dev/null && break
			pid=
		done
		[ -z "$pid" ] && break
		sleep 0.2
	done
	for pid in "${pids[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	git -C "$repo" worktree remove --force "$work/old" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# free_port prints a loopback TCP port nothing answers on, below Linux's
# usual ephemeral range (32768-60999), where client sockets may hold a port
# that nothing listens on.
free_port() {
	local p i
	for i in $(seq 1 50); do
		p=$((20000 + RANDOM % 12000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	die "no free port found"
}

# ---------------------------------------------------------------- 1. build
log "building mxinvite at $COMMIT"
git -C "$repo" worktree add --quiet --detach "$work/old" "$COMMIT"
(cd "$work/old" && go build -o "$work/mxinvite" ./cmd/mxinvite)
git -C "$repo" worktree remove --force "$work/old"
mx=$work/mxinvite # called by path, so that $! of a background run is its pid

# ---------------------------------------------------------------- Redis
# start_redis: a redis-server of our own that keeps nothing on disk, on a
# free port (another one if that port is taken meanwhile); sets port.
start_redis() {
	local attempt i
	for attempt in 1 2 3 4 5; do
		port=$(free_port)
		redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir "$work" \
			--logfile "$work/redis.log" &
		redis=$!
		for i in $(seq 1 100); do
			if redis-cli -p "$port" ping >/dev/null 2>&1; then
				pids+=("$redis")
				return
			fi
			kill -0 "$redis" 2>/dev/null || break # it gave up (port taken)
			sleep 0.1
		done
		kill "$redis" 2>/dev/null || true
		wait "$redis" 2>/dev/null || true
	done
	die "redis-server did not start: $(tail -3 "$work/redis.log")"
}
start_redis
export MXINVITE_REDIS=redis://127.0.0.1:$port # default prefix "mxinvite", queue "invites"
export MXINVITE_LOG_FORMAT=json
log "redis-server $(redis-server --version | sed 's/.* v=\([^ ]*\).*/\1/') on port $port"

# start_sim NAME FLAGS...: runs `mxinvite simulate` on a free port; sets
# sim_url and sim_addr, its token files are in $work/NAME.
start_sim() {
	local name=$1 i
	shift
	"$mx" simulate --listen 127.0.0.1:0 --token-dir "$work/$name" "$@" >"$work/$name.out" 2>&1 &
	pids+=($!)
	for i in $(seq 1 100); do
		sim_url=$(sed -n 's/^mxinvite simulator listening on \(http:[^ ]*\).*/\1/p' "$work/$name.out")
		[ -n "$sim_url" ] && break
		[ "$i" = 100 ] && die "simulator $name did not start: $(cat "$work/$name.out")"
		sleep 0.1
	done
	sim_addr=${sim_url#http://}
}

# worker_flags NAME: sets wflags to the flags of a worker sending as
# "default" through simulator NAME (started by start_sim, its address in
# ${NAME}_addr).
worker_flags() {
	local addr_var=${1}_addr
	local addr=${!addr_var}
	wflags=(--homeserver "http://$addr" --access-token-file "$work/$1/access-token"
		--id-server "$addr" --id-access-token-file "$work/$1/id-access-token" --identity-scheme http)
}

# count CAMPAIGN STATE: the campaign's invites in STATE, as status --json says.
count() {
	"$mx" status --campaign "$1" --json |
		sed -n 's/.*"states":{\([^}]*\)}.*/\1/p' | tr ',' '\n' |
		sed -n "s/^\"$2\":\([0-9]*\)$/\1/p" | grep . || echo 0
}

# wait_for CAMPAIGN STATE N [SECONDS]: until the campaign has N invites in STATE.
wait_for() {
	local i limit=$((${4:-60} * 5))
	for i in $(seq 1 "$limit"); do
		[ "$(count "$1" "$2")" = "$3" ] && return
		sleep 0.2
	done
	die "campaign $1: $(count "$1" "$2") invites $2 after ${4:-60}s, want $3"
}

# expect CAMPAIGN STATE N: fails unless the campaign has N invites in STATE.
expect() {
	local n
	n=$(count "$1" "$2")
	[ "$n" = "$3" ] || die "campaign $1: $n invites $2, want $3; $("$mx" status --campaign "$1")"
}

# addresses PREFIX N: PREFIX1@example.org … PREFIXN@example.org, one a line.
addresses() { for i in $(seq 1 "$2"); do echo "$1$i@example.org"; done; }

enqueue() { "$mx" enqueue --no-preflight --room "$ROOM" "$@" >>"$work/enqueue.out"; }

start_sim plain
plain_addr=$sim_addr

# ---------------------------------------------------------------- 2. spring, finished
log "spring: 6 invites end Success, 2 end ContentAccessError"
addresses done 6 >"$work/spring-done.txt"
enqueue --campaign spring --file "$work/spring-done.txt"
for i in 1 2; do
	"$mx" invite --campaign spring --room "$GONE" --address "gone$i@example.org" >>"$work/enqueue.out"
done
worker_flags plain
"$mx" worker "${wflags[@]}" --concurrency 1 --until-idle 2>"$work/worker-1.log" ||
	die "worker 1 failed: $(tail -3 "$work/worker-1.log")"
expect spring done 8

# ---------------------------------------------------------------- 3. closed: campaign paused
log "closed: the breaker pauses the campaign after 5 failures"
addresses closed 7 >"$work/closed.txt"
"$mx" enqueue --no-preflight --room "$CLOSED" --campaign closed --file "$work/closed.txt" >>"$work/enqueue.out"
rc=0
worker_flags plain
"$mx" worker "${wflags[@]}" --concurrency 1 --until-idle 2>"$work/worker-2.log" || rc=$?
[ "$rc" = 4 ] || die "worker 2 exited $rc, want 4 (only paused invites left): $(tail -3 "$work/worker-2.log")"
expect closed done 5
expect closed paused 2

# ---------------------------------------------------------------- 4. autumn: sender paused
log "autumn: sender second's token dies; the sender pauses"
curl -fsS -X POST -d "{\"access_token\":\"$SECOND_TOKEN\",\"user_id\":\"@inviter:sim.local\"}" \
	"http://$plain_addr/_sim/tokens/add" >/dev/null
echo "$SECOND_TOKEN" >"$work/second-token"
addresses autumn 5 >"$work/autumn.txt"
head -2 "$work/autumn.txt" >"$work/autumn-1.txt"
tail -3 "$work/autumn.txt" >"$work/autumn-2.txt"
enqueue --campaign autumn --sender second --file "$work/autumn-1.txt"
"$mx" worker --sender second --homeserver "http://$plain_addr" --access-token-file "$work/second-token" \
	--id-server "$plain_addr" --id-access-token-file "$work/plain/id-access-token" --identity-scheme http \
	--concurrency 1 2>"$work/worker-3.log" &
worker=$!
pids+=($worker)
wait_for autumn done 2
curl -fsS -X POST -d "{\"access_token\":\"$SECOND_TOKEN\"}" "http://$plain_addr/_sim/tokens/revoke" >/dev/null
enqueue --campaign autumn --sender second --file "$work/autumn-2.txt"
wait_for autumn paused 3
kill -TERM "$worker"
wait "$worker" || die "worker 3 did not stop cleanly: $(tail -3 "$work/worker-3.log")"
"$mx" status --campaign autumn --json | grep -q '"kind":"dead_token"' || die "sender second is not paused for its dead token"

# ---------------------------------------------------------------- 5. weekly: a recurring campaign
log "weekly: a recurring campaign"
addresses weekly 2 >"$work/weekly.txt"
"$mx" schedule add --campaign weekly --cron '0 9 * * 1' --room "$ROOM" --file "$work/weekly.txt" >>"$work/enqueue.out"

# ---------------------------------------------------------------- 6. spring: one invite retrying
log "spring: one invite answered 500, its retry 60 s ahead"
start_sim failing --error-rate 1
failing_addr=$sim_addr
echo retry1@example.org >"$work/spring-retry.txt"
enqueue --campaign spring --file "$work/spring-retry.txt"
worker_flags failing
"$mx" worker "${wflags[@]}" --concurrency 1 --retry-waits 60s 2>"$work/worker-4.log" &
worker=$!
pids+=($worker)
wait_for spring retrying 1
kill -TERM "$worker"
wait "$worker" || die "worker 4 did not stop cleanly: $(tail -3 "$work/worker-4.log")"

# ---------------------------------------------------------------- 7. spring: killed mid-flight
log "spring: 8 queued, 3 scheduled in 1h, the worker SIGKILLed with requests in flight"
start_sim slow --latency 2s
slow_addr=$sim_addr
addresses queued 8 >"$work/spring-queued.txt"
addresses later 3 >"$work/spring-later.txt"
enqueue --campaign spring --file "$work/spring-queued.txt"
enqueue --campaign spring --file "$work/spring-later.txt" --in 1h
expect spring scheduled 3
worker_flags slow
# A release that looks addresses up first (issue 25) would be killed in
# the lookups: with them off, the invite requests themselves are in flight.
direct=()
if "$mx" worker --help 2>&1 | grep -q -- '--lookup'; then direct=(--lookup off); fi
"$mx" worker "${wflags[@]}" "${direct[@]}" --concurrency 2 --retry-waits 60s 2>"$work/worker-5.log" &
worker=$!
pids+=($worker)
# Two of the eight finish (8 done before), then the next two are in flight
# for 2 s: kill the worker then, as a crash would.
wait_for spring done 10
for i in $(seq 1 50); do
	[ "$(count spring active)" = 2 ] && break
	sleep 0.05
done
kill -KILL "$worker"
wait "$worker" 2>/dev/null || true
expect spring done 10
expect spring active 2
expect spring queued 4
expect spring retrying 1
expect spring scheduled 3
# (A held task of another campaign may be caught being handed back too.)
[ "$(redis-cli -p "$port" llen 'asynq:{invites}:active')" -ge 2 ] || die "asynq holds fewer than 2 active tasks"

# ---------------------------------------------------------------- 8. winter: cancelled
# After the last worker: nothing sends the queued one.
log "winter: 3 cancelled, one enqueued again as generation 1"
addresses winter 3 >"$work/winter.txt"
enqueue --campaign winter --file "$work/winter.txt"
"$mx" cancel --campaign winter >>"$work/enqueue.out"
"$mx" invite --campaign winter --room "$ROOM" --address winter1@example.org >>"$work/enqueue.out"
expect winter cancelled 2
expect winter queued 1

# ---------------------------------------------------------------- 9. dump
log "what the old binary says about the data"
{
	echo "# Written by testdata/snapshots/make-snapshot.sh with mxinvite $COMMIT; what that binary reported just before the dump."
	for c in spring closed autumn winter; do
		echo "\$ mxinvite status --campaign $c"
		"$mx" status --campaign "$c"
	done
	echo "\$ mxinvite campaigns"
	"$mx" campaigns
	echo "\$ mxinvite schedule list"
	"$mx" schedule list
} | sed "s#$work#\$TMP#g" >"${out%.json}.status.txt"
log "dumping to $out"
(cd "$repo" && go run ./internal/snapshot/cmd/snapshot-dump -redis "$MXINVITE_REDIS" -out "$out" \
	-note "written by mxinvite $COMMIT (testdata/snapshots/make-snapshot.sh)")
