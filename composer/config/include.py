"""``include``: sub-projects whose resources join this one.

STUB: to be replaced. The public names are the contract.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class IncludeRequest:
    """One ``include`` entry, with its paths made absolute."""

    paths: tuple[str, ...]
    project_directory: str
    env_files: tuple[str, ...]
    env_files_required: bool = True


# Loads a sub-project (its files merged, interpolated with its own environment,
# its own includes and extends resolved, relative paths made absolute from its
# project_directory); returns the merged data before normalisation.
SubprojectLoader = Callable[[IncludeRequest, Sequence[str]], dict[str, Any]]


def resolve_include(
    data: dict[str, Any],
    *,
    file: str,
    working_dir: str,
    load_subproject: SubprojectLoader,
    chain: Sequence[str] = (),
) -> dict[str, Any]:
    """Return ``data`` with its ``include`` entries loaded and their resources merged in.

    ``chain`` is the list of files already being included (for cycle detection);
    pass it through to ``load_subproject``. A resource defined both here and in
    an included project is an :class:`composer.errors.IncludeError`.
    """
    data = dict(data)
    data.pop("include", None)
    return data
