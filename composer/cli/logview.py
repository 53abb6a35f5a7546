"""Showing merged logs: ``composer logs`` and the attached ``up``.

Lines read ``web-1  | hello``: the container's name padded to the longest name
plus one, then ``| ``, the prefix coloured per container in Docker Compose v2's
order (cyan, yellow, green, magenta, blue, then their bold forms), an exit
reads ``web-1 exited with code 3`` in the container's colour, after v2's
line reset (``\\r\\033[K``) on a terminal. Colours are on when stdout is a
terminal (or ``--ansi always``), off with ``--no-color``, ``--ansi never`` or
``NO_COLOR``. Output that is not a terminal gets no escape sequence at all (v2
writes the line reset to a pipe too): ``logs -f | grep`` sees plain lines.

The attached ``up`` creates the containers, attaches to each before starting
it, then starts them; it returns when every attached container has exited. The
first Ctrl-C or SIGTERM stops the project gracefully, a second kills it; the
exit code is 130 then, as v2's. ``--abort-on-container-exit`` stops everything
when a container exits (exit code: that container's),
``--abort-on-container-failure`` when one fails, and ``--exit-code-from S``
aborts on the first exit and returns S's exit code. ``--attach-dependencies`` also
shows the output of the named services' dependencies; as in v2, their exits are not
announced, abort nothing, and the session ends when the named services' containers have
exited (dependencies still running are left running).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

import anyio

from composer.cli.terminal import ansi_enabled
from composer.cli.timestamps import engine_timestamp
from composer.errors import ComposerError, EngineUnreachableError, UsageError

if TYPE_CHECKING:
    from composer.api import UpOptions
    from composer.api.watch import Watcher
    from composer.backends.base import ContainerState
    from composer.cli.engine_run import Session, Target
    from composer.runtime.logs import ContainerExit

__all__ = ["RAINBOW", "LogPrinter", "attached_up", "logs", "use_color",
           "validate_attach_flags"]

#: The name v2 gives the watch among the log prefixes (it counts in their width).
WATCH_NAME = "#watch"
# v2's cmd/formatter/colors.go: the rainbow a new container takes its colour from.
RAINBOW = ("36", "33", "32", "35", "34", "36;1", "33;1", "32;1", "35;1", "34;1")
RESET_LINE = "\r\033[K"
GRACEFUL = "Gracefully Stopping... press Ctrl+C again to force"


def _paint(code: str | None, text: str) -> str:
    return f"\033[{code}m{text}\033[0m" if code else text


def use_color(ansi: str = "auto", *, no_color: bool = False,
              stream: TextIO | None = None) -> bool:
    """Whether log lines get colours: never with ``no_color`` or ``--ansi never``;
    always with ``--ansi always``; else when ``stream`` is a terminal and
    ``NO_COLOR`` is unset."""
    if no_color or ansi == "never":
        return False
    if ansi == "always":
        return True
    if os.environ.get("NO_COLOR"):
        return False
    return ansi_enabled(ansi, stream if stream is not None else sys.stdout)


def _now_rfc3339() -> str:
    """Go's RFC3339NanoFixed in local time, as v2 stamps attached lines."""
    now = datetime.now(UTC).astimezone()
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S") + f".{now.microsecond:06d}000"
    offset = now.strftime("%z")
    return stamp + ("Z" if offset in ("+0000", "") else f"{offset[:3]}:{offset[3:]}")


