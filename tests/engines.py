"""Which engine the engine tests run on (``make test-podman`` sets
``COMPOSER_TEST_ENGINE=podman``, ``make test-lxc`` sets ``COMPOSER_TEST_ENGINE=lxc``
and ``COMPOSER_ENGINE=lxc``, so every composer the tests start runs on LXC)."""

from __future__ import annotations

import functools
import os
from typing import Any

TEST_ENGINE = os.environ.get("COMPOSER_TEST_ENGINE", "docker")
ON_PODMAN = TEST_ENGINE == "podman"
ON_LXC = TEST_ENGINE == "lxc"


@functools.cache
def engine_facts() -> tuple[bool, str]:
    """(Whether the engine under test runs rootless, its cgroup version: "1", "2" or
    ""), from the engine itself: Podman's own ``/info`` (``host.security.rootless``,
    ``host.cgroupVersion``), Docker's (``SecurityOptions`` has ``name=rootless``,
    ``CgroupVersion``). (False, "") on LXC or when no engine answers."""
    if ON_LXC:
        return False, ""
    import docker

    try:
        client = docker.APIClient(base_url=os.environ.get("DOCKER_HOST") or None,
                                  version="auto", timeout=30)
    except Exception:
        return False, ""
    try:
        if ON_PODMAN:
            response = client.get(f"{client.base_url}/v4.0.0/libpod/info")
            response.raise_for_status()
            host = response.json().get("host") or {}
            return (bool((host.get("security") or {}).get("rootless")),
                    str(host.get("cgroupVersion") or "").lstrip("v"))
        info = client.info()
        rootless = any(str(option).split(",")[0] == "name=rootless"
                       for option in info.get("SecurityOptions") or ())
        return rootless, str(info.get("CgroupVersion") or "")
    except Exception:
        return False, ""
    finally:
        client.close()


def no_container_cgroup() -> bool:
    """Whether the engine under test gives a container no cgroup of its own: a
    rootless engine on cgroup v1 (the user cannot be delegated a v1 hierarchy
    without systemd). Podman then refuses to pause one, cannot limit a build's
    memory, and its stats have no pids."""
    rootless, version = engine_facts()
    return rootless and version == "1"


def not_listening(ip: str, port: int, container: str) -> str:
    """What composer says of a port nothing listens on: the refusal of a direct
    connection, or, for a rootless engine (whose containers' addresses this machine
    does not reach), what it read inside the container."""
    if engine_facts()[0]:
        return f"nothing listens on port {port} at {ip} (read inside container {container})"
    return f"connection refused at {ip}:{port}"


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
