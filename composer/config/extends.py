"""``extends``: a service inheriting from another, in the same file or another one.

As Docker Compose v2 (2.40.3):

* ``extends: base`` or ``extends: {service: base, file: other.yaml}``; the base may
  extend further, across files, as long as no service comes back (a cycle is an
  error naming the chain hop by hop);
* only the services of the file itself (or of the named file) can be extended:
  not those of other ``-f`` files nor of included projects;
* the base service comes as written, before its file's ``!reset``/``!override``
  tags apply; those of the extending service do apply to what it inherits;
* everything is inherited, ``depends_on``, ``links`` and ``volumes_from`` too, and
  merged with the rules used between files (:func:`composer.config.merge.merge_service`);
* a relative ``extends.file`` is taken from the folder the file's relative paths
  are resolved from (the project folder for ``-f`` files, the file's own folder
  for a file reached through ``extends``); the relative paths of a base service
  from another file are resolved from that file's folder before merging.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from composer.config import merge, paths
from composer.config.source import Override, Reset, SourceMap
from composer.errors import ExtendsError, Mark

# Loads another compose file (absolute path) through parse + interpolation + schema,
# returning its data (documents merged). Cached by the loader.
FileLoader = Callable[[str], dict[str, Any]]

_Hop = tuple[str, str]  # (file, service)


def resolve_extends(
    data: dict[str, Any],
    *,
    file: str,
    load_file: FileLoader,
    working_dir: str | None = None,
    source: SourceMap | None = None,
    home: str | None = None,
    model: bool = False,
    resolve_paths: bool = True,
) -> dict[str, Any]:
    """Return ``data`` with every ``services.*.extends`` resolved and removed.

    ``file`` is the absolute path ``data`` came from. Relative ``extends.file``
    values of ``data`` are taken from ``working_dir`` (default: ``file``'s folder),
    those of a file reached through ``extends`` from that file's folder; so are
    the base service's relative paths (``~`` is ``home``, default ``$HOME``).
    ``source`` (the file's source map) gives errors a line and column. Cycles,
    missing services and missing files raise :class:`composer.errors.ExtendsError`.
    ``model=True`` merges with the untyped model's rules (``merge_service(model=True)``).
    ``resolve_paths=False`` (``config --no-path-resolution``) rebases a base service's
    relative paths onto the extending file's folder instead (``sub/ctx``), as v2 does.
    """
    services = data.get("services")
    if not isinstance(services, dict) or not any(
        isinstance(_body(s), dict) and "extends" in _body(s) for s in services.values()
    ):
        return data
    resolver = _Resolver(load_file, file, source, home, model, resolve_paths)
    base_dir = working_dir if working_dir is not None else os.path.dirname(file)
    out = {
        name: resolver.resolve(name, services, file, base_dir, ()) for name in services
    }
    result = dict(data)
    result["services"] = out
    return result


def _body(svc: Any) -> Any:
    return svc.value if isinstance(svc, Override) else svc


class _Resolver:
    def __init__(
        self,
        load_file: FileLoader,
        top_file: str,
        source: SourceMap | None,
        home: str | None,
        model: bool,
        resolve_paths: bool = True,
    ) -> None:
        self.model = model
        self.resolve_paths = resolve_paths
        self.load_file = load_file
        self.home = home
        self.top_file = top_file
        self.source = source
        self.done: dict[_Hop, Any] = {}

    def resolve(
        self,
        name: str,
        services: dict[str, Any],
        file: str,
        base_dir: str,
        chain: tuple[_Hop, ...],
    ) -> Any:
        hop = (file, name)
        if hop in self.done:
            return self.done[hop]
        raw = services[name]
        body = _body(raw)
        if not isinstance(body, dict) or "extends" not in body:
            return raw
        if hop in chain:
            raise self.error(_cycle_message([*chain, hop], self.top_file), chain[0], "")
        chain = (*chain, hop)
        ref, ref_file = self.reference(body["extends"], name, file, base_dir, chain)

        if ref_file is None:
            if ref not in services or isinstance(services[ref], Reset):
                raise self.error(
                    f'cannot extend service "{name}": service "{ref}" not found', hop, "service"
                )
            base = self.resolve(ref, services, file, base_dir, chain)
        else:
            other = self.load_other(ref_file, name, hop)
            if ref not in other:
                raise self.error(
                    f'cannot extend service "{name}": service "{ref}" not found in '
                    f"{_display(ref_file, self.top_file)}",
                    hop,
                    "service",
                )
            ref_dir = os.path.dirname(ref_file)
            base = self.resolve(ref, other, ref_file, ref_dir, chain)
            rebase = ref_dir if self.resolve_paths else os.path.relpath(ref_dir, base_dir)
            base = paths.resolve_relative_paths(
                {"services": {ref: base}}, rebase, home=self.home
            )["services"][ref]

        # The base as written: its own reset/override tags concern its own path only.
        base = merge.strip_markers(_body(base))
        own = {k: v for k, v in body.items() if k != "extends"}
        if not isinstance(base, dict):
            merged: Any = own
        else:
            base = {k: v for k, v in base.items() if k != "extends"}
            merged = merge.merge_service(base, own, name, file=file, model=self.model)
        result = Override(merged) if isinstance(raw, Override) else merged
        self.done[hop] = result
        return result

    def reference(
        self, ext: Any, name: str, file: str, base_dir: str, chain: tuple[_Hop, ...]
    ) -> tuple[str, str | None]:
        hop = chain[-1]
        if isinstance(ext, str):
            return ext, None
        if not isinstance(ext, dict) or not isinstance(ext.get("service"), str):
            raise self.error("extends.service is required", hop, "")
        ref_file = ext.get("file")
        if ref_file is None:
            return ext["service"], None
        if not isinstance(ref_file, str):
            raise self.error("extends.file must be a string", hop, "file")
        return ext["service"], paths.resolve_path(ref_file, base_dir, home=self.home)

    def load_other(self, path: str, name: str, hop: _Hop) -> dict[str, Any]:
        if not os.path.exists(path):
            raise self.error(
                f'cannot extend service "{name}": file {_display(path, self.top_file)} '
                "not found",
                hop,
                "file",
            )
        data = self.load_file(path)
        services = data.get("services")
        if not isinstance(services, dict):
            raise self.error(
                f'cannot extend service "{name}": {_display(path, self.top_file)} '
                "has no services section",
                hop,
                "file",
            )
        return {k: v for k, v in services.items() if not isinstance(v, Reset)}

    def error(self, message: str, hop: _Hop, key: str) -> ExtendsError:
        file, name = hop
        path: tuple[str | int, ...] = ("services", name, "extends")
        if key:
            path = (*path, key)
        mark: Mark | None = None
        if file == self.top_file and self.source is not None:
            mark = self.source.mark(path)
        return ExtendsError(message, mark=mark, path=path, file=file)


def _cycle_message(hops: list[_Hop], top_file: str) -> str:
    files = {f for f, _ in hops}
    if len(files) == 1:
        chain = " -> ".join(name for _, name in hops)
    else:
        chain = " -> ".join(f"{name} ({_display(f, top_file)})" for f, name in hops)
    return f"extends cycle: {chain}"


def _display(path: str, top_file: str) -> str:
    """``path`` relative to the top file's folder when it is under it."""
    rel = os.path.relpath(path, os.path.dirname(top_file) or ".")
    return path if rel.startswith("..") else rel
