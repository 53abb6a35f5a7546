"""``include``: sub-projects whose resources join this one.

As Docker Compose v2 (2.40.3):

* an entry is a path or ``{path, project_directory, env_file}``, ``path`` and
  ``env_file`` a string or a list (further paths are override files);
* relative paths (``path``, ``project_directory``, ``env_file``) are taken from
  the including project's folder (``working_dir``), not from the including file's;
* ``project_directory`` defaults to the folder of the first path; ``env_file``
  defaults to ``<project_directory>/.env`` when that file exists; a named env
  file must exist;
* the sub-project is loaded on its own (its interpolation environment, its own
  ``include`` and ``extends``, its relative paths from its project directory);
  its services, networks, volumes, secrets, configs and models join the
  including file's; the same name defined on both sides is an error unless both
  definitions are identical;
* a file including itself, directly or not, is an error naming the chain.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from composer.config import merge, paths
from composer.config.source import SourceMap
from composer.errors import IncludeError, Mark
from composer.frozen import frozen

RESOURCES = ("services", "volumes", "networks", "secrets", "configs", "models")


@frozen(slots=True)
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
    source: SourceMap | None = None,
    home: str | None = None,
) -> dict[str, Any]:
    """Return ``data`` with its ``include`` entries loaded and their resources merged in.

    ``chain`` is the list of files already being included (for cycle detection);
    pass it through to ``load_subproject``. A resource defined both here and in
    an included project is an :class:`composer.errors.IncludeError`. ``source``
    (the file's source map) gives errors a line and column; ``~`` is ``home``
    (default ``$HOME``).
    """
    entries = data.get("include")
    result = {k: v for k, v in data.items() if k != "include"}
    if entries is None:
        return result
    if not isinstance(entries, list):
        raise _error("`include` must be a list", ("include",), file, source)
    for i, entry in enumerate(entries):
        request = include_request(
            entry, working_dir, path=("include", i), file=file, source=source, home=home
        )
        first = request.paths[0]
        if first in chain or first == file:
            hops = [*chain, first] if chain and chain[-1] == file else [*chain, file, first]
            raise _error(
                "include cycle detected: " + " -> ".join(hops), ("include", i), file, source
            )
        imported = merge.strip_markers(load_subproject(request, chain))
        _import_resources(imported, result, file, ("include", i), source)
    return result


def include_request(
    entry: Any,
    working_dir: str,
    *,
    path: tuple[str | int, ...] = ("include", 0),
    file: str | None = None,
    source: SourceMap | None = None,
    home: str | None = None,
) -> IncludeRequest:
    """One ``include`` entry (short or long syntax) as an :class:`IncludeRequest`;
    checks that the files it names exist."""
    if isinstance(entry, str):
        entry = {"path": entry}
    if not isinstance(entry, dict):
        raise _error("an include entry must be a path or a mapping", path, file, source)
    raw_paths = entry.get("path")
    if isinstance(raw_paths, str):
        raw_paths = [raw_paths]
    if not isinstance(raw_paths, list) or not raw_paths:
        raise _error("include.path is required", path, file, source)
    files = tuple(paths.resolve_path(str(p), working_dir, home=home) for p in raw_paths)
    for f in files:
        if not os.path.exists(f):
            raise _error(f"included file {f} not found", (*path, "path"), file, source)

    project_directory = entry.get("project_directory")
    if project_directory is None:
        project_dir = os.path.dirname(files[0])
    else:
        project_dir = paths.resolve_path(str(project_directory), working_dir, home=home)

    env_file = entry.get("env_file")
    env_files: tuple[str, ...]
    if env_file is None or env_file == []:
        default = os.path.join(project_dir, ".env")
        env_files = (default,) if os.path.isfile(default) else ()
    else:
        names = [env_file] if isinstance(env_file, str) else list(env_file)
        env_files = tuple(paths.resolve_path(str(f), working_dir, home=home) for f in names)
        for f in env_files:
            if not os.path.exists(f):
                raise _error(f"env file {f} not found", (*path, "env_file"), file, source)
            if os.path.isdir(f):
                raise _error(f"{f} is not a file", (*path, "env_file"), file, source)
    return IncludeRequest(files, project_dir, env_files, True)


def _import_resources(
    imported: dict[str, Any],
    target: dict[str, Any],
    file: str,
    path: tuple[str | int, ...],
    source: SourceMap | None,
) -> None:
    for kind in RESOURCES:
        incoming = imported.get(kind)
        if not isinstance(incoming, dict) or not incoming:
            continue
        existing = target.get(kind)
        merged = dict(existing) if isinstance(existing, dict) else {}
        for name, value in incoming.items():
            if name in merged:
                if merged[name] == value:
                    continue
                mark_path: tuple[str | int, ...] = (kind, name)
                if source is None or mark_path not in source.marks:
                    mark_path = path
                raise IncludeError(
                    f"{kind}.{name} conflicts with imported resource",
                    mark=_mark(source, mark_path),
                    file=file,
                )
            merged[name] = value
        target[kind] = merged


def _mark(source: SourceMap | None, path: tuple[str | int, ...]) -> Mark | None:
    return source.mark(path) if source is not None else None


def _error(
    message: str, path: tuple[str | int, ...], file: str | None, source: SourceMap | None
) -> IncludeError:
    return IncludeError(message, mark=_mark(source, path), path=path, file=file)
