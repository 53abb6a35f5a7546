"""The Docker Engine backend: :class:`~composer.backends.base.Backend` on docker's low-level SDK.

Every engine call runs in a worker thread (``anyio.to_thread.run_sync``) under one
:class:`anyio.CapacityLimiter` shared by all calls of a backend, so however many
services the scheduler drives at once, at most ``max_concurrency`` requests are
in flight. Long-lived streams (events, followed logs) do not hold a token: they
would starve the other calls; each item is fetched in a thread of their own
unbounded limiter, and closing the stream shuts its socket down so a cancelled
consumer never leaves a thread blocked.

Request bodies are posted exactly as :mod:`composer.backends.spec` builds them.
Foreign exceptions (docker SDK, requests, sockets) are mapped to composer's at one
boundary, :func:`map_engine_error`:

* no engine at the address -> ``EngineUnreachableError`` naming the address and
  how to start one;
* 404 -> ``NotFoundError``; 409 -> ``ConflictError``;
* anything else the engine refused -> ``EngineError("Error response from daemon: ...")``.

The API version is negotiated on first use (the engine's, capped at what the SDK
speaks), like the docker CLI does; :attr:`DockerBackend.api_version` tells it.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.from_thread
import anyio.to_thread
import docker
import docker.constants
import docker.errors
import docker.utils
import requests
import requests.exceptions
import urllib3.exceptions
from docker.types.daemon import CancellableStream

from composer.backends.base import (
    ContainerState,
    EngineEvent,
    NetworkState,
    Observed,
    VolumeState,
)
from composer.backends.errors import ConflictError, NotFoundError
from composer.backends.spec import (
    LABEL_CONFIG_HASH,
    LABEL_CONTAINER_NUMBER,
    LABEL_NETWORK,
    LABEL_ONEOFF,
    LABEL_PROJECT,
    LABEL_SERVICE,
    LABEL_VOLUME,
)
from composer.errors import ComposerError, EngineError, EngineUnreachableError

if TYPE_CHECKING:
    from composer.backends.build import BuildRequest

__all__ = ["DEFAULT_HOST", "DockerBackend", "connect", "map_engine_error"]

DEFAULT_HOST = "unix:///var/run/docker.sock"
HOW_TO_START = "start one with scripts/engine/ensure-engine.sh, or set DOCKER_HOST"
# The SDK speaks up to this version; an older engine gets its own.
_MAX_API = docker.constants.DEFAULT_DOCKER_API_VERSION
_MIN_API = docker.constants.MINIMUM_DOCKER_API_VERSION
_END = object()
T = TypeVar("T")

_HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")
_EXIT = re.compile(r"^(?:Exited|Restarting) \((-?\d+)\)")


# -- the error boundary ------------------------------------------------------------------------


def _root_cause(exc: BaseException) -> str:
    """The innermost reason a connection failed, readable (``No such file or directory``)."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        for arg in current.args:
            if isinstance(arg, BaseException):
                stack.append(arg)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                stack.append(linked)
    text = str(exc)
    return text.split(": ", 1)[-1] if text else type(exc).__name__


def map_engine_error(exc: BaseException, address: str) -> ComposerError:
    """The composer error for an exception raised by the SDK, requests or a socket."""
    if isinstance(exc, ComposerError):
        return exc
    if isinstance(exc, docker.errors.APIError):
        explanation = exc.explanation or str(exc)
        if isinstance(explanation, bytes):
            explanation = explanation.decode("utf-8", "replace")
        message = f"Error response from daemon: {str(explanation).strip()}"
        status = exc.status_code
        if status == 404:
            return NotFoundError(message)
        # Engines before API 1.42 answer 403, not 409, for a network still in use.
        if status == 409 or (status == 403 and "active endpoints" in message):
            return ConflictError(message)
        return EngineError(message)
    if isinstance(exc, requests.exceptions.Timeout):
        return EngineError(f"the container engine at {address} did not answer in time")
    unreachable = (requests.exceptions.ConnectionError, urllib3.exceptions.HTTPError,
                   ConnectionError, FileNotFoundError)
    if isinstance(exc, unreachable) or (
            isinstance(exc, docker.errors.DockerException)
            and isinstance(exc.__cause__ or exc.__context__, unreachable)):
        return EngineUnreachableError(
            f"cannot reach a container engine at {address}: {_root_cause(exc)} "
            f"({HOW_TO_START})"
        )
    if isinstance(exc, docker.errors.DockerException):
        return EngineError(f"container engine at {address}: {exc}")
    if isinstance(exc, OSError):
        return EngineUnreachableError(
            f"cannot reach a container engine at {address}: {_root_cause(exc)} "
            f"({HOW_TO_START})"
        )
    raise exc


