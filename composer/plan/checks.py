"""Refusals before anything is made: what the engine is sure to refuse, found while planning. Pure.

Docker Compose v2 sends each value to the engine as it is and learns of a bad one
from the engine's refusal, after it has made the project's network (and, for a
value refused only when the container starts, the container). composer plans the
whole project first, so :func:`check_services` refuses such a value while
planning, before the first step runs: one :class:`~composer.errors.ValidationError`
naming the key path (the api adds the file and line) and the bad value.

Only what every engine is certain to refuse is refused here; what depends on the
engine's host (its CPU count, its kernel's cgroup features, its runtimes and log
plugins) is left to the engine. Each rule names the engine check it mirrors
(Docker Engine's ``daemon/`` verifications, runc's at start); ``config`` keeps
printing what v2 prints for these files, since v2's loader accepts them.

The engine facts (:class:`EngineFacts`) are gathered by the api: the containers
found under the names the project asks for, and the host paths known missing
(only for an engine on this machine).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import field

from composer.backends.base import ContainerInfo
from composer.errors import ValidationError
from composer.frozen import frozen
from composer.model import labels
from composer.model.project import Project, ServiceConfig
from composer.model.units import format_duration

__all__ = ["EngineFacts", "check_oneoff_name", "check_services"]

Path = tuple[str | int, ...]

MIN_MEMORY = 6 * 1024 * 1024  # the engine's linuxMinMemory
MIN_DURATION = 1_000_000  # 1ms, the engine's minimum healthcheck duration (ns)

# runc's (and crun's) rlimit names; the engine sends "RLIMIT_" + the upper-cased name.
RLIMITS = frozenset({"as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue",
                     "nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending",
                     "stack"})

# The engine's signal names (moby/sys/signal, Linux; Windows knows fewer).
SIGNALS = frozenset({
    "ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT",
    "KILL", "PIPE", "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM",
    "TRAP", "TSTP", "TTIN", "TTOU", "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ",
    "UNUSED", "RTMIN", "RTMAX",
    *(f"RTMIN+{n}" for n in range(1, 16)), *(f"RTMAX-{n}" for n in range(1, 15)),
})

# The engine's container names (daemon/names: validContainerNamePattern).
_CONTAINER_NAME = re.compile(r"/?[a-zA-Z0-9][a-zA-Z0-9_.-]+")
_CAPABILITY = re.compile(r"[A-Z_]+")
_GO_ATOI = re.compile(r"[+-]?[0-9]+")
_CGROUP_RULE = re.compile(r"([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})")
_MAC_COLON = re.compile(r"[0-9a-fA-F]{2}(?:([:-])[0-9a-fA-F]{2})(?:\1[0-9a-fA-F]{2})*")
_MAC_DOT = re.compile(r"[0-9a-fA-F]{4}(?:\.[0-9a-fA-F]{4})+")
_IPC_MODES = frozenset({"", "none", "private", "shareable", "host"})
_ISOLATIONS = frozenset({"", "default", "process", "hyperv"})
_CDI_NAME = re.compile(r"^(?:[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+)=(?:[a-zA-Z0-9._:-]+)$")

_RESTART_NAMES = {"none": "no", "no": "no", "on-failure": "on-failure",
                  "unless-stopped": "unless-stopped", "any": "always", "always": "always"}


@frozen(kw_only=True)
class EngineFacts:
    """What only the engine (or its host) knows, gathered by the api before planning.

    ``containers`` maps each container name the project asks for
    (``container_name``, ``run --name``) to the container found under it, if
    any. ``missing_paths`` are host paths the project needs to exist (bind
    sources not to be created, devices) that do not; it is empty when the engine
    is not on this machine (nothing is known then). ``engine_checks``: whether the
    engine runs the healthchecks (only asked when it matters: a
    ``start_interval`` on an engine older than API 1.44).
    """

    containers: Mapping[str, ContainerInfo] = field(default_factory=dict)
    missing_paths: Collection[str] = ()
    #: False when composer runs the healthchecks (Podman without systemd, LXC): it
    #: honours ``healthcheck.start_interval`` whatever the engine's API version.
    engine_checks: bool = True


def check_services(project: Project, services: Iterable[ServiceConfig],
                   facts: EngineFacts | None = None) -> None:
    """Raise :class:`ValidationError` (with the key path) for the first value of the
    ``services`` (in their order) the engine is certain to refuse, for two services
    of the project with one ``container_name``, or for a ``container_name`` held by
    a container of another project."""
    facts = facts or EngineFacts()
    _check_unique_names(project)
    for service in services:
        for path, message in _problems(project, service, facts):
            raise ValidationError(message, path=path)


def check_oneoff_name(project: Project, service: ServiceConfig, name: str,
                      facts: EngineFacts | None) -> None:
    """``run --name``: the one-off container's name must be valid and free."""
    path: Path = ("services", service.name)
    if not _CONTAINER_NAME.fullmatch(name):
        raise ValidationError(f'--name "{name}" is not a valid container name: only '
                              "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", path=path)
    found = (facts or EngineFacts()).containers.get(name)
    if found is not None:
        raise ValidationError(f'--name "{name}" is already in use by container '
                              f"{found.id[:12]}{_owner(found)}", path=path)


