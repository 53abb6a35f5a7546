"""The public facade: ``Compose(backend)`` runs projects on an engine.

Every verb observes the engine once (one listing of the project's containers,
networks and volumes), plans with the pure reconcile step (:mod:`composer.plan`)
and executes the plan (:mod:`composer.runtime.executor`); ``dry_run`` stops
after planning. Each verb takes a loaded project
(:class:`composer.config.loader.LoadedProject`) and its ``*Options``; the verbs
that Docker Compose runs from labels alone (``down``, ``ps``, ``stop``,
``start``, ``restart``, ``kill``, ``rm``, ``pause``, ``unpause``) also take just
the project's name.

* :mod:`composer.api.options` — the ``*Options`` of each verb and the
  :class:`Outcome` it returns (pure data);
* :mod:`composer.api.compose` — :class:`Compose`, the verbs themselves.

::

    from composer import load_project
    from composer.api import Compose, UpOptions, DownOptions
    from composer.backends import connect

    compose = Compose(connect(), events=print)
    outcome = await compose.up(load_project(), UpOptions(wait=True))
    await compose.down("myproject", DownOptions(volumes=True))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from composer.api.compose import Compose, project_model
from composer.api.options import (
    BuildOptions,
    CreateOptions,
    DownOptions,
    KillOptions,
    Outcome,
    PauseOptions,
    PsOptions,
    RestartOptions,
    RmOptions,
    RunOptions,
    RunOutcome,
    StartOptions,
    StopOptions,
    UnpauseOptions,
    UpOptions,
)

if TYPE_CHECKING:
    from composer.api.watch import Watcher, WatchEvent, WatchOptions

__all__ = [
    "BuildOptions",
    "Compose",
    "CreateOptions",
    "DownOptions",
    "KillOptions",
    "Outcome",
    "PauseOptions",
    "PsOptions",
    "RestartOptions",
    "RmOptions",
    "RunOptions",
    "RunOutcome",
    "StartOptions",
    "StopOptions",
    "UnpauseOptions",
    "UpOptions",
    "WatchEvent",
    "WatchOptions",
    "Watcher",
    "project_model",
]


def __getattr__(name: str) -> Any:
    # The watch's names load with it: not on the path of every other command.
    if name in ("Watcher", "WatchEvent", "WatchOptions"):
        from composer.api import watch

        return getattr(watch, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
