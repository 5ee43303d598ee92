#!/usr/bin/env bash
# make-session2.sh — regenerate testdata/snapshots/session2.json: Redis data
# written by mxinvite at commit c7b0e37 (the release before issue 18's restructuring), with
# campaigns caught mid-flight (make-snapshot.sh says how).
#
#   testdata/snapshots/make-session2.sh [OUT]     # OUT: default testdata/snapshots/session2.json
exec "$(dirname "$0")/make-snapshot.sh" c7b0e37 session2 "$@"
