"""``extends``: a service inheriting from another, in the same file or another one.

STUB: to be replaced. The public names are the contract.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Loads another compose file (absolute path) through parse + interpolation + schema,
# returning its data (documents merged). Cached by the loader.
FileLoader = Callable[[str], dict[str, Any]]


def resolve_extends(data: dict[str, Any], *, file: str, load_file: FileLoader) -> dict[str, Any]:
    """Return ``data`` with every ``services.*.extends`` resolved and removed.

    ``file`` is the absolute path ``data`` came from (relative ``extends.file``
    values and the base service's relative paths are taken from the base file's
    folder). Cycles raise :class:`composer.errors.ExtendsError`.
    """
    return data
