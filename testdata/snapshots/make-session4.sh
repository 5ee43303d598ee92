#!/usr/bin/env bash
# make-session4.sh — regenerate testdata/snapshots/session4.json: Redis data
# written by mxinvite at commit f6112c9 (the release before issue 26's smaller records and task references), with
# campaigns caught mid-flight (make-snapshot.sh says how).
#
#   testdata/snapshots/make-session4.sh [OUT]     # OUT: default testdata/snapshots/session4.json
exec "$(dirname "$0")/make-snapshot.sh" f6112c9 session4 "$@"
