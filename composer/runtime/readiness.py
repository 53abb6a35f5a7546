"""TCP readiness: a container is ready once its declared ports accept connections.

Used for services that declare ``x-composer-ready`` (see
:mod:`composer.plan.reconcile`) instead of a healthcheck. The ports are probed on
the container's own addresses (from its inspection: one per network, or the
host's loopback with ``network_mode: host``) and on the host ports they are
published on, so it works whether or not the container network is routable
from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import anyio

from composer.backends.base import Backend, ContainerInfo
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


def candidate_addresses(info: ContainerInfo, port: int) -> list[tuple[str, int]]:
    """Where ``port`` of the container ``info`` describes may answer."""
    out: list[tuple[str, int]] = []
    if info.network_mode == "host":
        out.append(("127.0.0.1", port))
    out += [(ip, port) for ip in dict.fromkeys(info.ip_addresses.values())]
    for binding in info.ports.get(f"{port}/tcp") or ():
        host = binding.host_ip
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        out.append((host, binding.host_port))
    return list(dict.fromkeys(out))


async def container_ready(info: ContainerInfo, ports: Iterable[int]) -> list[int]:
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
        name = info.name or info.id
        if info.state in ("exited", "dead"):
            raise WaitError(f"container {name} exited ({info.exit_code})")
        if info.state == "running":
            pending = await container_ready(info, pending)
            if not pending:
                return
        left = deadline - anyio.current_time()
        if left <= 0:
            listed = ", ".join(str(p) for p in pending)
            raise WaitError(f"container {name} did not accept TCP connections on port "
                            f"{listed} within {timeout:g}s")
        await anyio.sleep(min(interval, left))
