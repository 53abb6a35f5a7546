"""The flags of ``composer logs`` and of the attached ``up``: parsing only, so that
building the parser imports nothing heavy (see :mod:`composer.cli.logview`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

__all__ = ["add_up_flags", "register_logs"]


# -- flags -------------------------------------------------------------------------------------


def add_up_flags(p: argparse.ArgumentParser) -> None:
    """The attached mode's flags of ``up``."""
    p.add_argument("--abort-on-container-exit", action="store_true",
                   help="stop all containers if any container was stopped")
    p.add_argument("--abort-on-container-failure", action="store_true",
                   help="stop all containers if any container exited with failure")
    p.add_argument("--exit-code-from", default=None, metavar="SERVICE",
                   help="return the exit code of the selected service container; "
                        "implies --abort-on-container-exit")
    p.add_argument("--attach", action="append", default=[], metavar="SERVICE",
                   help="restrict attaching to the specified services (repeatable)")
    p.add_argument("--no-attach", action="append", default=[], metavar="SERVICE",
                   help="do not attach (stream logs) to the specified services")
    p.add_argument("--attach-dependencies", action="store_true",
                   help="automatically attach to log output of dependent services")


def register_logs(sub: Any, parser: Callable[[Any, str, str], argparse.ArgumentParser],
                  services: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add ``logs`` to the subparsers (``parser``/``services``: engine_cmds' helpers)."""
    p = parser(sub, "logs", "View output from containers")
    services(p)
    p.add_argument("-f", "--follow", action="store_true", help="follow log output")
    p.add_argument("-n", "--tail", default="all", metavar="LINES",
                   help='number of lines to show from the end of the logs for each container')
    p.add_argument("--since", default=None, metavar="TIME",
                   help="show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative "
                        "(e.g. 42m for 42 minutes)")
    p.add_argument("--until", default=None, metavar="TIME",
                   help="show logs before a timestamp or relative time")
    p.add_argument("-t", "--timestamps", action="store_true", help="show timestamps")
    p.add_argument("--index", type=int, default=None,
                   help="index of the container if service has multiple replicas")
    p.add_argument("--no-color", action="store_true", help="produce monochrome output")
    p.add_argument("--no-log-prefix", action="store_true", help="don't print prefix in logs")

    def run(args: argparse.Namespace) -> int:
        from composer.cli.logview import logs

        return logs(args)

    p.set_defaults(func=run)
