# SPDX-License-Identifier: Apache-2.0
"""tests/sim: a simulated cluster on one machine (real etcd and haproxy; doubles for the
kube-apiserver, controller-manager, scheduler and kubelet)."""
import os

SIM_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN_DIR = os.path.join(SIM_DIR, "bin")
PYTHON = "/usr/bin/python3"
