# strata — make targets. `make test` is what CI runs (.ci/run).
GO       ?= go
BIN      := bin/strata
# Every decoder of bytes from storage, as package:FuzzTarget:executions.
# `make fuzz` runs each for its count of executions (a few seconds each);
# FUZZTIME=5m make fuzz runs each for a time instead. Counts, because Go
# 1.26's fuzz coordinator can fail a run bounded by time with a bare
# "context deadline exceeded" at the deadline (go.dev/issue/75804, fixed
# in Go 1.27), and a count has no deadline.
FUZZTIME ?=
FUZZ_TARGETS := \
	./pack:FuzzDecodeHeader:100000x \
	./pack:FuzzReadHeader:200000x \
	./index:FuzzDecode:100000x \
	./repo:FuzzDecodeTree:100000x \
	./repo:FuzzFindTreeNode:100000x \
	./repo:FuzzDecodePage:100000x \
	./repo:FuzzDecodeLog:100000x \
	./repo:FuzzDecodeSnapshot:100000x \
	./repo:FuzzDecodeConfig:50000x \
	./repo:FuzzDecodeKeyFile:100000x \
	./repo:FuzzDecodeLock:100000x \
	./repo:FuzzDecodeStoredPolicy:100000x \
	./repo:FuzzDecodeProtection:100000x \
	./repo:FuzzDecodeJournalFile:100000x \
	./repo/audit:FuzzDecode:100000x \
	./repo/retention:FuzzDecodePolicy:100000x \
	./dbexport:FuzzUnescape:100000x \
	./dbexport:FuzzDecodeTyped:100000x \
	./dbexport:FuzzPlainClass:100000x \
	./dbexport:FuzzAppendField:100000x \
	./dbexport/history:FuzzFindRow:100000x \
	./dbexport/mysql:FuzzSplitTableDDL:100000x \
	./dbexport/postgres:FuzzSplitRendering:50000x \
	./snapdiff:FuzzSpanRows:5000x \
	./chunk:FuzzChunker:5000x \
	./service/state:FuzzDecodeRun:100000x \
	./service/state:FuzzDecodeJobs:100000x \
	./service/health:FuzzDecodeState:100000x \
	./service/schedule:FuzzParse:20000x \
	./service/config:FuzzParse:20000x \
	./service/metrics:FuzzMergeText:50000x

.PHONY: all build install test vet unit fuzz test-long test-faults test-damage test-damage-short bench bench-db bench-table bench-diff bench-diff-10x bench-prune bench-restore bench-history bench-mount bench-daemon demo clean db-servers

all: build

build:
	$(GO) build -o $(BIN) ./cmd/strata

# Installs the binary, its man pages and its bash, zsh and fish completion,
# all generated from the command definitions (strata generate).
PREFIX  ?= /usr/local
DESTDIR ?=
install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/strata
	$(BIN) generate --man $(DESTDIR)$(PREFIX)/share/man/man1
	$(BIN) generate --completion bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/strata
	$(BIN) generate --completion zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_strata
	$(BIN) generate --completion fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/strata.fish

vet:
	$(GO) vet ./...

# The unit tests, with -race and -short. The strata mount tests need
# /dev/fuse and fusermount3 (Debian: apt-get install fuse3; .ci/run
# installs it); without them they skip, and fail under CI=true. Tests
# that take long under the
# race detector skip themselves with -short (`if testing.Short()`) and run
# in test-long; the kill tests run fewer kills. The timeout is generous:
# it catches a hang, not a slow machine (cmd/strata's tests run one after
# another and took over 20 minutes at a load average of 30).
# RACE is -race for strata's code, the standard library and every other
# module, but not for the SQLite engine: modernc.org/sqlite/lib is SQLite's
# C transpiled to Go, run on the C library modernc.org/libc, whose memory
# comes from modernc.org/memory's mmap'd arenas, outside the Go heap the
# race detector watches. Instrumenting them finds nothing and makes every
# SQLite statement several times slower (cmd/strata's CLI tests, half of
# which back up a SQLite database, took twice the CPU). The driver,
# modernc.org/sqlite, and database/sql keep -race.
RACE := -race -gcflags=modernc.org/libc/...=-race=false -gcflags=modernc.org/memory=-race=false -gcflags=modernc.org/sqlite/lib=-race=false

unit:
	$(GO) test $(RACE) -short -count=1 -timeout 45m ./...

