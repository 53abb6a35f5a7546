"""The log multiplexer: the output of many containers, merged into whole lines.

::

    mux = LogMultiplexer(backend, consumer)
    async with anyio.create_task_group() as tg:
        tg.start_soon(mux.run)                 # the one writer
        await mux.attach(target)               # before starting the container
        ...start the containers...
        await mux.watch(project, services)     # restarts, recreations, late starts
        await mux.finished.wait()              # every followed container has exited

Readers (one task per container stream) cut the bytes they receive into complete
lines, keeping a partial line per container and stream until its end arrives,
and hand whole batches of lines to one writer task through a memory channel: a
line is never split, and two lines never interleave. The writer alone calls the
:class:`LogConsumer`, so consumers need no locking. Nothing here prints.

The channel is bounded (``queue_bytes``, default :data:`QUEUE_BYTES`, 1 MiB):
a reader waits for room before it queues its lines, and only then asks the
engine for more. A consumer slower than the containers (a slow terminal, a pipe
nobody reads) thus slows the readers, which leave the engine's bytes in the
socket, where the engine's own flow control holds them: composer keeps at most
the bound plus one engine batch per followed container (the Docker backend reads
at most 256 KiB at once), however much the containers write. Room is granted
first come, first served, so a chatty container cannot starve a quiet one.

A container is followed either by *attaching* (the engine's attach API, no past
output; used on created containers before they start, so nothing is lost) or
by its *logs* (``since`` a moment, used for containers met once they run). When
a stream ends the container is inspected: an exit is announced
(``web-1 exited with code 3``) and reported to ``on_exit``; a container that
is running again (restarted meanwhile) is followed from its new start.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

import anyio
import anyio.abc
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from composer.backends.base import Backend, ContainerInfo, Frame
from composer.errors import ComposerError
from composer.frozen import frozen
from composer.model import labels as L

__all__ = [
    "QUEUE_BYTES",
    "ContainerExit",
    "LineBuffer",
    "LogConsumer",
    "LogMultiplexer",
    "LogTarget",
    "log_name",
]


class LogConsumer(Protocol):
    """Receives merged output, from one task only (never concurrently).

    ``register`` comes before a container's first lines; ``lines`` carries whole
    lines (without their newline) of one stream (``stdout``/``stderr``);
    ``status`` a message about a container (``exited with code 3``).
    """

    def register(self, name: str) -> None: ...
    def lines(self, name: str, stream: str, lines: Sequence[str]) -> None: ...
    def status(self, name: str, message: str) -> None: ...


@frozen(slots=True)
class LogTarget:
    """A container to follow: its id, the name lines are shown under (``web-1``)
    and its service."""

    id: str
    name: str
    service: str = ""


@frozen(slots=True)
class ContainerExit:
    """A followed container stopped: ``restarting`` when the engine restarts it."""

    target: LogTarget
    exit_code: int
    restarting: bool = False


def log_name(service: str, number: int | str | None, container_name: str = "") -> str:
    """How v2 names a container in logs: ``service-N``, else the container's name."""
    if service and number:
        return f"{service}-{number}"
    return container_name.lstrip("/")


class LineBuffer:
    """Cuts a byte stream into whole lines; keeps the unfinished tail.

    ``feed`` returns the complete lines so far (newline removed, a trailing CR
    removed too: TTY output ends lines with CRLF); ``flush`` returns the
    unfinished tail as a last line, if any.
    """

    __slots__ = ("_tail",)

    def __init__(self) -> None:
        self._tail = b""

    def feed(self, data: bytes) -> list[str]:
        if b"\n" not in data:
            self._tail += data
            return []
        parts = (self._tail + data).split(b"\n")
        self._tail = parts.pop()
        text = b"\n".join(parts).decode("utf-8", errors="replace")
        if "\r" in text:
            return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]
        return text.split("\n")

    def flush(self) -> list[str]:
        tail, self._tail = self._tail, b""
        if not tail:
            return []
        line = tail.decode("utf-8", errors="replace")
        return [line[:-1] if line.endswith("\r") else line]


#: How much the channel between the readers and the writer holds at most, in bytes
#: of line text plus :data:`LINE_COST` per line. Four of the Docker backend's largest
#: batches (256 KiB): enough that the writer always has the next lines at hand
#: while readers fetch more, small next to the interpreter itself (~40 MiB).
QUEUE_BYTES = 1 << 20
#: What a queued line costs besides its text: a ``str`` object's header and a list
#: slot (``sys.getsizeof("")`` is 49 on CPython 3.11), so that a flood of short
#: lines (``yes``) is bounded in memory too, not only in characters.
LINE_COST = 64
#: How long a container Podman shows as ``stopping`` is waited on for its exit code,
#: in seconds: a stop ends within its grace period (v2's longest default is 10 s).
STOPPING_WAIT = 120.0

