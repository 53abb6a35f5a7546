"""Semantic checks on a normalised project, before anything touches an engine.

STUB: to be replaced. The public names are the contract.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from composer.errors import Mark

# Finds where a key path of the merged project was written, if known.
Locator = Callable[[tuple[str | int, ...]], Mark | None]


def validate_project(data: dict[str, Any], locate: Locator | None = None) -> None:
    """Raise :class:`composer.errors.ValidationError` for the first inconsistency."""
    return None