class LogPrinter:
    """A :class:`composer.runtime.logs.LogConsumer` writing v2's log format.

    ``stdout`` gets stdout lines and status lines; ``stderr`` (default: stdout)
    the containers' stderr lines. ``timestamps`` stamps each line with the time
    it is written (the attached ``up``; ``logs -t`` gets the engine's stamps).
    ``ansi``: ``stdout`` takes escapes (a terminal, or ``--ansi always``), so a
    status line starts with v2's line reset (it clears a half-drawn line).
    A reader gone (``| head``) is kept in :attr:`broken`, ``on_broken`` is called,
    and nothing more is written: the command ends quietly, as on any closed pipe.
    """

    def __init__(self, stdout: TextIO, stderr: TextIO | None = None, *, color: bool = False,
                 prefix: bool = True, timestamps: bool = False, ansi: bool = False) -> None:
        self.stdout = stdout
        self.stderr = stderr if stderr is not None else stdout
        self.color = color
        self.ansi = ansi
        self.prefix = prefix
        self.timestamps = timestamps
        self._colors: dict[str, str | None] = {}
        self._prefixes: dict[str, str] = {}
        self._next = 0
        #: Services whose status lines ("exited with code") are not shown.
        self.silent_services: frozenset[str] = frozenset()
        self.broken: BrokenPipeError | None = None
        self.on_broken: Callable[[], None] | None = None

    def _write(self, out: TextIO, text: str) -> None:
        if self.broken is not None:
            return
        try:
            out.write(text)
            out.flush()
        except BrokenPipeError as exc:
            self.broken = exc
            if self.on_broken is not None:
                self.on_broken()

    def register(self, name: str) -> None:
        if name in self._colors:
            return
        code: str | None = None
        if self.color and name:
            code = RAINBOW[self._next % len(RAINBOW)]
            self._next += 1
        self._colors[name] = code
        width = max(len(n) for n in self._colors) + 1
        if self.prefix:
            for n, c in self._colors.items():
                self._prefixes[n] = _paint(c, f"{n:<{width}} | ")
        else:
            self._prefixes = dict.fromkeys(self._colors, "")

    def lines(self, name: str, stream: str, lines: Sequence[str]) -> None:
        if name not in self._prefixes:
            self.register(name)
        prefix = self._prefixes[name]
        if self.timestamps:
            prefix = f"{prefix}{_now_rfc3339()} "
        out = self.stderr if stream == "stderr" else self.stdout
        self._write(out, prefix + f"\n{prefix}".join(lines) + "\n")

    def watch_line(self, text: str) -> None:
        """A watch's line (``up --watch``), under v2's green ``⦿`` aligned with the
        containers' ``|``."""
        if not self.prefix:
            self._write(self.stdout, text + "\n")
            return
        width = max([len(n) for n in self._colors] + [len(WATCH_NAME)]) + 1
        prefix = _paint("92" if self.color else None, f"{'':<{width}} \u29bf ")
        self._write(self.stdout, "".join(f"{prefix}{line}\n" for line in text.splitlines()))

    def status(self, name: str, message: str) -> None:
        if self.silent_services and name.rpartition("-")[0] in self.silent_services:
            return
        if name not in self._colors:
            self.register(name)
        reset = RESET_LINE if self.ansi else ""
        self._write(self.stdout, _paint(self._colors[name], f"{reset}{name} {message}\n"))


def _log_name(c: ContainerState) -> str:
    from composer.runtime.logs import log_name

    return log_name(c.service, c.number, c.name)


# -- composer logs -----------------------------------------------------------------------------


def logs(args: argparse.Namespace) -> int:
    """``logs``: the services' output (all of it, or ``--tail`` lines), merged; with
    ``-f`` keeps following, including containers that start later, until Ctrl-C."""
    from composer.api import PsOptions
    from composer.cli.engine_run import resolve_target, run_engine
    from composer.runtime.logs import LogMultiplexer, LogTarget

    services = list(args.services)
    target = resolve_target(args, services)
    tail = "all" if args.tail in (None, "", "all") or int(args.tail) < 0 else str(int(args.tail))
    printer = LogPrinter(sys.stdout, color=use_color(args.ansi, no_color=args.no_color),
                         prefix=not args.no_log_prefix,
                         ansi=ansi_enabled(args.ansi, sys.stdout))

    async def body(s: Session) -> int:
        containers = await s.compose.ps(target.ref, PsOptions(services=tuple(services),
                                                              all=True))
        containers = [c for c in containers if not c.oneoff]
        if args.index is not None:
            containers = [c for c in containers if c.number == args.index]
            if not containers:
                raise ComposerError(f'service "{services[0] if services else ""}" is not '
                                    f"running container #{args.index}")
        mux = LogMultiplexer(s.backend, printer, announce_exits=bool(args.follow))
        now = time.time()
        since = None if args.since is None else engine_timestamp(args.since, now)
        until = None if args.until is None else engine_timestamp(args.until, now)
        broken = anyio.Event()  # the reader of stdout is gone (| head)
        printer.on_broken = broken.set
        async with anyio.create_task_group() as tg:
            tg.start_soon(mux.run)
            await _until_started(mux)
            for c in containers:
                mux.follow(LogTarget(c.id, _log_name(c), c.service), follow=args.follow,
                           tail=tail, since=since, until=until,
                           timestamps=args.timestamps)
            rc = 0
            if args.follow:
                # As v2's: following lasts until Ctrl-C (a container may start again),
                # the reader goes away (| head), or the engine goes away: its event
                # stream ends only then.
                lost = anyio.Event()
                interrupted = anyio.Event()

                async def watch() -> None:
                    await mux.watch(target.name, tuple(services))
                    lost.set()

                async def on_signals() -> None:
                    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                        async for _ in signals:
                            interrupted.set()
                            return

                tg.start_soon(watch)
                tg.start_soon(on_signals)
                await _first_of(interrupted, broken, lost)
                rc = 130 if interrupted.is_set() else 0
                if lost.is_set() and not interrupted.is_set() and not broken.is_set():
                    await _drain()
                    mux.close()
                    tg.cancel_scope.cancel()
                    raise EngineUnreachableError(
                        f"the container engine at {s.backend.address} went away: "
                        "stopped following the logs")
            elif containers:
                await _first_of(mux.finished, broken)
                await mux.drain()
            await _drain()
            mux.close()
            tg.cancel_scope.cancel()
        if printer.broken is not None:
            # Bare, outside the task group: the CLI ends quietly, as on any closed pipe.
            raise printer.broken
        return rc

    return run_engine(args, body)


