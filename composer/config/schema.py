"""Validation against the project's compose-spec JSON schema (``schemas/``).

STUB: to be replaced. The public names are the contract.
"""

from __future__ import annotations

from typing import Any

from composer.config.source import SourceMap


def validate_schema(data: dict[str, Any], source: SourceMap) -> None:
    """Raise :class:`composer.errors.SchemaError` for the most specific violation."""
    return None
