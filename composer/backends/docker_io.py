"""Interactive and bulk-data engine calls on a :class:`~composer.backends.docker.DockerBackend`.

``exec``, ``run`` and ``attach`` need a hijacked connection (the engine upgrades
the HTTP request to a raw, two-way byte stream); ``cp`` moves tar archives;
``stats`` reads one sample. These calls do not fit the one-round-trip shape of
:class:`~composer.backends.base.Backend`, so they live here, beside it, and reuse
the backend's client, limiter and error boundary.

A hijacked stream is returned as a :class:`RawStream`: a plain blocking socket
plus whether its output is multiplexed (no TTY: 8-byte frame headers) or raw (TTY).
Pumping bytes through it is :mod:`composer.runtime.stream`'s business.
"""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread

from composer.backends.docker import DockerBackend

__all__ = ["DockerIO", "ExecConfig", "RawStream"]


@dataclass(frozen=True, slots=True)
class ExecConfig:
    """What ``POST /containers/{id}/exec`` creates."""

    command: Sequence[str]
    tty: bool = False
    stdin: bool = False
    environment: Sequence[str] = ()
    user: str = ""
    workdir: str = ""
    privileged: bool = False


@dataclass(slots=True)
class RawStream:
    """A hijacked connection: ``sock`` carries stdin one way, output the other.

    ``multiplexed`` output comes in frames (stream byte, 3 zero bytes, big-endian
    size); a TTY's output is raw. Close it with :meth:`close`.
    """

    sock: socket.socket
    multiplexed: bool
    _keep: Any = None  # the SDK's response object, which owns the socket

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def _unwrap(sock: Any) -> socket.socket:
    # The SDK hands back a SocketIO (unix) or the socket itself; we want the socket.
    raw = getattr(sock, "_sock", sock)
    assert isinstance(raw, socket.socket)
    return raw