async def _until_started(mux: object) -> None:
    while getattr(mux, "_tg", None) is None:
        await anyio.sleep(0)


async def _drain() -> None:
    # Lets the writer task take what the readers queued last.
    for _ in range(3):
        await anyio.sleep(0)


async def _first_of(*events: anyio.Event) -> None:
    """Until one of ``events`` is set."""
    async with anyio.create_task_group() as inner:
        async def waiter(e: anyio.Event) -> None:
            await e.wait()
            inner.cancel_scope.cancel()
        for e in events:
            inner.start_soon(waiter, e)


# -- the attached up ---------------------------------------------------------------------------


def validate_attach_flags(args: argparse.Namespace) -> None:
    """v2's checks: ``-d`` (and ``--wait``, which implies it) exclude the flags of the
    attached mode."""
    detached = bool(getattr(args, "detach", False) or getattr(args, "wait", False))
    attach_deps = bool(getattr(args, "attach_dependencies", False))
    if getattr(args, "wait", False) and (
            attach_deps or bool(getattr(args, "attach", None))
            or getattr(args, "abort_on_container_exit", False)
            or (bool(getattr(args, "exit_code_from", None))
                and not getattr(args, "abort_on_container_failure", False))):
        raise UsageError("--wait cannot be combined with --abort-on-container-exit, --attach "
                         "or --attach-dependencies")
    # --exit-code-from implies --abort-on-container-exit, hence v2's one message.
    attached_only = (getattr(args, "abort_on_container_exit", False)
                     or getattr(args, "abort_on_container_failure", False)
                     or bool(getattr(args, "exit_code_from", None))
                     or bool(getattr(args, "attach", None)) or attach_deps
                     or getattr(args, "watch", False))
    if detached and attached_only:
        raise UsageError("--detach cannot be combined with --abort-on-container-exit, "
                         "--abort-on-container-failure, --attach, --attach-dependencies "
                         "or --watch")
    if getattr(args, "abort_on_container_exit", False) and \
            getattr(args, "abort_on_container_failure", False):
        raise UsageError("--abort-on-container-exit and --abort-on-container-failure "
                         "cannot be combined")
    if attach_deps and getattr(args, "attach", None):
        raise UsageError("cannot combine --attach and --attach-dependencies")


