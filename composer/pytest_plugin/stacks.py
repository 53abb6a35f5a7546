"""The stacks of a test run: started on first use, shared by a scope, taken down
when the scope ends (or kept), and shared between xdist workers on request.

A stack is one ``composer.sync.open()`` project. Its key says who shares it:
the test (``function`` scope), the module, or the session; the files, services
and probes of the marker are part of the key too, so two configurations never
share a stack.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from composer.pytest_plugin.runs import Run, dead_run_projects

__all__ = ["Spec", "Stack", "StackManager"]

KEEP_MODES = ("never", "on-failure", "always")
SCOPES = ("function", "module", "session")


@dataclass(frozen=True)
class Spec:
    """What a test asks for: files, scope, services (empty: all), probes
    (service -> probe or probes), shared between xdist workers or not."""

    files: tuple[str, ...]
    scope: str = "function"
    services: tuple[str, ...] = ()
    probes: tuple[tuple[str, Any], ...] = ()
    shared: bool = False

    @property
    def probe_map(self) -> dict[str, Any]:
        return dict(self.probes)


@dataclass
class Stack:
    """A running stack: its handle (``composer.sync.Project``) and how to end it."""

    spec: Spec
    handle: Any
    exits: contextlib.ExitStack
    kept_name: bool = False
    failed: bool = False
    shared_guard: Path | None = None
    users: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return str(self.handle.name)


def _hash_files(files: Iterable[str]) -> str:
    import hashlib

    digest = hashlib.sha256()
    for name in files:
        digest.update(name.encode())
        with contextlib.suppress(OSError):
            digest.update(Path(name).read_bytes())
    return digest.hexdigest()


class StackManager:
    """All stacks of this process. ``worker`` is the xdist worker id (``main``
    without xdist); ``keep`` one of ``never``, ``on-failure``, ``always``."""

    def __init__(self, run: Run, *, worker: str, keep: str, shared_dir: Path | None) -> None:
        if keep not in KEEP_MODES:
            raise ValueError(f"--compose-keep must be one of {', '.join(KEEP_MODES)}")
        self.run = run
        self.worker = worker
        self.keep = keep
        self.shared_dir = shared_dir
        self.stacks: dict[tuple[Spec, str], Stack] = {}
        self.active = False

    # -- the run

    def activate(self) -> list[str]:
        """Hold this run's lock and take down stacks of dead runs; their names."""
        if self.active:
            return []
        self.active = True
        self.run.start()
        return self.remove_stale()

    def remove_stale(self) -> list[str]:
        import anyio

        from composer.api import Compose, DownOptions
        from composer.backends import connect

        async def sweep() -> list[str]:
            backend = connect()
            try:
                observed = await backend.observe("", all_projects=True)
                names = {c.project for c in observed.containers}
                key = "com.docker.compose.project"
                names |= {n.labels.get(key, "") for n in observed.networks}
                names |= {v.labels.get(key, "") for v in observed.volumes}
                stale = dead_run_projects(sorted(n for n in names if n), self.run.id)
                compose = Compose(backend)
                for name in stale:
                    await compose.down(name, DownOptions(volumes=True, remove_orphans=True))
                return stale
            finally:
                await backend.aclose()

        return anyio.run(sweep)

    # -- stacks

    def _name(self, spec: Spec, scope_key: str) -> tuple[str, bool]:
        """The project name for a new stack, and whether it is a kept one's."""
        if spec.shared:
            return f"pt{self.run.id}-shared-{_hash_files(spec.files)[:8]}", False
        if self.keep != "never":
            digest = _hash_files(spec.files + spec.services)[:10]
            return f"ptk{digest}-{self.worker}", True
        return self.run.project_name(self.worker), False

    def acquire(self, spec: Spec, scope_key: str, user: str) -> Stack:
        """The stack for ``spec`` in ``scope_key``, started (and waited for) on first use."""
        key = (spec, scope_key)
        stack = self.stacks.get(key)
        if stack is None:
            stack = self._start(spec, scope_key)
            self.stacks[key] = stack
        stack.users.add(user)
        return stack

    def _start(self, spec: Spec, scope_key: str) -> Stack:
        import composer.sync

        name, kept = self._name(spec, scope_key)
        exits = contextlib.ExitStack()
        handle = exits.enter_context(composer.sync.open(
            list(spec.files), name=name, keep=True))
        stack = Stack(spec=spec, handle=handle, exits=exits, kept_name=kept)
        try:
            if spec.shared and self.shared_dir is not None:
                stack.shared_guard = self.shared_dir / f"{name}.users"
                with self._guard(stack.shared_guard) as count:
                    handle.up(list(spec.services), probes=spec.probe_map)
                    count[0] += 1
            else:
                handle.up(list(spec.services), probes=spec.probe_map)
        except BaseException:
            self._end(stack, force_down=True)
            raise
        return stack

    @contextlib.contextmanager
    def _guard(self, path: Path) -> Any:
        """An exclusive lock on ``path``'s guard and its user count (a one-item list
        the caller changes)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = os.open(str(path) + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                count = [int(path.read_text() or 0)]
            except (OSError, ValueError):
                count = [0]
            yield count
            path.write_text(str(count[0]))
        finally:
            os.close(lock)

    def release(self, scope_key: str) -> None:
        """End every stack of ``scope_key`` (its scope is over)."""
        for key in [k for k in self.stacks if k[1] == scope_key]:
            self._end(self.stacks.pop(key))

    def close(self) -> None:
        """End every stack (the session is over, or interrupted)."""
        for key in list(self.stacks):
            self._end(self.stacks.pop(key))
        self.run.stop()

    def _end(self, stack: Stack, *, force_down: bool = False) -> None:
        try:
            down = force_down or self.keep == "never" or (
                self.keep == "on-failure" and not stack.failed)
            if not stack.kept_name:
                down = True
            if stack.shared_guard is not None and not force_down:
                with self._guard(stack.shared_guard) as count:
                    count[0] = max(0, count[0] - 1)
                    if count[0] == 0:
                        stack.handle.down(volumes=True, remove_orphans=True)
            elif down:
                stack.handle.down(volumes=True, remove_orphans=True)
        finally:
            stack.exits.close()


def status_text(files: tuple[str, ...], name: str, since: float) -> tuple[str, str]:
    """:func:`report_text` for a project this process holds no handle of (an async
    test's, living on the test's event loop): read through a handle of its own."""
    import composer.sync

    with composer.sync.open(list(files), name=name, keep=True) as handle:
        return report_text(Stack(spec=Spec(files), handle=handle,
                                 exits=contextlib.ExitStack()), since)


def report_text(stack: Stack, since: float, tail: int = 200) -> tuple[str, str]:
    """``ps`` and the logs written since ``since`` (unix seconds), as text."""
    rows = stack.handle.ps(all=True)
    ps = "\n".join(f"{r.name}  {r.service}  {r.state}"
                   + (f" ({r.health})" if r.health else "")
                   + (f"  exit {r.exit_code}" if r.state == "exited" else "")
                   for r in rows) or "(no containers)"
    lines = [f"{line.container} | {line.text}"
             for line in stack.handle.logs(since=since)]
    logs = "\n".join(lines[-tail:]) or "(no output since the test began)"
    return ps, logs


def now() -> float:
    return time.time()


def probes_of(value: Mapping[str, Any] | None) -> tuple[tuple[str, Any], ...]:
    """The marker's ``probes`` as a hashable, ordered value."""
    from composer.probes import flatten

    return tuple(sorted(((k, flatten(v)) for k, v in (value or {}).items()),
                        key=lambda kv: kv[0]))
