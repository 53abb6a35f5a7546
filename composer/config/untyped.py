"""The untyped model: what ``docker compose config --no-interpolate`` prints.

With ``--no-interpolate`` Docker Compose v2 cannot decode the project into its Go
structs (``${PORT}:80`` is no port), so it prints compose-go's *model*, the merged
dictionary after the loader's dictionary phases, with map keys sorted:

* per file, only compose-go's own ``transform`` stage (``canonicalize(model=True)``):
  volumes, ports, devices, depends_on, networks, env_file, ... in long form;
  ``environment``, ``labels``, ``extra_hosts``, ``healthcheck.test``, ``command`` and
  the like stay as written (lists stay lists, strings stay strings);
* merged with compose-go's rules (``merge_documents(model=True)``);
* :func:`set_model_defaults` (compose-go's ``SetDefaultValues``), relative paths
  made absolute and :func:`resolve_model_environment`, per project and included
  project;
* :func:`normalize_model` (compose-go's dictionary ``Normalize``): the ``default``
  network, resource names, ``pull_policy: missing``, the build ``Dockerfile``,
  implied ``depends_on``.

Variables: v2 gives this path no environment for the project itself, so
``environment: [FOO]`` stays ``FOO`` and a build arg without a value is dropped;
an included project has the variables of its own env files.

No profile is applied and no service is left out; ``x-`` keys stay everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from composer.config.paths import resolve_path
from composer.config.scalar import go_text
from composer.config.shortsyntax import clean_path
from composer.model.conditions import SERVICE_STARTED

__all__ = ["normalize_model", "resolve_model_environment", "set_model_defaults", "sort_keys"]

_NAMESPACES = ("network_mode", "ipc", "pid", "uts", "cgroup")
_TRUE_WORDS = frozenset({"1", "t", "T", "TRUE", "true", "True"})


def set_model_defaults(data: dict[str, Any], working_dir: str) -> dict[str, Any]:
    """compose-go's ``SetDefaultValues`` on a merged project (or included project).

    A ``build`` without ``context`` builds ``working_dir``; a service secret without
    ``target`` is mounted at ``/run/secrets/<source>``; a long-syntax port gets
    ``protocol: tcp`` and ``mode: ingress``; a ``depends_on`` entry ``required:
    true``. Pure: changed parts are copied.
    """
    services = data.get("services")
    if not isinstance(services, dict):
        return data
    out_services: dict[str, Any] = {}
    for name, svc in services.items():
        if isinstance(svc, dict):
            svc = _service_defaults(svc, working_dir)
        out_services[name] = svc
    return {**data, "services": out_services}


def resolve_model_environment(
    data: dict[str, Any], environment: Mapping[str, str]
) -> dict[str, Any]:
    """compose-go's ``ResolveEnvironment``: ``environment: [FOO]`` entries of services
    become ``FOO=value`` for the variables ``environment`` has (other non-text
    entries are dropped); a secret's ``environment`` gives it ``x-#value``, a
    config's its ``content``. Pure: changed parts are copied."""
    out = dict(data)
    services = data.get("services")
    if isinstance(services, dict):
        resolved: dict[str, Any] = {}
        for name, svc in services.items():
            if isinstance(svc, dict) and isinstance(svc.get("environment"), list):
                svc = {**svc, "environment": [
                    f"{item}={environment[item]}" if item in environment else item
                    for item in svc["environment"] if isinstance(item, str)
                ]}
            resolved[name] = svc
        out["services"] = resolved
    for kind, key in (("secrets", "x-#value"), ("configs", "content")):
        section = data.get(kind)
        if not isinstance(section, dict):
            continue
        entries: dict[str, Any] = {}
        for name, res in section.items():
            var = res.get("environment") if isinstance(res, dict) else None
            if isinstance(var, str) and var in environment:
                res = {**res, key: environment[var]}
            entries[name] = res
        out[kind] = entries
    return out


def _service_defaults(svc: dict[str, Any], working_dir: str) -> dict[str, Any]:
    out = dict(svc)
    build = out.get("build")
    if isinstance(build, dict) and "context" not in build:
        out["build"] = {**build, "context": resolve_path(".", working_dir)}
    secrets = out.get("secrets")
    if isinstance(secrets, list):
        out["secrets"] = [
            {**s, "target": f"/run/secrets/{go_text(s.get('source'))}"}
            if isinstance(s, dict) and "target" not in s else s
            for s in secrets
        ]
    deps = out.get("depends_on")
    if isinstance(deps, dict) and any(
        isinstance(d, dict) and "required" not in d for d in deps.values()
    ):
        # Defaulted after merging, so an override naming only the condition keeps
        # an earlier ``required: false``.
        out["depends_on"] = {
            k: {**d, "required": True} if isinstance(d, dict) and "required" not in d else d
            for k, d in deps.items()
        }
    ports = out.get("ports")
    if isinstance(ports, list):
        out["ports"] = [
            {"protocol": "tcp", "mode": "ingress", **p} if isinstance(p, dict) else p
            for p in ports
        ]
    return out