# -- listing entries to states -----------------------------------------------------------------


def _health(status: str) -> str | None:
    found = _HEALTH.search(status)
    if not found:
        return None
    return "starting" if found.group(1) == "health: starting" else found.group(1)


def _exit_code(status: str) -> int | None:
    found = _EXIT.match(status)
    return int(found.group(1)) if found else None


def container_state(entry: Mapping[str, Any]) -> ContainerState:
    """A ``GET /containers/json`` entry as a :class:`ContainerState`."""
    labels: Mapping[str, str] = entry.get("Labels") or {}
    names = entry.get("Names") or []
    status = str(entry.get("Status") or "")
    number = labels.get(LABEL_CONTAINER_NUMBER, "")
    networks = ((entry.get("NetworkSettings") or {}).get("Networks") or {}).keys()
    return ContainerState(
        id=str(entry.get("Id", "")),
        name=str(names[0]).lstrip("/") if names else "",
        project=labels.get(LABEL_PROJECT, ""),
        service=labels.get(LABEL_SERVICE, ""),
        number=int(number) if number.isdigit() else 0,
        oneoff=labels.get(LABEL_ONEOFF, "False") == "True",
        state=str(entry.get("State") or ""),
        status=status,
        health=_health(status),
        exit_code=_exit_code(status),
        config_hash=labels.get(LABEL_CONFIG_HASH, ""),
        image=str(entry.get("Image") or ""),
        labels=dict(labels),
        created=int(entry.get("Created") or 0),
        ports=tuple(entry.get("Ports") or ()),
        networks=tuple(sorted(networks)),
        mounts=tuple(entry.get("Mounts") or ()),
        image_id=str(entry.get("ImageID") or ""),
        command=str(entry.get("Command") or ""),
    )


def _network_state(entry: Mapping[str, Any]) -> NetworkState:
    labels: Mapping[str, str] = entry.get("Labels") or {}
    return NetworkState(
        id=str(entry.get("Id", "")),
        name=str(entry.get("Name", "")),
        key=labels.get(LABEL_NETWORK, ""),
        labels=dict(labels),
        config_hash=labels.get(LABEL_CONFIG_HASH, ""),
    )


def _volume_state(entry: Mapping[str, Any]) -> VolumeState:
    labels: Mapping[str, str] = entry.get("Labels") or {}
    return VolumeState(name=str(entry.get("Name", "")), key=labels.get(LABEL_VOLUME, ""),
                       labels=dict(labels))


def _event(raw: Mapping[str, Any]) -> EngineEvent | None:
    if raw.get("Type", "container") != "container":
        return None
    actor = raw.get("Actor") or {}
    attributes: Mapping[str, str] = actor.get("Attributes") or {}
    return EngineEvent(
        action=str(raw.get("Action") or raw.get("status") or ""),
        container_id=str(actor.get("ID") or raw.get("id") or ""),
        service=attributes.get(LABEL_SERVICE, ""),
        project=attributes.get(LABEL_PROJECT, ""),
        attributes=dict(attributes),
        time_nano=int(raw.get("timeNano") or 0),
    )


# -- log streams -------------------------------------------------------------------------------

_STREAMS = {0: "stdin", 1: "stdout", 2: "stderr"}


