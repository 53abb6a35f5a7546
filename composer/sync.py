"""The library without ``async``: the same names as :mod:`composer.library`,
blocking.

::

    import composer.sync

    with composer.sync.open(["compose.yaml"]) as project:
        project.up()
        print(project.service("web").endpoint(80).url("/"))
        print(project.exec("web", ["cat", "/etc/hostname"]).stdout)
        for line in project.logs(tail=10):
            print(line)

The async core runs on an event loop in a thread of its own (an anyio blocking
portal); each call waits for its result there. Call it from plain code or from
a thread, not from inside a running event loop (use ``composer.open`` there).
Ctrl-C in a call stops the wait and, leaving the ``with`` block, the project is
taken down as with the async ``open``.
"""

from __future__ import annotations

import concurrent.futures
import inspect
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

import anyio
from anyio.from_thread import BlockingPortal, start_blocking_portal

from composer import library
from composer.backends.base import ContainerInfo, ContainerState
from composer.errors import OperationCancelled, UsageError
from composer.library.results import Endpoint, Event, ExecResult, LogLine
from composer.model.project import Project as Model
from composer.probes import Probe

__all__ = ["Project", "Service", "open"]

T = TypeVar("T")

#: Seconds a cancelled call may take to unwind after Ctrl-C.
CANCEL_GRACE = 60.0


def _in_event_loop() -> bool:
    try:
        anyio.get_current_task()
    except Exception:  # noqa: BLE001 - no loop here, as wanted
        return False
    return True


class _Bridge:
    def __init__(self, portal: BlockingPortal) -> None:
        self.portal = portal

    def call(self, func: Callable[..., Any], *args: Any) -> Any:
        unwound = threading.Event()

        async def run() -> Any:
            try:
                return await func(*args)
            finally:
                unwound.set()

        future = self.portal.start_task_soon(run)
        try:
            return future.result()
        except concurrent.futures.CancelledError as exc:
            raise OperationCancelled("the call was cancelled") from exc
        except BaseException:
            # Ctrl-C (KeyboardInterrupt) in this thread: cancel the call on the
            # loop and wait for it to unwind (a cancelled future is "done" at
            # once, its task is not), so a teardown that follows (leaving the
            # `with` block) does not race an `up` still running.
            if not future.done():
                future.cancel()
                unwound.wait(CANCEL_GRACE)
            raise

    def iterate(self, stream: Any, close: Callable[[], Any]) -> Iterator[Any]:
        try:
            while True:
                try:
                    yield self.call(stream.__anext__)
                except StopAsyncIteration:
                    return
        finally:
            self.call(close)


class Service:
    """One service (``project.service("web")``): blocking versions of
    :class:`composer.library.Service`'s methods."""

    def __init__(self, inner: library.Service, bridge: _Bridge) -> None:
        self._inner = inner
        self._bridge = bridge
        self.name = inner.name

    def __repr__(self) -> str:
        return repr(self._inner)

    def containers(self) -> list[ContainerState]:
        result: list[ContainerState] = self._bridge.call(self._inner.containers)
        return result

    def inspect(self, index: int = 1) -> ContainerInfo:
        result: ContainerInfo = self._bridge.call(self._inner.inspect, index)
        return result

    def endpoint(self, port: int, index: int = 1, protocol: str = "tcp") -> Endpoint:
        result: Endpoint = self._bridge.call(self._inner.endpoint, port, index, protocol)
        return result

    def ips(self, network: str | None = None, index: int = 1) -> list[str]:
        result: list[str] = self._bridge.call(self._inner.ips, network, index)
        return result

    def exec(self, cmd: str | Sequence[str], **kwargs: Any) -> ExecResult:
        result: ExecResult = self._bridge.call(lambda: self._inner.exec(cmd, **kwargs))
        return result

    def logs(self, **kwargs: Any) -> Iterator[LogLine]:
        stream = self._bridge.call(lambda: _make(lambda: self._inner.logs(**kwargs)))
        return self._bridge.iterate(stream, stream.aclose)

    def ready(self, probe: Probe | Iterable[Probe], *, timeout: float = 60.0,
              interval: float = 0.5) -> None:
        self._bridge.call(lambda: self._inner.ready(probe, timeout=timeout,
                                                    interval=interval))


async def _make(factory: Callable[[], T]) -> T:
    """Build an object that needs the event loop (a log stream), in the loop."""
    return factory()