async def attached_up(s: Session, target: Target, args: argparse.Namespace,
                      options: UpOptions, watcher: Watcher | None = None) -> int:
    """Create, attach to each container, start, print the merged output until every
    attached container exits (see the module docstring for signals and exit codes).
    With ``watcher`` (``up --watch``), the watch runs beside the logs, its lines
    among theirs, until Ctrl-C (containers that exit do not end it)."""
    from dataclasses import fields

    from composer.api import CreateOptions, KillOptions, PsOptions, StopOptions
    from composer.runtime.logs import LogMultiplexer, LogTarget

    assert target.loaded is not None
    loaded = target.loaded
    create = CreateOptions(**{f.name: getattr(options, f.name) for f in fields(CreateOptions)})
    s.report(await s.compose.create(loaded, create))

    known = list(loaded.model.services)
    exit_from = getattr(args, "exit_code_from", None)
    if exit_from and exit_from not in known:
        raise UsageError(f"no such service: {exit_from}")
    chosen = list(getattr(args, "attach", None) or args.services or known)
    if exit_from and exit_from not in chosen:
        chosen.append(exit_from)
    # --attach-dependencies: the named services' dependencies are shown too, but, as in
    # v2, their exits neither end nor abort the session and are not announced.
    dependencies: list[str] = []
    if getattr(args, "attach_dependencies", False) and args.services and not options.no_deps:
        from composer.api import project_model
        from composer.graph import build_graph, dependencies_of

        model = project_model(loaded)
        wanted = dependencies_of(build_graph(model), args.services)
        dependencies = [d for d in model.services if d in wanted and d not in chosen]
    skipped = set(getattr(args, "no_attach", None) or ())
    dependencies = [name for name in dependencies if name not in skipped]
    chosen = [name for name in chosen if name not in skipped] + dependencies
    containers = await s.compose.ps(target.ref, PsOptions(
        services=tuple(args.services) + tuple(dependencies), all=True))
    attached = sorted((c for c in containers if not c.oneoff and c.service in chosen),
                      key=lambda c: c.name)

    printer = LogPrinter(sys.stdout, sys.stderr,
                         color=use_color(args.ansi, no_color=args.no_color),
                         prefix=not args.no_log_prefix, timestamps=args.timestamps,
                         ansi=ansi_enabled(args.ansi, sys.stdout))
    printer.silent_services = frozenset(dependencies)
    required = {c.id for c in attached if c.service not in printer.silent_services}
    required_done = anyio.Event()
    abort_on_exit = bool(getattr(args, "abort_on_container_exit", False) or exit_from)
    abort_on_failure = bool(getattr(args, "abort_on_container_failure", False))
    result: dict[str, int] = {}
    abort = anyio.Event()
    interrupted = anyio.Event()

    async def on_exit(event: ContainerExit) -> None:
        if event.restarting or event.target.service in printer.silent_services:
            return
        if dependencies:
            required.discard(event.target.id)
            if not required:
                required_done.set()
        if exit_from and event.target.service == exit_from:
            result["code"] = event.exit_code
        if abort.is_set():
            return
        if abort_on_exit or (abort_on_failure and event.exit_code != 0):
            result.setdefault("code", event.exit_code)
            abort.set()

    mux = LogMultiplexer(s.backend, printer, on_exit=on_exit)
    broken = anyio.Event()  # the reader of stdout is gone (| head)
    printer.on_broken = broken.set
    rc = 0
    async with anyio.create_task_group() as tg:
        tg.start_soon(mux.run)
        await _until_started(mux)
        s.printer.finish()
        if attached:
            sys.stdout.write("Attaching to " + ", ".join(_log_name(c) for c in attached) + "\n")
            sys.stdout.flush()
        for c in attached:
            await mux.attach(LogTarget(c.id, _log_name(c), c.service))
        if watcher is not None:
            from composer.cli.watch_cmd import event_printer

            watcher.on_event = event_printer(sys.stdout, sys.stderr, warn=s.warn,
                                             line=printer.watch_line)
            tg.start_soon(watcher.run)
        since = int(time.time())
        tg.start_soon(lambda: mux.watch(loaded.name, tuple(chosen), since=since))

        forced = anyio.Event()

        async def on_signals() -> None:
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for _ in signals:
                    if interrupted.is_set() or abort.is_set():
                        forced.set()
                        return
                    interrupted.set()

        async def stop_or_kill(force_on: anyio.Event) -> None:
            """Stop the project; once ``force_on`` is set, kill it instead (a stop in
            progress ends as soon as its containers are dead)."""

            async def killer() -> None:
                await force_on.wait()
                with contextlib.suppress(ComposerError):
                    await s.compose.kill(loaded, KillOptions())

            async with anyio.create_task_group() as stopping:
                stopping.start_soon(killer)
                with contextlib.suppress(ComposerError):
                    await s.compose.stop(loaded, StopOptions(timeout=options.timeout))
                stopping.cancel_scope.cancel()

        tg.start_soon(on_signals)
        try:
            # As v2: the start phase shows no progress once attached (it would
            # interleave with the containers' output).
            from composer.api import Compose

            s.report(await Compose(s.backend).up(loaded, options))
        except BaseException:
            mux.close()
            tg.cancel_scope.cancel()
            raise
        if not attached and watcher is None:
            mux.close()
            tg.cancel_scope.cancel()
            return 0

        if watcher is not None:
            await _first_of(abort, interrupted, broken)
        else:
            await _first_of(mux.finished, abort, interrupted, required_done, broken)
        if broken.is_set():
            # As v2 (which SIGPIPE ends): the containers are left as they are.
            mux.close()
        elif interrupted.is_set():
            # As v2: the output stops here; the stop's progress goes on (stderr).
            mux.close()
            sys.stdout.write(GRACEFUL + "\n")
            sys.stdout.flush()
            await stop_or_kill(forced)
            rc = 130
        elif abort.is_set():
            red = use_color(args.ansi, no_color=args.no_color, stream=sys.stderr)
            sys.stderr.write(_paint("31;1" if red else None,
                                    "Aborting on container exit...") + "\n")
            sys.stderr.flush()
            await stop_or_kill(forced)
            with anyio.move_on_after(5):
                await mux.finished.wait()
            await mux.drain()
            rc = 130 if forced.is_set() else result.get("code", 0)
        else:
            await mux.drain()
            rc = result.get("code", 0) if exit_from else 0
        mux.close()
        tg.cancel_scope.cancel()
    if printer.broken is not None:
        raise printer.broken  # bare: the CLI ends quietly, as on any closed pipe
    return rc

