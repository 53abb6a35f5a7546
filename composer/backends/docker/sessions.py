"""The Docker backend's streaming calls: logs, attach, exec, waits, stats and files.

Output streams (``logs``, ``log_batches``, ``attach_output``) come as batches of
:class:`~composer.backends.types.Frame`, cut by the one frame parser
(:class:`~composer.backends.frames.FrameDecoder`). Interactive sessions
(``attach``, ``exec_start``) hijack the HTTP connection: the engine upgrades it
to a raw two-way byte stream, handed over as a
:class:`~composer.backends.frames.RawStream`.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import requests
from docker.types import CancellableStream

from composer.backends.docker import convert
from composer.backends.docker.engine import Engine
from composer.backends.docker.errors import check_response
from composer.backends.docker.wire import (
    Dechunker,
    FrameBatches,
    api_url,
    body_reader,
    json_lines,
    raw_socket,
    response_socket,
)
from composer.backends.frames import RawStream
from composer.backends.types import (
    ExecConfig,
    ExecInfo,
    ExecOutput,
    ExitCondition,
    Frame,
    PathStat,
    StatsSample,
)

__all__ = ["Sessions"]


class _PendingExit:
    """A ``POST /containers/{id}/wait`` whose headers have come: the engine holds the
    wait; the body (the exit code) comes when the condition is met. ``removal``, a
    second wait held beside it, is read to its end after the code (see
    :meth:`Sessions.wait_begin`)."""

    def __init__(self, engine: Engine, response: requests.Response,
                 removal: requests.Response | None = None) -> None:
        self._engine = engine
        self._response = response
        self._removal = removal

    async def exit_code(self) -> int:
        def end() -> int:
            result = json.loads(self._response.content or b"{}")
            if self._removal is not None:
                _ = self._removal.content  # answered once the container is gone
            return int(result.get("StatusCode", 0))

        return await self._engine._unbounded(end)

    def close(self) -> None:
        for response in (self._response, self._removal):
            if response is not None:
                with contextlib.suppress(Exception):
                    response.close()


class Sessions(Engine):
    """Logs, attach, exec, waits, stats and files (see the module docstring)."""

    # -- output

    def _open_logs(self, container: str, *, follow: bool, tail: str, timestamps: bool,
                   since: str | None, until: str | None) -> tuple[bool, requests.Response]:
        """(Worker thread.) Whether the container has a TTY, and the open logs response."""
        tty = bool(self._client.inspect_container(container)["Config"].get("Tty"))
        params: dict[str, Any] = {"stdout": 1, "stderr": 1, "follow": int(follow),
                                  "timestamps": int(timestamps), "tail": tail}
        if since is not None:
            params["since"] = since
        if until is not None:
            params["until"] = until
        response = self._client.get(api_url(self._client, "/containers/{0}/logs", container),
                                    params=params, stream=True, timeout=None)
        check_response(response)
        return tty, response

    async def log_batches(self, container: str, *, follow: bool, tail: str = "all",
                          timestamps: bool = False, since: str | None = None,
                          until: str | None = None) -> AsyncIterator[list[Frame]]:
        def open_logs() -> CancellableStream:
            tty, response = self._open_logs(container, follow=follow, tail=tail,
                                            timestamps=timestamps, since=since, until=until)
            if response.headers.get("Transfer-Encoding", "").lower() == "chunked":
                read: Callable[[], bytes | None] = Dechunker(body_reader(response)).read
            else:
                read = response.raw.read1
            batches = FrameBatches(read, response_socket(response), multiplexed=not tty)
            return CancellableStream(batches, response)

        stream = await self._call(open_logs)
        async for batch in self._iterate(stream, _same):
            yield batch

    async def logs(self, container: str, *, follow: bool, tail: str = "all",
                   timestamps: bool = False, since: str | None = None,
                   until: str | None = None) -> AsyncIterator[Frame]:
        async for batch in self.log_batches(container, follow=follow, tail=tail,
                                            timestamps=timestamps, since=since, until=until):
            for frame in batch:
                yield frame

    async def attach_output(self, container: str, *,
                            on_attached: Callable[[], None] | None = None
                            ) -> AsyncIterator[list[Frame]]:
        def open_attach() -> CancellableStream:
            client = self._client
            tty = bool(client.inspect_container(container)["Config"].get("Tty"))
            response = client.post(
                api_url(client, "/containers/{0}/attach", container),
                params={"stdout": 1, "stderr": 1, "stream": 1, "logs": 0},
                headers={"Connection": "Upgrade", "Upgrade": "tcp"}, stream=True,
                timeout=client.timeout)
            check_response(response)
            # The connection is hijacked: read the socket's buffered reader directly
            # (it may already hold the first bytes that followed the headers).
            fp = body_reader(response)
            sock = response_socket(response)
            if sock is not None:
                sock.settimeout(None)
            batches = FrameBatches(lambda: fp.read1(1 << 16), sock, multiplexed=not tty)
            return CancellableStream(batches, response)

        stream = await self._call(open_attach)
        if on_attached is not None:
            on_attached()
        async for batch in self._iterate(stream, _same):
            yield batch

    # -- interactive sessions

    async def attach(self, container: str, *, stdin: bool, tty: bool | None = None,
                     logs: bool = False) -> RawStream:
        def attach() -> RawStream:
            has_tty = tty
            if has_tty is None:
                has_tty = bool(self._client.inspect_container(container)["Config"].get("Tty"))
            sock = self._client.attach_socket(container, params={
                "stdin": int(stdin), "stdout": 1, "stderr": 1, "stream": 1,
                "logs": int(logs)})
            return RawStream(raw_socket(sock), multiplexed=not has_tty, keep=sock)

        return await self._call(attach)

    async def resize_container(self, container: str, height: int, width: int) -> None:
        await self._call(lambda: self._client.resize(container, height=height, width=width))

    async def exec_create(self, container: str, config: ExecConfig) -> str:
        def create() -> str:
            result = self._client.exec_create(
                container, list(config.command), stdout=True, stderr=True,
                stdin=config.stdin, tty=config.tty, privileged=config.privileged,
                user=config.user, environment=list(config.environment) or None,
                workdir=config.workdir or None)
            return str(result["Id"])

        return await self._call(create)

    async def exec_start(self, exec_id: str, *, tty: bool) -> RawStream:
        def start() -> RawStream:
            sock = self._client.exec_start(exec_id, tty=tty, socket=True)
            return RawStream(raw_socket(sock), multiplexed=not tty, keep=sock)

        return await self._call(start)

    async def exec_start_detached(self, exec_id: str) -> None:
        await self._call(lambda: self._client.exec_start(exec_id, detach=True))

    async def exec_resize(self, exec_id: str, height: int, width: int) -> None:
        await self._call(lambda: self._client.exec_resize(exec_id, height=height, width=width))

    async def exec_inspect(self, exec_id: str) -> ExecInfo:
        return convert.exec_info(await self._call(self._client.exec_inspect, exec_id))

    async def exec_run(self, container: str, config: ExecConfig, *,
                       input: bytes | None = None) -> ExecOutput:
        from dataclasses import replace

        exec_id = await self.exec_create(container, replace(config, stdin=input is not None))
        stream = await self.exec_start(exec_id, tty=config.tty)

        def converse() -> tuple[bytes, bytes]:
            if input is not None:
                with contextlib.suppress(OSError):
                    if input:
                        stream.write(input)
                    stream.close_input()
            out, err = bytearray(), bytearray()
            while frames := stream.read():
                for name, data in frames:
                    (err if name == "stderr" else out).extend(data)
            return bytes(out), bytes(err)

        try:
            stdout, stderr = await self._unbounded(converse)
        finally:
            stream.close()
        info = await self.exec_inspect(exec_id)
        # The output can end a moment before the engine records the exit code.
        with anyio.move_on_after(5):
            while info.running:
                await anyio.sleep(0.02)
                info = await self.exec_inspect(exec_id)
        return ExecOutput(info.exit_code or 0, stdout, stderr)

    # -- waits

    async def wait_container(self, container: str,
                             condition: ExitCondition = "not-running") -> int:
        await self._negotiate()
        # No call token while waiting: a wait may last as long as the container runs.
        result = await self._unbounded(lambda: self._client.wait(
            container, timeout=None,
            condition=None if condition == "not-running" else condition))
        return int(result.get("StatusCode", 0))

    async def wait_begin(self, container: str,
                         condition: ExitCondition = "next-exit") -> _PendingExit:
        def begin(condition: ExitCondition) -> requests.Response:
            client = self._client
            response: requests.Response = client.post(
                api_url(client, "/containers/{0}/wait", container),
                params={"condition": condition}, stream=True, timeout=None)
            check_response(response)
            return response

        await self._negotiate()
        if condition == "removed" and self.is_podman:
            # Podman 4.3.1 answers a wait for removal with StatusCode 0: the code comes
            # from a wait for the exit, held beside the one for the removal.
            code = await self._call(begin, "next-exit")
            try:
                return _PendingExit(self, code, await self._call(begin, "removed"))
            except BaseException:
                code.close()
                raise
        return _PendingExit(self, await self._call(begin, condition))

    # -- resource usage

    async def stats(self, container: str) -> StatsSample:
        raw = await self._call(lambda: self._client.stats(container, stream=False))
        return convert.stats_sample(raw)

    async def stats_stream(self, container: str) -> AsyncIterator[StatsSample]:
        def open_stream() -> CancellableStream:
            client = self._client
            response = client.get(api_url(client, "/containers/{0}/stats", container),
                                  params={"stream": 1}, stream=True, timeout=client.timeout)
            check_response(response)
            return CancellableStream(json_lines(response), response)

        stream = await self._call(open_stream)
        async for sample in self._iterate(stream, convert.stats_sample):
            yield sample

    # -- files

    async def stat_path(self, container: str, path: str) -> PathStat | None:
        def stat() -> PathStat | None:
            client = self._client
            response = client.head(api_url(client, "/containers/{0}/archive", container),
                                   params={"path": path}, timeout=client.timeout)
            if response.status_code == 404:
                # A HEAD answer has no body: tell "no container" (raises) from "no path".
                client.inspect_container(container)
                return None
            check_response(response)
            header = response.headers.get("X-Docker-Container-Path-Stat", "")
            return convert.path_stat(json.loads(base64.b64decode(header)) if header else {})

        return await self._call(stat)

    async def get_archive(self, container: str, path: str) -> bytes:
        def get() -> bytes:
            stream, _stat = self._client.get_archive(container, path, chunk_size=None)
            return b"".join(stream)

        return await self._call(get)

    async def put_archive(self, container: str, path: str, data: bytes, *,
                          copy_uid_gid: bool = False) -> None:
        def put() -> None:
            client = self._client
            params: dict[str, Any] = {"path": path, "noOverwriteDirNonDir": "true"}
            if copy_uid_gid:
                params["copyUIDGID"] = "true"
            check_response(client.put(api_url(client, "/containers/{0}/archive", container),
                                      params=params, data=data, timeout=client.timeout))

        await self._call(put)


def _same(item: Any) -> Any:
    return item