class DockerIO:
    """The streaming calls of ``exec``, ``run``, ``attach``, ``cp`` and ``stats``."""

    def __init__(self, backend: DockerBackend) -> None:
        self.backend = backend

    @property
    def _client(self) -> Any:
        return self.backend._client

    # -- exec

    async def exec_create(self, container: str, config: ExecConfig) -> str:
        """Create an exec instance in a running container; its ID."""

        def create() -> str:
            result = self._client.exec_create(
                container, list(config.command), stdout=True, stderr=True,
                stdin=config.stdin, tty=config.tty, privileged=config.privileged,
                user=config.user, environment=list(config.environment) or None,
                workdir=config.workdir or None)
            return str(result["Id"])

        return await self.backend._call(create)

    async def exec_start_detached(self, exec_id: str) -> None:
        await self.backend._call(lambda: self._client.exec_start(exec_id, detach=True))

    async def exec_start(self, exec_id: str, *, tty: bool) -> RawStream:
        """Start an exec instance, hijacking its connection."""

        def start() -> RawStream:
            sock = self._client.exec_start(exec_id, tty=tty, socket=True)
            return RawStream(_unwrap(sock), multiplexed=not tty, _keep=sock)

        return await self.backend._call(start)

    async def exec_resize(self, exec_id: str, height: int, width: int) -> None:
        await self.backend._call(lambda: self._client.exec_resize(
            exec_id, height=height, width=width))

    async def exec_inspect(self, exec_id: str) -> Mapping[str, Any]:
        result: Mapping[str, Any] = await self.backend._call(self._client.exec_inspect, exec_id)
        return result

    # -- attach

    async def attach(self, container: str, *, stdin: bool, tty: bool,
                     logs: bool = False) -> RawStream:
        """Hijack ``POST /containers/{id}/attach`` (stdout, stderr, and stdin if asked)."""

        def attach() -> RawStream:
            params = {"stdin": int(stdin), "stdout": 1, "stderr": 1, "stream": 1,
                      "logs": int(logs)}
            client = self._client
            headers = {"Connection": "Upgrade", "Upgrade": "tcp"}
            url = client._url("/containers/{0}/attach", container)
            response = client._post(url, headers=headers, params=params, stream=True)
            client._raise_for_status(response)
            sock = client._get_raw_response_socket(response)
            return RawStream(_unwrap(sock), multiplexed=not tty, _keep=(response, sock))

        return await self.backend._call(attach)

    async def resize(self, container: str, height: int, width: int) -> None:
        await self.backend._call(lambda: self._client.resize(
            container, height=height, width=width))

    # -- waiting

    async def wait_begin(self, container: str, condition: str = "next-exit") -> Any:
        """Register a wait (``next-exit``, ``not-running`` or ``removed``) and return
        once the engine has: the engine answers the headers at once, the body when
        the condition is met. Pass the handle to :meth:`wait_end`."""

        def begin() -> Any:
            client = self._client
            url = client._url("/containers/{0}/wait", container)
            response = client._post(url, params={"condition": condition}, stream=True,
                                    timeout=None)
            client._raise_for_status(response)
            return response

        return await self.backend._call(begin)

    async def wait_end(self, handle: Any) -> int:
        """The exit code a :meth:`wait_begin` wait reports."""

        def end() -> int:
            result = json.loads(handle.content or b"{}")
            return int(result.get("StatusCode", 0))

        _, streams = self.backend._limiters()
        try:
            return await anyio.to_thread.run_sync(end, limiter=streams,
                                                  abandon_on_cancel=True)
        except Exception as exc:
            raise self.backend._map(exc) from exc

    # -- archives

    async def stat_path(self, container: str, path: str) -> Mapping[str, Any] | None:
        """The engine's stat of ``path`` in the container (name, size, mode, linkTarget),
        or None when there is nothing there."""

        def stat() -> Mapping[str, Any] | None:
            client = self._client
            url = client._url("/containers/{0}/archive", container)
            response = client.head(url, params={"path": path})
            if response.status_code == 404:
                # A HEAD answer has no body: tell "no container" (raises) from "no path".
                client.inspect_container(container)
                return None
            client._raise_for_status(response)
            header = response.headers.get("X-Docker-Container-Path-Stat", "")
            result: Mapping[str, Any] = json.loads(base64.b64decode(header)) if header else {}
            return result

        return await self.backend._call(stat)

    async def get_archive(self, container: str, path: str) -> bytes:
        """``path`` in the container as a tar archive (the whole of it, in memory)."""

        def get() -> bytes:
            stream, _stat = self._client.get_archive(container, path, chunk_size=None)
            return b"".join(stream)

        return await self.backend._call(get)

    async def put_archive(self, container: str, path: str, data: bytes, *,
                          copy_uid_gid: bool = False) -> None:
        """Extract the tar ``data`` into the folder ``path`` of the container."""

        def put() -> None:
            client = self._client
            url = client._url("/containers/{0}/archive", container)
            params: dict[str, Any] = {"path": path, "noOverwriteDirNonDir": "true"}
            if copy_uid_gid:
                params["copyUIDGID"] = "true"
            client._raise_for_status(client._put(url, params=params, data=data))

        await self.backend._call(put)

    # -- stats

    async def stats(self, container: str) -> Mapping[str, Any]:
        """One stats sample (the engine waits for two readings, so CPU % can be computed)."""
        result: Mapping[str, Any] = await self.backend._call(
            lambda: self._client.stats(container, stream=False))
        return result

    async def stats_stream(self, container: str) -> AsyncIterator[Mapping[str, Any]]:
        """Samples of ``GET /containers/{id}/stats?stream=1`` (the engine pushes one about
        a second) until the engine ends the stream or the caller stops iterating; one
        long-lived connection per container, holding no token of the call limiter."""
        from docker.types.daemon import CancellableStream

        def open_stream() -> CancellableStream:
            client = self._client
            response = client._get(client._url("/containers/{0}/stats", container),
                                   params={"stream": True}, stream=True)
            client._raise_for_status(response)
            return CancellableStream(client._stream_helper(response, decode=True), response)

        stream = await self.backend._call(open_stream)
        async for sample in self.backend._iterate(stream, lambda item: item):
            yield sample


def iter_frames(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Frames of a complete multiplexed buffer (for tests and small outputs)."""
    pos = 0
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos + 4:pos + 8], "big")
        yield data[pos], data[pos + 8:pos + 8 + size]
        pos += 8 + size