# The long tests .ci/run runs after `make test`, each named here: with
# -race those where goroutines meet (concurrent backups, backups on
# several connections, kills, faults), without it the million-row round
# trips through SQLite, PostgreSQL and MariaDB (the race detector makes
# the transpiled SQLite ten times slower, and they test volume), and the
# point-in-time recovery test, which starts its own MariaDB server with
# binary logging (mariadb-install-db, mariadbd, mariadb-binlog). The table node of
# 100 million chunks (docs/design.md, "Table pages") runs without -race.
# A new long test gets its testing.Short() skip and its name here.
LONG_RACE_TESTS := TestDemo|TestJobsShareOneSnapshot|TestQueryCancelled|TestChurn|TestBuild|TestConcurrentBackupsThenPrune|TestKillDuringBackup|TestKillDuringBackupOrPrune|TestPruneStoppedAtEveryStep|TestIndexModel|TestPruneFaults|TestBackupFaults|TestPruneFreesSpaceAndKeepsEverySnapshot|TestCheckEveryByte|TestInterruptedDrillDropsScratch|TestCopyKilled|TestConformanceThroughFaults
test-long:
	$(GO) test $(RACE) -count=1 -timeout 40m -run '^($(LONG_RACE_TESTS))$$' ./...
	$(GO) test -count=1 -timeout 30m -run '^(TestMillionRows|TestBinlogPointInTime)$$' ./dbexport/...
	$(GO) test -count=1 -timeout 20m -run '^TestPostgresSchemaArchive' ./cmd/strata
	$(GO) test -count=1 -timeout 30m -run '^TestKillDuringBackupOrPruneS3$$' ./cmd/strata
	$(GO) test $(RACE) -count=1 -timeout 40m -run 'SeaweedFS$$' ./repo/backend/s3
	$(GO) test -count=1 -timeout 30m -run '^TestKillDuringBackupOrPruneSeaweedFS$$' ./cmd/strata
	$(GO) test -count=1 -timeout 40m -run '^TestHundredMillionChunks$$' -v ./repo

