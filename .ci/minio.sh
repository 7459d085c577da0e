#!/bin/sh
# Builds the MinIO server that the S3 tests and `make bench-s3` start on
# loopback (internal/miniotest), once, into a cache outside the
# repository: ${XDG_CACHE_HOME:-$HOME/.cache}/strata-tools/bin/minio.
# Upstream stopped publishing release binaries in 2026; the module builds
# with `go install` (about 10 minutes on 2 cores). The version is pinned
# so every machine tests against the same server.
set -eu
version=v0.0.0-20260212201848-7aac2a2c5b7c
bin="${XDG_CACHE_HOME:-$HOME/.cache}/strata-tools/bin"
if [ -x "$bin/minio" ]; then
	exit 0
fi
mkdir -p "$bin"
echo "building minio $version into $bin (once, about 10 minutes)"
cd /tmp
GOBIN="$bin" GOFLAGS= go install "github.com/minio/minio@$version"
"$bin/minio" --version
