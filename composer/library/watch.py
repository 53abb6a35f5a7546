"""A watch from Python: ``async with project.watch() as watch`` (see :class:`Watch`).

::

    async with project.watch() as watch:          # the rules checked, changes seen
        (tmp / "src" / "app.py").write_text(...)
        event = await watch.next("synced")          # that file is in the containers
        assert event.services == ("web",)

The watch runs while the block does and stops when it ends; nothing is printed
(every line ``composer watch`` would print is an event's ``message``).
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream

from composer.api.watch import Watcher, WatchEvent, WatchOptions
from composer.errors import ComposerError

if TYPE_CHECKING:
    from composer.library.project import Project

__all__ = ["Watch", "WatchEvent", "watching"]

#: Seconds :meth:`Watch.next` waits by default.
NEXT_TIMEOUT = 60.0


class Watch:
    """A running watch: iterate it for its :class:`WatchEvent` values (``async for
    event in watch``), or await :meth:`next` of a kind; :attr:`events` keeps every
    event seen so far."""

    def __init__(self, receive: MemoryObjectReceiveStream[WatchEvent]) -> None:
        self._receive = receive
        self.events: list[WatchEvent] = []

    def __aiter__(self) -> AsyncIterator[WatchEvent]:
        return self

    async def __anext__(self) -> WatchEvent:
        try:
            event = await self._receive.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None
        self.events.append(event)
        return event

    async def next(self, kind: str, *, service: str | None = None,
                   timeout: float = NEXT_TIMEOUT) -> WatchEvent:
        """The next event of ``kind`` (of ``service``, when given); raises
        ``TimeoutError`` after ``timeout`` seconds. An ``error`` event met on the
        way, when ``kind`` is not ``error``, raises :class:`ComposerError`."""
        with anyio.fail_after(timeout):
            async for event in self:
                if event.kind == kind and (service is None or service in event.services):
                    return event
                if event.kind == "error":
                    raise ComposerError(event.message)
        raise ComposerError("the watch ended")


@asynccontextmanager
async def watching(project: Project, services: Sequence[str] = (), *, prune: bool = True,
                   quiet_period: float | None = None) -> AsyncIterator[Watch]:
    """The body of :meth:`composer.library.Project.watch`."""
    send, receive = anyio.create_memory_object_stream[WatchEvent](max_buffer_size=math.inf)
    options = WatchOptions(services=tuple(services), prune=prune)
    if quiet_period is not None:
        options = WatchOptions(services=tuple(services), prune=prune,
                               quiet_period=quiet_period)
    watcher = Watcher(project.compose, project.loaded, options, on_event=send.send_nowait)
    # Bad rules and services without containers raise here, plainly.
    watcher.compile()
    await watcher.check_containers()
    ready = anyio.Event()
    async with anyio.create_task_group() as tg:
        async def run() -> None:
            with send:
                await watcher.run(ready=ready)

        tg.start_soon(run)
        await ready.wait()
        try:
            yield Watch(receive)
        finally:
            tg.cancel_scope.cancel()
