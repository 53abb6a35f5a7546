"""Merging several compose files by the compose-spec merge rules.

STUB: naive deep merge; to be replaced. The public names are the contract.
"""

from __future__ import annotations

from typing import Any

from composer.config.source import KeyPath, Override, Reset


def merge_documents(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merge ``override`` onto ``base`` (neither is changed) following the merge table."""
    return _merge(base, override, ())


def _merge(a: Any, b: Any, path: KeyPath) -> Any:
    if isinstance(b, Reset):
        return Reset()
    if isinstance(b, Override):
        return b.value
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for k, v in b.items():
            out[k] = _merge(a[k], v, path + (k,)) if k in a else v
        return out
    if isinstance(a, list) and isinstance(b, list):
        return a + b
    return b


def strip_markers(data: Any) -> Any:
    """Resolve leftover ``!reset`` / ``!override`` markers once all files are merged."""
    if isinstance(data, Override):
        return strip_markers(data.value)
    if isinstance(data, dict):
        return {k: strip_markers(v) for k, v in data.items() if not isinstance(v, Reset)}
    if isinstance(data, list):
        return [strip_markers(v) for v in data if not isinstance(v, Reset)]
    return data