# Items of the channel between readers and the writer:
# (kind, name, stream-or-message, lines, cost in the budget).
_Item = tuple[str, str, str, Sequence[str], int]


class _Budget:
    """Room in the channel, granted first come, first served: ``acquire(n)`` waits
    until ``n`` more fits under ``limit`` (or the channel is empty: one item larger
    than the limit still passes, alone); ``release`` gives back what the writer wrote."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._waiters: deque[tuple[int, anyio.Event]] = deque()

    def _fits(self, cost: int) -> bool:
        return self.used == 0 or self.used + cost <= self.limit

    async def acquire(self, cost: int) -> None:
        if not self._waiters and self._fits(cost):
            self.used += cost
            return
        entry = (cost, anyio.Event())
        self._waiters.append(entry)
        try:
            await entry[1].wait()
        except BaseException:
            if entry[1].is_set():
                self.release(cost)  # granted, but its item will not be queued
            else:
                self._waiters.remove(entry)
                self.release(0)  # the next in line may fit now
            raise

    def release(self, cost: int) -> None:
        self.used -= cost
        while self._waiters and self._fits(self._waiters[0][0]):
            granted, event = self._waiters.popleft()
            self.used += granted
            event.set()


def _unix_seconds(iso: str) -> str | None:
    """The engine's RFC 3339 time (nanoseconds) as ``seconds.nanos`` for ``since``."""
    if not iso or iso.startswith("0001-"):
        return None
    head, _, frac = iso.rstrip("Z").partition(".")
    try:
        seconds = int(datetime.fromisoformat(head + "+00:00").timestamp())
    except ValueError:
        return None
    digits = "".join(c for c in frac if c.isdigit())[:9].ljust(9, "0")
    return f"{seconds}.{digits}"


def _cut(batch: list[Frame], buffers: dict[str, LineBuffer]) -> dict[str, list[str]]:
    """The whole lines of a batch, per stream (the partial ones stay in ``buffers``)."""
    out: dict[str, list[str]] = {}
    for stream, data in batch:
        buffer = buffers.get(stream)
        if buffer is None:
            buffer = buffers[stream] = LineBuffer()
        lines = buffer.feed(data)
        if lines:
            out.setdefault(stream, []).extend(lines)
    return out


