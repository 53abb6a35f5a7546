"""The typed, frozen project model, built from the canonical project dict.

The canonical dict is what Docker Compose v2 prints with ``config --format json``
(the loader's output). :meth:`Project.from_dict` turns it into frozen dataclasses
and :meth:`Project.to_dict` gives the same dict back, key for key.

Conventions shared by every class:

* an attribute that is ``None`` was absent from the dict (so ``attach=False`` and
  no ``attach`` differ, as they do for compose);
* lists are tuples, maps are read-only mappings (``types.MappingProxyType``);
* durations are ``int`` nanoseconds and byte sizes ``int`` bytes (the dict holds
  Go's strings, ``"1m30s"`` and ``"536870912"``; see :mod:`composer.model.units`);
* keys a class does not know (``x-`` extensions included) are kept, frozen, in its
  ``extensions`` and written back by ``to_dict``.

Each class is the model of one struct of compose-go's field table
(:mod:`composer.model.fields`), which says how its dict keys load and dump (in
compose-go's order, v2's own, which ``to_dict`` writes): a class whose attributes
differ from its struct's fields fails at import. Strings are kept exactly as given:
the loader's values, not re-escaped for printing.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from composer.model import fields
from composer.model._codec import EMPTY, Codec, bind, freeze, model, thaw

__all__ = [
    "BindOptions",
    "BlkioConfig",
    "BuildConfig",
    "ConfigObjConfig",
    "CredentialSpec",
    "Deploy",
    "DependsOn",
    "DeviceMapping",
    "DeviceRequest",
    "DevelopConfig",
    "DiscreteResource",
    "EnvFile",
    "ExtendsConfig",
    "FileObjectConfig",
    "FileReference",
    "GenericResource",
    "Healthcheck",
    "ImageOptions",
    "IpamConfig",
    "IpamPool",
    "Logging",
    "ModelConfig",
    "NetworkConfig",
    "Placement",
    "PlacementPreference",
    "PortConfig",
    "Project",
    "Resource",
    "Resources",
    "RestartPolicy",
    "SecretConfig",
    "ServiceConfig",
    "ServiceHook",
    "ServiceModel",
    "ServiceNetwork",
    "ServiceProvider",
    "ThrottleDevice",
    "TmpfsOptions",
    "Ulimit",
    "UpdateConfig",
    "VolumeConfig",
    "VolumeMount",
    "VolumeOptions",
    "WatchTrigger",
    "WeightDevice",
]

Strings = tuple[str, ...]
StrMap = Mapping[str, str]
Extensions = Mapping[str, Any]


# --- small value types -------------------------------------------------------

@model
class Ulimit:
    """One ulimit: ``single`` when written as a bare number, else ``soft``/``hard``."""

    single: int | None = None
    soft: int | None = None
    hard: int | None = None
    extensions: Extensions = EMPTY

    @classmethod
    def from_value(cls, value: int | Mapping[str, Any]) -> Ulimit:
        """From ``65535`` or ``{"soft": 1, "hard": 2}``."""
        if isinstance(value, int):
            return cls(single=value)
        return cls(**{k: v for k, v in value.items() if k in ("single", "soft", "hard")},
                   extensions=freeze({k: v for k, v in value.items()
                                      if k not in ("single", "soft", "hard")}) or EMPTY)

    def to_value(self) -> int | dict[str, Any]:
        """Back to the canonical form (the number when ``single`` is set)."""
        if self.single is not None and not self.extensions:
            return self.single
        out: dict[str, Any] = {}
        for key in ("single", "soft", "hard"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out.update(thaw(self.extensions))
        return out

    @property
    def limits(self) -> tuple[int, int]:
        """(soft, hard) as the engine wants them; a single value sets both."""
        if self.single is not None:
            return self.single, self.single
        soft = self.soft or 0
        return soft, self.hard if self.hard is not None else soft


@model
class EnvFile:
    """An ``env_file`` entry (only present when env files were not resolved yet).

    A bare path string loads with ``required`` and ``format`` left ``None`` and
    dumps back to the string.
    """

    path: str
    required: bool | None = None
    format: str | None = None
    extensions: Extensions = EMPTY

    @classmethod
    def from_value(cls, value: str | Mapping[str, Any]) -> EnvFile:
        """From ``"a.env"`` or ``{"path": ..., "required": ..., "format": ...}``."""
        if isinstance(value, str):
            return cls(path=value)
        known = {k: v for k, v in value.items() if k in ("path", "required", "format")}
        rest = {k: v for k, v in value.items() if k not in known}
        return cls(**known, extensions=freeze(rest) if rest else EMPTY)

    def to_value(self) -> str | dict[str, Any]:
        """Back to the form it was read in."""
        if self.required is None and self.format is None and not self.extensions:
            return self.path
        out: dict[str, Any] = {"path": self.path}
        if self.required is not None:
            out["required"] = self.required
        if self.format is not None:
            out["format"] = self.format
        out.update(thaw(self.extensions))
        return out


@model
class FileReference:
    """A service's reference to a secret or config: ``{source, target, uid, gid, mode}``."""

    source: str | None = None
    target: str | None = None
    uid: str | None = None
    gid: str | None = None
    mode: int | None = None  # permission bits, printed in octal ("0440")
    extensions: Extensions = EMPTY


