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

from composer.frozen import frozen
from composer.pytest_plugin.runs import Run, runs_dir, sweep

__all__ = ["Spec", "Stack", "StackManager", "down_projects", "kept_state"]

KEEP_MODES = ("never", "on-failure", "always")
SCOPES = ("function", "module", "session")


@frozen
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
    users: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return str(self.handle.name)


def _digest(parts: Iterable[str], *, contents: bool = False) -> str:
    """A hex digest of ``parts`` (file names; with ``contents``, their bytes too)."""
    import hashlib

    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() + b"\0")
        if contents:
            with contextlib.suppress(OSError):
                digest.update(Path(part).read_bytes())
    return digest.hexdigest()


def down_projects(names: Iterable[str]) -> list[str]:
    """``down -v --remove-orphans`` each project named, by name alone (its files
    need not exist any more); a line for each that failed."""
    names = list(names)
    if not names:
        return []
    import anyio

    from composer.api import Compose, DownOptions
    from composer.backends import connect
    from composer.errors import ComposerError

    async def run() -> list[str]:
        backend = connect()
        problems = []
        try:
            compose = Compose(backend)
            for name in names:
                try:
                    await compose.down(name, DownOptions(volumes=True, remove_orphans=True))
                except ComposerError as exc:
                    problems.append(f"{name}: {exc}")
            return problems
        finally:
            await backend.aclose()

    return anyio.run(run)


def projects_on_engine() -> set[str]:
    """Every compose project on the engine (its containers', networks' and
    volumes' ``com.docker.compose.project`` labels)."""
    import anyio

    from composer.backends import connect

    async def observe() -> set[str]:
        backend = connect()
        try:
            observed = await backend.observe("", all_projects=True)
        finally:
            await backend.aclose()
        key = "com.docker.compose.project"
        names = {c.project for c in observed.containers}
        names |= {n.labels.get(key, "") for n in observed.networks}
        names |= {v.labels.get(key, "") for v in observed.volumes}
        return {n for n in names if n}

    return anyio.run(observe)


