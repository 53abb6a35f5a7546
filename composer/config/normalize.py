"""Normalisation (phase 12): the merged project as Docker Compose v2 prints it
(``config --format json``).

Two steps, after merging and profiles:

1. what v2 adds (compose-go's ``Normalize`` and the project resolutions
   ``docker compose config`` runs): the implicit ``default`` network and service
   attachments to it, ``pull_policy: if_not_present`` -> ``missing``, build
   defaults (context = project folder, ``Dockerfile``), build args and
   ``environment`` entries resolved from the project environment, ``env_file`` and
   ``label_file`` read and dropped, implicit ``depends_on`` from ``links``,
   ``volumes_from`` and ``service:`` namespaces, default secret targets, resource
   names (``{project}_{key}``; the key for external ones), and the resources no
   service uses dropped;
2. the typed rendering v2's Go structs give (:mod:`composer.config.typed`, by the
   field table): unknown keys and ``x-`` extensions below the top level are
   dropped, empty values are omitted (``omitempty``), sizes become byte counts as
   strings (``"512m"`` -> ``"536870912"``), durations Go duration strings (``90s``
   -> ``"1m30s"``), ``command``/``entrypoint`` lists (split like a shell, ``null``
   when unset), scalars in mappings strings, maps sorted by key and struct fields
   in v2's order.

The result is plain JSON-able data; ``config --format json`` prints it as is
(after escaping ``$`` as ``$$``, which is the CLI's business).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from composer.config.environment import (
    resolve_environment_entries,
    resolve_service_environment,
    resolve_service_labels,
)
from composer.config.typed import parse_bool, render_project
from composer.errors import ConfigError
from composer.model.conditions import SERVICE_STARTED
from composer.model.naming import ROOTFS_DOCKERFILE, ROOTFS_KEY

Warn = Callable[[str], None]


def normalize_project(
    data: dict[str, Any],
    *,
    name: str,
    working_dir: str,
    environment: Mapping[str, str],
    warn: Warn | None = None,
    implicit: bool = True,
    resolve_env_files: bool = True,
    resolve_paths: bool = True,
    cwd: str | None = None,
) -> dict[str, Any]:
    """Return the canonical project (what ``config --format json`` prints).

    ``data`` is the merged document after profiles (not changed); ``environment``
    the project environment (process environment over ``.env``), used to resolve
    ``environment``/build ``args`` entries without a value and ``${VAR}`` in env
    files (``warn`` gets v2's warnings about unset ones there). Raises
    :class:`~composer.errors.EnvFileError` for a missing required
    env file and :class:`~composer.errors.ConfigError` for values v2 cannot read
    (a size ``12xb``, a duration ``soon``, an unbalanced quote in ``command``).

    ``implicit=False`` is ``config --no-normalize``: v2 then skips what its
    ``Normalize`` adds (the default network, resource names, ``pull_policy`` and build
    defaults but the build context, build args and implied ``depends_on``) but
    still reads env files, drops unused resources and renders the typed form.

    ``resolve_env_files=False`` keeps ``env_file`` entries unread (the form v2
    computes a service's config hash from).

    ``resolve_paths=False`` (``config --no-path-resolution``): a missing build
    context is ``.``, not the project folder, and the env and label files, left
    relative, are read from ``cwd`` (as v2 reads them from its current folder).
    """
    project = dict(data)
    project["name"] = name
    raw_services = project.get("services")
    services: dict[str, Any] = {}
    if isinstance(raw_services, dict):
        for svc_name, svc in raw_services.items():
            if isinstance(svc, dict) and ROOTFS_KEY in svc:
                svc = _rootfs_build(svc_name, svc, resolve_paths)
            services[svc_name] = _prepare_service(
                svc if isinstance(svc, dict) else {}, environment, working_dir, warn, implicit,
                resolve_env_files, None if resolve_paths else ".",
                working_dir if resolve_paths or cwd is None else cwd,
            )
    project["services"] = services
    if implicit:
        _implicit_default_network(project)
        _name_resources(project, name)
    _drop_unused_resources(project)
    return render_project(project)


# -- step 1: what v2 adds -------------------------------------------------------------------


def _rootfs_build(name: str, svc: dict[str, Any], check_folder: bool) -> dict[str, Any]:
    """composer's ``x-composer-rootfs: FOLDER`` ("boot from a directory") as the build
    it means: the folder, copied as it is, as the image's whole filesystem (tagged
    as a build is: ``image:``, else ``{project}-{service}``). A second source of
    the image (``build:``), a value that is not a path, or a folder that is not
    there is a :class:`~composer.errors.ConfigError` at the key."""
    folder = svc[ROOTFS_KEY]
    where = ("services", name, ROOTFS_KEY)
    if not isinstance(folder, str) or not folder:
        raise ConfigError("must be the path of a folder holding a root filesystem",
                          path=where)
    if svc.get("build") is not None:
        raise ConfigError(f'service "{name}" boots from a folder or is built, not both '
                          "(remove build: or x-composer-rootfs:)", path=where)
    if check_folder and not os.path.isdir(folder):
        raise ConfigError(f"{folder} is not a folder (the service's root filesystem)",
                          path=where)
    return {**svc, "build": {"context": folder, "dockerfile_inline": ROOTFS_DOCKERFILE}}




def _prepare_service(
    svc: dict[str, Any],
    environment: Mapping[str, str],
    working_dir: str,
    warn: Warn | None,
    implicit: bool,
    resolve_env_files: bool = True,
    default_context: str | None = None,
    files_dir: str | None = None,
) -> dict[str, Any]:
    out = dict(svc)
    context = working_dir if default_context is None else default_context
    files_dir = working_dir if files_dir is None else files_dir
    if implicit and out.get("pull_policy") == "if_not_present":
        out["pull_policy"] = "missing"

    build = out.get("build")
    if isinstance(build, str):
        build = {"context": build}
        out["build"] = build
    if implicit and isinstance(build, dict):
        build = dict(build)
        if build.get("context") in (None, "", "."):
            build["context"] = context
        if build.get("dockerfile") is None and build.get("dockerfile_inline") is None:
            build["dockerfile"] = "Dockerfile"
        if "args" in build:
            build["args"] = _resolve_args(build["args"], environment)
        out["build"] = build
    elif isinstance(build, dict) and build.get("context") is None:
        # Set before normalisation in v2 (its SetDefaultValues), so even without it.
        out["build"] = {**build, "context": context}

    if not resolve_env_files:
        # v2 hashes a service with its env_file entries, not their contents.
        if "environment" in out:
            out["environment"] = resolve_service_environment(
                {**out, "env_file": []}, environment, working_dir=files_dir, warn=warn
            )
    else:
        if "environment" in out or out.get("env_file"):
            out["environment"] = resolve_service_environment(
                out, environment, working_dir=files_dir, warn=warn
            )
        out.pop("env_file", None)
    if out.get("label_file"):
        labels = resolve_service_labels(out, working_dir=files_dir)
        if labels is not None:
            out["labels"] = labels
    out.pop("label_file", None)

    deps = out.get("depends_on")
    if isinstance(deps, dict):
        out["depends_on"] = {
            k: ({**v, "required": v.get("required", True)} if isinstance(v, dict) else v)
            for k, v in deps.items()
        }
    if implicit:
        _implicit_dependencies(out)

    secrets = out.get("secrets")
    if isinstance(secrets, list):
        out["secrets"] = [_default_secret_target(s) for s in secrets]
    return out


def _resolve_args(args: Any, environment: Mapping[str, str]) -> Any:
    """Build args without a value take the project environment's, or are dropped."""
    resolved = resolve_environment_entries(args, environment)
    return {k: v for k, v in resolved.items() if v is not None}


def _default_secret_target(secret: Any) -> Any:
    if isinstance(secret, str):
        secret = {"source": secret}
    if isinstance(secret, dict) and not secret.get("target"):
        secret = dict(secret)
        secret["target"] = f"/run/secrets/{secret.get('source', '')}"
    return secret


def _implicit_dependencies(svc: dict[str, Any]) -> None:
    """``links``, ``volumes_from`` and ``service:`` namespaces imply ``depends_on``."""
    deps = svc.get("depends_on")
    added: dict[str, dict[str, Any]] = {}

    def add(name: str, restart: bool) -> None:
        if name and name not in added and not (isinstance(deps, dict) and name in deps):
            added[name] = {"condition": SERVICE_STARTED, "restart": restart, "required": True}

    for link in svc.get("links") or []:
        parts = str(link).split(":")
        add(parts[0] if len(parts) == 2 else str(link), True)
    for key in ("network_mode", "ipc", "pid", "uts", "cgroup"):
        ref = svc.get(key)
        if isinstance(ref, str) and ref.startswith("service:"):
            add(ref[len("service:"):], True)
    for vol in svc.get("volumes_from") or []:
        vol = str(vol)
        if not vol.startswith("container:"):
            add(vol.split(":")[0], False)
    if added:
        merged = dict(deps) if isinstance(deps, dict) else {}
        merged.update(added)
        svc["depends_on"] = merged


def _implicit_default_network(project: dict[str, Any]) -> None:
    networks = project.get("networks")
    networks = dict(networks) if isinstance(networks, dict) else {}
    uses_default = False
    for svc in project["services"].values():
        if "network_mode" in svc or "provider" in svc:
            continue
        nets = svc.get("networks")
        if not nets:
            svc["networks"] = {"default": None}
            uses_default = True
        elif "default" in nets:
            uses_default = True
    if uses_default and "default" not in networks:
        networks["default"] = None
    if networks:
        project["networks"] = networks
    else:
        project.pop("networks", None)


def _name_resources(project: dict[str, Any], name: str) -> None:
    for kind in ("networks", "volumes", "configs", "secrets"):
        section = project.get(kind)
        if not isinstance(section, dict):
            continue
        named: dict[str, Any] = {}
        for key, res in section.items():
            res = dict(res) if isinstance(res, dict) else {}
            if res.get("name") is None:
                res["name"] = key if parse_bool(res.get("external")) else f"{name}_{key}"
            named[key] = res
        project[kind] = named


def _drop_unused_resources(project: dict[str, Any]) -> None:
    used: dict[str, set[Any]] = {"networks": set(), "volumes": set(), "secrets": set(),
                                 "configs": set()}
    for svc in project["services"].values():
        used["networks"].update(svc.get("networks") or ())
        for vol in svc.get("volumes") or ():
            if isinstance(vol, dict) and vol.get("type") == "volume" and vol.get("source"):
                used["volumes"].add(vol["source"])
        for secret in svc.get("secrets") or ():
            if isinstance(secret, dict):
                used["secrets"].add(secret.get("source"))
        build = svc.get("build")
        if isinstance(build, dict):
            for secret in build.get("secrets") or ():
                used["secrets"].add(secret.get("source") if isinstance(secret, dict) else secret)
        for config in svc.get("configs") or ():
            if isinstance(config, dict):
                used["configs"].add(config.get("source"))
    for kind, names in used.items():
        section = project.get(kind)
        if isinstance(section, dict):
            project[kind] = {k: v for k, v in section.items() if k in names}
