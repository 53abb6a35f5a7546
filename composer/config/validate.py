"""Semantic checks on a normalised project, before anything touches an engine.

The checks and their verdicts follow Docker Compose v2 (2.40.3), stage by stage:

1. declarations (v2's ``validation`` package, on every declared resource, used
   or not): an external volume with other attributes, a secret or config with
   none or several of ``file``/``environment``/``content``, a blank
   ``develop.watch`` path;
2. decoding: durations and byte sizes that do not parse (normally caught by
   normalisation already; checked again so nothing malformed reaches an engine),
   negative values of compose-go's unsigned fields, a long-syntax port's
   ``host_ip`` that is no address, a ``volumes`` target already a ``tmpfs`` one;
3. consistency (v2's ``checkConsistency``, on the enabled services): undefined
   services, networks, volumes, secrets, configs and models; neither image nor
   build; conflicting attributes (``network_mode`` and ``networks``, ``scale``
   and ``deploy.replicas``, ``container_name`` with several replicas, ...);
4. dependency cycles, named hop by hop.

Within a stage the error written first in the files wins; messages are v2's
without its ``: invalid compose project`` tail, and carry the key path and the
mark (``compose.yaml:6:9: services.web.depends_on.db: service "web" depends on
undefined service "db"``).

What v2 accepts, we accept: a ``restart`` value it does not know, long-syntax
ports with any ``published`` text, an external network or secret with extra
attributes.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

from composer import graph
from composer.errors import Mark, ValidationError
from composer.model import fields, units

# Finds where a key path of the merged project was written, if known.
Locator = Callable[[tuple[str | int, ...]], Mark | None]
Path = tuple[str | int, ...]

_HEALTHCHECK_KINDS = ("CMD", "CMD-SHELL", "NONE")


class _Problems:
    """Errors of one stage; the one written first in the files is raised."""

    def __init__(self, locate: Locator | None) -> None:
        self.locate = locate
        self.found: list[tuple[Path, str]] = []

    def add(self, path: Path, message: str) -> None:
        self.found.append((path, message))

    def mark(self, path: Path) -> Mark | None:
        return self.locate(path) if self.locate is not None else None

    def exact_mark(self, path: Path) -> Mark | None:
        """The mark of ``path`` itself, not of an ancestor the locator fell back to."""
        mark = self.mark(path)
        if mark is None or len(path) < 2 or mark == self.mark(path[:-1]):
            return None
        return mark

    def raise_first(self) -> None:
        """Raise the problem written first: files ranked as their marks come up
        (in project order), then line and column; unlocated problems last."""
        if not self.found:
            return
        located = [(path, message, self.mark(path)) for path, message in self.found]
        files: dict[str, int] = {}
        for _, _, mark in located:
            if mark is not None:
                files.setdefault(mark.file, len(files))

        def position(i: int) -> tuple[int, ...]:
            mark = located[i][2]
            if mark is None:
                return (1, i)
            return (0, files[mark.file], mark.line, mark.column, i)

        path, message, mark = located[min(range(len(located)), key=position)]
        raise ValidationError(message, mark=mark, path=path)


def validate_project(
    data: dict[str, Any],
    locate: Locator | None = None,
    *,
    all_services: Collection[str] | None = None,
    declared: Mapping[str, Any] | None = None,
    consistency: bool = True,
) -> None:
    """Raise :class:`composer.errors.ValidationError` for the first inconsistency.

    ``data`` is the normalised project (v2's ``config --format json`` shape).
    ``all_services`` names every service before profiles were applied: a
    ``required: false`` dependency on a service disabled by a profile is
    allowed, on one that does not exist at all refused, as in v2 (without
    ``all_services`` both are allowed). ``declared`` is the merged project before normalisation;
    when given, resources that normalisation drops (unused volumes, secrets,
    configs, top-level ``models``) are checked too, as v2 does.
    ``consistency=False`` (``config --no-consistency``) stops after the declarations
    and values: references, conflicting attributes and cycles are not checked.
    """
    source: Mapping[str, Any] = declared if declared is not None else data
    services = _mapping(data.get("services"))

    problems = _Problems(locate)
    _check_declarations(source, problems)
    problems.raise_first()

    for name, service in services.items():
        if isinstance(service, dict):
            _check_values(name, service, problems)
    problems.raise_first()
    if not consistency:
        return

    defined = _Defined(data, declared, services, all_services)
    dependencies: dict[str, list[str]] = {}
    for name, service in services.items():
        if isinstance(service, dict):
            deps = graph.service_dependencies(service)
            dependencies[name] = [dep for dep in deps if dep in services]
            _check_service(name, service, deps, defined, problems)
    for name, secret in _mapping(source.get("secrets")).items():
        if isinstance(secret, dict) and not secret.get("external"):
            if not secret.get("file") and not secret.get("environment"):
                problems.add(
                    ("secrets", name),
                    f"secret {_q(name)} must declare either `file` or `environment`",
                )
    problems.raise_first()

    cycle = graph.find_cycle(dependencies)
    if cycle is not None:
        first, second = cycle[0], cycle[1]
        path = _dependency_paths(first, services[first], second, declared, problems)[0]
        problems.add(path, "dependency cycle detected: " + " -> ".join(cycle))
        problems.raise_first()


# -- helpers -----------------------------------------------------------------


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _q(text: str) -> str:
    """Go's %q for the names we print: double quotes, backslash escapes."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _names(value: Any) -> Iterator[tuple[str | int, str]]:
    """(key, name) of a mapping's keys or a list's string items."""
    if isinstance(value, dict):
        for key in value:
            yield key, str(key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, str):
                yield i, item


def _sources(value: Any) -> Iterator[tuple[int, str]]:
    """(index, source) of a ``secrets``/``configs`` list, long or short form."""
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, str):
                yield i, item
            elif isinstance(item, dict) and isinstance(item.get("source"), str):
                yield i, item["source"]


