"""Secrets and configs in a container, as Docker Compose v2.40.3 puts them there. Pure.

v2 (``pkg/compose/create.go``, ``secrets.go``) has two ways, by where the value
comes from:

* **from a file** (``secrets: {s: {file: ./s.txt}}``): a read-only bind mount of
  the file at the target (:mod:`.mounts` builds it). The file keeps its own
  mode and owner as the host has them: v2 ignores a reference's ``uid``,
  ``gid`` and ``mode`` there and says so on each container create (``secrets
  `uid`, `gid` and `mode` are not supported, they will be ignored``; ``config
  ...`` for configs), and warns ``secret file NAME does not exist``;
* **from an environment variable or inline content** (``environment: TOKEN``,
  ``content: ...``, configs only): a file copied into the container before each
  start of it (``PUT /containers/{id}/archive`` at ``/``), with the reference's
  ``mode`` (default ``0444``), ``uid`` and ``gid`` (``copyUIDGID`` when either is
  given), the value's bytes as its content. An empty value copies nothing; an
  unset variable and a ``read_only`` service are refusals (raised here, while
  planning: v2 fails at start, after creating the container).

Targets: a secret's default is ``/run/secrets/<source>`` and a relative target
goes under ``/run/secrets/``; a config's default is ``/<source>`` and a relative
target is taken from ``/`` (v2 sends it relative, to be extracted at ``/``: the
same file).

:class:`ContainerFile` holds a value: its ``repr`` shows everything but the
value, so a plan, a step or an error never prints it.
"""

from __future__ import annotations

import io
import os
import tarfile
import time
from collections.abc import Callable, Mapping
from dataclasses import field

from composer.errors import ValidationError
from composer.frozen import frozen
from composer.model.project import FileObjectConfig, FileReference, Project, ServiceConfig

__all__ = ["ContainerFile", "bind_warnings", "container_files"]

SECRETS_DIR = "/run/secrets/"
CONFIGS_DIR = "/"


@frozen(slots=True)
class ContainerFile:
    """One secret or config copied into a container (``kind``: ``secret`` or
    ``config``; ``source``: its key under ``secrets:``/``configs:``).

    ``content`` never shows in ``repr`` or ``str``: read the field itself.
    """

    kind: str
    source: str
    target: str
    content: bytes = field(repr=False)
    mode: int = 0o444
    uid: int = 0
    gid: int = 0
    copy_uid_gid: bool = False

    def __repr__(self) -> str:
        return (f"ContainerFile(kind={self.kind!r}, source={self.source!r}, "
                f"target={self.target!r}, content=<{len(self.content)} bytes>, "
                f"mode=0o{self.mode:o}, uid={self.uid}, gid={self.gid}, "
                f"copy_uid_gid={self.copy_uid_gid})")

    __str__ = __repr__

    @property
    def describe(self) -> str:
        """``secret token -> /run/secrets/token``: what a plan step says."""
        return f"{self.kind} {self.source} -> {self.target}"

    def archive(self, now: float | None = None) -> bytes:
        """The tar archive v2 sends (``createTar``): one member named ``target``,
        extracted at ``/``."""
        info = tarfile.TarInfo(self.target)
        info.size = len(self.content)
        info.mode = self.mode
        info.mtime = int(time.time() if now is None else now)
        info.uid, info.gid = self.uid, self.gid
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
            tar.addfile(info, io.BytesIO(self.content))
        return buffer.getvalue()


def _declared(project: Project, kind: str) -> Mapping[str, FileObjectConfig | None]:
    return project.secrets if kind == "secrets" else project.configs


def _refs(service: ServiceConfig, kind: str) -> tuple[FileReference, ...]:
    return tuple((service.secrets if kind == "secrets" else service.configs) or ())


def _id(value: str | None, service: str, kind: str, index: int, key: str) -> int:
    if not value:
        return 0
    if not value.isdigit():
        raise ValidationError(f'{key} must be a number, got "{value}"',
                              path=("services", service, kind, index, key))
    return int(value)


def container_files(project: Project, service: ServiceConfig,
                    environment: Mapping[str, str] | None) -> tuple[ContainerFile, ...]:
    """The secrets then the configs v2 copies into a container of ``service``
    before starting it, in the service's order; ``environment`` is the project's
    (the values of ``environment:`` sources).

    Raises :class:`~composer.errors.ValidationError` for an unset variable
    (v2's words: ``environment variable "TOKEN" required by secret "p_s" is not
    set``), a ``read_only`` service, and a ``uid``/``gid`` that is not a number.
    """
    env = environment or {}
    files: list[ContainerFile] = []
    for kind in ("secrets", "configs"):
        singular = kind[:-1]
        declared = _declared(project, kind)
        for index, ref in enumerate(_refs(service, kind)):
            source = ref.source or ""
            obj = declared.get(source)
            if obj is None:
                continue
            name = obj.name or source
            if obj.content:
                value = obj.content
            elif obj.environment:
                if obj.environment not in env:
                    raise ValidationError(
                        f'environment variable "{obj.environment}" required by {singular} '
                        f'"{name}" is not set', path=(kind, source, "environment"))
                value = env[obj.environment]
            else:
                continue
            if not value:
                continue
            if service.read_only:
                raise ValidationError(
                    f'cannot create {singular} "{name}" in read-only service {service.name}: '
                    "`file` is the sole supported option",
                    path=("services", service.name, kind, index))
            target = ref.target or ""
            base = SECRETS_DIR if kind == "secrets" else CONFIGS_DIR
            if not target:
                target = base + source
            elif not target.startswith("/"):
                # v2 sends a config's relative target as it is, extracted at "/".
                target = base + target
            files.append(ContainerFile(
                kind=singular, source=source, target=target,
                content=value.encode("utf-8", "surrogateescape"),
                mode=0o444 if ref.mode is None else ref.mode,
                uid=_id(ref.uid, service.name, kind, index, "uid"),
                gid=_id(ref.gid, service.name, kind, index, "gid"),
                copy_uid_gid=bool(ref.uid or ref.gid)))
    return tuple(files)


def bind_warnings(project: Project, service: ServiceConfig, *,
                  exists: Callable[[str], bool] = os.path.exists) -> list[str]:
    """What v2 logs while building a container of ``service``: for each secret or
    config bind-mounted from a file, that its ``uid``/``gid``/``mode`` are
    ignored, and that a secret's file does not exist."""
    warnings: list[str] = []
    for kind in ("secrets", "configs"):
        declared = _declared(project, kind)
        for ref in _refs(service, kind):
            obj = declared.get(ref.source or "")
            if obj is None or obj.external or obj.driver or obj.template_driver:
                continue
            if obj.environment or (kind == "configs" and obj.content):
                continue
            if ref.uid or ref.gid or ref.mode is not None:
                warnings.append(f"{'secrets' if kind == 'secrets' else 'config'} `uid`, "
                                "`gid` and `mode` are not supported, they will be ignored")
            if kind == "secrets" and not exists(obj.file or ""):
                warnings.append(f"secret file {obj.name or ref.source} does not exist")
    return warnings
