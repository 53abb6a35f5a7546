"""Which engine the engine tests run on (``make test-podman`` sets
``COMPOSER_TEST_ENGINE=podman``, ``make test-lxc`` sets ``COMPOSER_TEST_ENGINE=lxc``
and ``COMPOSER_ENGINE=lxc``, so every composer the tests start runs on LXC)."""

from __future__ import annotations

import os
from typing import Any

TEST_ENGINE = os.environ.get("COMPOSER_TEST_ENGINE", "docker")
ON_PODMAN = TEST_ENGINE == "podman"
ON_LXC = TEST_ENGINE == "lxc"


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


def raw_inspect(backend: object, container: str) -> dict[str, object]:
    """What the engine holds for ``container``, in the Engine API's shape (the typed
    inspection has no mounts or command): Docker's and Podman's answer, or LXC's
    state file shaped alike."""
    if ON_LXC:
        from lxc_client import LxcClient

        client = LxcClient()
        try:
            return client.api.inspect_container(container)
        finally:
            client.close()
    answer: dict[str, object] = backend._client.inspect_container(  # type: ignore[attr-defined]
        container)
    return answer


def api_client(address: str) -> Any:
    """The docker SDK's low-level client on the engine at ``address``, or, for
    ``lxc://``, the same calls over LXC (:mod:`lxc_client`). ``close()`` it."""
    if address.startswith("lxc://"):
        from lxc_client import LxcClient

        return LxcClient().api
    import docker

    return docker.APIClient(base_url=address, version="auto", timeout=60)


def sdk_client(address: str) -> Any:
    """The docker SDK's client on the engine at ``address``, or, for ``lxc://``, the
    same calls over LXC (:mod:`lxc_client`). ``close()`` it."""
    if address.startswith("lxc://"):
        from lxc_client import LxcClient

        return LxcClient()
    import docker

    return docker.DockerClient(base_url=address, version="auto", timeout=60)
