"""Making the relative paths of a compose document absolute.

STUB: to be replaced. The public names are the contract.
"""

from __future__ import annotations

from typing import Any


def resolve_relative_paths(data: dict[str, Any], base_dir: str) -> dict[str, Any]:
    """Return ``data`` with relative paths (build contexts, bind sources, env_file,
    extends.file, secrets/configs files, ...) made absolute from ``base_dir``.
    ``~`` expands to the user's home. Pure: the input is not changed."""
    return data
