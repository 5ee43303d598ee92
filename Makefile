# mxinvite — common tasks. `make test` is the test command CI runs (.ci/run).
GO       ?= go
# A count, not a duration: go1.26's fuzz coordinator can fail a duration run
# with a spurious "context deadline exceeded" at its end (golang/go#75804).
FUZZTIME ?= 50000x
BIN      ?= bin/mxinvite

.PHONY: build test vet fuzz demo bench man screenshots clean

build:
	$(GO) build -o $(BIN) ./cmd/mxinvite

# Every test, race detector on, against real Redis servers the tests start
# themselves (redis-server from PATH) and a real Dendrite they install once.
test: vet
	$(GO) test -race -count=1 -timeout 20m ./...
	# The Go benchmarks (worker, Redis scripts), once each at a small size, so they cannot rot.
	MXINVITE_BENCH_INVITES=200 $(GO) test -run='^$$' -bench=. -benchtime=1x ./worker/ ./internal/rdb/

vet:
	$(GO) vet ./...

# Each fuzz target for FUZZTIME executions (go test -fuzz takes one target
# at a time); a few seconds each.
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzParseErrorResponse$$' -fuzztime=$(FUZZTIME) ./matrix/
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeInvite$$' -fuzztime=$(FUZZTIME) ./tasks/
	$(GO) test -run='^$$' -fuzz='^FuzzReader$$' -fuzztime=$(FUZZTIME) ./internal/addrlist/

# The man page, generated from the command definitions (reproducible: no
# date, no version). TestManPageIsUpToDate fails when it is stale.
man:
	$(GO) run ./cmd/mxinvite man > docs/mxinvite.1

# The dashboard's screenshots in docs/ (1400 px and 390 px, light and
# dark), taken by its Chromium tests (Debian's chromium).
screenshots:
	MXINVITE_SCREENSHOT_DIR=$(CURDIR)/docs MXINVITE_REQUIRE_BROWSER=1 $(GO) test -count=1 -run '^(TestDashboardInBrowser|TestOperatorToolsInBrowser)$$' ./internal/dashboard/

# The demo: embedded Redis (or --redis), the simulator, 1,000 invites.
demo:
	$(GO) run ./cmd/mxinvite demo

# Benchmarks against a real redis-server; writes docs/BENCHMARKS.md.
bench:
	$(GO) run ./internal/bench -out docs/BENCHMARKS.md

clean:
	rm -rf bin
