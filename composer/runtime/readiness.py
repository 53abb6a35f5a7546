"""TCP readiness: a container is ready once its declared ports accept connections.

Used for services that declare ``x-composer-ready`` (see
:mod:`composer.plan.reconcile`) instead of a healthcheck. The ports are probed on
the container's own addresses (from ``docker inspect``: one per network, or the
host's loopback with ``network_mode: host``) and on the host ports they are
published on, so it works whether or not the container network is routable
from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import anyio

from composer.backends.base import Backend
from composer.runtime.errors import WaitError

__all__ = ["candidate_addresses", "container_ready", "probe_tcp", "wait_tcp_ready"]

CONNECT_TIMEOUT = 1.0


async def probe_tcp(host: str, port: int, *, timeout: float = CONNECT_TIMEOUT) -> bool:
    """Whether ``host:port`` accepts a TCP connection within ``timeout`` seconds."""
    try:
        with anyio.fail_after(timeout):
            stream = await anyio.connect_tcp(host, port)
    except (OSError, TimeoutError):
        return False
    await stream.aclose()
    return True


def _name(info: Mapping[str, Any]) -> str:
    return str(info.get("Name") or info.get("Id") or "?").lstrip("/")


def candidate_addresses(info: Mapping[str, Any], port: int) -> list[tuple[str, int]]:
    """Where ``port`` of the container described by ``info`` (inspect output) may answer."""
    settings = info.get("NetworkSettings") or {}
    out: list[tuple[str, int]] = []
    mode = str((info.get("HostConfig") or {}).get("NetworkMode") or "")
    if mode == "host":
        out.append(("127.0.0.1", port))
    ips: list[str] = []
    for endpoint in (settings.get("Networks") or {}).values():
        ip = (endpoint or {}).get("IPAddress")
        if ip:
            ips.append(str(ip))
    if settings.get("IPAddress"):
        ips.append(str(settings["IPAddress"]))
    out += [(ip, port) for ip in dict.fromkeys(ips)]
    for binding in (settings.get("Ports") or {}).get(f"{port}/tcp") or ():
        host_port = str(binding.get("HostPort") or "")
        if not host_port.isdigit():
            continue
        host = str(binding.get("HostIp") or "")
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        out.append((host, int(host_port)))
    return list(dict.fromkeys(out))


async def container_ready(info: Mapping[str, Any], ports: Iterable[int]) -> list[int]:
    """The ports of ``ports`` that do not accept connections yet (empty: ready)."""
    pending = []
    for port in ports:
        for host, target in candidate_addresses(info, port):
            if await probe_tcp(host, target):
                break
        else:
            pending.append(port)
    return pending


async def wait_tcp_ready(backend: Backend, container: str, ports: Sequence[int], *,
                         timeout: float, interval: float = 0.5,
                         began: float | None = None) -> None:
    """Return once every port of ``ports`` accepts connections on ``container``.

    Raises :class:`WaitError` if the container stops running, or when
    ``timeout`` seconds (counted from ``began``, an ``anyio.current_time()``,
    default now) pass first, naming the ports still closed.
    """
    deadline = (anyio.current_time() if began is None else began) + timeout
    pending = list(ports)
    name = container
    while True:
        info = await backend.inspect_container(container)
        name = _name(info)
        state = info.get("State") or {}
        status = str(state.get("Status") or "")
        if status in ("exited", "dead"):
            raise WaitError(f"container {name} exited ({state.get('ExitCode', '?')})")
        if status == "running":
            pending = await container_ready(info, pending)
            if not pending:
                return
        left = deadline - anyio.current_time()
        if left <= 0:
            listed = ", ".join(str(p) for p in pending)
            raise WaitError(f"container {name} did not accept TCP connections on port "
                            f"{listed} within {timeout:g}s")
        await anyio.sleep(min(interval, left))
