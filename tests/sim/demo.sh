#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# make demo: a simulated HA cluster on this machine (real etcd and haproxy, simulated apiserver,
# controller-manager, scheduler and kubelet). Needs root for network namespaces. Cleans up after itself.
set -euo pipefail
cd "$(dirname "$0")/../.."
export KF_BIN=${KF_BIN:-$PWD/build/kube-firstboot}
exec /usr/bin/python3 tests/sim/demo.py "$@"
