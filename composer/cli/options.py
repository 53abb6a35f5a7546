"""Turning the global flags into :class:`~composer.config.loader.LoadOptions`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from composer.config.loader import LoadOptions


def load_options(
    args: argparse.Namespace, *, services: Sequence[str] = (), interpolate: bool = True,
    normalize: bool = True,
) -> LoadOptions:
    from composer.config.loader import LoadOptions

    return LoadOptions(
        files=tuple(args.files),
        project_directory=args.project_directory,
        project_name=args.project_name,
        env_files=tuple(args.env_files),
        profiles=tuple(p for arg in args.profiles for p in arg.split(",") if p),
        services=tuple(services),
        interpolate=interpolate,
        normalize=normalize,
        warn=print_warning,
    )


def print_warning(message: str) -> None:
    """A loader warning as v2 prints it: ``WARN[0000] <message>`` on stderr."""
    sys.stderr.write(f"WARN[0000] {message}\n")