@model
class ServiceHook:
    """A ``post_start``/``pre_stop`` hook, or a watch rule's ``exec``."""

    command: Strings | None = None
    user: str | None = None
    privileged: bool | None = None
    working_dir: str | None = None
    environment: Mapping[str, str | None] | None = None
    extensions: Extensions = EMPTY


# --- build -------------------------------------------------------------------

@model
class BuildConfig:
    """``build:``. Paths are absolute in the canonical form."""

    context: str | None = None
    dockerfile: str | None = None
    dockerfile_inline: str | None = None
    entitlements: Strings | None = None
    args: Mapping[str, str | None] | None = None
    provenance: str | None = None
    sbom: str | None = None
    ssh: Strings | None = None
    labels: StrMap | None = None
    cache_from: Strings | None = None
    cache_to: Strings | None = None
    no_cache: bool | None = None
    additional_contexts: StrMap | None = None
    pull: bool | None = None
    extra_hosts: Strings | None = None  # "host=ip", sorted
    isolation: str | None = None
    network: str | None = None
    target: str | None = None
    secrets: tuple[FileReference, ...] | None = None
    shm_size: int | None = None
    tags: Strings | None = None
    ulimits: Mapping[str, Ulimit] | None = None
    platforms: Strings | None = None
    privileged: bool | None = None
    extensions: Extensions = EMPTY


# --- develop -----------------------------------------------------------------

@model
class WatchTrigger:
    """One ``develop.watch`` rule."""

    path: str | None = None
    action: str | None = None
    target: str | None = None
    exec: ServiceHook | None = None
    include: Strings | None = None
    ignore: Strings | None = None
    initial_sync: bool | None = None
    extensions: Extensions = EMPTY


@model
class DevelopConfig:
    """``develop:``."""

    watch: tuple[WatchTrigger, ...] | None = None
    extensions: Extensions = EMPTY


# --- blkio -------------------------------------------------------------------

@model
class WeightDevice:
    """``{Path, Weight}`` (compose-go gives these no JSON names, hence the capitals)."""

    path: str | None = None
    weight: int | None = None
    extensions: Extensions = EMPTY


@model
class ThrottleDevice:
    """``{Path, Rate}``; the rate is bytes (or operations) per second."""

    path: str | None = None
    rate: int | None = None
    extensions: Extensions = EMPTY


@model
class BlkioConfig:
    """``blkio_config:``."""

    weight: int | None = None
    weight_device: tuple[WeightDevice, ...] | None = None
    device_read_bps: tuple[ThrottleDevice, ...] | None = None
    device_read_iops: tuple[ThrottleDevice, ...] | None = None
    device_write_bps: tuple[ThrottleDevice, ...] | None = None
    device_write_iops: tuple[ThrottleDevice, ...] | None = None
    extensions: Extensions = EMPTY


# --- deploy ------------------------------------------------------------------

