"""The merged output of a project's containers as :class:`LogLine` values.

:class:`LogStream` reads every container in a task of the project's own task
group and hands the lines over a bounded channel; the consumer iterates. When
the consumer stops early (``break`` out of ``async for``, leaving an ``async
with`` block, ``aclose()``), the readers are cancelled at once and their engine
streams closed: nothing runs on behind its back, and nothing grows.

Without ``follow`` the output is finite: every container is read to its end
first and the lines come out merged by the engine's timestamps (a stable sort:
each container's lines keep their order, a line without a time keeps the time
of the line before it). With ``follow`` they come in the order they arrive.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from types import TracebackType

import anyio
import anyio.abc
from anyio.streams.memory import MemoryObjectSendStream

from composer.backends.base import Backend, ContainerState
from composer.errors import ComposerError
from composer.library.results import LogLine
from composer.runtime.logs import LineBuffer

__all__ = ["LogStream", "by_time", "parse_time"]

#: Lines queued between the readers and a slow consumer.
BUFFER = 256


def parse_time(stamp: str) -> datetime | None:
    """The engine's RFC 3339 time (nanoseconds) as an aware datetime, else None."""
    text = stamp.rstrip("Z")
    head, dot, frac = text.partition(".")
    try:
        moment = datetime.fromisoformat(head + (dot + frac[:6] if dot else ""))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def by_time(lines: Iterable[LogLine]) -> list[LogLine]:
    """``lines`` merged by time, stably; an untimed line goes with the line before
    it from the same container (or first, when none came before)."""
    earliest = datetime.min.replace(tzinfo=UTC)
    last: dict[str, datetime] = {}
    keyed = []
    for line in lines:
        moment = last[line.container] = line.time or last.get(line.container, earliest)
        keyed.append((moment, line))
    keyed.sort(key=lambda pair: pair[0])
    return [line for _, line in keyed]


def _line(container: ContainerState, stream: str, line: str) -> LogLine:
    stamp, space, text = line.partition(" ")
    time = parse_time(stamp) if space else None
    if time is None:
        text = line
    return LogLine(service=container.service, container=container.name, stream=stream,
                   time=time, text=text)


class _Readers:
    """The reading side, owned by the tasks (never by the consumer's iterator, so
    that dropping the iterator is seen: its finaliser cancels these)."""

    def __init__(self, backend: Backend, send: MemoryObjectSendStream[LogLine], *,
                 follow: bool, since: str | None, tail: str) -> None:
        self.backend = backend
        self.send = send
        self.scope = anyio.CancelScope()
        self.error: ComposerError | None = None
        self.ended = anyio.Event()
        self.follow, self.since, self.tail = follow, since, tail

    async def run(self, containers: list[ContainerState]) -> None:
        try:
            with self.scope:
                async with self.send, anyio.create_task_group() as group:
                    for container in containers:
                        group.start_soon(self.read, container, self.send.clone())
        finally:
            self.ended.set()

    async def read(self, container: ContainerState,
                   send: MemoryObjectSendStream[LogLine]) -> None:
        buffers = {"stdout": LineBuffer(), "stderr": LineBuffer()}
        async with send:
            try:
                async for stream, data in self.backend.logs(
                        container.id, follow=self.follow, tail=self.tail,
                        timestamps=True, since=self.since):
                    for line in buffers.setdefault(stream, LineBuffer()).feed(data):
                        await send.send(_line(container, stream, line))
                for stream, buffer in buffers.items():
                    for line in buffer.flush():
                        await send.send(_line(container, stream, line))
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                return  # the consumer went away
            except ComposerError as exc:  # the engine failed: the consumer hears of it
                self.error = self.error or exc


class LogStream:
    """An async iterator of :class:`LogLine` (also an async context manager)."""

    def __init__(self, backend: Backend, group: anyio.abc.TaskGroup,
                 containers: Callable[[], Awaitable[Sequence[ContainerState]]], *,
                 follow: bool, since: str | None, tail: str) -> None:
        send, self._receive = anyio.create_memory_object_stream[LogLine](BUFFER)
        self._readers = _Readers(backend, send, follow=follow, since=since, tail=tail)
        self._group = group
        self._containers = containers
        self._follow = follow
        self._started = False
        self._closed = False
        #: Without ``follow``: the whole output, merged by time, once read.
        self._sorted: list[LogLine] | None = None

    def __aiter__(self) -> AsyncIterator[LogLine]:
        return self

    async def __anext__(self) -> LogLine:
        if self._closed:
            raise StopAsyncIteration
        if not self._started:
            # The containers are listed on first use: logs() itself is a plain call.
            self._started = True
            containers = list(await self._containers())
            self._group.start_soon(self._readers.run, containers)
            if not self._follow:
                self._sorted = by_time([line async for line in self._receive])
                self._sorted.reverse()  # popped from the end
                self._raise_error()
        if self._sorted is not None:
            if self._sorted:
                return self._sorted.pop()
            raise StopAsyncIteration
        try:
            return await self._receive.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            self._raise_error()
            raise StopAsyncIteration from None

    @property
    def ended(self) -> anyio.Event:
        """Set once the readers have ended (after :meth:`close`, or when the
        containers' output ran out; at close when they never started)."""
        return self._readers.ended

    def _raise_error(self) -> None:
        error, self._readers.error = self._readers.error, None
        if error is not None:
            raise error from None

    def close(self) -> None:
        """Stop the readers and end the iteration (safe to call twice)."""
        if self._closed:
            return
        self._closed = True
        self._readers.scope.cancel()
        self._receive.close()
        if not self._started:
            self._readers.ended.set()

    async def aclose(self) -> None:
        """As :meth:`close`, for ``contextlib.aclosing`` and async code."""
        self.close()

    async def __aenter__(self) -> LogStream:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, value: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.close()

    def __del__(self) -> None:
        # Dropped by a consumer that broke out of ``async for``: stop the readers.
        try:
            self.close()
        except Exception:  # noqa: BLE001 - never raise from a finaliser
            pass