class _Defined:
    """The names a service may refer to."""

    def __init__(
        self,
        data: Mapping[str, Any],
        declared: Mapping[str, Any] | None,
        services: Mapping[str, Any],
        all_services: Collection[str] | None,
    ) -> None:
        def names(key: str) -> set[str]:
            out = set(_mapping(data.get(key)))
            if declared is not None:
                out.update(_mapping(declared.get(key)))
            return out

        self.declared = declared
        self.services = services
        self.disabled = None if all_services is None else set(all_services) - set(services)
        self.volumes = names("volumes")
        self.networks = names("networks")
        self.secrets = names("secrets")
        self.configs = names("configs")
        # v2 does not print top-level models, so normalised data may lack them:
        # only check models when we know what was declared.
        self.models: set[str] | None = None
        if declared is not None or "models" in data:
            self.models = names("models")


# -- stage 1: declarations ---------------------------------------------------


def _check_declarations(source: Mapping[str, Any], problems: _Problems) -> None:
    for name, volume in _mapping(source.get("volumes")).items():
        if isinstance(volume, dict) and volume.get("external") is True:
            for key in volume:
                if key not in ("name", "external") and not str(key).startswith("x-"):
                    problems.add(
                        ("volumes", name, key),
                        f'conflicting parameters "external" and {_q(str(key))} specified',
                    )
                    break
    _check_file_objects(source, "configs", ("file", "environment", "content"), problems)
    _check_file_objects(source, "secrets", ("file", "environment"), problems)
    for name, secret in _mapping(source.get("secrets")).items():
        if isinstance(secret, dict) and "content" in secret:
            problems.add(("secrets", name, "content"), "content is not allowed for secrets")
    for name, service in _mapping(source.get("services")).items():
        watch = _mapping(_mapping(service).get("develop")).get("watch")
        for i, rule in enumerate(watch if isinstance(watch, list) else ()):
            if isinstance(rule, dict) and rule.get("path") == "":
                problems.add(
                    ("services", name, "develop", "watch", i, "path"), "value can't be blank"
                )