class StackManager:
    """All stacks of this process. ``run.worker`` is the xdist worker id
    (``main`` without xdist); ``keep`` one of ``never``, ``on-failure``,
    ``always``; ``shared_dir`` the folder xdist workers of this run share (None
    without xdist)."""

    def __init__(self, run: Run, *, keep: str, shared_dir: Path | None) -> None:
        if keep not in KEEP_MODES:
            raise ValueError(f"--compose-keep must be one of {', '.join(KEEP_MODES)}")
        self.run = run
        self.keep = keep
        self.shared_dir = shared_dir
        self.stacks: dict[tuple[Spec, str], Stack] = {}
        self.active = False
        self.joined = False
        self.clean = True
        #: Lines for the end of the run (kept, recreated, not removed stacks).
        self.notes: list[str] = []

    @property
    def worker(self) -> str:
        return self.run.worker

    # -- the run

    def activate(self) -> list[str]:
        """Hold this run's lock and take down stacks of dead runs; their names."""
        if self.active:
            return []
        self.active = True
        self.run.start()
        removed, problems = sweep(self.run.id, projects_on_engine, self._down_one)
        self.notes.extend(f"could not remove a stack of a killed run: {p}" for p in problems)
        return removed

    @staticmethod
    def _down_one(name: str) -> None:
        from composer.errors import ComposerError

        problems = down_projects([name])
        if problems:
            raise ComposerError(problems[0])

    def join_shared(self, names: Iterable[str]) -> None:
        """Count this xdist worker among the users of the run's shared stacks
        (``names``), at collection: every worker collects before any test runs,
        so the count only falls to zero when the last worker is done."""
        names = sorted(set(names))
        if self.joined or not names or self.shared_dir is None:
            return
        self.joined = True
        for name in names:
            self.run.record(name)  # each user's record names them: a kill is swept
        with self._guard(self.shared_dir / "users") as count:
            count[0] += 1
            listed = self.shared_dir / "names"
            known = set(listed.read_text().split()) if listed.is_file() else set()
            listed.write_text("".join(f"{n}\n" for n in sorted(known | set(names))))

    def _leave_shared(self) -> None:
        if not self.joined or self.shared_dir is None:
            return
        self.joined = False
        with self._guard(self.shared_dir / "users") as count:
            count[0] = max(0, count[0] - 1)
            last = count[0] == 0
            if last:
                listed = self.shared_dir / "names"
                names = listed.read_text().split() if listed.is_file() else []
                problems = down_projects(names)
                if problems:
                    self.clean = False
                    self.notes.extend(f"could not take down: {p}" for p in problems)
        if last:
            import shutil

            shutil.rmtree(self.shared_dir, ignore_errors=True)

    # -- stacks

    def _name(self, spec: Spec) -> tuple[str, bool]:
        """The project name for a new stack, and whether it is a kept one's."""
        if spec.shared:
            return self.shared_name(spec), False
        if self.keep != "never":
            slot = _digest((*spec.files, "", *spec.services))[:10]
            return f"ptk{slot}-{self.worker}", True
        return self.run.project_name(), False

    def shared_name(self, spec: Spec) -> str:
        return f"pt{self.run.id}-shared-{_digest(spec.files, contents=True)[:8]}"

    def acquire(self, spec: Spec, scope_key: str, user: str) -> Stack:
        """The stack for ``spec`` in ``scope_key``, started (and waited for) on first use."""
        key = (spec, scope_key)
        stack = self.stacks.get(key)
        if stack is None:
            stack = self._start(spec)
            self.stacks[key] = stack
        stack.users.add(user)
        return stack

    def _start(self, spec: Spec) -> Stack:
        import composer.sync

        name, kept = self._name(spec)
        if not kept:
            self.run.record(name)  # before anything exists: a kill is swept
        exits = contextlib.ExitStack()
        handle = exits.enter_context(composer.sync.open(
            list(spec.files), name=name, keep=True))
        stack = Stack(spec=spec, handle=handle, exits=exits, kept_name=kept)
        try:
            if spec.shared and self.shared_dir is not None:
                # One worker at a time: the first creates, the others find it made.
                with self._guard(self.shared_dir / f"{name}.up"):
                    handle.up(list(spec.services), probes=spec.probe_map)
            else:
                if kept:
                    self._check_kept(stack)
                handle.up(list(spec.services), probes=spec.probe_map)
        except BaseException:
            self._end(stack, force_down=not spec.shared)
            raise
        return stack

    def _check_kept(self, stack: Stack) -> None:
        """A kept stack is reused only when its configuration hash (the library's
        ``config_hash`` and the services asked for) is the one it was made with;
        otherwise it is taken down first, and made again."""
        state = kept_state(stack.name)
        current = _digest((stack.handle.config_hash, *stack.spec.services))
        try:
            recorded = state.read_text().strip()
        except OSError:
            recorded = ""
        if recorded != current and stack.handle.ps(all=True):
            stack.handle.down(volumes=True, remove_orphans=True)
            self.notes.append(f"recreated kept stack {stack.name}: its configuration "
                              "changed")
        state.write_text(current + "\n")

    @contextlib.contextmanager
    def _guard(self, path: Path) -> Any:
        """An exclusive lock on ``path``'s guard and its count (a one-item list
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
        try:
            for key in list(self.stacks):
                self._end(self.stacks.pop(key))
            self._leave_shared()
        except BaseException:
            self.clean = False
            raise
        finally:
            self.run.stop(clean=self.clean)

    def _end(self, stack: Stack, *, force_down: bool = False) -> None:
        """Take ``stack`` down unless it is kept (or shared: the last worker does)."""
        from composer.errors import ComposerError

        try:
            if stack.spec.shared and not force_down:
                if self.shared_dir is None:  # no xdist: the session's stack
                    stack.handle.down(volumes=True, remove_orphans=True)
                return
            down = force_down or not stack.kept_name or self.keep == "never" or (
                self.keep == "on-failure" and not stack.failed)
            if down:
                stack.handle.down(volumes=True, remove_orphans=True)
                if stack.kept_name:
                    with contextlib.suppress(OSError):
                        kept_state(stack.name).unlink()
            else:
                self.notes.append(f"kept stack {stack.name} (composer -p {stack.name} "
                                  "down -v removes it)")
        except ComposerError as exc:
            self.clean = False
            self.notes.append(f"could not take down {stack.name}: {exc}")
        except BaseException:
            self.clean = False
            raise
        finally:
            stack.exits.close()


def kept_state(name: str) -> Path:
    """Where the configuration hash of the kept stack ``name`` is written."""
    folder = runs_dir() / "kept"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / f"{name}.hash"


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
