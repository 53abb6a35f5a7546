"""Making the relative paths of a compose document absolute, as Docker Compose v2 does.

Works on canonical (long) syntax. What is resolved, from ``base_dir``:

=============================================  ==========================================
``services.*.build.context``                   unless remote (``https://``, ``git@``,
``services.*.build.additional_contexts.*``     ``github.com/``, any ``scheme://``,
                                               ``service:name``)
``services.*.build.ssh.*``                     key paths (``default`` alone stays)
``services.*.env_file[*].path``                always
``services.*.label_file[*]``                   always
``services.*.extends.file``                    unless remote
``services.*.develop.watch[*].path``           and its first symbolic link resolved
``services.*.volumes[*].source``               ``type: bind`` only; Windows paths stay
``services.*.x-composer-rootfs``               always (composer's "boot from a directory")
``secrets.*.file`` / ``configs.*.file``        Windows paths stay
``volumes.*.driver_opts.device``               ``driver: local`` with ``o: bind``
``include[*].path|project_directory|env_file`` always
=============================================  ==========================================

``build.dockerfile`` stays relative to the context, as in v2. A leading ``~`` is
the user's home (``~x`` too, as v2 reads it: ``$HOME/x``). Joined paths are
cleaned (``./a/../b`` -> ``b``); absolute ones are kept as written.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable
from typing import Any

from composer.config.source import Override, Reset
from composer.errors import ConfigError
from composer.model.naming import ROOTFS_KEY

_REMOTE_PREFIXES = ("https://", "http://", "git://", "ssh://", "github.com/", "git@")
_WINDOWS_ABS = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\)")


def resolve_relative_paths(
    data: dict[str, Any], base_dir: str, *, home: str | None = None
) -> dict[str, Any]:
    """Return ``data`` with relative paths (build contexts, bind sources, env_file,
    extends.file, secrets/configs files, ...) made absolute from ``base_dir``.
    ``~`` expands to ``home`` (default: ``$HOME``). Pure: the input is not changed;
    untouched parts are shared with it."""
    r = _Resolver(base_dir, os.environ.get("HOME") if home is None else home)
    out = data
    services = data.get("services")
    if isinstance(services, dict):
        out = _set(out, "services", _each_value(services, r.service))
    for kind in ("secrets", "configs"):
        top = data.get(kind)
        if isinstance(top, dict):
            out = _set(out, kind, _each_value(top, lambda v: _update(v, "file", r.unix_path)))
    volumes = data.get("volumes")
    if isinstance(volumes, dict):
        out = _set(out, "volumes", _each_value(volumes, r.volume_device))
    include = data.get("include")
    if isinstance(include, list):
        out = _set(out, "include", _each_item(include, r.include))
    return out


def resolve_path(value: str, base_dir: str, *, home: str | None = None) -> str:
    """One path made absolute from ``base_dir`` (``~`` is the user's home); an
    absolute path is returned as written."""
    r = _Resolver(base_dir, os.environ.get("HOME") if home is None else home)
    resolved = r.abs_path(value)
    assert isinstance(resolved, str)
    return resolved


def is_remote_context(value: str) -> bool:
    """A build context the builder fetches itself (git, URL, another image/service)."""
    return (
        "://" in value
        or value.startswith("service:")
        or any(value.startswith(p) for p in _REMOTE_PREFIXES)
    )


class _Resolver:
    def __init__(self, base_dir: str, home: str | None) -> None:
        self.base_dir = base_dir
        self.home = home or None

    # -- path kinds --------------------------------------------------------------------

    def expand_user(self, value: str) -> str:
        if value.startswith("~") and self.home is not None:
            return posixpath.normpath(posixpath.join(self.home, value[1:].lstrip("/")))
        return value

    def abs_path(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        value = self.expand_user(value)
        if os.path.isabs(value) or value == "":
            return value
        return os.path.normpath(os.path.join(self.base_dir, value))

    def unix_path(self, value: Any) -> Any:
        """Like :meth:`abs_path`, but a Windows absolute path (``C:\\x``) is kept, and
        an empty path means the base folder (v2's ``maybeUnixPath``)."""
        if not isinstance(value, str):
            return value
        value = self.expand_user(value)
        if value.startswith("/") or _WINDOWS_ABS.match(value):
            return value
        return os.path.normpath(os.path.join(self.base_dir, value))

    def context_path(self, value: Any) -> Any:
        if isinstance(value, str) and is_remote_context(value):
            return value
        return self.abs_path(value)

    def watch_path(self, value: Any) -> Any:
        resolved = self.abs_path(value)
        return resolve_symbolic_link(resolved) if isinstance(resolved, str) else resolved

    def extends_file(self, value: Any) -> Any:
        if isinstance(value, str) and ("://" in value or value.startswith("git@")):
            return value
        return self.abs_path(value)

    def list_or_one(self, value: Any) -> Any:
        if isinstance(value, list):
            return _each_item(value, self.abs_path)
        return self.abs_path(value)

    # -- containers ---------------------------------------------------------------------

    def service(self, svc: Any) -> Any:
        if not isinstance(svc, dict):
            return svc
        out = svc
        out = _update(out, "build", self.build)
        out = _update(out, "env_file", lambda v: _each_item(v, self.env_file_entry))
        out = _update(out, "label_file", lambda v: _each_item(v, self.abs_path))
        out = _update(out, "extends", lambda v: _update(v, "file", self.extends_file))
        out = _update(out, "develop", self.develop)
        out = _update(out, "volumes", lambda v: _each_item(v, self.mount))
        return _update(out, ROOTFS_KEY, self.abs_path)

    def build(self, build: Any) -> Any:
        out = _update(build, "context", self.context_path)
        out = _update(out, "additional_contexts", lambda v: _each_value(v, self.context_path))
        return _update(out, "ssh", lambda v: _each_value(v, self.unix_path))

    def env_file_entry(self, entry: Any) -> Any:
        if isinstance(entry, str):
            return self.abs_path(entry)
        return _update(entry, "path", self.abs_path)

    def develop(self, develop: Any) -> Any:
        return _update(
            develop, "watch", lambda v: _each_item(v, lambda w: _update(w, "path", self.watch_path))
        )

    def mount(self, volume: Any) -> Any:
        if not isinstance(volume, dict) or volume.get("type") != "bind":
            return volume
        if "source" not in volume:
            raise ConfigError(
                'invalid mount config for type "bind": field Source must not be empty'
            )
        return _update(volume, "source", self.unix_path)

    def volume_device(self, volume: Any) -> Any:
        if not isinstance(volume, dict) or volume.get("driver") != "local":
            return volume
        opts = volume.get("driver_opts")
        if not isinstance(opts, dict) or opts.get("o") != "bind" or "device" not in opts:
            return volume
        return _update(volume, "driver_opts", lambda o: _update(o, "device", self.unix_path))

    def include(self, entry: Any) -> Any:
        if isinstance(entry, str):
            return self.abs_path(entry)
        out = _update(entry, "path", self.list_or_one)
        out = _update(out, "project_directory", self.abs_path)
        return _update(out, "env_file", self.list_or_one)


def resolve_symbolic_link(path: str) -> str:
    """Replace the first symbolic link among the components of ``path`` by its target
    (v2's ``utils.ResolveSymbolicLink``, used for ``develop.watch`` paths)."""
    current = os.sep if os.path.isabs(path) else ""
    for part in path.split(os.sep):
        if not part:
            continue
        current = os.path.join(current, part)
        if os.path.islink(current):
            try:
                target = os.path.realpath(current, strict=True)
            except OSError as exc:
                raise ConfigError(f"cannot resolve symbolic link {current}: {exc}") from exc
            return path.replace(current, target, 1)
    return path


# -- copy-on-write helpers ------------------------------------------------------------------


def _set(container: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    if container.get(key) is value:
        return container
    out = dict(container)
    out[key] = value
    return out


def _update(container: Any, key: str, fn: Callable[[Any], Any]) -> Any:
    """``container`` with ``fn`` applied to its ``key`` (through an ``!override``
    marker), copied only if the value changed."""
    if isinstance(container, Override):
        inner = _update(container.value, key, fn)
        return container if inner is container.value else Override(inner)
    if not isinstance(container, dict) or key not in container:
        return container
    old = container[key]
    if isinstance(old, Reset) or old is None:
        return container
    new = Override(fn(old.value)) if isinstance(old, Override) else fn(old)
    if isinstance(old, Override) and new.value is old.value:
        return container
    return _set(container, key, new)


def _each_value(mapping: Any, fn: Callable[[Any], Any]) -> Any:
    if isinstance(mapping, Override):
        inner = _each_value(mapping.value, fn)
        return mapping if inner is mapping.value else Override(inner)
    if not isinstance(mapping, dict):
        return mapping
    out: dict[str, Any] | None = None
    for k, v in mapping.items():
        if v is None or isinstance(v, Reset):
            continue
        nv = Override(fn(v.value)) if isinstance(v, Override) else fn(v)
        if isinstance(v, Override) and nv.value is v.value:
            continue
        if nv is not v:
            if out is None:
                out = dict(mapping)
            out[k] = nv
    return mapping if out is None else out


def _each_item(items: Any, fn: Callable[[Any], Any]) -> Any:
    if isinstance(items, Override):
        inner = _each_item(items.value, fn)
        return items if inner is items.value else Override(inner)
    if not isinstance(items, list):
        return items
    new = [v if v is None or isinstance(v, Reset) else fn(v) for v in items]
    if all(a is b for a, b in zip(new, items, strict=True)):
        return items
    return new
