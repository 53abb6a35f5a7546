"""One-off containers (``composer run``), created the way Docker Compose v2 creates them.

v2 names a one-off container ``{project}-{service}-run-{12 hex}`` (or ``--name``),
labels it ``com.docker.compose.oneoff=True`` and ``com.docker.compose.slug=<64 hex>``
without a container number, drops the service's restart policy, and, unless
``--use-aliases``, gives it no network alias but its name. Labels are what make
``down --remove-orphans`` find leftovers.

:func:`oneoff_service` is the pure part (the service as the run flags change
it); :func:`create_oneoff` creates the networks and volumes it needs if missing,
then the container. Starting dependencies is the caller's (the ``up`` machinery).
"""

from __future__ import annotations

import copy
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from composer.backends import spec
from composer.backends.base import Backend
from composer.backends.errors import NotFoundError
from composer.errors import UsageError
from composer.model.hash import service_config_hash
from composer.model.naming import resource_name, service_image

__all__ = [
    "LABEL_SLUG",
    "RunOptions",
    "create_oneoff",
    "env_from_files",
    "oneoff_service",
    "parse_port",
    "parse_volume",
]

LABEL_SLUG = "com.docker.compose.slug"


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """``run``'s flags as they change the service.

    ``command`` empty keeps the service's; ``entrypoint`` None keeps it (an
    entrypoint given without a command clears the command, as v2 does).
    ``environment`` entries are ``KEY=VAL`` or ``KEY`` (taken from the project's
    environment, dropped when unset); they win over ``file_environment`` (``--env-from-file``,
    see :func:`env_from_files`), which wins over the service's own environment.
    ``publish`` replaces the service's ports;
    without it and without ``service_ports`` the container publishes none.
    """

    service: str
    command: Sequence[str] = ()
    entrypoint: Sequence[str] | None = None
    environment: Sequence[str] = ()
    file_environment: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    name: str = ""
    user: str = ""
    workdir: str = ""
    tty: bool = False
    interactive: bool = True
    remove: bool = False
    service_ports: bool = False
    publish: Sequence[str] = ()
    volumes: Sequence[str] = ()
    use_aliases: bool = False
    cap_add: Sequence[str] = ()
    cap_drop: Sequence[str] = ()


def env_from_files(paths: Sequence[str], cli_environment: Sequence[str]) -> dict[str, str]:
    """The variables of ``run --env-from-file`` files (dotenv syntax), as v2 reads them.

    ``cli_environment`` are the ``-e`` entries as ``KEY=VAL``: they win, and so does the
    first file that sets a key. ``${VAR}`` in a file resolves against those and the keys
    read so far (never the host's environment). Paths are relative to the current
    directory; a missing file is an :class:`~composer.errors.EnvFileError` worded as v2's.
    """
    from composer.config.dotenv import load_dotenv_file
    from composer.errors import EnvFileError

    known: dict[str, str] = {}
    for entry in cli_environment:
        key, _, val = entry.partition("=")
        known[key] = val
    cli_keys = set(known)
    for path in paths:
        if not os.path.exists(path):
            raise EnvFileError(f"open {path}: no such file or directory")
        for key, value in load_dotenv_file(path, known.get).items():
            if value is not None and key not in known:
                known[key] = value
    return {k: v for k, v in known.items() if k not in cli_keys}


def parse_port(value: str) -> list[dict[str, Any]]:
    """A ``-p`` value (``[IP:][HOST:]CONTAINER[/PROTO]``, ranges allowed) as canonical ports."""
    mapping, _, proto = value.strip().partition("/")
    parts = mapping.rsplit(":", 2)
    ip, host = "", ""
    if len(parts) == 2:
        host, target = parts
    elif len(parts) == 3:
        ip, host, target = parts
    else:
        target = parts[0]
    ip = ip.strip("[]")
    ranges = (target, host) if host else (target,)
    if proto not in ("", "tcp", "udp", "sctp") or not all(
            re.fullmatch(r"\d+(-\d+)?", r) for r in ranges):
        raise UsageError(f"invalid port specification: {value!r}")
    start, _, end = target.partition("-")
    targets = range(int(start), int(end or start) + 1)
    hosts: list[str] = [host] * len(targets)
    if "-" in host:
        first, _, last = host.partition("-")
        span = range(int(first), int(last) + 1)
        if len(span) == len(targets):
            hosts = [str(p) for p in span]
    out = []
    for number, published in zip(targets, hosts, strict=True):
        port: dict[str, Any] = {"mode": "ingress", "target": number,
                                "protocol": proto or "tcp"}
        if published:
            port["published"] = published
        if ip:
            port["host_ip"] = ip
        out.append(port)
    return out


def parse_volume(value: str, working_dir: str) -> dict[str, Any]:
    """A ``-v`` value (``[SOURCE:]TARGET[:MODE]``) as a canonical service volume."""
    parts = value.split(":")
    if len(parts) == 1:
        return {"type": "volume", "target": parts[0], "volume": {}}
    if len(parts) > 3 or not parts[1]:
        raise UsageError(f"invalid volume specification: {value!r}")
    source, target = parts[0], parts[1]
    mode = parts[2] if len(parts) == 3 else ""
    volume: dict[str, Any]
    if source.startswith(("/", ".", "~")):
        path = os.path.expanduser(source)
        volume = {"type": "bind", "source": os.path.normpath(os.path.join(working_dir, path)),
                  "target": target, "bind": {"create_host_path": True}}
    else:
        volume = {"type": "volume", "source": source, "target": target, "volume": {}}
    if "ro" in mode.split(","):
        volume["read_only"] = True
    return volume


