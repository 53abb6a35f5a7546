"""Which engine the engine tests run on (``make test-podman`` sets
``COMPOSER_TEST_ENGINE=podman``)."""

from __future__ import annotations

import os

TEST_ENGINE = os.environ.get("COMPOSER_TEST_ENGINE", "docker")
ON_PODMAN = TEST_ENGINE == "podman"


def forward_dropped() -> bool:
    """Whether the host's firewall drops forwarded packets (Docker's ``iptables -P
    FORWARD DROP``): with ``br_netfilter``, it also drops those between containers on
    a Podman internal network, for which Podman adds no rule."""
    import shutil
    import subprocess

    if shutil.which("iptables") is None:
        return False
    out = subprocess.run(["iptables", "-S", "FORWARD"], capture_output=True, text=True,
                         check=False).stdout
    return "-P FORWARD DROP" in out.splitlines()
