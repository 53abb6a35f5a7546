"""composer: a Compose-file orchestrator, as a command and as a library.

Public entry points::

    import composer

    async with composer.open(["compose.yaml"]) as project:   # a unique project
        await project.up()                                    # as up --wait
        result = await project.exec("web", ["cat", "/etc/hostname"])

    with composer.sync.open(["compose.yaml"]) as project:     # the same, blocking
        project.up()

    from composer import load_project, LoadOptions            # the loader alone
    project = load_project(LoadOptions(files=["compose.yaml"]))

Everything is imported on first use, so ``import composer`` (and the command's
start-up) pays for nothing it does not use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from composer._version import __version__

if TYPE_CHECKING:
    from composer import probes, sync
    from composer.config.loader import LoadedProject, LoadOptions, load_project
    from composer.errors import (
        ComposerError,
        ConfigError,
        ConflictError,
        EngineError,
        ExecFailedError,
        NotFoundError,
        NotReadyError,
        OperationCancelled,
        WaitError,
    )
    from composer.library import (
        Endpoint,
        Event,
        ExecResult,
        LogLine,
        LogStream,
        Project,
        Service,
        open,
    )

__all__ = [
    "ComposerError", "ConfigError", "ConflictError", "Endpoint", "EngineError", "Event",
    "ExecFailedError", "ExecResult", "LoadOptions", "LoadedProject", "LogLine", "LogStream",
    "NotFoundError", "NotReadyError", "OperationCancelled", "Project", "Service", "WaitError",
    "__version__", "load_project", "open", "probes", "sync",
]

_HOMES = {
    **dict.fromkeys(("load_project", "LoadOptions", "LoadedProject"), "composer.config.loader"),
    **dict.fromkeys(("ComposerError", "ConfigError", "ConflictError", "EngineError",
                     "ExecFailedError", "NotFoundError", "NotReadyError",
                     "OperationCancelled", "WaitError"), "composer.errors"),
    **dict.fromkeys(("Endpoint", "Event", "ExecResult", "LogLine", "LogStream", "Project",
                     "Service", "open"), "composer.library"),
}


def __getattr__(name: str) -> Any:
    # Imported lazily so `composer --version` does not pay for yaml, jsonschema, anyio.
    if name in ("probes", "sync"):
        return importlib.import_module(f"composer.{name}")
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(name)
    return getattr(importlib.import_module(home), name)
