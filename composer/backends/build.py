"""Image builds: :class:`BuildRequest` (engine-neutral, from
:mod:`composer.backends.types`) and, for compatibility, the Docker builder's
helpers, which live in :mod:`composer.backends.docker.build` and are imported
from there only when asked for (they need the docker SDK).
"""

from __future__ import annotations

from typing import Any

from composer.backends.types import BuildRequest

__all__ = ["BuildRequest"]

# Reached through this module by older imports; they need the docker SDK.
_DOCKER = frozenset({"INLINE_DOCKERFILE", "BuildProgress", "make_context", "read_ignore_file",
                     "run_build"})


def __getattr__(name: str) -> Any:
    if name in _DOCKER:
        from composer.backends.docker import build

        return getattr(build, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