@model
class DeviceRequest:
    """A GPU/device reservation (``gpus:`` or ``deploy.resources.*.devices``).

    ``count`` is -1 for ``all``.
    """

    capabilities: Strings | None = None
    driver: str | None = None
    count: int | None = None
    device_ids: Strings | None = None
    options: StrMap | None = None
    extensions: Extensions = EMPTY


@model
class DiscreteResource:
    """``discrete_resource_spec``: ``kind`` and an integer ``value``."""

    kind: str | None = None
    value: int | None = None
    extensions: Extensions = EMPTY


@model
class GenericResource:
    """One ``generic_resources`` entry."""

    discrete_resource_spec: DiscreteResource | None = None
    extensions: Extensions = EMPTY


@model
class Resource:
    """``limits`` or ``reservations``: cpus as a float, memory in bytes."""

    cpus: float | None = None
    memory: int | None = None
    pids: int | None = None
    devices: tuple[DeviceRequest, ...] | None = None
    generic_resources: tuple[GenericResource, ...] | None = None
    extensions: Extensions = EMPTY


@model
class Resources:
    """``deploy.resources``."""

    limits: Resource | None = None
    reservations: Resource | None = None
    extensions: Extensions = EMPTY


@model
class UpdateConfig:
    """``update_config`` / ``rollback_config``; delays in nanoseconds."""

    parallelism: int | None = None
    delay: int | None = None
    failure_action: str | None = None
    monitor: int | None = None
    max_failure_ratio: float | None = None
    order: str | None = None
    extensions: Extensions = EMPTY


@model
class RestartPolicy:
    """``deploy.restart_policy``; delay and window in nanoseconds."""

    condition: str | None = None
    delay: int | None = None
    max_attempts: int | None = None
    window: int | None = None
    extensions: Extensions = EMPTY


@model
class PlacementPreference:
    """One ``placement.preferences`` entry."""

    spread: str | None = None
    extensions: Extensions = EMPTY


@model
class Placement:
    """``deploy.placement``."""

    constraints: Strings | None = None
    preferences: tuple[PlacementPreference, ...] | None = None
    max_replicas_per_node: int | None = None
    extensions: Extensions = EMPTY


@model
class Deploy:
    """``deploy:``. v2 always prints ``resources`` and ``placement`` (maybe empty)."""

    mode: str | None = None
    replicas: int | None = None
    labels: StrMap | None = None
    update_config: UpdateConfig | None = None
    rollback_config: UpdateConfig | None = None
    resources: Resources | None = None
    restart_policy: RestartPolicy | None = None
    placement: Placement | None = None
    endpoint_mode: str | None = None
    extensions: Extensions = EMPTY


# --- other service parts -----------------------------------------------------

@model
class CredentialSpec:
    """``credential_spec:`` (Windows)."""

    config: str | None = None
    file: str | None = None
    registry: str | None = None
    extensions: Extensions = EMPTY


@model
class DependsOn:
    """One ``depends_on`` entry."""

    condition: str | None = None  # one of composer.model.conditions.CONDITIONS
    restart: bool | None = None
    required: bool | None = None
    extensions: Extensions = EMPTY


@model
class DeviceMapping:
    """One ``devices`` entry."""

    source: str | None = None
    target: str | None = None
    permissions: str | None = None
    extensions: Extensions = EMPTY


@model
class ServiceProvider:
    """``provider:``: a service run by a plugin; every option is a list of strings."""

    type: str | None = None
    options: Mapping[str, Strings] | None = None
    extensions: Extensions = EMPTY


@model
class ExtendsConfig:
    """``extends:`` as compose-go keeps it (the loader resolves it away)."""

    file: str | None = None
    service: str | None = None
    extensions: Extensions = EMPTY


@model
class Healthcheck:
    """``healthcheck:``; durations in nanoseconds (format with ``units.format_duration``)."""

    test: Strings | None = None
    timeout: int | None = None
    interval: int | None = None
    retries: int | None = None
    start_period: int | None = None
    start_interval: int | None = None
    disable: bool | None = None
    extensions: Extensions = EMPTY


