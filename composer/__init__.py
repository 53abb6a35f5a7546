"""composer: a Compose-file orchestrator, as a command and as a library.

Public entry points::

    from composer import load_project, LoadOptions
    project = load_project(LoadOptions(files=["compose.yaml"]))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from composer._version import __version__

if TYPE_CHECKING:
    from composer.config.loader import LoadedProject, LoadOptions, load_project

__all__ = ["__version__", "load_project", "LoadOptions", "LoadedProject"]


def __getattr__(name: str) -> Any:
    # Imported lazily so `composer --version` does not pay for yaml and jsonschema.
    if name in ("load_project", "LoadOptions", "LoadedProject"):
        from composer.config import loader

        return getattr(loader, name)
    raise AttributeError(name)