class Project:
    """A compose project: blocking versions of :class:`composer.library.Project`'s
    verbs, with the same names and arguments."""

    def __init__(self, inner: library.Project, bridge: _Bridge) -> None:
        self._inner = inner
        self._bridge = bridge

    def __repr__(self) -> str:
        return repr(self._inner)

    @property
    def name(self) -> str:
        return self._inner.name

    @property
    def model(self) -> Model:
        return self._inner.model

    @property
    def graph(self) -> Any:
        return self._inner.graph

    @property
    def config_hash(self) -> str:
        return self._inner.config_hash

    @property
    def aproject(self) -> library.Project:
        """The async handle underneath (for code that mixes both)."""
        return self._inner

    def service(self, name: str) -> Service:
        return Service(self._inner.service(name), self._bridge)

    def up(self, services: Sequence[str] = (), **kwargs: Any) -> None:
        self._bridge.call(lambda: self._inner.up(services, **kwargs))

    def down(self, **kwargs: Any) -> None:
        self._bridge.call(lambda: self._inner.down(**kwargs))

    def ps(self, **kwargs: Any) -> list[ContainerState]:
        result: list[ContainerState] = self._bridge.call(lambda: self._inner.ps(**kwargs))
        return result

    def start(self, services: Sequence[str] = ()) -> None:
        self._bridge.call(self._inner.start, services)

    def stop(self, services: Sequence[str] = (), **kwargs: Any) -> None:
        self._bridge.call(lambda: self._inner.stop(services, **kwargs))

    def restart(self, services: Sequence[str] = (), **kwargs: Any) -> None:
        self._bridge.call(lambda: self._inner.restart(services, **kwargs))

    def scale(self, replicas: Mapping[str, int], **kwargs: Any) -> None:
        self._bridge.call(lambda: self._inner.scale(replicas, **kwargs))

    def wait(self, services: Sequence[str] = (), **kwargs: Any) -> None:
        self._bridge.call(lambda: self._inner.wait(services, **kwargs))

    def exec(self, service: str, cmd: str | Sequence[str], **kwargs: Any) -> ExecResult:
        result: ExecResult = self._bridge.call(lambda: self._inner.exec(service, cmd, **kwargs))
        return result

    def run(self, service: str, cmd: str | Sequence[str] = (), **kwargs: Any) -> ExecResult:
        result: ExecResult = self._bridge.call(lambda: self._inner.run(service, cmd, **kwargs))
        return result

    def logs(self, services: Sequence[str] = (), *, follow: bool = False,
             since: datetime | float | None = None, tail: int | None = None
             ) -> Iterator[LogLine]:
        """The output as :class:`LogLine` values; leaving the loop early (``break``)
        stops the readers."""
        stream = self._bridge.call(lambda: _make(lambda: self._inner.logs(
            services, follow=follow, since=since, tail=tail)))
        return self._bridge.iterate(stream, stream.aclose)

    def events(self, services: Sequence[str] = (), *,
               since: datetime | float | None = None) -> Iterator[Event]:
        agen = self._inner.events(services, since=since)
        return self._bridge.iterate(agen, agen.aclose)


def _document(blocking: type, source: type) -> None:
    """Give each blocking method the docstring of its async original."""
    for name, member in vars(blocking).items():
        if name.startswith("_") or getattr(member, "__doc__", None):
            continue
        original = getattr(source, name, None)
        doc = getattr(original, "__doc__", None)
        if doc is None:
            continue
        if isinstance(member, property):
            setattr(blocking, name, property(member.fget, doc=doc))
        else:
            member.__doc__ = f"Blocking :meth:`{source.__name__}.{name}`. " + inspect.cleandoc(doc)


_document(Project, library.Project)
_document(Service, library.Service)


@contextmanager
def open(files: Sequence[str] | str | None = None,  # noqa: A001 - composer.sync.open
         **kwargs: Any) -> Iterator[Project]:
    """As :func:`composer.open` (same arguments), blocking: a context manager giving
    a :class:`Project`; the project is taken down when the block ends."""
    if _in_event_loop():
        raise UsageError("composer.sync.open() called inside a running event loop: "
                         "use `async with composer.open(...)` there")
    with start_blocking_portal() as portal:
        bridge = _Bridge(portal)
        with portal.wrap_async_context_manager(library.open(files, **kwargs)) as inner:
            yield Project(inner, bridge)