class LogMultiplexer:
    """Follows containers and merges their output for one :class:`LogConsumer`.

    ``on_exit`` (optional) is awaited for each exit of a followed container.
    ``finished`` is set once every followed container has exited for good (not
    restarting) after at least one was followed; ``run`` returns when
    :meth:`close` is called; :meth:`drain` first to write what was queued.
    ``queue_bytes`` bounds what waits for the consumer (see the module docstring);
    :attr:`queued` is what waits now.
    """

    def __init__(self, source: Backend, consumer: LogConsumer, *,
                 announce_exits: bool = True,
                 on_exit: Callable[[ContainerExit], Awaitable[None]] | None = None,
                 queue_bytes: int = QUEUE_BYTES) -> None:
        self._source = source
        self._consumer = consumer
        self._announce = announce_exits
        self._on_exit = on_exit
        # The channel counts no items: its content is bounded by the budget, which
        # readers acquire before queueing (registrations, one per name, cost nothing).
        send, receive = anyio.create_memory_object_stream[_Item](max_buffer_size=math.inf)
        self._send: MemoryObjectSendStream[_Item] = send
        self._receive: MemoryObjectReceiveStream[_Item] = receive
        self._budget = _Budget(queue_bytes)
        self._backlog = 0  # items queued, not yet handed to the consumer
        self._idle: anyio.Event | None = None
        self._followed: set[str] = set()  # container ids with a live reader
        self._pending: set[str] = set()  # restarting: a start will follow
        self._registered: set[str] = set()
        self._finished_at: dict[str, str] = {}
        #: The StartedAt of the run each container was followed through, once it ended.
        self._run_followed: dict[str, str] = {}
        self._tg: TaskGroup | None = None
        self._seen_any = False
        self.finished = anyio.Event()
        self.exits: list[ContainerExit] = []

    # -- the writer

    async def run(self) -> None:
        """The writer task, and the parent of the reader tasks: start it first."""
        async with anyio.create_task_group() as tg:
            self._tg = tg
            tg.start_soon(self._write)
            # Wait until close(): readers live in this group.
            await self._closed_event().wait()
            tg.cancel_scope.cancel()

    _closed: anyio.Event | None = None

    def _closed_event(self) -> anyio.Event:
        if self._closed is None:
            self._closed = anyio.Event()
        return self._closed

    async def _write(self) -> None:
        consumer = self._consumer
        budget = self._budget
        async with self._receive:
            async for kind, name, extra, lines, cost in self._receive:
                if kind == "lines":
                    consumer.lines(name, extra, lines)
                elif kind == "status":
                    consumer.status(name, extra)
                else:
                    consumer.register(name)
                del lines
                budget.release(cost)
                self._backlog -= 1
                if not self._backlog and self._idle is not None:
                    self._idle.set()
                    self._idle = None

    @property
    def queued(self) -> int:
        """What the channel holds now: bytes of line text plus :data:`LINE_COST` per
        line (never more than ``queue_bytes``, unless one line alone is larger)."""
        return self._budget.used

    async def drain(self) -> None:
        """Until the writer has handed everything queued so far to the consumer."""
        while self._backlog and not self._closed_event().is_set():
            if self._idle is None:
                self._idle = anyio.Event()
            await self._idle.wait()

    def close(self) -> None:
        """Stop every reader; ``run`` returns."""
        self._closed_event().set()
        if self._idle is not None:
            self._idle.set()

    def _put(self, item: _Item) -> None:
        try:
            self._send.send_nowait(item)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            # Closed: output after close() is dropped on purpose (v2 stops printing).
            self._budget.release(item[4])
            return
        self._backlog += 1

    async def _queue(self, kind: str, name: str, extra: str, lines: Sequence[str],
                     cost: int) -> None:
        """Queue an item once the channel has room for it (back-pressure)."""
        await self._budget.acquire(cost)
        self._put((kind, name, extra, lines, cost))

    async def _queue_lines(self, name: str, stream: str, lines: list[str]) -> None:
        """Queue ``lines``, in pieces that each fit the bound."""
        limit = self._budget.limit
        cost = sum(map(len, lines)) + LINE_COST * len(lines)
        if cost <= limit:
            await self._queue("lines", name, stream, lines, cost)
            return
        start = cost = 0
        for i, line in enumerate(lines):
            size = len(line) + LINE_COST
            if cost and cost + size > limit:
                await self._queue("lines", name, stream, lines[start:i], cost)
                start, cost = i, 0
            cost += size
        await self._queue("lines", name, stream, lines[start:], cost)

    async def _started(self) -> TaskGroup:
        while self._tg is None:
            await anyio.sleep(0)
        return self._tg

    def _register(self, target: LogTarget) -> None:
        if target.name not in self._registered:
            self._registered.add(target.name)
            self._put(("register", target.name, "", (), 0))

    # -- readers

    async def attach(self, target: LogTarget) -> None:
        """Attach to a (created, not yet started) container: all its output from now on.
        Returns once attached, so the caller can start the container."""
        tg = await self._started()
        self._register(target)
        self._followed.add(target.id)
        self._seen_any = True
        await tg.start(self._attach_reader, target)

    async def _attach_reader(self, target: LogTarget, *,
                             task_status: anyio.abc.TaskStatus[None]) -> None:
        attached = False

        def on_attached() -> None:
            nonlocal attached
            attached = True
            task_status.started()

        try:
            await self._pump(target, self._source.attach_output(
                target.id, on_attached=on_attached))
        finally:
            if not attached:
                task_status.started()
        await self._ended(target, True, attached=True)

    def follow(self, target: LogTarget, *, follow: bool = True, tail: str = "all",
               since: str | None = None, until: str | None = None,
               timestamps: bool = False) -> None:
        """Follow a container through its logs (``since``/``until``/``tail`` as the
        engine's logs API); with ``follow``, until it stops."""
        assert self._tg is not None, "run() first"
        self._register(target)
        self._followed.add(target.id)
        self._seen_any = True
        self._tg.start_soon(self._logs_reader, target, follow, tail, since, until, timestamps)

    async def _logs_reader(self, target: LogTarget, follow: bool, tail: str,
                           since: str | None, until: str | None, timestamps: bool) -> None:
        batches = self._source.log_batches(target.id, follow=follow, tail=tail, since=since,
                                           until=until, timestamps=timestamps)
        await self._pump(target, batches)
        await self._ended(target, follow)

    async def _pump(self, target: LogTarget,
                    batches: AsyncIterator[list[Frame]]) -> None:
        buffers: dict[str, LineBuffer] = {}
        send = self._queue_lines
        name = target.name
        try:
            async for batch in batches:
                out = _cut(batch, buffers)
                del batch  # the frames go while the lines wait for room
                # The next batch is asked for only once these are queued: a slow
                # consumer leaves the engine's output in the engine's socket.
                for stream in list(out):
                    await send(name, stream, out.pop(stream))
        except ComposerError:
            pass  # removed meanwhile: what arrived is written, the end handled below
        for stream, buffer in buffers.items():
            rest = buffer.flush()
            if rest:
                await send(name, stream, rest)

    async def _ended(self, target: LogTarget, followed: bool, *,
                     attached: bool = False) -> None:
        if not followed:
            self._followed.discard(target.id)
            self._check_finished()
            return
        state = await self._state_after_stream(target.id)
        # Only now: until its exit is known, the container still counts as followed.
        self._followed.discard(target.id)
        if attached and state is not None and state.state == "created":
            # Attached before its start and the stream ended already (Podman can end
            # it so): no run to announce; its start event brings it back (watch).
            self._pending.add(target.id)
            self._check_finished()
            return
        # A new run's first lines may predate its start event (and StartedAt), never
        # the end of the run before: a later run is followed from there.
        finished = _unix_seconds(state.finished_at) if state is not None else None
        if finished is not None:
            self._finished_at[target.id] = finished
        if state is not None:
            self._run_followed[target.id] = state.started_at
        if state is not None and state.running and not state.restarting:
            self.follow(target, since=finished)
            return
        restarting = state is not None and state.restarting
        code = state.exit_code if state is not None else 0
        event = ContainerExit(target, code, restarting)
        self.exits.append(event)
        if restarting:
            self._pending.add(target.id)
        if self._announce:
            message = f"exited with code {code}"
            await self._queue("status", target.name, message, (), len(message) + LINE_COST)
        if self._on_exit is not None:
            await self._on_exit(event)
        self._check_finished()

    async def _state_after_stream(self, cid: str) -> ContainerInfo | None:
        """The container's state once its log stream has ended (None: it is gone). On
        a busy engine the stream can end before the exit is recorded (still running
        with the same ``finished_at`` as before this run): wait a little for the
        record rather than follow the same run again from its start. A new
        ``finished_at`` means the run ended and another began (a restart): no wait
        then. Podman says ``stopping`` (not running, exit code 0) from a stop's
        start until it has recorded the exit, which can be after the stream ended:
        wait for the record then too (a stop ends within its grace period)."""
        state: ContainerInfo | None = None
        tries = 0
        give_up = anyio.current_time() + STOPPING_WAIT
        while True:
            try:
                state = await self._source.inspect_container(cid)
            except ComposerError:
                return None
            if state.state == "stopping" and anyio.current_time() < give_up:
                await anyio.sleep(0.05)
                continue
            if not state.running or state.restarting:
                return state
            finished = _unix_seconds(state.finished_at)
            if finished is not None and finished != self._finished_at.get(cid):
                return state
            tries += 1
            if tries >= 40:
                return state
            await anyio.sleep(0.05)

    async def _same_run(self, cid: str) -> bool:
        """Whether the container has not started again since its run was followed."""
        try:
            state = await self._source.inspect_container(cid)
        except ComposerError:
            return True  # gone: nothing more to show
        return state.started_at == self._run_followed.get(cid)

    def _check_finished(self) -> None:
        if self._seen_any and not self._followed and not self._pending:
            self.finished.set()

    # -- events

    async def watch(self, project: str, services: Sequence[str] = (), *,
                    since: int | None = None, oneoff: bool = False) -> None:
        """Follow containers of ``services`` (empty: all) of ``project`` that start from
        now on (restarts, recreations, scaled up). Runs until cancelled."""
        async for event in self._source.events(project, since=since):
            if event.action != "start":
                continue
            attrs: Mapping[str, str] = event.attributes
            if not oneoff and attrs.get(L.ONEOFF) == "True":
                continue
            service = attrs.get(L.SERVICE, "")
            if services and service not in services:
                continue
            cid = event.container_id
            if not cid or cid in self._followed:
                continue
            if cid in self._run_followed and await self._same_run(cid):
                # The start of a run already followed to its end, told late (Podman's
                # events can come after the exit): its lines were all shown.
                continue
            self._pending.discard(cid)
            # A container met for the first time: all its output (it is new, or
            # its earlier runs predate this command).
            since_s = self._finished_at.get(cid)
            target = LogTarget(cid, log_name(service, attrs.get(L.CONTAINER_NUMBER),
                                             attrs.get("name", cid[:12])), service)
            self.follow(target, since=since_s)
