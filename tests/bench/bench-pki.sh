#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# 'make bench' part for issue 3: a full init-node PKI (16 keys) with ECDSA-P256 and with RSA-2048, against
# OpenSSL alone generating the same number of keys, measured side by side in one run (tests/bench/bench-pki.c);
# then the real binary end to end.
#   BENCH_ECDSA_ROUNDS (default 40), BENCH_RSA_ROUNDS (default 8)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${KF_BUILD:-build}
bin=${KF_BIN:-$build/kube-firstboot}
out=$build/bench
mkdir -p "$out"

# The library objects 'make' built for the binary (pki/ and the common/ it uses), and the bench's main.
pkgs="openssl libcurl libcjson yaml-0.1 blkid"
objs=("$build"/dyn/pki/*.o "$build"/dyn/common/*.o)
[ -e "${objs[0]}" ] || { echo "bench-pki: no objects under $build/dyn: run 'make' first" >&2; exit 1; }
# shellcheck disable=SC2046
gcc -std=gnu11 -O2 -D_GNU_SOURCE -I. $(pkg-config --cflags $pkgs) -o "$out/bench-pki" \
        tests/bench/bench-pki.c tests/unit/unit.c "${objs[@]}" $(pkg-config --libs $pkgs) -lm

echo "bench-pki: $(nproc) CPU(s), $(openssl version)"
"$out/bench-pki" ECDSA-P256 "${BENCH_ECDSA_ROUNDS:-40}"
"$out/bench-pki" RSA-2048 "${BENCH_RSA_ROUNDS:-8}"

# End to end: the CLI, process start-up and config parsing included.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for alg in ECDSA-P256 RSA-2048; do
        printf 'apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nnodeRegistration: {name: bench}\n'`
        `'localAPIEndpoint: {advertiseAddress: 10.0.0.10}\n---\napiVersion: kubeadm.k8s.io/v1beta4\n'`
        `'kind: ClusterConfiguration\nencryptionAlgorithm: %s\n' "$alg" >"$tmp/$alg.yaml"
        n=$([ $alg = RSA-2048 ] && echo 2 || echo 10)
        start=$(date +%s%N)
        for i in $(seq "$n"); do
                "$bin" pki certs --config "$tmp/$alg.yaml" --root "$tmp/root-$alg-$i" >/dev/null
        done
        end=$(date +%s%N)
        printf '%-10s CLI end to end (pki certs)      %9.2f ms per PKI (%d runs)\n' "$alg" \
                "$(echo "($end - $start) / 1000000 / $n" | bc -l)" "$n"
done
