#!/bin/sh
# Builds the SeaweedFS server (`weed`) that the distributed-S3 tests start
# on loopback (internal/seaweedtest), once, into a cache outside the
# repository: ${XDG_CACHE_HOME:-$HOME/.cache}/strata-tools/bin/weed.
# SeaweedFS's go.mod carries replace directives, so `go install module@v`
# refuses it: the module is downloaded at a pinned version, copied somewhere
# writable (the module cache is read-only) and built there with `go build`
# (about 8 minutes on an idle 2-core machine). The version is pinned so
# every machine tests against the same server.
set -eu
version=v0.0.0-20261109003541-7506e5f91cd6
cache="${XDG_CACHE_HOME:-$HOME/.cache}/strata-tools"
bin="$cache/bin"
if [ -x "$bin/weed" ]; then
	exit 0
fi
mkdir -p "$bin"
echo "building seaweedfs $version into $bin (once, about 8 minutes)"
src="$cache/src/seaweedfs-$version"
dir=$(cd /tmp && GOFLAGS= go mod download -json "github.com/seaweedfs/seaweedfs@$version" |
	sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ -z "$dir" ] || [ ! -d "$dir" ]; then
	echo "seaweedfs.sh: go mod download gave no module folder" >&2
	exit 1
fi
rm -rf "$src"
mkdir -p "$cache/src"
cp -R "$dir" "$src"
chmod -R u+w "$src"
cd "$src"
# Build into a temporary name and rename, so an interrupted build never
# leaves a half-written binary that the check above would take as done.
GOFLAGS=-buildvcs=false go build -o "$bin/weed.tmp" ./weed
mv "$bin/weed.tmp" "$bin/weed"
rm -rf "$src"
"$bin/weed" version
