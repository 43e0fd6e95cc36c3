#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# 'make bench' part for issue 6: the local work of an init node — 'kube-firstboot run' from the configuration
# to the kubelet hand-off (certs, kubeconfigs, etcd and control-plane manifests, kubelet files; the kubelet
# start command is 'true'), i.e. everything but waiting for other processes — in CPU time (user+sys) and wall
# time, with ECDSA-P256 and RSA-2048, alternated round by round in one run so both see the same machine.
#   BENCH_INIT_ROUNDS (default 5)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${KF_BUILD:-build}
bin=${KF_BIN:-$build/kube-firstboot}
rounds=${BENCH_INIT_ROUNDS:-5}
[ -x "$bin" ] || { echo "bench-init: $bin is not built: run 'make' first" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for alg in ECDSA-P256 RSA-2048; do
        cat >"$tmp/$alg.yaml" <<YAML
apiVersion: kube-firstboot.io/v1alpha1
kind: FirstbootConfiguration
role: init
kubelet: {startCommand: ["true"]}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.38.0
controlPlaneEndpoint: 10.0.0.100:6443
encryptionAlgorithm: $alg
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration: {name: bench, ignorePreflightErrors: [all]}
localAPIEndpoint: {advertiseAddress: 10.0.0.11}
YAML
done

# One measurement: CPU and wall time of the child, from /proc-free bash builtins (TIMEFORMAT).
measure() { # alg round -> "cpu wall"
        local root=$tmp/root-$1-$2 t
        mkdir -p "$root"
        t=$( { TIMEFORMAT='%U %S %R'; time "$bin" run --root "$root" --allow-host --no-metadata --config "$tmp/$1.yaml" \
                --stop-after kubelet-start >/dev/null 2>"$root.log"; } 2>&1 ) || {
                echo "bench-init: run failed:" >&2; cat "$root.log" >&2; exit 1; }
        rm -rf "$root"
        awk '{printf "%.4f %.4f\n", $1 + $2, $3}' <<<"$t"
}

declare -A cpu wall
for alg in ECDSA-P256 RSA-2048; do cpu[$alg]=""; wall[$alg]=""; done
for ((i = 0; i < rounds; i++)); do
        for alg in ECDSA-P256 RSA-2048; do
                read -r c w < <(measure "$alg" "$i")
                cpu[$alg]+="$c "
                wall[$alg]+="$w "
        done
done
stats() { tr ' ' '\n' <<<"$1" | awk 'NF {n++; s += $1; q += $1 * $1} END {m = s / n; sd = n > 1 ? sqrt((q - n * m * m) / (n - 1)) : 0; printf "%.1f ± %.1f", m * 1000, sd * 1000}'; }
mean() { tr ' ' '\n' <<<"$1" | awk 'NF {n++; s += $1} END {printf "%.6f", s / n}'; }
echo "bench-init: $(nproc) CPU(s); 'run --stop-after kubelet-start' (preflight to kubelet hand-off), $rounds rounds each, alternated"
for alg in ECDSA-P256 RSA-2048; do
        printf 'bench-init %-10s  cpu %s ms   wall %s ms\n' "$alg" "$(stats "${cpu[$alg]}")" "$(stats "${wall[$alg]}")"
done
awk -v a="$(mean "${cpu[RSA-2048]}")" -v b="$(mean "${cpu[ECDSA-P256]}")" -v c="$(mean "${wall[RSA-2048]}")" \
        -v d="$(mean "${wall[ECDSA-P256]}")" \
        'BEGIN {printf "bench-init ratio RSA-2048 / ECDSA-P256: cpu %.1f, wall %.1f\n", a / b, c / d}'
