#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# 'make bench' part for issue 16: a dead control plane's replacement, from its boot to 3 healthy etcd voters,
# beside a plain control-plane join in the same run (tests/bench/bench_replacement.py; needs root).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec /usr/bin/python3 tests/bench/bench_replacement.py
