"""Canonical syntax, per file and before merging: every short form in its long form.

Ports, volumes, depends_on, environment/labels lists, healthcheck, ... become the
long syntax Docker Compose v2 prints, so that merging and path resolution only
ever see one shape (compose-go's ``transform`` stage).

STUB: to be replaced. The public names are the contract.
"""

from __future__ import annotations

from typing import Any

from composer.config.source import SourceMap


def canonicalize(data: dict[str, Any], source: SourceMap | None = None) -> dict[str, Any]:
    """Return ``data`` with short syntaxes expanded; raises ``ConfigError`` (with a
    mark from ``source``) for malformed values such as a port ``abc:80``."""
    return data
