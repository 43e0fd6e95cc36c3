#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fetches Debian 13 (trixie)'s etcd 3.5 (the etcd-server package) into build/etcd-3.5/ for the simulated
# cluster's etcd 3.5 runs (tests/sim/README.md), on a Debian 12 host, without touching the host's apt
# configuration: apt-get reads a private sources list and keeps its lists, state and cache under
# build/etcd-3.5/apt/ (the host's apt.conf.d is read as it is: a proxy configured there still applies).
# The package is unpacked with dpkg-deb -x, never installed. The tests need no etcdctl (etcd-client).
#   tools/fetch-etcd.sh [DIR]      DIR defaults to build/etcd-3.5; prints DIR/usr/bin/etcd's version
# Idempotent: when DIR/usr/bin/etcd runs and says 3.5, it does nothing.
# Exit 0 when etcd 3.5 is there, 1 when the archive cannot be reached or holds no etcd 3.5.
set -euo pipefail
cd "$(dirname "$0")/.."

dest=$(realpath -m "${1:-${KF_BUILD:-build}/etcd-3.5}")
suite=${KF_ETCD35_SUITE:-trixie}
mirror=${KF_ETCD35_MIRROR:-http://deb.debian.org/debian}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
want=3.5.
etcd=$dest/usr/bin/etcd

version_of() { # BIN: "3.5.16" from "etcd Version: 3.5.16", or nothing
        { "$1" --version 2>/dev/null || true; } | sed -n 's/^etcd [Vv]ersion: *\([0-9.]*\).*/\1/p' | head -1
}

if [ -x "$etcd" ]; then
        v=$(version_of "$etcd")
        if [[ $v == "$want"* ]]; then
                echo "fetch-etcd: etcd $v already in $dest"
                exit 0
        fi
fi

for t in apt-get dpkg-deb; do
        command -v $t >/dev/null || { echo "fetch-etcd: $t is needed (a Debian host)" >&2; exit 1; }
done
[ -r $keyring ] || { echo "fetch-etcd: $keyring is missing (apt-get install debian-archive-keyring)" >&2; exit 1; }

apt=$dest/apt
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs"
cat >"$apt/sources.list" <<EOF
deb [signed-by=$keyring] $mirror $suite main
EOF
# Everything apt-get writes stays under $apt: its own sources, lists, cache and lock. The dpkg status
# (Dir::State::status) is the host's, read only: apt-get download installs nothing.
opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
      -o "Dir::State=$apt" -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
      -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=" -o "Acquire::Languages=none"
      -o "Acquire::Retries=2" -o "Acquire::http::Timeout=30" -q)

log=$apt/apt.log
echo "fetch-etcd: reading $suite's package list from $mirror (private apt state in $apt)"
if ! apt-get "${opts[@]}" update >"$log" 2>&1 || grep -qE '^(W|E): (Failed to fetch|Some index files failed)' "$log"; then
        sed 's/^/  /' "$log" >&2
        echo "fetch-etcd: cannot read Debian $suite's package list from $mirror: is the archive reachable?" \
                "(KF_ETCD35_MIRROR=URL picks another mirror; KF_SKIP_ETCD35=1 leaves the etcd 3.5 runs out)" >&2
        exit 1
fi
v=$(apt-cache "${opts[@]}" show --no-all-versions etcd-server 2>/dev/null | sed -n 's/^Version: //p' | head -1)
if [[ $v != "$want"* ]]; then
        echo "fetch-etcd: Debian $suite has etcd-server '${v:-none}', not $want*" >&2
        exit 1
fi
echo "fetch-etcd: downloading etcd-server $v"
rm -f "$apt"/debs/*.deb
if ! (cd "$apt/debs" && apt-get "${opts[@]}" download etcd-server) >>"$log" 2>&1; then
        sed 's/^/  /' "$log" >&2
        echo "fetch-etcd: downloading etcd-server $v from $mirror failed" >&2
        exit 1
fi
deb=$(ls "$apt"/debs/etcd-server_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { echo "fetch-etcd: etcd-server $v was not downloaded" >&2; exit 1; }
dpkg-deb -x "$deb" "$dest"
got=$(version_of "$etcd")
if [[ $got != "$want"* ]]; then
        echo "fetch-etcd: $etcd does not run here or is not $want* ('$got')" >&2
        exit 1
fi
rm -rf "$apt"/debs/*.deb "$apt"/cache/archives/*.deb "$apt"/lists # about 20 MB nobody reads again
echo "fetch-etcd: etcd $(version_of "$etcd") in $dest (from Debian $suite's etcd-server $v)"
