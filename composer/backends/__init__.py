"""Engines composer can drive, behind one protocol.

* :mod:`composer.backends.base` — the :class:`~composer.backends.base.Backend`
  protocol and its data types: all that ``runtime/``, ``cli/`` and ``api.py``
  know of an engine;
* :mod:`composer.backends.docker` — the Docker Engine (and Podman's Docker API),
  on the docker SDK: the only package that imports ``docker``;
* :mod:`composer.backends.memory` — an engine in memory, for tests and for
  running plans without one;
* :mod:`composer.backends.lxc` — LXC containers through LXC's own Python binding
  (chosen by name: ``--engine lxc``, ``COMPOSER_ENGINE=lxc``, ``lxc://``);
* :mod:`composer.backends.spec` — compose service -> the Engine API's create
  bodies (pure).

:func:`connect` gives the backend for an engine address.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from composer.backends.base import Backend

__all__ = ["connect"]


def connect(host: str | None = None, *, engine: str | None = None, max_concurrency: int = 16,
            timeout: int = 60) -> Backend:
    """The backend for the engine at ``host`` (``unix:///var/run/docker.sock``,
    ``tcp://host:2375``...), else the one :func:`composer.backends.discovery.discover`
    finds for ``engine`` (``docker``, ``podman``, ``auto``; default
    ``COMPOSER_ENGINE``, else ``auto``: ``DOCKER_HOST``, then the first socket that
    answers among Docker's and Podman's, then ``CONTAINER_HOST``, then a private
    ``podman system service`` started here and stopped by ``aclose()``).

    ``memory://`` gives a fresh :class:`~composer.backends.memory.MemoryBackend`.
    Makes no request: an unreachable engine shows on the first call, as
    ``EngineUnreachableError``. At most ``max_concurrency`` engine calls are in
    flight at once; ``timeout`` (seconds) bounds a call's wait for an answer.
    The Docker SDK is imported here, on first use, not when composer is.
    """
    if host is not None and host.startswith("memory://"):
        from composer.backends.memory import MemoryBackend

        return MemoryBackend()
    lxc_wanted = (engine or os.environ.get("COMPOSER_ENGINE") or "") == "lxc"
    if (host is not None and host.startswith("lxc://")) or (host is None and lxc_wanted):
        # LXC has no daemon to find: chosen by name only (--engine lxc).
        from composer.backends.lxc.backend import LxcBackend

        return LxcBackend(host[len("lxc://"):] or None if host else None)
    from composer.backends.docker import connect as docker_connect

    if host is None:
        from composer.backends.discovery import discover

        choice = discover(engine)
        if choice.private:
            from composer.backends.podman_service import PodmanService, podman_command

            service = PodmanService(podman_command() or "podman")
            service.start()
            backend = docker_connect(service.address, max_concurrency=max_concurrency,
                                     timeout=timeout)
            backend.on_close.append(service.stop)  # the command's end stops it
            return backend
        if choice.how != "DOCKER_HOST":
            host = choice.address  # DOCKER_HOST keeps the SDK's TLS settings
    return docker_connect(host, max_concurrency=max_concurrency, timeout=timeout)
