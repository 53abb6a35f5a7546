"""The plumbing every Docker backend call goes through: worker threads, the one
capacity limiter, API version negotiation, the error boundary, and streams.

Every engine call runs in a worker thread (``anyio.to_thread.run_sync``) under one
:class:`anyio.CapacityLimiter` shared by all calls of a backend, so however many
services the scheduler drives at once, at most ``max_concurrency`` requests are
in flight. Long-lived streams (events, followed logs, stats) do not hold a token:
they would starve the other calls; each item is fetched in a thread of their
own unbounded limiter, and closing the stream shuts its socket down so a
cancelled consumer never leaves a thread blocked.

The API version is negotiated on first use (the engine's, capped at what the SDK
speaks), like the docker CLI does: the client the backend was given asks
``/_ping`` (its ``Api-Version`` header; ``/version`` only when it has none), and a
client speaking the agreed version replaces it.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import docker
import docker.constants
from docker.types import CancellableStream

from composer.backends.docker.credentials import ClientConfig
from composer.backends.docker.errors import check_response, map_engine_error
from composer.backends.docker.wire import END, next_or_end
from composer.errors import ComposerError

__all__ = ["MAX_API", "MIN_API", "Engine"]

# The SDK speaks up to this version; an older engine gets its own.
MAX_API = str(docker.constants.DEFAULT_DOCKER_API_VERSION)
MIN_API = str(docker.constants.MINIMUM_DOCKER_API_VERSION)
T = TypeVar("T")
#: How long a ``down`` waits for calls a cancellation abandoned (a create is quick).
SETTLE_TIMEOUT = 30.0


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".") if p.isdigit())


class Engine:
    """The shared machinery of :class:`~composer.backends.docker.DockerBackend`.

    ``client_factory(version)`` makes a client speaking ``version``; without one
    the client keeps the version it was made with.
    """

    def __init__(self, client: docker.APIClient, address: str, *, max_concurrency: int = 16,
                 client_factory: Callable[[str], docker.APIClient] | None = None,
                 client_config: ClientConfig | None = None) -> None:
        self._client = client
        self.address = address
        self._max_concurrency = max_concurrency
        self._factory = client_factory
        self._config = client_config
        self._limiter: anyio.CapacityLimiter | None = None
        self._streams: anyio.CapacityLimiter | None = None
        self._negotiated = False
        self._lock: anyio.Lock | None = None
        #: The engine's ``/version`` answer, when negotiation needed it (an engine
        #: whose ``/_ping`` names no API version).
        self.version_info: Mapping[str, Any] = {}
        self._libpod = False
        #: Called (blocking, briefly) when the backend closes.
        self.on_close: list[Callable[[], None]] = []
        #: Whether the engine runs healthchecks itself (asked once).
        self._runs_checks: bool | None = None
        #: Whether the engine runs rootless, and Podman's own /info host part (asked once).
        self._rootless: bool | None = None
        self._podman_host_info: Mapping[str, Any] | None = None
        #: Calls a cancellation abandoned whose thread has not returned yet.
        self._abandoned: set[threading.Event] = set()

    @property
    def is_podman(self) -> bool:
        """Whether the engine is Podman (its ``/_ping`` answers a ``Libpod-Api-Version``
        header, its ``/version`` a Podman component; known once a call has been made)."""
        if self._libpod:
            return True
        return any("podman" in str(part.get("Name", "")).lower()
                   for part in self.version_info.get("Components") or ()
                   if isinstance(part, Mapping))

    @property
    def api_version(self) -> str:
        """The API version requests use (the engine's, once negotiated)."""
        return str(self._client.api_version)

    @property
    def client_config(self) -> ClientConfig:
        """The docker CLI's configuration file, read on first use."""
        if self._config is None:
            self._config = ClientConfig()
        return self._config

    def _limiters(self) -> tuple[anyio.CapacityLimiter, anyio.CapacityLimiter]:
        # Created on first use: anyio primitives need the running event loop.
        if self._limiter is None or self._streams is None:
            self._limiter = anyio.CapacityLimiter(self._max_concurrency)
            self._streams = anyio.CapacityLimiter(math.inf)
        return self._limiter, self._streams

    def _map(self, exc: BaseException) -> ComposerError:
        return map_engine_error(exc, self.address)

    async def _negotiate(self) -> None:
        if self._negotiated:
            return
        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:
            if self._negotiated:
                return
            limiter, _ = self._limiters()
            try:
                server = await anyio.to_thread.run_sync(self._server_api, limiter=limiter)
            except Exception as exc:
                raise self._map(exc) from exc
            agreed = min(server, MAX_API, key=_version_key)
            if self._factory is not None and agreed != self.api_version:
                old, self._client = self._client, self._factory(agreed)
                with contextlib.suppress(Exception):
                    old.close()
            self._negotiated = True

    def _server_api(self) -> str:
        """(Worker thread.) The engine's API version, from the headers of ``/_ping``
        as the docker CLI reads it: Podman takes a quarter of a second to answer
        ``/version``, ``/_ping`` a millisecond. ``/version`` when they lack it."""
        client = self._client
        response = client.get(f"{client.base_url}/_ping", timeout=client.timeout)
        check_response(response)
        self._libpod = "Libpod-Api-Version" in response.headers
        if response.headers.get("Api-Version"):
            return str(response.headers["Api-Version"])
        self.version_info = client.version(api_version=False)
        return str(self.version_info.get("ApiVersion") or MIN_API)

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker thread under the call limiter, errors mapped.
        Cancelled (Ctrl-C), the caller goes on at once and the thread's answer is
        dropped: a stop waiting out a container's grace period must not hold
        composer (v2 cancels its request likewise; the engine finishes the call)."""
        await self._negotiate()
        limiter, _ = self._limiters()
        done = threading.Event()

        def run() -> T:
            try:
                return fn(*args)
            finally:
                done.set()

        try:
            return await anyio.to_thread.run_sync(run, limiter=limiter,
                                                  abandon_on_cancel=True)
        except anyio.get_cancelled_exc_class():
            if not done.is_set():
                self._abandoned.add(done)
            raise
        except Exception as exc:
            raise self._map(exc) from exc

    def unsupported(self, body: Mapping[str, Any]) -> list[tuple[str, str]]:
        return []  # the Engine API takes every body the spec builder makes

    async def settle(self) -> None:
        """Wait (at most :data:`SETTLE_TIMEOUT` seconds) for the calls a cancellation abandoned:
        a create sent before the cancel finishes on the engine all the same, and a
        ``down`` listing the project before it does would leave its container."""
        pending, self._abandoned = self._abandoned, set()
        pending = {event for event in pending if not event.is_set()}
        if not pending:
            return
        deadline = time.monotonic() + SETTLE_TIMEOUT

        def wait() -> None:
            for event in pending:
                event.wait(max(0.0, deadline - time.monotonic()))

        _, streams = self._limiters()
        await anyio.to_thread.run_sync(wait, limiter=streams, abandon_on_cancel=True)

    async def _unbounded(self, fn: Callable[[], T]) -> T:
        """``fn()`` in a worker thread that holds no call token (a long wait), abandoned
        on cancellation."""
        _, streams = self._limiters()
        try:
            return await anyio.to_thread.run_sync(fn, limiter=streams, abandon_on_cancel=True)
        except Exception as exc:
            raise self._map(exc) from exc

    async def _iterate(self, stream: CancellableStream,
                       convert: Callable[[Any], T | None]) -> AsyncIterator[T]:
        """The items of a blocking stream, each fetched in a worker thread; the stream
        is closed (its socket shut down) when the consumer stops."""
        try:
            while True:
                raw = await self._unbounded(lambda: next_or_end(stream))
                if raw is END:
                    return
                item = convert(raw)
                if item is not None:
                    yield item
        finally:
            # Shuts the socket down, which also frees a thread still blocked reading it.
            with contextlib.suppress(Exception):
                stream.close()

    async def aclose(self) -> None:
        with contextlib.suppress(Exception):
            self._client.close()
        while self.on_close:  # e.g. the private Podman service this backend uses
            # Called here, not in a thread: it must run even when cancelled (Ctrl-C).
            self.on_close.pop()()
