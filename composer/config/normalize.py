"""Normalisation: every attribute in its long, canonical form (Docker Compose v2's).

STUB: to be replaced. The public names are the contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def normalize_project(
    data: dict[str, Any], *, name: str, working_dir: str, environment: Mapping[str, str]
) -> dict[str, Any]:
    """Return the canonical project (what ``config --format json`` prints)."""
    out = dict(data)
    out["name"] = name
    return out
