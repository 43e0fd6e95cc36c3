#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# 'make bench' part for issue 7: control-plane joins, 1, 3 and 5 at once versus one after another, with the
# API and etcd requests per join (tests/bench/bench_join.py; needs root for the simulated cluster).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec /usr/bin/python3 tests/bench/bench_join.py
