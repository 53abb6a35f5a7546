"""What the container, mount and network parts of the spec builder share: the
API version, references to other services' containers, container names. Pure."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from composer.backends.errors import UnsupportedError
from composer.frozen import frozen
from composer.model.project import ServiceConfig

__all__ = [
    "DEFAULT_API_VERSION",
    "ContainerRef",
    "api_at_least",
    "container_name",
    "normalize_capabilities",
    "or_none",
    "proxy_environment",
    "referenced_services",
    "resolve_mode",
    "resolve_service_references",
]

#: The API version of Debian's docker.io 20.10; v2 changes shape at 1.44.
DEFAULT_API_VERSION = "1.41"

_CONTAINER_ID = re.compile(r"^[0-9a-f]{64}$")
_SERVICE = "service:"


@frozen(slots=True)
class ContainerRef:
    """An existing container another service refers to (links, ``service:`` modes)."""

    name: str
    id: str


def api_at_least(version: str, minimum: str) -> bool:
    """``version >= minimum`` for engine API versions such as ``"1.41"``."""

    def key(text: str) -> tuple[int, ...]:
        return tuple(int(p) for p in text.split(".") if p.isdigit())

    return key(version) >= key(minimum)


def or_none(value: Any) -> Any:
    """Go's nil for an absent or empty slice/map (they marshal as ``null``)."""
    return list(value) if isinstance(value, list | tuple) and value else (
        dict(value) if isinstance(value, Mapping) and value else None
    )


def container_name(project_name: str, service: ServiceConfig, number: int) -> str:
    """``container_name`` when set, else ``{project}-{service}-{number}``."""
    return service.container_name or f"{project_name}-{service.name}-{number}"


def referenced_services(service: ServiceConfig) -> set[str]:
    """Services whose container IDs v2 puts into this service before hashing it
    (``network_mode``/``ipc``/``pid: service:x``, ``volumes_from``)."""
    found = set()
    for value in (service.network_mode, service.ipc, service.pid):
        if value and value.startswith(_SERVICE):
            found.add(value[len(_SERVICE):])
    for entry in service.volumes_from or ():
        head = entry.split(":")[0]
        if head != "container":
            found.add(head)
    return found


def _first_container(service_name: str, containers: Mapping[str, Sequence[ContainerRef]],
                     what: str) -> ContainerRef:
    found = sorted(containers.get(service_name, ()), key=lambda ref: ref.name)
    if not found:
        raise UnsupportedError(
            f"cannot share {what} with service {service_name}: container missing"
        )
    return found[0]


def resolve_mode(value: str, containers: Mapping[str, Sequence[ContainerRef]],
                 what: str) -> str:
    """``service:x`` as ``container:<id of x's first container>``; other values as they are."""
    if value.startswith(_SERVICE):
        ref = _first_container(value[len(_SERVICE):], containers, what)
        return "container:" + ref.id
    return value


def _volumes_from(entries: Sequence[str],
                  containers: Mapping[str, Sequence[ContainerRef]]) -> tuple[str, ...]:
    out = []
    for entry in entries:
        parts = entry.split(":")
        # v2 drops the ":ro"/":rw" suffix here: the shared volumes keep their own mode.
        if parts[0] == "container":
            out.append(parts[1] if len(parts) > 1 else "")
        elif parts[0] not in containers and _CONTAINER_ID.match(parts[0]):
            out.append(parts[0])  # already resolved
        else:
            out.append(_first_container(parts[0], containers, "volume").id)
    return tuple(out)


def resolve_service_references(service: ServiceConfig,
                               containers: Mapping[str, Sequence[ContainerRef]]
                               ) -> ServiceConfig:
    """The service with references to other services replaced by container IDs.

    ``network_mode``, ``ipc`` and ``pid`` of the form ``service:x`` become
    ``container:<id>`` and ``volumes_from`` entries the bare ID (``container:name``
    the bare name), the ID being that of x's first container by name. v2 does this
    before it hashes the service, so the config hash of such a service changes when
    the container it refers to is replaced: hash the result, not the input.
    Raises ``UnsupportedError`` when x has no container.
    """
    changes: dict[str, Any] = {}
    for key, what in (("network_mode", "network namespace"), ("ipc", "IPC namespace"),
                      ("pid", "PID namespace")):
        value = getattr(service, key)
        if value and value.startswith(_SERVICE):
            changes[key] = resolve_mode(value, containers, what)
    if service.volumes_from is not None:
        changes["volumes_from"] = _volumes_from(service.volumes_from, containers)
    return dataclasses.replace(service, **changes) if changes else service


def normalize_capabilities(caps: Sequence[str] | None) -> list[str] | None:
    """As the Docker Go client sends them: upper case, ``CAP_`` prefixed, unique, sorted."""
    if caps is None:
        return None
    out: set[str] = set()
    for cap in caps:
        name = cap.upper()
        if name != "ALL" and not name.startswith("CAP_"):
            name = "CAP_" + name
        out.add(name)
    return sorted(out)


_PROXY_KEYS = (
    ("httpProxy", "HTTP_PROXY"),
    ("httpsProxy", "HTTPS_PROXY"),
    ("noProxy", "NO_PROXY"),
    ("ftpProxy", "FTP_PROXY"),
    ("allProxy", "ALL_PROXY"),
)


def proxy_environment(docker_config: Mapping[str, Any], host: str) -> dict[str, str]:
    """Variables v2 adds to every container from ``~/.docker/config.json`` ``proxies``.

    ``host`` is the engine address (``unix:///var/run/docker.sock``); its own entry
    wins over ``default``. Both spellings (``HTTP_PROXY``, ``http_proxy``) are set.
    """
    proxies = docker_config.get("proxies")
    if not isinstance(proxies, Mapping):
        return {}
    chosen = proxies.get(host) or proxies.get("default")
    if not isinstance(chosen, Mapping):
        return {}
    env: dict[str, str] = {}
    for key, variable in _PROXY_KEYS:
        value = chosen.get(key)
        if value:
            env[variable] = str(value)
            env[variable.lower()] = str(value)
    return env
