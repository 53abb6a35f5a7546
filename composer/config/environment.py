"""A service's container environment: ``environment`` plus its ``env_file`` files.

Docker Compose v2 resolves it after merging (compose-go's
``WithServicesEnvironmentResolved``), and this module does the same:

1. ``environment`` entries without a value (``- FOO``) take the project
   environment's value, or stay ``None`` when it has none;
2. each ``env_file`` is read in order; ``${VAR}`` inside one is looked up in the
   project environment first, then in the service's ``environment``, then in the
   values read so far; a bare ``NAME`` line takes its value from the same lookup
   and is dropped when nothing defines it;
3. ``environment`` wins over the files, entry by entry (a ``None`` entry too).

``label_file`` works the same way for labels, except that its lookups only see
the labels read so far.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from composer.config import dotenv
from composer.errors import EnvFileError
from composer.model.gofloat import sprint

Lookup = Callable[[str], "str | None"]
Warn = Callable[[str], None]


def env_value(value: Any) -> str | None:
    """A YAML scalar as the string v2 puts in the environment (``True`` -> ``"true"``)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return sprint(value)
    return str(value)


def resolve_environment_entries(
    environment: Any, project_env: Mapping[str, str]
) -> dict[str, str | None]:
    """``environment`` as a mapping with valueless entries looked up in ``project_env``."""
    if environment is None:
        return {}
    items: list[tuple[str, Any]]
    if isinstance(environment, dict):
        items = list(environment.items())
    elif isinstance(environment, list):
        items = []
        for entry in environment:
            key, sep, val = (env_value(entry) or "").partition("=")
            items.append((key, val if sep else None))
    else:
        return {}
    out: dict[str, str | None] = {}
    for key, val in items:
        text = env_value(val)
        if text is None:
            text = project_env.get(key)
        out[str(key)] = text
    return out


def resolve_service_environment(
    service: Mapping[str, Any],
    project_env: Mapping[str, str],
    *,
    working_dir: str,
    warn: Warn | None = None,
) -> dict[str, str | None]:
    """The service's resolved environment (see the module docstring).

    ``service`` is the merged service mapping (``env_file`` in its canonical list
    form, paths normally absolute already; relative ones are taken from
    ``working_dir``). A missing ``required`` env file raises
    :class:`~composer.errors.EnvFileError` worded as v2 words it; ``warn`` gets the
    unset-variable warnings of ``${VAR}`` inside env files.
    """
    own = resolve_environment_entries(service.get("environment"), project_env)
    env_files = service.get("env_file")
    if not env_files:
        return own
    if isinstance(env_files, (str, dict)):
        env_files = [env_files]
    gathered: dict[str, str] = {k: v for k, v in own.items() if v is not None}

    def lookup(name: str) -> str | None:
        value = project_env.get(name)
        if value is None:
            value = own.get(name)
        if value is None:
            value = gathered.get(name)
        return value

    for entry in env_files:
        if isinstance(entry, str):
            entry = {"path": entry, "required": True}
        if not isinstance(entry, dict) or not entry.get("path"):
            continue
        path = os.path.join(working_dir, os.path.expanduser(str(entry["path"])))
        required = _truthy(entry.get("required", True))
        if not os.path.exists(path):
            if required:
                raise EnvFileError(
                    f"env file {path} not found: stat {path}: no such file or directory",
                    file=path,
                )
            continue
        values = _load_env_file(path, entry.get("format"), lookup, warn)
        for key, val in values.items():
            if val is not None:
                gathered[key] = val
    result: dict[str, str | None] = dict(gathered)
    result.update(own)
    return result


def resolve_service_labels(
    service: Mapping[str, Any], *, working_dir: str
) -> dict[str, str] | None:
    """The service's labels over the ones its ``label_file`` files define, or ``None``
    when it has no ``label_file``. A missing label file is an :class:`EnvFileError`."""
    label_files = service.get("label_file")
    labels = service.get("labels")
    if not label_files:
        return None
    if isinstance(label_files, str):
        label_files = [label_files]
    gathered: dict[str, str] = {}
    for entry in label_files:
        path = os.path.join(working_dir, os.path.expanduser(str(entry)))
        if not os.path.exists(path):
            raise EnvFileError(
                f"label file {path} not found: stat {path}: no such file or directory", file=path
            )
        for key, val in dotenv.load_dotenv_file(path, gathered.get).items():
            if val is not None:
                gathered[key] = val
    if isinstance(labels, dict):
        for key, val in labels.items():
            gathered[str(key)] = env_value(val) or ""
    return gathered


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "t", "true", "y", "yes", "on")
    return bool(value)


def _load_env_file(
    path: str, fmt: Any, lookup: Lookup, warn: Warn | None
) -> dict[str, str | None]:
    return dotenv.load_dotenv_file(
        path, lookup, warn=warn, format="env" if fmt is None else str(fmt)
    )