def normalize_model(
    data: dict[str, Any], *, name: str, implicit: bool = True
) -> dict[str, Any]:
    """compose-go's dictionary ``Normalize``, without any environment.

    Returns a new project: ``name`` set, services attached to the implicit
    ``default`` network, ``pull_policy: if_not_present`` read as ``missing``, build
    ``dockerfile`` defaulted, build args without a value dropped, ``depends_on``
    entries implied by ``links``,
    ``volumes_from`` and ``service:`` namespaces, volume targets cleaned, and
    networks, volumes, configs and secrets named after the project (or their key
    when external). Keys are sorted at every level, as v2 prints a Go map.

    ``implicit=False`` is ``--no-normalize``: v2 then skips all of that, the
    project ``name`` included (a ``name:`` the files declare stays, as written).
    """
    project = dict(data)
    project.pop("version", None)  # obsolete: v2 warns and drops it
    if not implicit:
        return sort_keys(project)  # type: ignore[no-any-return]
    project["name"] = name
    services = project.get("services")
    if isinstance(services, dict):
        project["services"] = {
            key: _normalize_service(svc) if isinstance(svc, dict) else svc
            for key, svc in services.items()
        }
    _default_network(project)
    _name_resources(project, name)
    return sort_keys(project)  # type: ignore[no-any-return]


def _normalize_service(svc: dict[str, Any]) -> dict[str, Any]:
    out = dict(svc)
    if out.get("pull_policy") == "if_not_present":
        out["pull_policy"] = "missing"
    build = out.get("build")
    if isinstance(build, dict):
        build = dict(build)
        if build.get("context") is None:
            build["context"] = "."
        if build.get("dockerfile") is None and build.get("dockerfile_inline") is None:
            build["dockerfile"] = "Dockerfile"
        if "args" in build:
            build["args"] = _resolve(build["args"], keep_unset=False)
        out["build"] = build
    if "environment" in out:
        out["environment"] = _resolve(out["environment"], keep_unset=True)

    deps = out.get("depends_on")
    depends_on: dict[str, Any] = dict(deps) if isinstance(deps, dict) else {}

    def imply(service: str, restart: bool) -> None:
        if service not in depends_on:
            depends_on[service] = {
                "condition": SERVICE_STARTED, "restart": restart, "required": True
            }

    for link in _strings(out.get("links")):
        parts = link.split(":")
        imply(parts[0] if len(parts) == 2 else link, True)
    for key in _NAMESPACES:
        ref = out.get(key)
        if isinstance(ref, str) and ref.startswith("service:"):
            imply(ref[len("service:"):], True)
    volumes = out.get("volumes")
    if isinstance(volumes, list):
        out["volumes"] = [
            {**v, "target": clean_path(v["target"])}
            if isinstance(v, dict) and isinstance(v.get("target"), str) else v
            for v in volumes
        ]
    for ref in _strings(out.get("volumes_from")):
        if not ref.startswith("container:"):
            imply(ref.split(":")[0], False)
    if depends_on:
        out["depends_on"] = depends_on
    return out


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _resolve(value: Any, *, keep_unset: bool) -> Any:
    """compose-go's ``resolve`` with no variable set: ``KEY`` alone (``KEY: null``)
    stays when ``keep_unset``, else goes; an empty list prints as ``null``."""
    if isinstance(value, list):
        kept = [
            item for item in value
            if isinstance(item, str) and ("=" in item or keep_unset)
        ]
        return kept or None
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if v is not None or keep_unset}
    return value


def _default_network(project: dict[str, Any]) -> None:
    networks = project.get("networks")
    networks = dict(networks) if isinstance(networks, dict) else {}
    uses_default = False
    services = project.get("services")
    for svc in services.values() if isinstance(services, dict) else ():
        if not isinstance(svc, dict) or "network_mode" in svc or "provider" in svc:
            continue
        nets = svc.get("networks")
        if "networks" not in svc or (isinstance(nets, dict) and not nets):
            svc["networks"] = {"default": None}
            uses_default = True
        elif isinstance(nets, dict) and "default" in nets:
            uses_default = True
    if uses_default and "default" not in networks:
        networks["default"] = None
    if networks:
        project["networks"] = networks


def _name_resources(project: dict[str, Any], name: str) -> None:
    for kind in ("networks", "volumes", "configs", "secrets"):
        section = project.get(kind)
        if not isinstance(section, dict):
            continue
        named: dict[str, Any] = {}
        for key, res in section.items():
            res = dict(res) if isinstance(res, dict) else {}
            if res.get("name") is None:
                external = "external" in res and go_text(res["external"]) in _TRUE_WORDS
                res["name"] = key if external else f"{name}_{key}"
            named[key] = res
        project[kind] = named


def sort_keys(value: Any) -> Any:
    """``value`` with every mapping's keys sorted (how Go prints a ``map``)."""
    if isinstance(value, dict):
        return {k: sort_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [sort_keys(v) for v in value]
    return value
