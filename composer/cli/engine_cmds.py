"""The engine commands: ``up``, ``down``, ``ps``, ``create``, ``start``, ``stop``,
``restart``, ``kill``, ``rm``, ``pause``, ``unpause``, ``top``, ``port``, ``images``, ``ls``.

Flags are Docker Compose v2's (names, short forms, defaults, the wording of
usage errors). Each command turns its flags into the api's ``*Options`` and calls
:class:`composer.api.Compose`; rendering is in :mod:`composer.cli.render` and
progress lines in :mod:`composer.cli.progress`.

Nothing here imports anyio, docker or the loader at module level: the parser is
built for every command line, including ones that never reach an engine.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from composer.errors import UsageError

__all__ = [
    "ENGINE_COMMANDS",
    "PULL_POLICIES",
    "parse_filter",
    "parse_scale",
    "register",
    "validate_format",
    "validate_pull",
    "validate_rmi",
]

ENGINE_COMMANDS = ("up", "down", "ps", "create", "start", "stop", "restart", "kill", "rm",
                   "pause", "unpause", "top", "port", "images", "ls")
PULL_POLICIES = ("always", "missing", "never", "policy")


# -- flag values -------------------------------------------------------------------------------


def parse_scale(values: list[str] | None) -> dict[str, int]:
    """``--scale web=3 --scale db=1`` as ``{"web": 3, "db": 1}`` (the last one wins)."""
    out: dict[str, int] = {}
    for value in values or ():
        name, sep, num = value.partition("=")
        if not sep or not name:
            raise UsageError(f'invalid --scale option "{value}". Should be SERVICE=NUM')
        try:
            count = int(num.strip())
        except ValueError:
            raise UsageError(
                f'invalid --scale option "{value}". Should be SERVICE=NUM'
            ) from None
        if count < 0:
            raise UsageError(f'invalid --scale option "{value}": NUM must not be negative')
        out[name] = count
    return out


def validate_pull(value: str | None, *, allowed: tuple[str, ...] = PULL_POLICIES) -> str:
    """``--pull``: always | missing | never | policy (the default: each service's own)."""
    if value is None:
        return "policy"
    if value not in allowed:
        raise UsageError(f'invalid --pull option "{value}"')
    return value


def validate_rmi(value: str | None) -> str | None:
    """``down --rmi``: local | all, or None when not given."""
    if value is None or value == "":
        return None
    if value not in ("local", "all"):
        raise UsageError(f'invalid value for --rmi: "{value}"')
    return value


def validate_format(value: str, command: str) -> str:
    """``--format``: table | json (Go templates are not supported)."""
    if value in ("", "table"):
        return "table"
    if value == "json":
        return "json"
    raise UsageError(
        f'{command}: format value "{value}" is not supported: use "table" or "json"'
    )


def parse_filter(value: str | None, accepted: tuple[str, ...]) -> tuple[str, str] | None:
    """``--filter KEY=VAL`` as ``(key, val)``; the key must be one of ``accepted``."""
    if not value:
        return None
    key, sep, val = value.partition("=")
    if not sep:
        raise UsageError("arguments to --filter should be in form KEY=VAL")
    if key not in accepted:
        raise UsageError(f"unknown filter {key}")
    return key, val


# -- the parser --------------------------------------------------------------------------------


def _dry_run(p: argparse.ArgumentParser) -> None:
    # Also accepted after the command, as v2 accepts it; SUPPRESS keeps the global value
    # when it is given before the command instead.
    p.add_argument("--dry-run", dest="dry_run", action="store_true", default=argparse.SUPPRESS,
                   help="execute command in dry run mode")


def _services(p: argparse.ArgumentParser) -> None:
    p.add_argument("services", nargs="*", metavar="SERVICE")


def _timeout(p: argparse.ArgumentParser, text: str) -> None:
    p.add_argument("-t", "--timeout", type=int, default=None, metavar="SECONDS", help=text)


def _parser(sub: Any, name: str, text: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(name, help=text, description=text)
    _dry_run(p)
    return p


def register(sub: Any) -> None:
    """Add the engine commands to the ``composer`` subparsers."""
    p = _parser(sub, "up", "Create and start containers")
    _services(p)
    p.add_argument("-d", "--detach", action="store_true",
                   help="detached mode: run containers in the background")
    p.add_argument("--no-start", action="store_true",
                   help="don't start the services after creating them")
    _create_flags(p)
    p.add_argument("--no-deps", action="store_true", help="don't start linked services")
    p.add_argument("--always-recreate-deps", action="store_true",
                   help="recreate dependent containers; incompatible with --no-recreate")
    p.add_argument("-V", "--renew-anon-volumes", action="store_true",
                   help="recreate anonymous volumes instead of retrieving data from the "
                        "previous containers")
    p.add_argument("--quiet-build", action="store_true", help="suppress the build output")
    p.add_argument("-w", "--watch", action="store_true",
                   help="watch source code and rebuild/refresh containers when files are "
                        "updated")
    p.add_argument("--wait", action="store_true",
                   help="wait for services to be running|healthy; implies detached mode")
    p.add_argument("--wait-timeout", type=int, default=None, metavar="SECONDS",
                   help="maximum duration to wait for the project to be running|healthy")
    _timeout(p, "shutdown timeout when attached or when containers are already running")
    p.add_argument("--no-color", action="store_true", help="produce monochrome output")
    p.add_argument("--no-log-prefix", action="store_true", help="don't print prefix in logs")
    p.add_argument("--timestamps", action="store_true", help="show timestamps")
    from composer.cli.logflags import add_up_flags, register_logs

    add_up_flags(p)
    p.set_defaults(func=_lazy("up"))
    register_logs(sub, _parser, _services)

    p = _parser(sub, "create", "Creates containers for a service")
    _services(p)
    _create_flags(p)
    p.set_defaults(func=_lazy("create"))

    p = _parser(sub, "down", "Stop and remove containers, networks")
    _services(p)
    p.add_argument("-v", "--volumes", action="store_true",
                   help='remove named volumes declared in the "volumes" section and '
                        "anonymous volumes attached to containers")
    p.add_argument("--remove-orphans", action="store_true",
                   help="remove containers for services not defined in the Compose file")
    p.add_argument("--rmi", default=None, metavar="TYPE",
                   help='remove images used by services: "local" or "all"')
    _timeout(p, "shutdown timeout in seconds")
    p.set_defaults(func=_lazy("down"))

    from composer.cli.goflags import add_go_bool, go_bool_parser

    # ``--orphans`` takes its value only after "=" (v2's boolean flags): a parser class
    # that knows it.
    saved = sub._parser_class
    sub._parser_class = go_bool_parser(saved)
    try:
        p = _parser(sub, "ps", "List containers")
    finally:
        sub._parser_class = saved
    _services(p)
    add_go_bool(p, "orphans", help="include orphaned services (not declared by project)")
    p.add_argument("-a", "--all", action="store_true",
                   help="show all stopped containers (including those created by run)")
    p.add_argument("-q", "--quiet", action="store_true", help="only display IDs")
    p.add_argument("--services", dest="list_services", action="store_true",
                   help="display services")
    p.add_argument("--status", action="append", default=[], metavar="STATUS",
                   help="filter services by status (repeatable): paused | restarting | "
                        "removing | running | dead | created | exited")
    p.add_argument("--filter", default=None, metavar="KEY=VAL",
                   help="filter services by a property (supported filters: status)")
    p.add_argument("--format", default="table", metavar="FORMAT", help="table | json")
    p.add_argument("--no-trunc", action="store_true", help="don't truncate output")
    p.set_defaults(func=_lazy("ps"))

    for name, text in (
        ("start", "Start services"),
        ("pause", "Pause services"),
        ("unpause", "Unpause services"),
        ("top", "Display the running processes"),
    ):
        p = _parser(sub, name, text)
        _services(p)
        p.set_defaults(func=_lazy(name))

    p = _parser(sub, "stop", "Stop services")
    _services(p)
    _timeout(p, "shutdown timeout in seconds")
    p.set_defaults(func=_lazy("stop"))

    p = _parser(sub, "restart", "Restart service containers")
    _services(p)
    _timeout(p, "shutdown timeout in seconds")
    p.add_argument("--no-deps", action="store_true", help="don't restart dependent services")
    p.set_defaults(func=_lazy("restart"))

    p = _parser(sub, "kill", "Force stop service containers")
    _services(p)
    p.add_argument("-s", "--signal", default="SIGKILL", metavar="SIGNAL",
                   help='signal to send to the container (default "SIGKILL")')
    p.add_argument("--remove-orphans", action="store_true",
                   help="remove containers for services not defined in the Compose file")
    p.set_defaults(func=_lazy("kill"))

    p = _parser(sub, "rm", "Removes stopped service containers")
    _services(p)
    p.add_argument("-f", "--force", action="store_true", help="don't ask to confirm removal")
    p.add_argument("-s", "--stop", action="store_true",
                   help="stop the containers, if required, before removing")
    p.add_argument("-v", "--volumes", action="store_true",
                   help="remove any anonymous volumes attached to containers")
    p.set_defaults(func=_lazy("rm"))

    p = _parser(sub, "port", "Print the public port for a port binding")
    p.add_argument("service", metavar="SERVICE")
    p.add_argument("private_port", metavar="PRIVATE_PORT")
    p.add_argument("--protocol", default="tcp", help='tcp or udp (default "tcp")')
    p.add_argument("--index", type=int, default=0,
                   help="index of the container if the service has multiple replicas")
    p.set_defaults(func=_lazy("port"))

    p = _parser(sub, "images", "List images used by the created containers")
    _services(p)
    p.add_argument("-q", "--quiet", action="store_true", help="only display IDs")
    p.add_argument("--format", default="table", metavar="FORMAT", help="table | json")
    p.set_defaults(func=_lazy("images"))

    p = _parser(sub, "ls", "List running compose projects")
    p.add_argument("-a", "--all", action="store_true", help="show all stopped projects")
    p.add_argument("-q", "--quiet", action="store_true", help="only display project names")
    p.add_argument("--format", default="table", metavar="FORMAT", help="table | json")
    p.add_argument("--filter", default=None, metavar="KEY=VAL",
                   help="filter output based on conditions provided (name=...)")
    p.set_defaults(func=_lazy("ls"))


def _create_flags(p: argparse.ArgumentParser) -> None:
    """Flags ``up`` and ``create`` share."""
    p.add_argument("--force-recreate", action="store_true",
                   help="recreate containers even if their configuration and image "
                        "haven't changed")
    p.add_argument("--no-recreate", action="store_true",
                   help="if containers already exist, don't recreate them")
    p.add_argument("--remove-orphans", action="store_true",
                   help="remove containers for services not defined in the Compose file")
    p.add_argument("--scale", action="append", default=[], metavar="SERVICE=NUM",
                   help="scale SERVICE to NUM instances (repeatable)")
    p.add_argument("--pull", default=None, metavar="POLICY",
                   help='pull image before running ("always"|"missing"|"never"); '
                        'default: each service\'s pull_policy')
    p.add_argument("--quiet-pull", action="store_true",
                   help="pull without printing progress information")
    p.add_argument("--no-build", action="store_true",
                   help="don't build an image, even if it's policy")
    p.add_argument("--build", action="store_true",
                   help="build images before starting containers")
    p.add_argument("-y", "--yes", action="store_true",
                   help='assume "yes" as answer to all prompts')


# -- running -----------------------------------------------------------------------------------


def _lazy(name: str) -> Callable[[argparse.Namespace], int]:
    """The command ``name`` of :mod:`composer.cli.engine_run`, imported when it runs."""

    def run(args: argparse.Namespace) -> int:
        import importlib

        engine_run = importlib.import_module("composer.cli.engine_run")
        rc: int = getattr(engine_run, name)(args)
        return rc

    run.__name__ = f"run_{name}"
    return run
