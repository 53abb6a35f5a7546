"""Discovery: which compose files, which project folder, which project name."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence

from composer.errors import DiscoveryError
from composer.frozen import frozen

DEFAULT_FILENAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
OVERRIDE_FILENAMES = {
    "compose.yaml": ("compose.override.yaml", "compose.override.yml"),
    "compose.yml": ("compose.override.yml", "compose.override.yaml"),
    "docker-compose.yaml": ("docker-compose.override.yaml", "docker-compose.override.yml"),
    "docker-compose.yml": ("docker-compose.override.yml", "docker-compose.override.yaml"),
}
STDIN = "-"

_VALID_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_NAME_CHARS = re.compile(r"[a-z0-9_-]")


def find_default_files(start: str) -> list[str]:
    """The compose file (and its override) in ``start`` or the nearest parent folder."""
    folder = os.path.abspath(start)
    while True:
        for name in DEFAULT_FILENAMES:
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate):
                files = [candidate]
                for override in OVERRIDE_FILENAMES[name]:
                    o = os.path.join(folder, override)
                    if os.path.isfile(o):
                        files.append(o)
                        break
                return files
        parent = os.path.dirname(folder)
        if parent == folder:
            raise DiscoveryError(
                f"no configuration file provided: not found in {os.path.abspath(start)} "
                "or its parents (looked for " + ", ".join(DEFAULT_FILENAMES) + ")"
            )
        folder = parent


def resolve_config_files(
    files: Sequence[str], environ: Mapping[str, str], cwd: str, project_directory: str | None
) -> list[str]:
    """Absolute paths of the files to load, in order (``-`` stays ``-``).

    ``-f`` wins; then ``COMPOSE_FILE`` (split on ``COMPOSE_PATH_SEPARATOR``,
    default ``:``); then the default names searched upwards from the project
    directory (or the working folder).
    """
    chosen = list(files)
    if not chosen and environ.get("COMPOSE_FILE"):
        sep = environ.get("COMPOSE_PATH_SEPARATOR") or os.pathsep
        chosen = [f for f in environ["COMPOSE_FILE"].split(sep) if f]
        base = project_directory or cwd
        chosen = [f if os.path.isabs(f) else os.path.join(base, f) for f in chosen]
    if not chosen:
        return find_default_files(project_directory or cwd)
    out = []
    for f in chosen:
        if f == STDIN:
            out.append(STDIN)
            continue
        path = os.path.abspath(os.path.join(cwd, os.path.expanduser(f)))
        if not os.path.exists(path):
            raise DiscoveryError(f"open {path}: no such file or directory")
        out.append(path)
    return out


def normalize_project_name(name: str) -> str:
    """Lower-case, keep ``[a-z0-9_-]``, strip leading ``_``/``-`` (as Compose does)."""
    return "".join(_NAME_CHARS.findall(name.lower())).lstrip("_-")


def check_project_name(name: str, origin: str) -> str:
    """An explicitly given project name must already be valid."""
    if not _VALID_NAME.match(name):
        raise DiscoveryError(
            f"invalid project name {name!r} (from {origin}): must consist only of lowercase "
            "alphanumeric characters, hyphens, and underscores as well as start with a "
            "letter or number"
        )
    return name


@frozen(slots=True)
class ProjectNameChoice:
    name: str
    origin: str


def choose_project_name(
    *, flag: str | None, environ: Mapping[str, str], declared: str | None, working_dir: str
) -> str:
    """``-p`` > ``COMPOSE_PROJECT_NAME`` > top-level ``name:`` > the folder's name."""
    if flag:
        return check_project_name(flag, "-p")
    if environ.get("COMPOSE_PROJECT_NAME"):
        return check_project_name(environ["COMPOSE_PROJECT_NAME"], "COMPOSE_PROJECT_NAME")
    # A declared name is cleaned up like a folder name, as v2 does ("My App" -> "myapp").
    origin = declared if declared else os.path.basename(os.path.abspath(working_dir))
    name = normalize_project_name(origin)
    if not name:
        raise DiscoveryError(
            f"project name must not be empty (derived from {origin!r}): use -p NAME"
        )
    return name
