"""``run``'s helpers that read files: ``--env-from-file``.

The one-off container itself is planned by :mod:`composer.plan.run` (its
service as the flags change it, its dependencies, its creation) and run by the
executor, through :meth:`composer.api.Compose.run`. The names below it used to
hold are re-exported for their callers.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from composer.plan.run import LABEL_SLUG, OneOffOptions, oneoff_service, parse_port, parse_volume

__all__ = [
    "LABEL_SLUG",
    "RunOptions",
    "env_from_files",
    "oneoff_service",
    "parse_port",
    "parse_volume",
]

#: The run flags (:class:`composer.plan.run.OneOffOptions`), under their former name.
RunOptions = OneOffOptions


def env_from_files(paths: Sequence[str], cli_environment: Sequence[str]) -> dict[str, str]:
    """The variables of ``run --env-from-file`` files (dotenv syntax), as v2 reads them.

    ``cli_environment`` are the ``-e`` entries as ``KEY=VAL``: they win, and so does the
    first file that sets a key. ``${VAR}`` in a file resolves against those and the keys
    read so far (never the host's environment). Paths are relative to the current
    directory; a missing file is an :class:`~composer.errors.EnvFileError` worded as v2's.
    """
    from composer.config.dotenv import load_dotenv_file
    from composer.errors import EnvFileError

    known: dict[str, str] = {}
    for entry in cli_environment:
        key, _, val = entry.partition("=")
        known[key] = val
    cli_keys = set(known)
    for path in paths:
        if not os.path.exists(path):
            raise EnvFileError(f"open {path}: no such file or directory")
        for key, value in load_dotenv_file(path, known.get).items():
            if value is not None and key not in known:
                known[key] = value
    return {k: v for k, v in known.items() if k not in cli_keys}
