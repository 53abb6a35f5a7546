"""The ``composer`` command: flags -> options -> api call; errors -> one line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from composer._version import __version__

COMMANDS = ("config", "version", "up", "down", "ps", "create", "start", "stop", "restart",
            "kill", "rm", "pause", "unpause", "top", "port", "images", "ls",
            "exec", "run", "attach", "events", "wait", "cp", "stats", "build", "pull", "push",
            "logs", "graph", "stack", "watch")


class _CommandParser(argparse.ArgumentParser):
    """A command's parser: options and SERVICE arguments may come in any order.

    Plain argparse takes a ``nargs="*"`` positional in one run, so
    ``up -d web --no-deps db`` would leave ``db`` unrecognised; Compose accepts it.
    """

    _intermixing = False

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if self._intermixing or self._subparsers is not None:
            # A command with subcommands (stack deploy...) parses as argparse does.
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False


#: Global options that take a value (to find the command word without a parser).
_VALUED = frozenset({"-f", "--file", "-p", "--project-name", "--project-directory",
                     "--env-file", "--profile", "--ansi", "--progress", "--engine"})
_MODULE_OF = {"config": "config_cmd", "build": "image_cmds", "pull": "image_cmds",
              "push": "image_cmds", "attach": "interactive", "cp": "container_cmds",
              "events": "container_cmds", "exec": "interactive", "run": "interactive",
              "stats": "container_cmds", "wait": "container_cmds", "graph": "graph_cmd",
              "stack": "stack_cmds", "watch": "watch_cmd",
              "version": ""}


def _command_word(args: Sequence[str]) -> str | None:
    """The command in ``args`` (the first word after the global options), or None."""
    i = 0
    while i < len(args):
        word = args[i]
        if word == "--" or not word.startswith("-") or word == "-":
            return word if word in COMMANDS else None
        i += 2 if word in _VALUED else 1
    return None


class _Discard:
    """What a skipped command's parser is: every call does nothing."""

    def __getattr__(self, name: str) -> object:
        return lambda *args, **kwargs: self


class _OneCommand:
    """Subparsers that build only ``command``'s parser: building all 28 costs
    ~10 ms and the imports of four modules, on every run."""

    _sub: Any
    _command: str

    def __init__(self, sub: Any, command: str) -> None:
        object.__setattr__(self, "_sub", sub)
        object.__setattr__(self, "_command", command)

    def add_parser(self, name: str, **kwargs: object) -> object:
        if name != self._command:
            return _Discard()
        return self._sub.add_parser(name, **kwargs)

    def __getattr__(self, name: str) -> object:
        return getattr(self._sub, name)

    def __setattr__(self, name: str, value: object) -> None:
        setattr(self._sub, name, value)