@model
class Logging:
    """``logging:``."""

    driver: str | None = None
    options: StrMap | None = None
    extensions: Extensions = EMPTY


@model
class ServiceModel:
    """A service's ``models`` entry."""

    endpoint_var: str | None = None
    model_var: str | None = None
    extensions: Extensions = EMPTY


@model
class ServiceNetwork:
    """A service's attachment to one network (``networks.<name>``)."""

    aliases: Strings | None = None
    driver_opts: StrMap | None = None
    gw_priority: int | None = None
    interface_name: str | None = None
    ipv4_address: str | None = None
    ipv6_address: str | None = None
    link_local_ips: Strings | None = None
    mac_address: str | None = None
    priority: int | None = None
    extensions: Extensions = EMPTY


@model
class PortConfig:
    """One published or exposed port, in the long syntax v2 normalises to."""

    name: str | None = None
    mode: str | None = None  # "ingress" | "host"
    host_ip: str | None = None
    target: int | None = None
    published: str | None = None  # a port or a range, as a string
    protocol: str | None = None
    app_protocol: str | None = None
    extensions: Extensions = EMPTY


@model
class BindOptions:
    """``bind:`` options of a bind mount."""

    selinux: str | None = None
    propagation: str | None = None
    create_host_path: bool | None = None
    recursive: str | None = None
    extensions: Extensions = EMPTY


@model
class VolumeOptions:
    """``volume:`` options of a volume mount."""

    labels: StrMap | None = None
    nocopy: bool | None = None
    subpath: str | None = None
    extensions: Extensions = EMPTY


@model
class TmpfsOptions:
    """``tmpfs:`` options: size in bytes, mode as permission bits."""

    size: int | None = None
    mode: int | None = None
    extensions: Extensions = EMPTY


@model
class ImageOptions:
    """``image:`` options of an image mount."""

    subpath: str | None = None
    extensions: Extensions = EMPTY


@model
class VolumeMount:
    """One ``volumes`` entry of a service, in the long syntax."""

    type: str | None = None  # volume | bind | tmpfs | npipe | cluster | image
    source: str | None = None
    target: str | None = None
    read_only: bool | None = None
    consistency: str | None = None
    bind: BindOptions | None = None
    volume: VolumeOptions | None = None
    tmpfs: TmpfsOptions | None = None
    image: ImageOptions | None = None
    extensions: Extensions = EMPTY


# --- the service -------------------------------------------------------------

