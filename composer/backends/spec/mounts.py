"""A container's storage: ``HostConfig.Binds`` and ``HostConfig.Mounts`` from the
service's ``volumes``, ``secrets`` and ``configs``, split the way v2.40.3 splits
them, and the anonymous volumes a replacement takes over. Pure."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Collection, Mapping
from typing import Any

from composer.backends.errors import UnsupportedError
from composer.model.project import BindOptions, Project, ServiceConfig, VolumeMount

__all__ = ["binds_and_mounts"]

_SECRETS_DIR = "/run/secrets/"
_CONFIGS_DIR = "/"


def _mount(project: Project, volume: VolumeMount) -> dict[str, Any]:
    kind = volume.type or "volume"
    source = volume.source or ""
    if kind == "bind" and source and not source.startswith("/"):
        source = os.path.abspath(source)
    if kind == "volume" and source:
        declared = project.volumes.get(source)
        if declared is not None and declared.name:
            source = declared.name
    mount: dict[str, Any] = {"Type": kind}
    if source:
        mount["Source"] = source
    if volume.target:
        mount["Target"] = volume.target
    if volume.read_only:
        mount["ReadOnly"] = True
    if volume.consistency:
        mount["Consistency"] = volume.consistency
    if kind == "bind" and volume.bind is not None:
        bind = volume.bind
        options: dict[str, Any] = {}
        if bind.propagation:
            options["Propagation"] = bind.propagation
        if bind.recursive == "disabled":
            options["NonRecursive"] = True
        if bind.create_host_path:
            options["CreateMountpoint"] = True
        if bind.recursive == "writable":
            options["ReadOnlyNonRecursive"] = True
        elif bind.recursive == "readonly":
            options["ReadOnlyForceRecursive"] = True
        mount["BindOptions"] = options
    elif kind == "volume" and volume.volume is not None:
        options = {}
        if volume.volume.nocopy:
            options["NoCopy"] = True
        if volume.volume.subpath:
            options["Subpath"] = volume.volume.subpath
        mount["VolumeOptions"] = options
    elif kind == "tmpfs" and volume.tmpfs is not None:
        options = {}
        if volume.tmpfs.size:
            options["SizeBytes"] = volume.tmpfs.size
        if volume.tmpfs.mode:
            options["Mode"] = volume.tmpfs.mode
        mount["TmpfsOptions"] = options
    return mount


def _file_mounts(project: Project, service: ServiceConfig, kind: str) -> list[dict[str, Any]]:
    """Read-only bind mounts of file-based secrets (``/run/secrets/``) or configs (``/``)."""
    base = _SECRETS_DIR if kind == "secrets" else _CONFIGS_DIR
    declared_all = project.secrets if kind == "secrets" else project.configs
    refs = service.secrets if kind == "secrets" else service.configs
    mounts: dict[str, dict[str, Any]] = {}
    for ref in refs or ():
        source = ref.source or ""
        target = ref.target or ""
        if not target:
            target = base + source
        elif not target.startswith("/"):
            target = base + target
        declared = declared_all.get(source)
        singular = kind[:-1]
        if declared is not None:
            if declared.external:
                raise UnsupportedError(
                    f"unsupported external {singular} {declared.name or source}")
            if declared.driver:
                raise UnsupportedError(f"Docker Compose does not support {kind}.*.driver")
            if declared.template_driver:
                raise UnsupportedError(
                    f"Docker Compose does not support {kind}.*.template_driver")
            if declared.environment or (kind == "configs" and declared.content):
                continue
        file = (declared.file if declared is not None else None) or ""
        mount: dict[str, Any] = {"Type": "bind", "Source": file, "Target": target,
                                 "ReadOnly": True}
        if kind == "secrets":
            # v2 asks not to create a missing host path, which shows as empty BindOptions.
            mount["BindOptions"] = {}
        mounts[target] = mount
    return list(mounts.values())


def _bind_string(source: str, volume: VolumeMount) -> str:
    options = ["ro" if volume.read_only else "rw"]
    if volume.bind is not None and volume.bind.selinux:
        options.append(volume.bind.selinux)
    if volume.bind is not None and volume.bind.propagation:
        options.append(volume.bind.propagation)
    if volume.volume is not None and volume.volume.nocopy:
        options.append("nocopy")
    return f"{source}:{volume.target}:{','.join(options)}"


def _bind_needs_mount_api(bind: BindOptions | None) -> bool:
    if bind is None:
        return False
    return not bind.create_host_path or bool(bind.propagation) or bool(bind.recursive)


def binds_and_mounts(project: Project, service: ServiceConfig,
                     inherit: Mapping[str, Any] | None, image_volumes: Collection[str]
                     ) -> tuple[list[str] | None, list[dict[str, Any]]]:
    """``HostConfig.Binds`` and ``HostConfig.Mounts``, split the way v2 splits them.

    Binds that may create their host path and named volumes without options use
    the ``Binds`` strings; anything else (anonymous volumes, tmpfs, ``nocopy``,
    propagation, secrets and configs) a ``Mounts`` entry. ``inherit`` is the
    listing entry (with ``Mounts``) of the container being replaced, whose
    anonymous volumes (and the image's, ``image_volumes``) carry over.
    """
    mounts: dict[str, dict[str, Any]] = {}
    declared = list(service.volumes or ())
    remaining = declared
    for old in (inherit or {}).get("Mounts") or ():
        if old.get("Type") == "tmpfs":
            continue
        source = old.get("Name") if old.get("Type") == "volume" else old.get("Source")
        target = posixpath.normpath(str(old.get("Destination") or ""))
        carried: dict[str, Any] = {"Type": old.get("Type"), "Source": source, "Target": target}
        if not old.get("RW", True):
            carried["ReadOnly"] = True
        if target in image_volumes:
            mounts[target] = carried
        kept = []
        for vol in remaining:
            if vol.target != target or vol.source:
                kept.append(vol)
                continue
            mounts[target] = carried
        remaining = kept
    for vol in remaining:
        mount = _mount(project, vol)
        mounts[mount.get("Target", "")] = mount
    for kind in ("secrets", "configs"):
        for mount in _file_mounts(project, service, kind):
            mounts.setdefault(mount["Target"], mount)

    binds: list[str] = []
    out: list[dict[str, Any]] = []
    by_target = {vol.target: vol for vol in declared}
    for mount in mounts.values():
        found = by_target.get(mount.get("Target"))
        if found is not None and mount["Type"] == "bind" and (
                found.type != "bind" or not _bind_needs_mount_api(found.bind)):
            binds.append(_bind_string(mount.get("Source", ""), found))
            continue
        if found is not None and mount["Type"] == "volume" and found.source \
                and found.type == "volume":
            options = found.volume
            if options is None or (not options.nocopy and not options.subpath):
                binds.append(_bind_string(mount.get("Source", ""), found))
                continue
        out.append(mount)
    return binds or None, out