def _global_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; with ``command``, only that command's subparser is built
    (the others stay out of ``--help``, which then is never asked of this parser)."""
    p = argparse.ArgumentParser(
        prog="composer",
        description="Define and run multi-container applications (Compose files).",
    )
    p.add_argument("-f", "--file", dest="files", action="append", default=[],
                   metavar="FILE", help="compose file (repeatable; - for stdin)")
    p.add_argument("-p", "--project-name", dest="project_name", metavar="NAME")
    p.add_argument("--project-directory", metavar="DIR",
                   help="alternate working directory (default: the first file's folder)")
    p.add_argument("--env-file", dest="env_files", action="append", default=[],
                   metavar="FILE", help="alternate environment file (repeatable)")
    p.add_argument("--profile", dest="profiles", action="append", default=[],
                   metavar="PROFILE", help="enable a profile (repeatable)")
    p.add_argument("--ansi", choices=("never", "always", "auto"), default="auto")
    p.add_argument("--progress", choices=("auto", "tty", "plain", "json", "quiet"),
                   default="auto")
    p.add_argument("--dry-run", action="store_true",
                   help="show what the command would do (its plan) and change nothing")
    p.add_argument("--engine", choices=("docker", "podman", "lxc", "auto"), default=None,
                   help="the engine to use (default: COMPOSER_ENGINE, else auto: "
                        "DOCKER_HOST, then Docker's or Podman's socket, whichever answers)")
    p.add_argument("-v", "--version", action="store_true", help="print version and exit")
    real = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_CommandParser)
    sub: Any = real if command is None else _OneCommand(real, command)
    import importlib

    for module in ("config_cmd", "engine_cmds", "image_cmds", "interactive",
                   "container_cmds", "graph_cmd", "stack_cmds", "watch_cmd"):
        if command is None or _MODULE_OF.get(command, "engine_cmds") == module:
            importlib.import_module(f"composer.cli.{module}").register(sub)
    v = sub.add_parser("version", help="show the composer version")
    v.add_argument("--short", action="store_true")
    v.add_argument("--format", choices=("pretty", "json"), default="pretty")
    v.add_argument("--dry-run", dest="dry_run", action="store_true", default=argparse.SUPPRESS,
                   help="accepted, as by every v2 command (version changes nothing)")
    v.set_defaults(func=version_cmd)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    # Fast path: start-up time matters for scripts that call us in loops.
    if args_list in (["--version"], ["-v"]):
        sys.stdout.write(f"composer version {__version__}\n")
        return 0
    if args_list == ["version", "--short"]:
        sys.stdout.write(f"{__version__}\n")
        return 0
    command = _command_word(args_list)
    help_asked = any(a in ("-h", "--help") for a in args_list[:args_list.index(command)]) \
        if command is not None else True
    parser = _global_parser(None if help_asked else command)
    args = parser.parse_args(args_list)
    if args.version:
        sys.stdout.write(f"composer version {__version__}\n")
        return 0
    if args.command is None:
        parser.print_help()
        return 0
    from composer.errors import ComposerError

    _handle_interrupts()
    try:
        rc: int = args.func(args)
        return rc
    except ComposerError as exc:
        # One line per failure (a plan may fail for several services at once).
        sys.stderr.write("".join(f"composer: {line}\n" for line in str(exc).splitlines()
                                 or [""]))
        return exc.exit_code
    except KeyboardInterrupt:
        if argv is None:  # the command itself, not a caller in the same process
            _abandon_engine_calls()
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _abandon_engine_calls() -> None:
    """After Ctrl-C, engine calls still in flight (a stop waiting out a grace
    period) are left to the engine: exit now rather than wait for their threads,
    as Python's shutdown would."""
    import threading

    main_thread = threading.main_thread()
    if any(t.is_alive() and not t.daemon and t is not main_thread
           for t in threading.enumerate()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)


def _handle_interrupts() -> None:
    """Ctrl-C (SIGINT) interrupts a command even when it was started with SIGINT
    ignored, as a shell's background job (``composer events &``) is: Docker Compose
    v2 (Go's ``signal.Notify``) reacts to it there too, and so does ``kill -INT``."""
    import signal

    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def version_cmd(args: argparse.Namespace) -> int:
    if args.short:
        sys.stdout.write(f"{__version__}\n")
        return 0
    from composer.backends.discovery import discover, engine_identity

    choice = discover(getattr(args, "engine", None))
    if choice.private:  # started to be asked, then stopped
        from composer.backends.podman_service import PodmanService, podman_command

        service = PodmanService(podman_command() or "podman")
        try:
            service.start()
            identity = engine_identity(service.address) or {}
        finally:
            service.stop()
    else:
        identity = engine_identity(choice.address) or {}
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps({
            "version": __version__, "engine": identity.get("engine") or choice.engine or None,
            "engine_version": identity.get("version") or None,
            "address": choice.address or None,
            "found_by": choice.how}) + "\n")
    else:
        sys.stdout.write(f"composer version {__version__}\n")
        if identity:
            where = f"at {choice.address}" if choice.address else "on a private socket"
            sys.stdout.write(f"engine: {identity['engine']} {identity['version']} {where} "
                             f"({choice.how})\n")
        else:
            sys.stdout.write(f"engine: none answers at {choice.address} ({choice.how})\n")
    return 0