@model
class ServiceConfig:
    """One service. ``command``/``entrypoint`` of ``None`` print as ``null``, as v2 does.

    ``extensions`` holds ``x-`` keys and any key this model does not know.
    """

    name: str = ""
    profiles: Strings | None = None
    annotations: StrMap | None = None
    attach: bool | None = None
    build: BuildConfig | None = None
    develop: DevelopConfig | None = None
    blkio_config: BlkioConfig | None = None
    cap_add: Strings | None = None
    cap_drop: Strings | None = None
    cgroup_parent: str | None = None
    cgroup: str | None = None
    cpu_count: int | None = None
    cpu_percent: float | None = None
    cpu_period: int | None = None
    cpu_quota: int | None = None
    cpu_rt_period: int | None = None
    cpu_rt_runtime: int | None = None
    cpus: float | None = None
    cpuset: str | None = None
    cpu_shares: int | None = None
    command: Strings | None = None
    configs: tuple[FileReference, ...] | None = None
    container_name: str | None = None
    credential_spec: CredentialSpec | None = None
    depends_on: Mapping[str, DependsOn] | None = None
    deploy: Deploy | None = None
    device_cgroup_rules: Strings | None = None
    devices: tuple[DeviceMapping, ...] | None = None
    dns: Strings | None = None
    dns_opt: Strings | None = None
    dns_search: Strings | None = None
    dockerfile: str | None = None
    domainname: str | None = None
    entrypoint: Strings | None = None
    provider: ServiceProvider | None = None
    environment: Mapping[str, str | None] | None = None
    env_file: tuple[EnvFile, ...] | None = None
    expose: Strings | None = None
    extends: ExtendsConfig | None = None
    external_links: Strings | None = None
    extra_hosts: Strings | None = None  # "host=ip", sorted, as v2 prints them
    group_add: Strings | None = None
    gpus: tuple[DeviceRequest, ...] | None = None
    hostname: str | None = None
    healthcheck: Healthcheck | None = None
    image: str | None = None
    init: bool | None = None
    ipc: str | None = None
    isolation: str | None = None
    labels: StrMap | None = None
    label_file: Strings | None = None
    links: Strings | None = None
    logging: Logging | None = None
    log_driver: str | None = None
    log_opt: StrMap | None = None
    mem_limit: int | None = None
    mem_reservation: int | None = None
    memswap_limit: int | None = None
    mem_swappiness: int | None = None
    mac_address: str | None = None
    models: Mapping[str, ServiceModel | None] | None = None
    net: str | None = None
    network_mode: str | None = None
    networks: Mapping[str, ServiceNetwork | None] | None = None
    oom_kill_disable: bool | None = None
    oom_score_adj: int | None = None
    pid: str | None = None
    pids_limit: int | None = None
    platform: str | None = None
    ports: tuple[PortConfig, ...] | None = None
    privileged: bool | None = None
    pull_policy: str | None = None
    read_only: bool | None = None
    restart: str | None = None
    runtime: str | None = None
    scale: int | None = None
    secrets: tuple[FileReference, ...] | None = None
    security_opt: Strings | None = None
    shm_size: int | None = None
    stdin_open: bool | None = None
    stop_grace_period: int | None = None
    stop_signal: str | None = None
    storage_opt: StrMap | None = None
    sysctls: StrMap | None = None
    tmpfs: Strings | None = None
    tty: bool | None = None
    ulimits: Mapping[str, Ulimit] | None = None
    use_api_socket: bool | None = None
    user: str | None = None
    userns_mode: str | None = None
    uts: str | None = None
    volume_driver: str | None = None
    volumes: tuple[VolumeMount, ...] | None = None
    volumes_from: Strings | None = None
    working_dir: str | None = None
    post_start: tuple[ServiceHook, ...] | None = None
    pre_stop: tuple[ServiceHook, ...] | None = None
    extensions: Extensions = EMPTY

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], name: str = "") -> ServiceConfig:
        """A service from its canonical dict (``name`` is its key under ``services``)."""
        return _load_service(data, name)

    def to_dict(self) -> dict[str, Any]:
        """The canonical dict, keys in v2's order; ``x-``/unknown keys at the end."""
        return _SERVICE.dump(self)

    @property
    def replicas(self) -> int:
        """How many containers compose runs: ``scale``, else ``deploy.replicas``, else 1."""
        if self.scale is not None:
            return self.scale
        if self.deploy is not None and self.deploy.replicas is not None:
            return self.deploy.replicas
        return 1

    def extra_hosts_for_engine(self) -> list[str]:
        """``extra_hosts`` as the engine's ``host:ip`` strings."""
        return [h.replace("=", ":", 1) for h in self.extra_hosts or ()]


def _load_service(data: Mapping[str, Any], name: str,
                  extensions: Mapping[str, Any] | None = None) -> ServiceConfig:
    service: ServiceConfig = _SERVICE.load(data)
    state = service.__dict__
    state["name"] = name
    if extensions:
        state["extensions"] = MappingProxyType(
            {**service.extensions, **{k: freeze(v) for k, v in extensions.items()}})
    return service


# --- top-level resources -----------------------------------------------------

@model
class IpamPool:
    """One ``ipam.config`` entry."""

    subnet: str | None = None
    gateway: str | None = None
    ip_range: str | None = None
    aux_addresses: StrMap | None = None
    extensions: Extensions = EMPTY


@model
class IpamConfig:
    """A network's ``ipam`` (v2 always prints it, often as ``{}``)."""

    driver: str | None = None
    config: tuple[IpamPool, ...] | None = None
    extensions: Extensions = EMPTY