def _read_exact(raw: Any, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = raw.read(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _demultiplex(response: requests.Response) -> Iterator[tuple[str, bytes]]:
    """The engine's multiplexed frames (8-byte header: stream, 0, 0, 0, big-endian size)."""
    raw = response.raw
    while True:
        header = _read_exact(raw, 8)
        if len(header) < 8:
            return
        size = int.from_bytes(header[4:8], "big")
        yield _STREAMS.get(header[0], "stdout"), _read_exact(raw, size)


def _raw_chunks(response: requests.Response) -> Iterator[tuple[str, bytes]]:
    """A TTY container's output: one stream, as it arrives."""
    for chunk in response.iter_content(chunk_size=None):
        if chunk:
            yield "stdout", chunk


class _FrameSplitter:
    """Incremental parser of the multiplexed stream: bytes in, whole frames out."""

    def __init__(self, tty: bool) -> None:
        self._tty = tty
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[str, bytes]]:
        if self._tty:
            return [("stdout", data)] if data else []
        buf = self._buf
        buf += data
        out: list[tuple[str, bytes]] = []
        pos, end = 0, len(buf)
        while end - pos >= 8:
            size = int.from_bytes(buf[pos + 4:pos + 8], "big")
            if end - pos - 8 < size:
                break
            out.append((_STREAMS.get(buf[pos], "stdout"), bytes(buf[pos + 8:pos + 8 + size])))
            pos += 8 + size
        del buf[:pos]
        return out


class _Dechunker:
    """HTTP chunked transfer decoding of a streamed body, in bulk.

    http.client decodes a chunk per call, and the engine sends a chunk per log
    line: decoding whatever has arrived at once is several times faster.
    """

    def __init__(self, fp: Any) -> None:
        self._fp = fp
        self._buf = bytearray()
        self._data = 0  # bytes of the current chunk still to come
        self._skip = 0  # the CRLF after a chunk's data
        self._end = False

    def read(self) -> bytes:
        """The next decoded bytes (blocking until some arrive); b"" at the end."""
        while not self._end:
            data = self._fp.read1(1 << 16)
            if not data:
                self._end = True
                break
            out = self._feed(data)
            if out:
                return out
        return b""

    def _feed(self, data: bytes) -> bytes:
        buf = self._buf
        buf += data
        out = bytearray()
        pos, end = 0, len(buf)
        while pos < end:
            if self._data:
                take = min(self._data, end - pos)
                out += buf[pos:pos + take]
                pos += take
                self._data -= take
            elif self._skip:
                take = min(self._skip, end - pos)
                pos += take
                self._skip -= take
            else:
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    break
                size = int(bytes(buf[pos:eol]).split(b";")[0] or b"0", 16)
                pos = eol + 2
                if size == 0:
                    self._end = True
                    break
                self._data, self._skip = size, 2
        del buf[:pos]
        return bytes(out)


def _socket_of(response: requests.Response) -> Any:
    try:
        return response.raw._fp.fp.raw
    except AttributeError:
        return None


class _FrameBatches:
    """Frames of a streamed response, a batch per ``next()``: what has arrived.

    Each ``next()`` costs one worker-thread hop, and the engine sends a frame per
    log line; batching what the socket already holds keeps a chatty container
    from costing a hop per line. A read happens again only while the socket is
    readable (or a frame is incomplete), so a batch never waits for new output.
    """

    _LIMIT = 1 << 18

    def __init__(self, read: Callable[[], bytes | None], sock: Any, tty: bool) -> None:
        self._read = read
        self._sock = sock
        self._splitter = _FrameSplitter(tty)
        self._done = False

    def __iter__(self) -> _FrameBatches:
        return self

    def _ready(self) -> bool:
        import select

        if self._sock is None:
            return False
        try:
            return bool(select.select([self._sock], [], [], 0)[0])
        except (OSError, ValueError):
            return False

    def __next__(self) -> list[tuple[str, bytes]]:
        frames: list[tuple[str, bytes]] = []
        size = 0
        while not self._done:
            data = self._read()
            if data is None:
                continue
            if not data:
                self._done = True
                break
            frames += self._splitter.feed(data)
            size += len(data)
            if frames and (size >= self._LIMIT or not self._ready()):
                return frames
        if frames:
            return frames
        raise StopIteration


def _next_or_end(stream: Iterator[Any]) -> Any:
    try:
        return next(stream)
    except StopIteration:
        return _END


# -- the backend -------------------------------------------------------------------------------


class DockerBackend:
    """:class:`~composer.backends.base.Backend` on a Docker Engine (or Podman's Docker API).

    Build it with :func:`connect`. Safe to use from many tasks of one event loop.
    """

    def __init__(self, client: docker.APIClient, address: str, *,
                 max_concurrency: int = 16) -> None:
        self._client = client
        self.address = address
        self._max_concurrency = max_concurrency
        self._limiter: anyio.CapacityLimiter | None = None
        self._streams: anyio.CapacityLimiter | None = None
        self._negotiated = False
        self._lock: anyio.Lock | None = None

    # -- plumbing --

    @property
    def api_version(self) -> str:
        """The API version requests use (the engine's, once negotiated)."""
        return str(self._client.api_version)

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
                info = await anyio.to_thread.run_sync(self._server_version, limiter=limiter)
            except Exception as exc:
                raise self._map(exc) from exc
            server = str(info.get("ApiVersion") or _MIN_API)
            self._client._version = min(server, _MAX_API, key=_version_key)
            self._negotiated = True

    def _server_version(self) -> Mapping[str, Any]:
        url = self._client._url("/version", versioned_api=False)
        result: Mapping[str, Any] = self._client._result(self._client._get(url), json=True)
        return result

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        await self._negotiate()
        limiter, _ = self._limiters()
        try:
            return await anyio.to_thread.run_sync(fn, *args, limiter=limiter)
        except Exception as exc:
            raise self._map(exc) from exc

    def _post_body(self, path: str, *args: Any, body: Mapping[str, Any],
                   params: Mapping[str, Any] | None = None) -> Any:
        # The body goes out as given: null values stay (the SDK's _post_json drops them).
        url = self._client._url(path, *args)
        response = self._client._post(
            url, data=json.dumps(body), params=params or {},
            headers={"Content-Type": "application/json"},
        )
        if response.status_code == 204 or not response.content:
            self._client._raise_for_status(response)
            return {}
        return self._client._result(response, json=True)

    async def _iterate(self, stream: CancellableStream,
                       convert: Callable[[Any], T | None]) -> AsyncIterator[T]:
        _, streams = self._limiters()
        try:
            while True:
                try:
                    raw = await anyio.to_thread.run_sync(
                        _next_or_end, stream, limiter=streams, abandon_on_cancel=True)
                except Exception as exc:
                    raise self._map(exc) from exc
                if raw is _END:
                    return
                item = convert(raw)
                if item is not None:
                    yield item
        finally:
            # Shuts the socket down, which also frees a thread still blocked reading it.
            with contextlib.suppress(Exception):
                stream.close()

    # -- Backend --

    async def ping(self) -> None:
        """Raise ``EngineUnreachableError`` unless the engine answers."""
        await self._call(self._client.ping)

    async def observe(self, project: str, *, all_projects: bool = False) -> Observed:
        """One listing each of the project's containers (all states), networks and volumes."""
        label = LABEL_PROJECT if all_projects else f"{LABEL_PROJECT}={project}"
        filters = {"label": [label]}
        results: dict[str, Any] = {}

        async def fetch(kind: str, thunk: Callable[[], Any]) -> None:
            results[kind] = await self._call(thunk)

        client = self._client
        await self._negotiate()
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(fetch, "containers",
                              lambda: client.containers(all=True, filters=filters))
                tg.start_soon(fetch, "networks", lambda: client.networks(filters=filters))
                tg.start_soon(fetch, "volumes", lambda: client.volumes(filters=filters))
        except* ComposerError as group:
            # The three listings fail for one reason (usually: no engine); say it once.
            raise _first_leaf(group) from None
        volumes = (results["volumes"] or {}).get("Volumes") or []
        return Observed(
            containers=tuple(container_state(c) for c in results["containers"] or ()),
            networks=tuple(_network_state(n) for n in results["networks"] or ()),
            volumes=tuple(_volume_state(v) for v in volumes),
        )

    async def image_exists(self, image: str) -> bool:
        return await self.image_id(image) is not None

    async def image_id(self, image: str) -> str | None:
        """The local image's ID (``sha256:...``), or None when it is not here."""
        try:
            info = await self.inspect_image(image)
        except NotFoundError:
            return None
        return str(info.get("Id") or "") or None

    async def inspect_network(self, name: str) -> Mapping[str, Any]:
        """The engine's view of a network; :class:`NotFoundError` when there is none."""
        result: Mapping[str, Any] = await self._call(self._client.inspect_network, name)
        return result

    async def inspect_volume(self, name: str) -> Mapping[str, Any]:
        """The engine's view of a volume; :class:`NotFoundError` when there is none."""
        result: Mapping[str, Any] = await self._call(self._client.inspect_volume, name)
        return result

    async def inspect_image(self, image: str) -> Mapping[str, Any]:
        result: Mapping[str, Any] = await self._call(self._client.inspect_image, image)
        return result

    async def pull_image(self, image: str, *, platform: str | None = None,
                         on_progress: Callable[[Mapping[str, Any]], None] | None = None,
                         ) -> None:
        """Pull ``image`` (tag ``latest`` when none); an error in the progress stream raises.
        ``on_progress`` gets each decoded progress message (``id``, ``status``,
        ``progressDetail``...) as the engine sends it, called on the event loop."""
        repository, tag = docker.utils.parse_repository_tag(image)

        def pull() -> None:
            for message in self._client.pull(repository, tag=tag or "latest",
                                             platform=platform, stream=True, decode=True):
                if isinstance(message, Mapping) and message.get("error"):
                    raise EngineError(f"Error response from daemon: {message['error']}")
                if on_progress is not None and isinstance(message, Mapping):
                    anyio.from_thread.run_sync(on_progress, message)

        await self._call(pull)

    async def build_image(self, request: BuildRequest, *,
                          on_line: Callable[[str], None] | None = None) -> str:
        """Build with the classic builder (:mod:`composer.backends.build`); the image ID.
        ``on_line`` gets each output line, called on the event loop."""
        from composer.backends.build import run_build

        def emit(line: str) -> None:
            if on_line is not None:
                anyio.from_thread.run_sync(on_line, line)

        return await self._call(lambda: run_build(self._client, request, emit))

    async def list_images(self, *, labels: Sequence[str] = ()) -> list[Mapping[str, Any]]:
        """``GET /images/json`` entries, filtered by ``labels`` (``key`` or ``key=value``)."""
        filters = {"label": list(labels)} if labels else None
        result: list[Mapping[str, Any]] = await self._call(
            lambda: self._client.images(filters=filters))
        return result

    async def push_image(self, image: str) -> None:
        """Push ``image`` (tag ``latest`` when none); an error in the progress stream raises."""
        repository, tag = docker.utils.parse_repository_tag(image)

        def push() -> None:
            for message in self._client.push(repository, tag=tag or "latest", stream=True,
                                             decode=True):
                if isinstance(message, Mapping) and message.get("error"):
                    raise EngineError(f"Error response from daemon: {message['error']}")

        await self._call(push)

    async def remove_image(self, image: str, *, force: bool = False) -> None:
        await self._call(lambda: self._client.remove_image(image, force=force))

    async def create_network(self, name: str, body: Mapping[str, Any]) -> str:
        """Create a network from a :func:`~composer.backends.spec.network_create_body`."""
        payload = {**body, "Name": name}
        result = await self._call(lambda: self._post_body("/networks/create", body=payload))
        return str(result.get("Id") or "")

    async def remove_network(self, name_or_id: str) -> None:
        await self._call(self._client.remove_network, name_or_id)

    async def create_volume(self, name: str, body: Mapping[str, Any]) -> str:
        """Create a volume from a :func:`~composer.backends.spec.volume_create_body`."""
        payload = {**body, "Name": name}
        result = await self._call(lambda: self._post_body("/volumes/create", body=payload))
        return str(result.get("Name") or name)

    async def remove_volume(self, name: str) -> None:
        await self._call(self._client.remove_volume, name)

    async def create_container(self, name: str, body: Mapping[str, Any], *,
                               platform: str | None = None) -> str:
        """Create a container from a :func:`~composer.backends.spec.container_create_body`."""
        params = {"name": name}
        if platform:
            params["platform"] = platform
        result = await self._call(
            lambda: self._post_body("/containers/create", body=body, params=params))
        return str(result.get("Id") or "")

    async def connect_network(self, network: str, container: str,
                              endpoint: Mapping[str, Any]) -> None:
        payload = {"Container": container, "EndpointConfig": dict(endpoint)}
        await self._call(lambda: self._post_body("/networks/{0}/connect", network,
                                                 body=payload))

    async def disconnect_network(self, network: str, container: str, *,
                                 force: bool = False) -> None:
        await self._call(lambda: self._client.disconnect_container_from_network(
            container, network, force=force))

    async def start_container(self, container: str) -> None:
        await self._call(self._client.start, container)

    async def stop_container(self, container: str, timeout: int | None = None) -> None:
        """Stop; ``timeout`` None lets the container's own ``StopTimeout`` decide."""

        def stop() -> None:
            params = {} if timeout is None else {"t": timeout}
            url = self._client._url("/containers/{0}/stop", container)
            # No read timeout: the engine answers only once the container is down.
            self._client._raise_for_status(self._client._post(url, params=params,
                                                               timeout=None))

        await self._call(stop)

    async def kill_container(self, container: str, signal: str = "SIGKILL") -> None:
        await self._call(lambda: self._client.kill(container, signal=signal))

    async def remove_container(self, container: str, *, force: bool = False,
                               volumes: bool = False) -> None:
        await self._call(lambda: self._client.remove_container(
            container, v=volumes, force=force))

    async def rename_container(self, container: str, name: str) -> None:
        await self._call(self._client.rename, container, name)

    async def pause_container(self, container: str) -> None:
        await self._call(self._client.pause, container)

    async def unpause_container(self, container: str) -> None:
        await self._call(self._client.unpause, container)

    async def inspect_container(self, container: str) -> Mapping[str, Any]:
        result: Mapping[str, Any] = await self._call(self._client.inspect_container, container)
        return result

    async def top_container(self, container: str, ps_args: str | None = None
                            ) -> Mapping[str, Any]:
        """``GET /containers/{id}/top``: ``{"Titles": [...], "Processes": [[...], ...]}``."""
        result: Mapping[str, Any] = await self._call(
            lambda: self._client.top(container, ps_args=ps_args))
        return result

    async def wait_container(self, container: str) -> int:
        """Wait until the container stops; its exit code."""

        def wait() -> int:
            url = self._client._url("/containers/{0}/wait", container)
            result = self._client._result(self._client._post(url, timeout=None), json=True)
            return int(result.get("StatusCode", 0))

        return await self._call(wait)

    async def events(self, project: str, since: int | None = None
                     ) -> AsyncIterator[EngineEvent]:
        """Container events of ``project`` (``since``: unix seconds), until cancelled."""
        filters = {"type": ["container"], "label": [f"{LABEL_PROJECT}={project}"]}
        stream = await self._call(lambda: self._client.events(
            since=since, filters=filters, decode=True))
        async for event in self._iterate(stream, _event):
            yield event

    async def logs(self, container: str, *, follow: bool, tail: str = "all",
                   timestamps: bool = False, since: str | None = None,
                   until: str | None = None) -> AsyncIterator[tuple[str, bytes]]:
        """``(stream, bytes)`` chunks: ``stdout``/``stderr`` frames, or raw ``stdout`` for a TTY."""

        def open_logs() -> CancellableStream:
            tty, response = self._open_logs(container, follow=follow, tail=tail,
                                            timestamps=timestamps, since=since, until=until)
            chunks = _raw_chunks(response) if tty else _demultiplex(response)
            return CancellableStream(chunks, response)

        stream = await self._call(open_logs)
        async for chunk in self._iterate(stream, lambda item: item):
            yield chunk

    def _open_logs(self, container: str, *, follow: bool, tail: str, timestamps: bool,
                   since: str | None, until: str | None) -> tuple[bool, Any]:
        """(Worker thread.) Whether the container has a TTY, and the open logs response."""
        tty = bool(self._client.inspect_container(container)["Config"].get("Tty"))
        params: dict[str, Any] = {"stdout": 1, "stderr": 1, "follow": int(follow),
                                  "timestamps": int(timestamps), "tail": tail}
        if since is not None:
            params["since"] = since
        if until is not None:
            params["until"] = until
        url = self._client._url("/containers/{0}/logs", container)
        response = self._client._get(url, params=params, stream=True, timeout=None)
        self._client._raise_for_status(response)
        return tty, response

    async def log_batches(self, container: str, *, follow: bool, tail: str = "all",
                          timestamps: bool = False, since: str | None = None,
                          until: str | None = None
                          ) -> AsyncIterator[list[tuple[str, bytes]]]:
        """As :meth:`logs`, in batches of ``(stream, bytes)`` frames (what has arrived)."""

        def open_logs() -> CancellableStream:
            tty, response = self._open_logs(container, follow=follow, tail=tail,
                                            timestamps=timestamps, since=since, until=until)
            fp = response.raw._fp.fp
            if response.headers.get("Transfer-Encoding", "").lower() == "chunked":
                read: Callable[[], bytes | None] = _Dechunker(fp).read
            else:
                read = response.raw.read1
            batches = _FrameBatches(read, _socket_of(response), tty)
            return CancellableStream(batches, response)

        stream = await self._call(open_logs)
        async for batch in self._iterate(stream, lambda item: item):
            yield batch

    async def attach_output(self, container: str, *,
                            on_attached: Callable[[], None] | None = None
                            ) -> AsyncIterator[list[tuple[str, bytes]]]:
        """Attach to ``container``'s stdout and stderr from now on (no past logs), in
        batches of ``(stream, bytes)`` frames, until it stops. Attaching to a created
        container before starting it loses no output; ``on_attached`` is called once
        the engine has accepted the attachment (before the first batch)."""

        def open_attach() -> CancellableStream:
            tty = bool(self._client.inspect_container(container)["Config"].get("Tty"))
            url = self._client._url("/containers/{0}/attach", container)
            response = self._client._post(
                url, params={"stdout": 1, "stderr": 1, "stream": 1, "logs": 0},
                headers={"Connection": "Upgrade", "Upgrade": "tcp"}, stream=True)
            self._client._raise_for_status(response)
            # The connection is hijacked: read the socket's buffered reader directly
            # (it may already hold the first bytes that followed the headers).
            fp = response.raw._fp.fp
            with contextlib.suppress(Exception):
                fp.raw._sock.settimeout(None)
            batches = _FrameBatches(lambda: fp.read1(1 << 16), _socket_of(response), tty)
            return CancellableStream(batches, response)

        stream = await self._call(open_attach)
        if on_attached is not None:
            on_attached()
        async for batch in self._iterate(stream, lambda item: item):
            yield batch

    async def aclose(self) -> None:
        with contextlib.suppress(Exception):
            self._client.close()


def _first_leaf(group: BaseExceptionGroup[ComposerError]) -> ComposerError:
    first: BaseException = group
    while isinstance(first, BaseExceptionGroup):
        first = first.exceptions[0]
    assert isinstance(first, ComposerError)
    return first


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def connect(host: str | None = None, *, max_concurrency: int = 16,
            timeout: int = 60) -> DockerBackend:
    """A backend for the engine at ``host``, else ``DOCKER_HOST``, else the default socket.

    Makes no request: an unreachable engine shows on the first call, as
    ``EngineUnreachableError``. TLS settings come from ``DOCKER_TLS_VERIFY`` and
    ``DOCKER_CERT_PATH`` when ``host`` is not given.
    """
    kwargs: dict[str, Any] = {}
    if host is None:
        try:
            kwargs = docker.utils.kwargs_from_env()
        except docker.errors.DockerException as exc:
            raise EngineError(f"invalid engine settings in the environment: {exc}") from exc
        host = kwargs.pop("base_url", None) or os.environ.get("DOCKER_HOST") or DEFAULT_HOST
    address = host
    try:
        # 16 requests in flight measured fastest on the engine (8 left it idle); the
        # pool keeps a connection per request plus a few streams, so none is reopened.
        client = docker.APIClient(base_url=address, version=_MIN_API, timeout=timeout,
                                  max_pool_size=max_concurrency + 8, **kwargs)
    except docker.errors.DockerException as exc:
        raise EngineUnreachableError(
            f"cannot reach a container engine at {address}: {exc} ({HOW_TO_START})"
        ) from exc
    return DockerBackend(client, address, max_concurrency=max_concurrency)
