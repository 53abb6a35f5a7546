"""The ``composer`` command: flags -> options -> api call; errors -> one line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from composer._version import __version__

COMMANDS = ("config", "version", "up", "down", "ps", "create", "start", "stop", "restart",
            "kill", "rm", "pause", "unpause", "top", "port", "images", "ls",
            "exec", "run", "attach", "events", "wait", "cp", "stats", "build", "pull", "push",
            "logs")


class _CommandParser(argparse.ArgumentParser):
    """A command's parser: options and SERVICE arguments may come in any order.

    Plain argparse takes a ``nargs="*"`` positional in one run, so
    ``up -d web --no-deps db`` would leave ``db`` unrecognised; Compose accepts it.
    """

    _intermixing = False

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if self._intermixing:
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False


def _global_parser() -> argparse.ArgumentParser:
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
    p.add_argument("-v", "--version", action="store_true", help="print version and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_CommandParser)
    from composer.cli import config_cmd, engine_cmds

    config_cmd.register(sub)
    engine_cmds.register(sub)
    from composer.cli import image_cmds

    image_cmds.register(sub)
    from composer.cli import interactive

    interactive.register(sub)
    v = sub.add_parser("version", help="show the composer version")
    v.add_argument("--short", action="store_true")
    v.add_argument("--format", choices=("pretty", "json"), default="pretty")
    v.set_defaults(func=version_cmd)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    # Fast path: start-up time matters for scripts that call us in loops.
    if args_list in (["--version"], ["-v"], ["version"]):
        sys.stdout.write(f"composer version {__version__}\n")
        return 0
    if args_list == ["version", "--short"]:
        sys.stdout.write(f"{__version__}\n")
        return 0
    parser = _global_parser()
    args = parser.parse_args(args_list)
    if args.version:
        sys.stdout.write(f"composer version {__version__}\n")
        return 0
    if args.command is None:
        parser.print_help()
        return 0
    from composer.errors import ComposerError

    try:
        rc: int = args.func(args)
        return rc
    except ComposerError as exc:
        # One line per failure (a plan may fail for several services at once).
        sys.stderr.write("".join(f"composer: {line}\n" for line in str(exc).splitlines()
                                 or [""]))
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def version_cmd(args: argparse.Namespace) -> int:
    if args.short:
        sys.stdout.write(f"{__version__}\n")
    elif args.format == "json":
        import json

        sys.stdout.write(json.dumps({"version": __version__}) + "\n")
    else:
        sys.stdout.write(f"composer version {__version__}\n")
    return 0