@model
class NetworkConfig:
    """A top-level network; ``name`` is the engine's name (``{project}_{key}``)."""

    name: str | None = None
    driver: str | None = None
    driver_opts: StrMap | None = None
    ipam: IpamConfig | None = None
    external: bool | None = None
    internal: bool | None = None
    attachable: bool | None = None
    labels: StrMap | None = None
    enable_ipv4: bool | None = None
    enable_ipv6: bool | None = None
    extensions: Extensions = EMPTY

    def to_dict(self) -> dict[str, Any]:
        """The canonical dict, keys in v2's order; ``x-``/unknown keys at the end."""
        return _NETWORK.dump(self)


@model
class VolumeConfig:
    """A top-level volume; ``name`` is the engine's name (``{project}_{key}``)."""

    name: str | None = None
    driver: str | None = None
    driver_opts: StrMap | None = None
    external: bool | None = None
    labels: StrMap | None = None
    extensions: Extensions = EMPTY

    def to_dict(self) -> dict[str, Any]:
        """The canonical dict, keys in v2's order; ``x-``/unknown keys at the end."""
        return _VOLUME.dump(self)


@model
class FileObjectConfig:
    """A top-level secret or config: from a ``file``, an ``environment`` variable or
    inline ``content``, or ``external``."""

    name: str | None = None
    file: str | None = None
    environment: str | None = None
    content: str | None = None
    external: bool | None = None
    labels: StrMap | None = None
    driver: str | None = None
    driver_opts: StrMap | None = None
    template_driver: str | None = None
    extensions: Extensions = EMPTY

    def to_dict(self) -> dict[str, Any]:
        """The canonical dict, keys in v2's order; ``x-``/unknown keys at the end."""
        return _FILE_OBJECT.dump(self)


SecretConfig = FileObjectConfig
ConfigObjConfig = FileObjectConfig


@model
class ModelConfig:
    """A top-level AI model (``models:``)."""

    name: str | None = None
    model: str | None = None
    context_size: int | None = None
    runtime_flags: Strings | None = None
    extensions: Extensions = EMPTY

    def to_dict(self) -> dict[str, Any]:
        """The canonical dict, keys in v2's order; ``x-``/unknown keys at the end."""
        return _MODEL.dump(self)


def _load_all(codec: Codec, value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if not value:
        return EMPTY
    return MappingProxyType({k: None if v is None else codec.load(v)
                             for k, v in value.items()})


def _dump_all(codec: Codec, value: Mapping[str, Any]) -> dict[str, Any]:
    return {k: None if v is None else codec.dump(v) for k, v in value.items()}


_TOP_LEVEL = ("name", "services", "networks", "volumes", "secrets", "configs", "models")


@model
class Project:
    """A loaded, normalised project.

    ``services`` keeps the dict's order; every other top-level map is empty when
    absent. ``extensions`` holds top-level ``x-`` keys and unknown keys;
    ``working_dir`` is not part of the canonical dict and is passed by the caller.
    """

    name: str
    services: Mapping[str, ServiceConfig] = EMPTY
    networks: Mapping[str, NetworkConfig | None] = EMPTY
    volumes: Mapping[str, VolumeConfig | None] = EMPTY
    secrets: Mapping[str, FileObjectConfig | None] = EMPTY
    configs: Mapping[str, FileObjectConfig | None] = EMPTY
    models: Mapping[str, ModelConfig | None] = EMPTY
    extensions: Extensions = EMPTY
    working_dir: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, working_dir: str | None = None,
                  extensions: Mapping[str, Mapping[str, Any]] | None = None) -> Project:
        """The model of a canonical project dict; ``to_dict()`` gives ``data`` back.

        ``extensions`` adds keys the canonical dict leaves out to services, by
        service name: their ``x-`` keys (v2's JSON has none below the top level),
        which then are in each ``ServiceConfig.extensions`` (and in its
        ``to_dict()``). Raises ``ValueError`` for a duration or size the canonical
        form cannot hold.
        """
        more = extensions or {}
        services = {key: _load_service(value or {}, key, more.get(key))
                    for key, value in (data.get("services") or {}).items()}
        ext = {k: freeze(v) for k, v in data.items() if k not in _TOP_LEVEL}
        return cls(
            name=str(data.get("name", "")),
            services=MappingProxyType(services),
            networks=_load_all(_NETWORK, data.get("networks")),
            volumes=_load_all(_VOLUME, data.get("volumes")),
            secrets=_load_all(_FILE_OBJECT, data.get("secrets")),
            configs=_load_all(_FILE_OBJECT, data.get("configs")),
            models=_load_all(_MODEL, data.get("models")),
            extensions=MappingProxyType(ext) if ext else EMPTY,
            working_dir=working_dir,
        )

    def to_dict(self) -> dict[str, Any]:
        """The canonical dict, top-level keys sorted as v2 prints them; empty maps
        other than ``services`` are left out, as v2 does."""
        out: dict[str, Any] = {"name": self.name,
                               "services": {k: v.to_dict() for k, v in self.services.items()}}
        for key, codec, value in (
            ("networks", _NETWORK, self.networks),
            ("volumes", _VOLUME, self.volumes),
            ("secrets", _FILE_OBJECT, self.secrets),
            ("configs", _FILE_OBJECT, self.configs),
            ("models", _MODEL, self.models),
        ):
            if value:
                out[key] = _dump_all(codec, value)
        for key, ext in self.extensions.items():
            out[key] = thaw(ext)
        return {k: out[k] for k in sorted(out)}

    def service(self, name: str) -> ServiceConfig:
        """The service called ``name``; ``KeyError`` if there is none."""
        return self.services[name]

    @property
    def service_names(self) -> tuple[str, ...]:
        """Service names in the project's order."""
        return tuple(self.services)


