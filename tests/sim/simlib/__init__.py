# SPDX-License-Identifier: Apache-2.0
"""tests/sim: a simulated cluster on one machine (real etcd and haproxy; doubles for the
kube-apiserver, controller-manager, scheduler and kubelet)."""
import os
import sys

SIM_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN_DIR = os.path.join(SIM_DIR, "bin")
# tests/lib (etcdbin, shared with tests/integration); in the VM test's image, a lib/ beside bin/ and simlib/.
LIB_DIR = next((d for d in (os.path.join(os.path.dirname(SIM_DIR), "lib"), os.path.join(SIM_DIR, "lib"))
                if os.path.exists(os.path.join(d, "etcdbin.py"))), os.path.join(os.path.dirname(SIM_DIR), "lib"))
PYTHON = "/usr/bin/python3"
if LIB_DIR not in sys.path:  # the doubles in bin/ run as programs of their own, without tests/conftest.py
    sys.path.insert(0, LIB_DIR)