# A short pass over every fuzz target; FUZZTIME=5m make fuzz for a long one.
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; budget="$(FUZZTIME)"; \
		[ -n "$$budget" ] || budget=$${rest#*:}; \
		echo "fuzz $$pkg $$name ($$budget)"; \
		$(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$$budget $$pkg; \
	done

test: vet unit test-damage-short fuzz

# The damage matrix (docs/design.md, "The damage matrix"): every kind of
# repository file damaged every way, then check, restore, the advised
# repairs, check and restore again, run through the strata binary. The
# short form (a fifth of the cases, under a minute) is part of `make test`;
# test-damage runs every case and prints the table, which it also writes to
# bin/damage-matrix.md (each case's commands and output: bin/damage-logs/).
test-damage-short:
	$(GO) test -count=1 -timeout 10m -run '^TestDamageMatrix$$' ./cmd/strata

test-damage:
	rm -rf bin/damage-logs bin/damage-matrix.md; mkdir -p bin/damage-logs
	STRATA_DAMAGE=full STRATA_DAMAGE_TABLE=$(CURDIR)/bin/damage-matrix.md STRATA_DAMAGE_LOGS=$(CURDIR)/bin/damage-logs \
		$(GO) test -count=1 -timeout 30m -run '^TestDamageMatrix$$' ./cmd/strata; \
		status=$$?; cat bin/damage-matrix.md 2>/dev/null; exit $$status

# The reliability tests at length: prune and backup against a faulty
# backend, concurrent backups, then KILLS backups and prunes run as
# processes and killed with SIGKILL (`make test` runs 3 kills, `make
# test-long` 20). The last lines say how many kills were survived and how
# many landed mid-prune; STRATA_KILL_SEED=N repeats a run. The same loop
# runs against MinIO and against a SeaweedFS cluster on loopback, each with
# a quarter of the kills.
KILLS ?= 200
test-faults:
	$(GO) test -count=1 -run 'Faults|StoppedAtEveryStep|UnreadableParent|ConcurrentBackups' ./repo/prune ./repo/archive ./cmd/strata
	cd cmd/strata && STRATA_KILL_LOOPS=$(KILLS) $(GO) test -count=1 -timeout 3h -run '^TestKillDuringBackupOrPrune$$'
	cd cmd/strata && STRATA_KILL_LOOPS=$$(( $(KILLS) / 4 )) $(GO) test -count=1 -timeout 3h -run '^TestKillDuringBackupOrPruneS3$$'
	cd cmd/strata && STRATA_KILL_LOOPS=$$(( $(KILLS) / 4 )) $(GO) test -count=1 -timeout 3h -run '^TestKillDuringBackupOrPruneSeaweedFS$$'

# Go benchmarks, then the whole-program backup benchmark (500 MB via --stdin).
bench: build
	$(GO) test -run='^$$' -bench=. -benchmem ./chunk ./pack ./index ./repo/... ./dbexport ./dbexport/sqlite
	$(GO) run ./internal/benchstdin -strata $(BIN)

demo: build
	$(GO) run ./internal/demo -strata $(BIN)

# The database benchmark: strata against restic on 25 hourly backups of a
# 134 MB customer database (docs/benchmarks.md). Needs restic and sqlite3.
# BENCH_DB_FLAGS="-customers 2000000 -hours 9" runs it on a database ten
# times larger (docs/benchmarks.md, "A ten times larger database").
bench-db: build
	command -v restic >/dev/null || (apt-get update && apt-get install -y restic)
	command -v sqlite3 >/dev/null || (apt-get update && apt-get install -y sqlite3)
	$(GO) run ./internal/benchdb -strata $(BIN) $(BENCH_DB_FLAGS)

# One table of 10 million rows with 1% of its rows changed an hour
# (docs/benchmarks.md, "One table of 10 million rows"): bytes strata adds
# an hour and the peak RSS of each backup and of the restore. Needs sqlite3.
# BENCH_TABLE_FLAGS="-hours 6" runs more hours.
bench-table: build
	command -v sqlite3 >/dev/null || (apt-get update && apt-get install -y sqlite3)
	$(GO) run ./internal/benchdb -strata $(BIN) -table-rows 10000000 -rate 0.01 -hours 3 $(BENCH_TABLE_FLAGS)

# strata diff against what a user does today (docs/benchmarks.md, "Diff"):
# consecutive hourly snapshots of the bench-db workload and of one ten
# times larger, and 24 hours apart, against restoring both and sqldiff,
# or dumping both as CSV, sort and comm. Needs sqldiff (sqlite3-tools).
# The Argon2id key derivation every command pays is timed and reported
# apart from the diff. bench-diff-10x runs the ten times larger database
# alone (2,000,000 customers, one hour of churn).
bench-diff: build
	command -v sqldiff >/dev/null || (apt-get update && apt-get install -y sqlite3-tools)
	$(GO) run ./internal/benchdiff -strata $(BIN) $(BENCH_DIFF_FLAGS)

bench-diff-10x: build
	command -v sqldiff >/dev/null || (apt-get update && apt-get install -y sqlite3-tools)
	$(GO) run ./internal/benchdiff -strata $(BIN) -customers 2000000 -hours 1 -scale 0 $(BENCH_DIFF_FLAGS)

# Row history (docs/benchmarks.md, "Row history"): 720 hourly snapshots
# of the customer database, then strata history of single rows across
# all of them, timed against the target of 2 s.
bench-history: build
	$(GO) run ./internal/benchhistory -strata $(BIN) $(BENCH_HISTORY_FLAGS)

# Restore speed against the dump tools (docs/benchmarks.md, "Restore
# against pg_dump and mysqldump"): a 2,000,000-row PostgreSQL and a
# 1,000,000-row MariaDB database on the test servers, backed up and
# restored by strata and by pg_dump -Fc + pg_restore -j 2 and mysqldump +
# mysql in the same run. BENCH_RESTORE_FLAGS=-engines postgres measures one.
bench-restore: build
	$(GO) run ./internal/benchrestore -strata $(BIN) $(BENCH_RESTORE_FLAGS)

# Forget and prune: 720 hourly snapshots of a changing 100 MB table, then
# strata forget (the default policy, as flags), prune, check --read-data and a restore
# of every remaining snapshot (docs/benchmarks.md, "Forget and prune").
# BENCH_PRUNE_FLAGS=-keep /tmp/bp keeps and reuses the built repository.
bench-prune: build
	$(GO) run ./internal/benchprune -strata $(BIN) $(BENCH_PRUNE_FLAGS)

# strata mount against strata dump (docs/benchmarks.md, "Mount"): every
# table of the 134 MB customer database read whole through the mount
# (cat TABLE.tsv, TABLE.csv) and by strata dump, the export as one file,
# and ls -R of the views of 720 hourly snapshots; seconds, MB/s and peak
# RSS. Needs /dev/fuse and fusermount3 (apt-get install fuse3).
# BENCH_MOUNT_FLAGS=-dir /tmp/bm keeps and reuses the built repositories.
# strata daemon at rest (docs/benchmarks.md, "The daemon at rest"): CPU
# time, resident memory and threads over 60 s with no job due.
bench-daemon: build
	$(GO) run ./internal/benchdaemon -strata $(BIN)

bench-mount: build
	command -v fusermount3 >/dev/null || (apt-get update && apt-get install -y fuse3)
	$(GO) run ./internal/benchmount -strata $(BIN) $(BENCH_MOUNT_FLAGS)

# The S3 benchmark (docs/benchmarks.md, "S3"): the bench-db workload backed
# up and its latest state restored into SQLite, to a local folder and to a
# MinIO server on loopback, side by side, with the requests of each hourly
# backup counted. BENCH_S3_FLAGS=-hours 6 runs fewer hours.
.PHONY: bench-s3 minio seaweedfs
bench-s3: build minio
	$(GO) run ./internal/benchs3 -strata $(BIN) $(BENCH_S3_FLAGS)

# Build the MinIO server the S3 tests start on loopback, once, into
# ~/.cache/strata-tools/bin (internal/miniotest finds it there).
minio:
	sh .ci/minio.sh

# Build the SeaweedFS server (weed) the distributed S3 tests start on
# loopback as a cluster, once, into ~/.cache/strata-tools/bin
# (internal/seaweedtest finds it there).
seaweedfs:
	sh .ci/seaweedfs.sh

# Start (or install) the PostgreSQL and MariaDB servers the tests use.
db-servers:
	sh .ci/db-servers.sh

clean:
	rm -rf bin