_CODECS = bind({
    fields.SERVICE_HOOK: ServiceHook,
    fields.FILE_REFERENCE: FileReference,
    fields.ULIMIT: Ulimit,
    fields.BUILD: BuildConfig,
    fields.TRIGGER: WatchTrigger,
    fields.DEVELOP: DevelopConfig,
    fields.WEIGHT_DEVICE: WeightDevice,
    fields.THROTTLE_DEVICE: ThrottleDevice,
    fields.BLKIO: BlkioConfig,
    fields.CREDENTIAL_SPEC: CredentialSpec,
    fields.SERVICE_DEPENDENCY: DependsOn,
    fields.UPDATE_CONFIG: UpdateConfig,
    fields.DEVICE_REQUEST: DeviceRequest,
    fields.DISCRETE_RESOURCE: DiscreteResource,
    fields.GENERIC_RESOURCE: GenericResource,
    fields.RESOURCE: Resource,
    fields.RESOURCES: Resources,
    fields.RESTART_POLICY: RestartPolicy,
    fields.PLACEMENT_PREFERENCE: PlacementPreference,
    fields.PLACEMENT: Placement,
    fields.DEPLOY: Deploy,
    fields.DEVICE_MAPPING: DeviceMapping,
    fields.SERVICE_PROVIDER: ServiceProvider,
    fields.ENV_FILE: EnvFile,
    fields.EXTENDS: ExtendsConfig,
    fields.HEALTHCHECK: Healthcheck,
    fields.LOGGING: Logging,
    fields.SERVICE_MODEL: ServiceModel,
    fields.SERVICE_NETWORK: ServiceNetwork,
    fields.PORT: PortConfig,
    fields.VOLUME_BIND: BindOptions,
    fields.VOLUME_VOLUME: VolumeOptions,
    fields.VOLUME_TMPFS: TmpfsOptions,
    fields.VOLUME_IMAGE: ImageOptions,
    fields.SERVICE_VOLUME: VolumeMount,
    fields.SERVICE: ServiceConfig,
    fields.IPAM_POOL: IpamPool,
    fields.IPAM: IpamConfig,
    fields.NETWORK: NetworkConfig,
    fields.VOLUME: VolumeConfig,
    fields.FILE_OBJECT: FileObjectConfig,
    fields.MODEL: ModelConfig,
})
_SERVICE = _CODECS[fields.SERVICE]
_NETWORK = _CODECS[fields.NETWORK]
_VOLUME = _CODECS[fields.VOLUME]
_FILE_OBJECT = _CODECS[fields.FILE_OBJECT]
_MODEL = _CODECS[fields.MODEL]
