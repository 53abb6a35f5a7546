"""Engine errors that the backends raise beyond :mod:`composer.errors`.

These belong in :mod:`composer.errors` under ``EngineError``; they live here
until the error tree takes them in.
"""

from __future__ import annotations

from composer.errors import EngineError


class NotFoundError(EngineError):
    """The engine has no such container, network, volume or image."""


class ConflictError(EngineError):
    """The engine refused because of a conflict (a name in use, a resource in use)."""


class UnsupportedError(EngineError):
    """The project asks for something this engine (or its API version) cannot do."""