# -- the rules ---------------------------------------------------------------------------------


def _check_unique_names(project: Project) -> None:
    seen: dict[str, str] = {}
    for name, service in project.services.items():
        cname = service.container_name
        if not cname:
            continue
        if cname in seen:
            # v2's words (its up refuses this too, before anything is made).
            raise ValidationError(
                f'container name "{cname}" is already in use by service {seen[cname]}',
                path=("services", name, "container_name"))
        seen[cname] = name


def _problems(project: Project, service: ServiceConfig,
              facts: EngineFacts) -> Iterator[tuple[Path, str]]:
    base: Path = ("services", service.name)
    yield from _container_name(project, service, base, facts)
    yield from _restart(service, base)
    yield from _healthcheck(service, base)
    yield from _resources(service, base)
    yield from _ports(service, base)
    yield from _mounts(service, base, facts)
    yield from _devices(service, base, facts)
    yield from _ulimits(service, base)
    yield from _capabilities(service, base)
    yield from _process(service, base)


def _owner(found: ContainerInfo) -> str:
    project = found.labels.get(labels.PROJECT)
    if not project:
        return " (not a compose container)"
    service = found.labels.get(labels.SERVICE)
    return f' (project "{project}"' + (f', service "{service}")' if service else ")")


def _container_name(project: Project, service: ServiceConfig, base: Path,
                    facts: EngineFacts) -> Iterator[tuple[Path, str]]:
    cname = service.container_name
    if not cname:
        return
    path = (*base, "container_name")
    if not _CONTAINER_NAME.fullmatch(cname):
        yield path, (f'"{cname}" is not a valid container name: only '
                     "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
        return
    found = facts.containers.get(cname)
    # A container of this project is converged by the plan (kept, recreated or, as an
    # orphan, removed): only another project's, or no project's, is certain to clash.
    if found is not None and found.labels.get(labels.PROJECT) != project.name:
        yield path, (f'container name "{cname}" is already in use by container '
                     f"{found.id[:12]}{_owner(found)}: remove or rename it, or change "
                     "container_name")


def _go_atoi(text: str) -> int:
    return int(text) if _GO_ATOI.fullmatch(text) else 0


def _restart_problem(name: str, count: int) -> str | None:
    # The engine's validateRestartPolicy.
    if name in ("always", "unless-stopped", "no"):
        if count != 0:
            return f"maximum retry count cannot be used with restart policy '{name}'"
        return None
    if name == "on-failure":
        return "maximum retry count cannot be negative" if count < 0 else None
    if name == "":
        return None
    return "unknown"


def _restart(service: ServiceConfig, base: Path) -> Iterator[tuple[Path, str]]:
    policy = service.deploy.restart_policy if service.deploy is not None else None
    if policy is not None:
        # deploy.restart_policy wins over restart, as v2 sends it.
        condition = policy.condition or ""
        name = _RESTART_NAMES.get(condition, condition)
        count = policy.max_attempts or 0
        problem = _restart_problem(name, count)
        if problem == "unknown":
            yield (*base, "deploy", "restart_policy", "condition"), (
                f'invalid restart policy condition "{condition}": expected none, '
                "on-failure or any")
        elif problem:
            yield (*base, "deploy", "restart_policy", "max_attempts"), (
                f"{count} with condition \"{condition}\": {problem}")
        return
    if not service.restart:
        return
    parts = service.restart.split(":")  # as v2: the count is the second piece, if a number
    name = _RESTART_NAMES.get(parts[0], parts[0])
    count = _go_atoi(parts[1]) if len(parts) > 1 else 0
    problem = _restart_problem(name, count)
    if problem == "unknown":
        yield (*base, "restart"), (f'invalid restart policy "{service.restart}": expected '
                                   "no, always, unless-stopped or on-failure[:N]")
    elif problem:
        yield (*base, "restart"), f'invalid restart policy "{service.restart}": {problem}'


def _healthcheck(service: ServiceConfig, base: Path) -> Iterator[tuple[Path, str]]:
    check = service.healthcheck
    if check is None:
        return
    path = (*base, "healthcheck")
    # The engine's verifyContainerSettings: each duration set is at least 1ms.
    for key, value in (("interval", check.interval), ("timeout", check.timeout),
                       ("start_period", check.start_period),
                       ("start_interval", check.start_interval)):
        if value and value < MIN_DURATION:
            yield (*path, key), (f"{format_duration(value)}: the engine refuses a "
                                 "healthcheck duration under 1ms")
    if check.retries is not None and check.retries < 0:
        yield (*path, "retries"), f"{check.retries}: the engine refuses a negative retry count"


def _resources(service: ServiceConfig, base: Path) -> Iterator[tuple[Path, str]]:
    # What v2 sends: deploy.resources.limits win over mem_limit and cpus when set.
    limits = (service.deploy.resources.limits
              if service.deploy is not None and service.deploy.resources is not None
              else None)
    memory, memory_path = service.mem_limit or 0, (*base, "mem_limit")
    if limits is not None and limits.memory:
        memory, memory_path = limits.memory, (*base, "deploy", "resources", "limits", "memory")
    cpus, cpus_path = service.cpus or 0.0, (*base, "cpus")
    if limits is not None and limits.cpus:
        cpus, cpus_path = limits.cpus, (*base, "deploy", "resources", "limits", "cpus")
    # The engine's verifyPlatformContainerResources, the checks made on every host.
    if memory != 0 and memory < MIN_MEMORY:
        yield memory_path, (f"{memory} bytes: the engine refuses a memory limit under 6MB "
                            "(6291456 bytes)")
    if memory == 0 and (service.memswap_limit or 0) > 0:
        yield (*base, "memswap_limit"), ("the engine refuses a swap limit without a memory "
                                         "limit: set mem_limit too")
    if (service.shm_size or 0) < 0:
        yield (*base, "shm_size"), f"{service.shm_size}: the engine refuses a negative size"
    if cpus < 0:
        yield cpus_path, f"{cpus:g}: the engine refuses a negative number of CPUs"


def _u16(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and int(text) <= 65535 else None


def _port_range_ok(text: str) -> bool:
    # The engine's nat.ParsePortRangeToInt on HostPort.
    if "-" not in text:
        return _u16(text) is not None
    parts = text.split("-")
    start, end = _u16(parts[0]), _u16(parts[1])
    return start is not None and end is not None and end >= start


def _ports(service: ServiceConfig, base: Path) -> Iterator[tuple[Path, str]]:
    for i, port in enumerate(service.ports or ()):
        path = (*base, "ports", i)
        if port.target is not None and not 0 <= port.target <= 65535:
            yield (*path, "target"), f"{port.target} is not a port number (0-65535)"
        if port.published and not _port_range_ok(port.published):
            yield (*path, "published"), (f'"{port.published}" is not a port or a range of '
                                         "ports (START-END, each 0-65535, START <= END)")


def _absolute(path: str) -> bool:
    # Absolute for a Linux engine or a Windows one: what neither takes is refused.
    return path.startswith(("/", "\\")) or re.match(r"[A-Za-z]:[\\/]", path) is not None


def _mounts(service: ServiceConfig, base: Path,
            facts: EngineFacts) -> Iterator[tuple[Path, str]]:
    if service.working_dir and not _absolute(service.working_dir):
        yield (*base, "working_dir"), (f'"{service.working_dir}": the engine needs an '
                                       "absolute path")
    for i, volume in enumerate(service.volumes or ()):
        path = (*base, "volumes", i)
        if volume.target and not _absolute(volume.target):
            yield (*path, "target"), (f'"{volume.target}": a mount path must be absolute')
        bind = volume.bind
        if (volume.type == "bind" and bind is not None and not bind.create_host_path
                and volume.source and posixpath.normpath(volume.source) in facts.missing_paths):
            yield (*path, "source"), (f"bind source path {volume.source} does not exist, and "
                                      "bind.create_host_path is false")
    for i, entry in enumerate(service.tmpfs or ()):
        target = entry.partition(":")[0]
        if target and not _absolute(target):
            yield (*base, "tmpfs", i), f'"{target}": a mount path must be absolute'


def _devices(service: ServiceConfig, base: Path,
             facts: EngineFacts) -> Iterator[tuple[Path, str]]:
    for i, device in enumerate(service.devices or ()):
        source = device.source or ""
        if source == device.target and _CDI_NAME.match(source):
            continue  # a CDI device name, resolved by the engine
        if source and posixpath.normpath(source) in facts.missing_paths:
            yield (*base, "devices", i), f"device {source} does not exist on the engine's host"
    for i, rule in enumerate(service.device_cgroup_rules or ()):
        if not _CGROUP_RULE.fullmatch(rule):
            yield (*base, "device_cgroup_rules", i), (
                f'"{rule}" is not a device cgroup rule (TYPE MAJOR:MINOR ACCESS, as '
                '"c 1:3 rwm")')


def _ulimits(service: ServiceConfig, base: Path) -> Iterator[tuple[Path, str]]:
    for name, value in (service.ulimits or {}).items():
        path = (*base, "ulimits", name)
        if name.lower() not in RLIMITS:
            yield path, (f'unknown ulimit "{name}": the engine knows '
                         + ", ".join(sorted(RLIMITS)))
            continue
        # As v2 sends them; the runtime reads them unsigned (-1: unlimited).
        soft = value.soft or value.single or 0
        hard = value.hard or value.single or 0
        if soft % (1 << 64) > hard % (1 << 64):
            yield path, f"soft limit {soft} is above hard limit {hard}"


def _capabilities(service: ServiceConfig, base: Path) -> Iterator[tuple[Path, str]]:
    for key, caps in (("cap_add", service.cap_add), ("cap_drop", service.cap_drop)):
        for i, cap in enumerate(caps or ()):
            upper = cap.upper()
            if upper == "ALL":
                continue
            bare = upper[4:] if upper.startswith("CAP_") else upper
            if not _CAPABILITY.fullmatch(bare) or bare == "ALL":
                yield (*base, key, i), (f'"{cap}" is not a capability name (letters and '
                                        "underscores, CAP_ optional, or ALL)")


def _process(service: ServiceConfig, base: Path) -> Iterator[tuple[Path, str]]:
    signal = service.stop_signal
    if signal and not (_GO_ATOI.fullmatch(signal) and int(signal) != 0) and (
            signal.upper().removeprefix("SIG") not in SIGNALS):
        yield (*base, "stop_signal"), f'"{signal}" is not a signal the engine knows'
    for key in (service.environment or {}):
        if not key:
            yield (*base, "environment"), "a variable with an empty name"
            break
    ipc = service.ipc or ""
    if not (ipc in _IPC_MODES or (ipc.startswith("container:") and len(ipc) > 10)
            or ipc.startswith("service:")):
        yield (*base, "ipc"), (f'"{ipc}" is not an IPC mode (none, private, shareable, '
                               "host, container:NAME or service:NAME)")
    isolation = service.isolation or ""
    if isolation.lower() not in _ISOLATIONS:
        yield (*base, "isolation"), (f'"{isolation}" is not an isolation (default, process '
                                     "or hyperv)")
    mac = service.mac_address
    if mac and not (_mac_ok(mac)):
        yield (*base, "mac_address"), f'"{mac}" is not a MAC address'


def _mac_ok(text: str) -> bool:
    # Go's net.ParseMAC: 6, 8 or 20 octets.
    if _MAC_COLON.fullmatch(text):
        return (len(text) + 1) // 3 in (6, 8, 20)
    if _MAC_DOT.fullmatch(text):
        return (len(text) + 1) // 5 * 2 in (6, 8, 20)
    return False
