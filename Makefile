# strata — make targets. `make test` is what CI runs (.ci/run).
GO       ?= go
BIN      := bin/strata
FUZZTIME ?= 10s
# Every decoder of bytes from storage, as package:FuzzTarget.
FUZZ_TARGETS := \
	./pack:FuzzDecodeHeader \
	./pack:FuzzReadHeader \
	./index:FuzzDecode \
	./repo:FuzzDecodeTree \
	./repo:FuzzDecodeSnapshot \
	./repo:FuzzDecodeConfig \
	./repo:FuzzDecodeKeyFile \
	./repo:FuzzDecodeLock \
	./repo:FuzzDecodeStoredPolicy \
	./repo:FuzzDecodeProtection \
	./repo/retention:FuzzDecodePolicy \
	./dbexport:FuzzUnescape \
	./dbexport/mysql:FuzzSplitTableDDL \
	./chunk:FuzzChunker

.PHONY: all build test vet unit fuzz test-faults bench bench-db bench-prune demo clean db-servers

all: build

build:
	$(GO) build -o $(BIN) ./cmd/strata

vet:
	$(GO) vet ./...

unit:
	$(GO) test -race -count=1 ./...

# A short pass over every fuzz target; FUZZTIME=5m make fuzz for a long one.
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$(FUZZTIME) $$pkg; \
	done

test: vet unit fuzz

# The reliability tests at length: prune and backup against a faulty
# backend, concurrent backups, then KILLS backups and prunes run as
# processes and killed with SIGKILL (`make test` runs 20 kills). The last
# lines say how many kills were survived and how many landed mid-prune;
# STRATA_KILL_SEED=N repeats a run.
KILLS ?= 200
test-faults:
	$(GO) test -count=1 -run 'Faults|StoppedAtEveryStep|UnreadableParent|ConcurrentBackups' ./repo/prune ./repo/archive ./cmd/strata
	cd cmd/strata && STRATA_KILL_LOOPS=$(KILLS) $(GO) test -count=1 -timeout 3h -run '^TestKillDuringBackupOrPrune$$'

# Go benchmarks, then the whole-program backup benchmark (500 MB via --stdin).
bench: build
	$(GO) test -run='^$$' -bench=. -benchmem ./chunk ./pack ./index ./repo/... ./dbexport/sqlite
	$(GO) run ./internal/benchstdin -strata $(BIN)

demo: build
	$(GO) run ./internal/demo -strata $(BIN)

# The database benchmark: strata against restic on 25 hourly backups of a
# 134 MB customer database (docs/parts/benchdb.md). Needs restic and sqlite3.
bench-db: build
	command -v restic >/dev/null || (apt-get update && apt-get install -y restic)
	command -v sqlite3 >/dev/null || (apt-get update && apt-get install -y sqlite3)
	$(GO) run ./internal/benchdb -strata $(BIN)

# Forget and prune: 720 hourly snapshots of a changing 100 MB table, then
# strata forget (default policy), prune, check --read-data and a restore
# of every remaining snapshot (docs/benchmarks.md, "Forget and prune").
# BENCH_PRUNE_FLAGS=-keep /tmp/bp keeps and reuses the built repository.
bench-prune: build
	$(GO) run ./internal/benchprune -strata $(BIN) $(BENCH_PRUNE_FLAGS)

# Start (or install) the PostgreSQL and MariaDB servers the tests use.
db-servers:
	sh .ci/db-servers.sh

clean:
	rm -rf bin