def _check_file_objects(
    source: Mapping[str, Any], kind: str, keys: tuple[str, ...], problems: _Problems
) -> None:
    choices = "|".join(keys)
    for name, obj in _mapping(source.get(kind)).items():
        if not isinstance(obj, dict):
            continue
        count = sum(1 for k in keys if k in obj)
        if count > 1:
            problems.add((kind, name), f"{choices} attributes are mutually exclusive")
        elif count == 0 and "driver" not in obj and "external" not in obj:
            problems.add((kind, name), f"one of {choices} must be set")


# -- stage 2: values ---------------------------------------------------------

# Where a service holds durations and sizes (compose-go's field table says).
_DURATION_KEYS: tuple[Path, ...] = fields.paths(fields.SERVICE, fields.Kind.DURATION)
_BYTE_KEYS: tuple[Path, ...] = fields.paths(fields.SERVICE, fields.Kind.BYTES)


def _get(obj: Any, keys: Path) -> Any:
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


# compose-go's unsigned fields: a negative value fails their decoding.
_UNSIGNED: tuple[tuple[Path, str], ...] = (
    (("blkio_config", "weight"), "uint16"),
    (("deploy", "update_config", "parallelism"), "uint64"),
    (("deploy", "rollback_config", "parallelism"), "uint64"),
    (("deploy", "restart_policy", "max_attempts"), "uint64"),
    (("deploy", "placement", "max_replicas_per_node"), "uint64"),
    (("healthcheck", "retries"), "uint64"),
)


def _check_values(name: str, service: Mapping[str, Any], problems: _Problems) -> None:
    for keys, kind in _UNSIGNED:
        value = _get(service, keys)
        if isinstance(value, int) and not isinstance(value, bool) and value < 0:
            problems.add(("services", name, *keys),
                         f"cannot parse value as '{kind}': {value} overflows uint")
    for i, port in enumerate(service.get("ports") or ()):
        # The short syntax's address is checked as it is read; this is the long one's.
        host_ip = port.get("host_ip") if isinstance(port, dict) else None
        if isinstance(host_ip, str) and host_ip and not _is_ip(host_ip):
            problems.add(("services", name, "ports", i, "host_ip"),
                         f"invalid ip address: {host_ip}")
    tmpfs = [str(entry).split(":", 1)[0] for entry in service.get("tmpfs") or ()]
    for i, volume in enumerate(service.get("volumes") or ()):
        target = volume.get("target") if isinstance(volume, dict) else None
        if target in tmpfs:
            problems.add(("services", name, "volumes", i),
                         f"target {target} already mounted as "
                         f"services.{name}.tmpfs[{tmpfs.index(target)}]")
    for keys in _DURATION_KEYS:
        value = _get(service, keys)
        if isinstance(value, str):
            error = _duration_error(value)
            if error:
                problems.add(("services", name, *keys), error)
    for keys in _BYTE_KEYS:
        value = _get(service, keys)
        if isinstance(value, str):
            error = _byte_size_error(value)
            if error:
                problems.add(("services", name, *keys), error)


_NORMALISED_SIZE = re.compile(r"-?\d+")