def oneoff_service(project: Mapping[str, Any], options: RunOptions, *,
                   environment: Mapping[str, str], working_dir: str, slug: str
                   ) -> tuple[str, dict[str, Any]]:
    """The one-off container's name and its service dict (canonical, changed by the flags)."""
    services = project.get("services") or {}
    if options.service not in services:
        raise UsageError(f"no such service: {options.service}")
    service = copy.deepcopy(dict(services[options.service]))
    service["tty"] = options.tty
    service["stdin_open"] = options.interactive
    if options.command:
        service["command"] = list(options.command)
    if options.user:
        service["user"] = options.user
    if options.workdir:
        service["working_dir"] = options.workdir
    if options.entrypoint is not None:
        service["entrypoint"] = list(options.entrypoint)
        if not options.command:
            service["command"] = []
    if options.cap_add:
        service["cap_add"] = sorted(set(service.get("cap_add") or ()) | set(options.cap_add))
    if options.cap_drop:
        service["cap_drop"] = sorted(set(service.get("cap_drop") or ()) | set(options.cap_drop))
    if options.environment or options.file_environment:
        env = {**(service.get("environment") or {}), **options.file_environment}
        for entry in options.environment:
            key, sep, val = entry.partition("=")
            if sep:
                env[key] = val
            elif key in environment:
                env[key] = environment[key]
        service["environment"] = env
    if options.labels:
        service["labels"] = {**(service.get("labels") or {}), **options.labels}
    if not options.service_ports:
        ports: list[dict[str, Any]] = []
        for value in options.publish:
            ports += parse_port(value)
        service["ports"] = ports
    if options.volumes:
        service["volumes"] = list(service.get("volumes") or ()) + [
            parse_volume(v, working_dir) for v in options.volumes]
    service.pop("restart", None)
    deploy = service.get("deploy")
    if isinstance(deploy, dict):
        deploy.pop("restart_policy", None)
    service.pop("scale", None)
    name = options.name or f"{project.get('name')}-{options.service}-run-{slug[:12]}"
    service["container_name"] = name
    return name, service


def _network_keys(service: Mapping[str, Any]) -> list[str]:
    if service.get("network_mode"):
        return []
    return spec.networks_by_priority(service) or []


def _volume_keys(project: Mapping[str, Any], service: Mapping[str, Any]) -> list[str]:
    declared = project.get("volumes") or {}
    return [str(v["source"]) for v in service.get("volumes") or ()
            if v.get("type") == "volume" and v.get("source") in declared]


async def _ensure_resources(backend: Backend, project: Mapping[str, Any],
                            service: Mapping[str, Any]) -> None:
    """Create the project networks and volumes the service uses that are missing."""
    name = str(project.get("name"))
    for key in _network_keys(service):
        cfg = (project.get("networks") or {}).get(key) or {}
        network = str(cfg.get("name") or resource_name(name, key))
        try:
            await backend.inspect_network(network)
        except NotFoundError:
            if cfg.get("external"):
                raise NotFoundError(
                    f"network {network} declared as external, but could not be found"
                ) from None
            await backend.create_network(network, spec.network_create_body(project, key))
    for key in _volume_keys(project, service):
        cfg = (project.get("volumes") or {}).get(key) or {}
        volume = str(cfg.get("name") or resource_name(name, key))
        try:
            await backend.inspect_volume(volume)
        except NotFoundError:
            if cfg.get("external"):
                raise NotFoundError(f'external volume "{volume}" not found') from None
            await backend.create_volume(volume, spec.volume_create_body(project, key))


async def create_oneoff(backend: Backend, project: Mapping[str, Any], options: RunOptions, *,
                        environment: Mapping[str, str], working_dir: str,
                        config_files: Sequence[str]) -> tuple[str, str]:
    """Create the one-off container for ``options.service`` (not started); (id, name).

    ``project`` is the canonical project dict; the image must exist already.
    """
    slug = secrets.token_hex(32)
    name, service = oneoff_service(project, options, environment=environment,
                                   working_dir=working_dir, slug=slug)
    await _ensure_resources(backend, project, service)
    image = service_image(str(project.get("name")), options.service, service)
    image_id = await backend.image_id(image)
    if image_id is None:
        await backend.pull_image(image)
        image_id = await backend.image_id(image) or ""
    observed = await backend.observe(str(project.get("name")))
    refs: dict[str, list[spec.ContainerRef]] = {}
    for c in sorted(observed.containers, key=lambda c: c.number):
        if not c.oneoff and c.state == "running":
            refs.setdefault(c.service, []).append(spec.ContainerRef(c.name, c.id))
    data = {**project, "services": {**(project.get("services") or {}),
                                    options.service: service}}
    request = spec.container_create_request(
        data, options.service, service, 1,
        environment=environment,
        config_files=list(config_files),
        working_dir=working_dir,
        image_id=image_id,
        config_hash=service_config_hash(service),
        oneoff=True,
        api_version=backend.api_version,
        containers=refs,
        attach_stdin=options.interactive,
        auto_remove=options.remove,
        use_network_aliases=options.use_aliases,
        extra_labels={LABEL_SLUG: slug},
    )
    body = copy.deepcopy(dict(request.body))
    # v2 gives a one-off container no number (it is "-1", and the label is left out).
    body["Labels"].pop(spec.LABEL_CONTAINER_NUMBER, None)
    container_id = await backend.create_container(name, body, platform=request.platform)
    for network, endpoint in request.connects:
        await backend.connect_network(network, container_id, endpoint)
    return container_id, name
