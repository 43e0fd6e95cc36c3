# SPDX-License-Identifier: Apache-2.0
"""The Kubernetes minors a built kube-firstboot sets up, as `kube-firstboot version` lists them
("Kubernetes 1.33-1.38 ..."); shared by the per-minor tests (test_minors, test_day2)."""
import os
import re
import subprocess

from . import SIM_DIR

KF = os.environ.get("KF_BIN", os.path.join(os.path.dirname(os.path.dirname(SIM_DIR)), "build", "kube-firstboot"))


def supported_minors(kf=KF):
    """[33, 34, ...] or [] when the binary is not built."""
    if not os.access(kf, os.X_OK):
        return []
    out = subprocess.run([kf, "version"], capture_output=True, text=True, timeout=30).stdout
    m = re.search(r"Kubernetes 1\.(\d+)-1\.(\d+)", out)
    return list(range(int(m.group(1)), int(m.group(2)) + 1)) if m else []