def _is_ip(text: str) -> bool:
    """Go's ``net.ParseIP``: an IPv4 or IPv6 address, no zone."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return "%" not in text


def _duration_error(text: str) -> str | None:
    try:
        units.parse_duration(text)
    except ValueError as exc:
        return str(exc).removeprefix("time: ")
    return None


def _byte_size_error(text: str) -> str | None:
    # Normalisation writes sizes as integers, negative ones included ("-1").
    if _NORMALISED_SIZE.fullmatch(text):
        return None
    try:
        units.parse_bytes(text)
    except ValueError as exc:
        return str(exc)
    return None


def _byte_value(value: Any) -> float:
    if isinstance(value, str):
        if _NORMALISED_SIZE.fullmatch(value):
            return float(value)
        try:
            return float(units.parse_bytes(value))
        except ValueError:
            return 0.0
    return _number(value)


def _number(value: Any) -> float:
    if isinstance(value, bool):
        return 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return 0.0
    return 0.0


# -- stage 3: consistency ----------------------------------------------------


def _dependency_paths(
    name: str,
    service: Mapping[str, Any],
    dep: str,
    declared: Mapping[str, Any] | None,
    problems: _Problems,
) -> list[Path]:
    """Where ``name``'s dependency on ``dep`` was written, the earliest first.

    Normalisation turns ``links``, ``volumes_from`` and ``service:`` namespaces
    into ``depends_on`` entries; point at what the user wrote.
    """
    base: Path = ("services", name)
    implicit: list[Path] = []
    for key in ("network_mode", "ipc", "pid"):
        if service.get(key) == graph.SERVICE_PREFIX + dep:
            implicit.append((*base, key))
    for key in ("links", "volumes_from"):
        for i, ref in enumerate(service.get(key) or ()):
            if (
                isinstance(ref, str)
                and not ref.startswith(graph.CONTAINER_PREFIX)
                and ref.split(":", 1)[0] == dep
            ):
                implicit.append((*base, key, i))
    depends_on = service.get("depends_on")
    explicit_path: Path = (*base, "depends_on", dep)
    if isinstance(depends_on, list) and dep in depends_on:
        explicit_path = (*base, "depends_on", depends_on.index(dep))
    if declared is not None:
        written = _get(declared, ("services", name, "depends_on"))
        explicit = isinstance(written, dict | list) and dep in written
    else:
        explicit = problems.exact_mark(explicit_path) is not None
    candidates = ([explicit_path] if explicit or not implicit else []) + implicit
    if len(candidates) == 1:
        return candidates

    def position(i: int) -> tuple[int, int, int, int]:
        mark = problems.exact_mark(candidates[i])
        return (0, mark.line, mark.column, i) if mark is not None else (1, 0, 0, i)

    return [candidates[i] for i in sorted(range(len(candidates)), key=position)]


def _check_service(
    name: str,
    service: Mapping[str, Any],
    dependencies: Mapping[str, Mapping[str, Any]],
    defined: _Defined,
    problems: _Problems,
) -> None:
    base: Path = ("services", name)
    sq = _q(name)
    build = service.get("build")
    # A ``provider`` service is run by a plugin, not from an image.
    if not build and not service.get("image") and not service.get("provider"):
        problems.add(base, f"service {sq} has neither an image nor a build context specified")
    if isinstance(build, dict):
        if build.get("dockerfile_inline") and build.get("dockerfile"):
            problems.add(
                (*base, "build", "dockerfile_inline"),
                f"service {sq} declares mutually exclusive dockerfile and dockerfile_inline",
            )
        platforms = build.get("platforms")
        platform = service.get("platform")
        if isinstance(platforms, list) and platforms and platform and platform not in platforms:
            problems.add(
                (*base, "build", "platforms"),
                f"service.build.platforms MUST include service.platform {_q(str(platform))}",
            )

    networks = service.get("networks")
    if service.get("network_mode") and networks:
        problems.add(
            (*base, "networks"),
            f"service {name} declares mutually exclusive `network_mode` and `networks`",
        )
    for key, network in _names(networks):
        if network not in defined.networks:
            problems.add(
                (*base, "networks", key),
                f"service {sq} refers to undefined network {network}",
            )

    test = _get(service, ("healthcheck", "test"))
    if isinstance(test, list) and test and test[0] not in _HEALTHCHECK_KINDS:
        problems.add(
            (*base, "healthcheck", "test"),
            'healthcheck.test must start either by "CMD", "CMD-SHELL" or "NONE"',
        )

    for dep, attrs in dependencies.items():
        if dep in defined.services:
            continue
        if not attrs["required"] and (defined.disabled is None or dep in defined.disabled):
            # Without ``all_services`` we cannot tell disabled from undefined;
            # an optional dependency is the one to give the benefit of the doubt.
            continue
        path = _dependency_paths(name, service, dep, defined.declared, problems)[0]
        problems.add(path, f"service {sq} depends on undefined service {_q(dep)}")

    for i, volume in enumerate(service.get("volumes") or ()):
        if isinstance(volume, dict) and volume.get("type") == "volume":
            source = volume.get("source")
            if source and source not in defined.volumes:
                problems.add(
                    (*base, "volumes", i), f"service {sq} refers to undefined volume {source}"
                )
    if isinstance(build, dict):
        for i, secret in _sources(build.get("secrets")):
            if secret not in defined.secrets:
                problems.add(
                    (*base, "build", "secrets", i),
                    f"service {sq} refers to undefined build secret {secret}",
                )
    for i, config in _sources(service.get("configs")):
        if config not in defined.configs:
            problems.add(
                (*base, "configs", i), f"service {sq} refers to undefined config {config}"
            )
    for i, secret in _sources(service.get("secrets")):
        if secret not in defined.secrets:
            problems.add(
                (*base, "secrets", i), f"service {sq} refers to undefined secret {secret}"
            )
    if defined.models is not None:
        for key, model in _names(service.get("models")):
            if model not in defined.models:
                problems.add(
                    (*base, "models", key), f"service {sq} refers to undefined model {model}"
                )

    _check_resources(name, service, problems)

    replicas = _replicas(service)
    if replicas > 1 and service.get("container_name"):
        attr = "scale" if service.get("scale") is not None else "deploy.replicas"
        problems.add(
            (*base, "container_name"),
            f"can't set container_name and {attr} as container name must be unique",
        )

    watch = _mapping(service.get("develop")).get("watch")
    for i, rule in enumerate(watch if isinstance(watch, list) else ()):
        # compose-go: rebuild and restart need no target.
        if isinstance(rule, dict) and rule.get("action") not in ("rebuild", "restart"):
            if not rule.get("target"):
                problems.add(
                    (*base, "develop", "watch", i),
                    "target is required for non-rebuild actions",
                )


def _replicas(service: Mapping[str, Any]) -> int:
    scale = service.get("scale")
    if scale is None:
        scale = _get(service, ("deploy", "replicas"))
    return int(_number(scale)) if scale is not None else 1


def _check_resources(name: str, service: Mapping[str, Any], problems: _Problems) -> None:
    """v2 refuses service-level limits that disagree with ``deploy.resources``."""
    base: Path = ("services", name)
    deploy = service.get("deploy")
    if not isinstance(deploy, dict):
        return
    scale, replicas = service.get("scale"), deploy.get("replicas")
    if scale is not None and replicas is not None and _number(scale) != _number(replicas):
        problems.add(
            (*base, "deploy", "replicas"),
            "can't set distinct values on 'scale' and 'deploy.replicas'",
        )
    resources = _mapping(deploy.get("resources"))
    pairs: tuple[tuple[str, str, str, Callable[[Any], float]], ...] = (
        ("cpus", "limits", "cpus", _number),
        ("mem_limit", "limits", "memory", _byte_value),
        ("mem_reservation", "reservations", "memory", _byte_value),
        ("pids_limit", "limits", "pids", _number),
    )
    for key, block_name, field, convert in pairs:
        own = convert(service.get(key))
        block = resources.get(block_name)
        if own == 0 or not isinstance(block, dict):
            continue
        # An unset deploy value counts as 0, so it disagrees: v2's verdict.
        if not math.isclose(own, convert(block.get(field)), rel_tol=1e-6):
            problems.add(
                (*base, key),
                f"can't set distinct values on '{key}' and "
                f"'deploy.resources.{block_name}.{field}'",
            )
