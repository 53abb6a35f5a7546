"""Same file, same containers: composer's containers match Docker Compose v2's.

For each compose file below, Docker Compose v2 creates the project (``up --no-start``,
project A) and composer creates it from the same canonical project with
:mod:`composer.backends.spec` and the Docker backend (project B). ``docker inspect``
of both must agree on ``Config``, ``HostConfig`` and each network endpoint's aliases,
IPAM config, links and driver options, once project names and container IDs are put
back to names and the orders v2 takes from Go maps are sorted. The config-hash label
is compared on its own: composer's :func:`composer.model.hash.service_config_hash`
must give v2's value.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import anyio
import docker
import pytest

from composer._version import __version__
from composer.backends import spec
from composer.backends.docker import DockerBackend, connect
from composer.config.loader import LoadOptions, load_project
from composer.model.hash import service_config_hash

from .conftest import remove_project

pytestmark = [pytest.mark.engine, pytest.mark.oracle]

WEB = """
services:
  web:
    image: busybox
    command: ["httpd", "-f", "-p", "8080"]
    entrypoint: /bin/sh -c
    environment: {FOO: bar, EMPTY: "", UNSET: null, DOLLAR: "$$HOME"}
    env_file: [vars.env]
    working_dir: /srv
    user: "1000:1000"
    hostname: webhost
    domainname: example.org
    labels: {app.tier: front}
    ports:
      - "8080"
      - "127.0.0.1:18080:8080"
      - "18081-18082:9001-9002/udp"
      - {target: 9100, published: "19100", protocol: tcp, host_ip: 127.0.0.1}
    expose: ["3000", "4000/udp"]
    volumes:
      - ./data:/data
      - ./data:/data-ro:ro
      - named:/named
      - /anon
      - {type: tmpfs, target: /tmpfs, tmpfs: {size: 1048576, mode: 0750}}
      - {type: bind, source: ./existing, target: /nocreate, bind: {create_host_path: false}}
      - {type: volume, source: named, target: /nocopy, volume: {nocopy: true}}
      - {type: bind, source: ./data, target: /slave, bind: {propagation: rslave}}
    tmpfs: [/run/x:size=64k]
    healthcheck:
      test: ["CMD-SHELL", "wget -q -O- http://localhost:8080/ || exit 1"]
      interval: 1m30s
      timeout: 10s
      retries: 3
      start_period: 5s
    restart: on-failure:3
    stop_signal: SIGUSR1
    stop_grace_period: 20s
    init: true
    tty: true
    stdin_open: true
    cap_add: [NET_ADMIN, sys_time]
    cap_drop: [MKNOD]
    security_opt: ["no-new-privileges:true"]
    sysctls: {net.core.somaxconn: 1024}
    ulimits: {nproc: 65535, nofile: {soft: 20000, hard: 40000}}
    shm_size: 64m
    read_only: true
    logging: {driver: json-file, options: {max-size: 10m}}
    extra_hosts: ["somehost:162.242.195.82", "other=10.0.0.1"]
    dns: [8.8.8.8]
    dns_search: [example.com]
    dns_opt: ["ndots:2"]
    group_add: [audio]
    mem_limit: 128m
    memswap_limit: 256m
    mem_reservation: 64m
    cpus: 0.5
    cpu_shares: 512
    pids_limit: 100
    oom_score_adj: 100
    secrets: [token, {source: token, target: custom_token}]
    configs: [{source: appconf, target: /etc/app.conf}]
    networks:
      front: {aliases: [www]}
      back: {priority: 10}
    depends_on:
      db: {condition: service_healthy, restart: true}
  db:
    image: busybox
    command: sleep 3600
    deploy:
      replicas: 2
      restart_policy: {condition: on-failure, max_attempts: 5}
      resources:
        limits: {cpus: "0.25", memory: 50M, pids: 50}
        reservations: {memory: 20M}
    healthcheck: {test: ["CMD", "true"], interval: 5s}
    networks: [back]
    privileged: true
    pid: host
    ipc: shareable
    stop_grace_period: 1m30s
volumes:
  named: {labels: {vol.label: x}}
networks:
  front:
    labels: {net.label: y}
    driver_opts: {com.docker.network.bridge.enable_icc: "true"}
  back:
    internal: true
    ipam: {config: [{subnet: 10.231.0.0/16}]}
secrets:
  token: {file: ./secret.txt}
configs:
  appconf: {file: ./app.conf}
"""

REFERENCES = """
services:
  base:
    image: busybox
    command: sleep 1000
    volumes: [/shared]
    deploy: {replicas: 2}
    restart: unless-stopped
    healthcheck: {test: "exit 0"}
  side:
    image: busybox
    network_mode: "service:base"
    ipc: "service:base"
    pid: "service:base"
    volumes_from: [base, "base:ro"]
    restart: "no"
    healthcheck: {disable: true}
    depends_on: [base]
  linked:
    image: busybox
    container_name: ${LINKED_NAME}
    links: [base, "base:alias1"]
    external_links: ["some-container:ext"]
    devices: ["/dev/null:/dev/mynull:rwm", "/dev/zero"]
    device_cgroup_rules: ["c 1:3 mr"]
    ulimits: {core: 0}
    cpuset: "0"
    cpu_quota: 50000
    cpu_period: 100000
    mem_swappiness: 10
    oom_kill_disable: true
    uts: host
    init: false
    stop_signal: SIGTERM
    mac_address: "02:42:ac:11:65:43"
    annotations: {com.example.a: "1"}
    cgroup: host
    tmpfs: /run/y
    healthcheck: {test: ["NONE"]}
    networks:
      zeta: {ipv4_address: 10.232.0.10, aliases: [z1], link_local_ips: [169.254.10.10]}
      alpha:
      extnet:
    depends_on:
      base: {condition: service_started}
      side: {condition: service_completed_successfully, required: false}
  hostnet:
    image: busybox
    network_mode: host
    entrypoint: []
    command: []
    user: nobody
    volumes: [{type: volume, target: /z, volume: {nocopy: true}}]
  nonet:
    image: busybox
    network_mode: none
    pids_limit: -1
networks:
  zeta:
    ipam:
      driver: default
      config:
        - {subnet: 10.232.0.0/16, ip_range: 10.232.5.0/24, gateway: 10.232.0.1,
           aux_addresses: {host1: 10.232.1.5}}
  alpha: {attachable: true, driver: bridge}
  extnet: {external: true, name: "${EXTNET}"}
"""

LIMITS = """
services:
  a:
    image: busybox
    cap_add: [sys_admin, NET_ADMIN, CAP_NET_ADMIN, chown]
    cap_drop: [all]
    group_add: [100, audio]
    security_opt: ["seccomp=./seccomp.json", "systempaths=unconfined", "apparmor=unconfined",
                   "label=disable"]
    logging: {driver: none}
    cpu_count: 2
    cpu_percent: 50
    memswap_limit: -1
    oom_score_adj: -500
    userns_mode: host
    stop_grace_period: 1500ms
    restart: always
    ports: ["127.0.0.1::80", "[::1]:8080:81", "8000-8001:82-83", "5000:5000/sctp",
            "9090-9091:9090/udp", "6000-6002"]
    expose: ["7000-7002", "8000/tcp"]
    healthcheck: {interval: 30s, test: ["CMD", "true"]}
    deploy:
      restart_policy: {condition: none}
      resources:
        limits: {pids: 33, cpus: "0.1"}
        reservations:
          devices: [{capabilities: [gpu], driver: nvidia, count: all, options: {a: b}}]
    networks:
      n1:
        gw_priority: 5
        driver_opts: {com.docker.network.endpoint.sysctls: "net.ipv4.conf.IFNAME.log_martians=1"}
        priority: 100
      default:
  b:
    image: busybox
    init: true
    extends: {service: a}
    restart: on-failure
    deploy: {}
    mac_address: "02:42:ac:11:00:98"
    networks: [default]
    volumes: [dv:/dv]
    blkio_config:
      weight: 300
      device_read_bps: [{path: /dev/null, rate: 1mb}]
volumes:
  dv:
    driver: local
    driver_opts: {type: tmpfs, device: tmpfs, o: "size=100m"}
    labels: [a=b]
networks:
  n1:
    driver_opts: {com.docker.network.bridge.enable_icc: "false"}
    ipam:
      config:
        - subnet: 10.233.0.0/16
"""

PROJECTS = {"web": WEB, "references": REFERENCES, "limits": LIMITS}


def _write_project(folder: Path, text: str) -> None:
    (folder / "compose.yaml").write_text(text)
    (folder / "data").mkdir()
    (folder / "existing").mkdir()
    (folder / "secret.txt").write_text("s3cret\n")
    (folder / "app.conf").write_text("conf\n")
    (folder / "vars.env").write_text("FROM_FILE=1\n")
    (folder / "seccomp.json").write_text('{"defaultAction": "SCMP_ACT_ALLOW",\n "syscalls": []}')


def _order(services: Mapping[str, Any]) -> list[str]:
    """Services in an order where everything a service refers to comes first."""
    done: list[str] = []

    def needs(service: Mapping[str, Any]) -> set[str]:
        found = set(service.get("depends_on") or {})
        for key in ("network_mode", "ipc", "pid"):
            value = str(service.get(key) or "")
            if value.startswith("service:"):
                found.add(value[len("service:"):])
        for entry in service.get("volumes_from") or ():
            if not entry.startswith("container:"):
                found.add(entry.split(":")[0])
        for link in service.get("links") or ():
            found.add(link.split(":")[0])
        return found & set(services)

    def visit(name: str) -> None:
        if name in done:
            return
        for other in sorted(needs(services[name])):
            visit(other)
        done.append(name)

    for name in services:
        visit(name)
    return done


async def _create_with_composer(backend: DockerBackend, loaded: Any) -> None:
    """What ``up --no-start`` does, reduced to the engine calls (no plan, no scheduler)."""
    project = loaded.model
    for key, network in project.networks.items():
        if network is not None and not network.external:
            await backend.create_network(spec.network_name(project, key),
                                         spec.network_create_body(project, key))
    for key, volume in project.volumes.items():
        if volume is not None and not volume.external:
            await backend.create_volume(volume.name or f"{project.name}_{key}",
                                        spec.volume_create_body(project, key))
    refs: dict[str, list[spec.ContainerRef]] = {}
    for name in _order(loaded.data["services"]):
        service = project.services[name]
        assert service.image is not None
        image_id = await backend.image_id(service.image)
        assert image_id, service.image
        for number in range(1, service.replicas + 1):
            resolved = spec.resolve_service_references(service, refs)
            request = spec.container_create_request(
                project, service, number, environment=loaded.environment,
                config_files=loaded.config_files, working_dir=loaded.working_dir,
                image_id=image_id, config_hash=service_config_hash(resolved),
                api_version=backend.api_version, containers=refs,
            )
            container = await backend.create_container(request.name, request.body,
                                                       platform=request.platform)
            for network, endpoint in request.connects:
                await backend.connect_network(network, container, endpoint)
            refs.setdefault(name, []).append(spec.ContainerRef(request.name, container))


def _inspect_project(address: str, project: str) -> dict[str, dict[str, Any]]:
    client = docker.APIClient(base_url=address, version="auto")
    try:
        listed = client.containers(all=True, filters={
            "label": [f"com.docker.compose.project={project}"]})
        return {c["Names"][0].lstrip("/"): client.inspect_container(c["Id"]) for c in listed}
    finally:
        client.close()


def _inspect_resources(address: str, project: str) -> dict[str, dict[str, Any]]:
    client = docker.APIClient(base_url=address, version="auto")
    label = {"label": [f"com.docker.compose.project={project}"]}
    try:
        return {
            "networks": {n["Name"]: client.inspect_network(n["Id"])
                         for n in client.networks(filters=label)},
            "volumes": {v["Name"]: client.inspect_volume(v["Name"])
                        for v in (client.volumes(filters=label) or {}).get("Volumes") or []},
        }
    finally:
        client.close()


def _normalise_resources(inspected: Mapping[str, dict[str, Any]], project: str,
                         chosen: set[str]) -> dict[str, Any]:
    keys = ("Name", "Driver", "EnableIPv6", "IPAM", "Internal", "Attachable", "Options",
            "Labels")
    out = {}
    for name, info in inspected.items():
        kept = json.loads(json.dumps({k: info.get(k) for k in keys}).replace(project, "PROJECT"))
        kept["Labels"].pop(spec.LABEL_CONFIG_HASH)  # hashes the name: compared below
        kept["Labels"].pop(spec.LABEL_VERSION)
        if name in chosen:
            kept["IPAM"]["Config"] = "<chosen by the engine>"
        out[name.replace(project, "PROJECT")] = kept
    return out


def _normalise(inspected: Mapping[str, dict[str, Any]], project: str
               ) -> dict[str, dict[str, Any]]:
    """What must agree, with IDs put back to names and the project name to PROJECT."""
    ids = {info["Id"]: name for name, info in inspected.items()}
    out = {}
    for name, info in inspected.items():
        networks = info["NetworkSettings"]["Networks"] or {}
        kept = {
            "Config": info["Config"],
            "HostConfig": info["HostConfig"],
            "Networks": {net: {k: endpoint.get(k) for k in
                               ("Aliases", "IPAMConfig", "Links", "DriverOpts")}
                         for net, endpoint in networks.items()},
        }
        text = json.dumps(kept)
        for full, container in ids.items():
            text = text.replace(full, container).replace(full[:12], container)
        data = json.loads(text.replace(project, "PROJECT"))
        labels = data["Config"]["Labels"]
        labels.pop(spec.LABEL_CONFIG_HASH)
        labels.pop(spec.LABEL_VERSION)
        if labels.get(spec.LABEL_DEPENDS_ON):
            labels[spec.LABEL_DEPENDS_ON] = ",".join(
                sorted(labels[spec.LABEL_DEPENDS_ON].split(",")))
        host = data["HostConfig"]
        for key in ("Binds", "Links", "Ulimits", "Mounts", "ExtraHosts"):
            if isinstance(host.get(key), list):
                host[key] = sorted(host[key], key=lambda item: json.dumps(item, sort_keys=True))
        if isinstance(data["Config"].get("Env"), list):
            data["Config"]["Env"] = sorted(data["Config"]["Env"])
        for endpoint in data["Networks"].values():
            if endpoint.get("Links"):
                endpoint["Links"] = sorted(endpoint["Links"])
        out[name.replace(project, "PROJECT")] = data
    return out


def _diff(ours: Any, theirs: Any, path: str = "") -> list[str]:
    if isinstance(ours, dict) and isinstance(theirs, dict):
        lines = []
        for key in sorted(set(ours) | set(theirs)):
            lines += _diff(ours.get(key, "<absent>"), theirs.get(key, "<absent>"),
                           f"{path}.{key}")
        return lines
    return [] if ours == theirs else [f"{path}: composer {ours!r} != v2 {theirs!r}"]


@pytest.fixture
def external_network(engine: str) -> Any:
    client = docker.APIClient(base_url=engine, version="auto")
    name = f"ctext{uuid.uuid4().hex[:8]}"
    client.create_network(name)
    yield name
    try:
        client.remove_network(name)
    finally:
        client.close()


@pytest.mark.parametrize("case", sorted(PROJECTS))
def test_composer_creates_the_containers_v2_creates(
        case: str, tmp_path: Path, engine: str, run_v2: Callable[..., Any],
        cleanup_project: Callable[[str], str], external_network: str) -> None:
    _write_project(tmp_path, PROJECTS[case])
    theirs_name = cleanup_project(f"cv{uuid.uuid4().hex[:8]}")
    ours_name = cleanup_project(f"cc{uuid.uuid4().hex[:8]}")
    env = {"DOCKER_HOST": engine, "EXTNET": external_network}

    # v2 first; its networks use fixed subnets, so they go before composer makes its own.
    result = run_v2("-p", theirs_name, "up", "--no-start", cwd=tmp_path,
                    env={**env, "LINKED_NAME": f"{theirs_name}-linked"}, timeout=120)
    assert result.returncode == 0, result.stderr
    theirs = _inspect_project(engine, theirs_name)
    assert theirs, "v2 created nothing"
    their_resources = _inspect_resources(engine, theirs_name)
    v2_hashes = {name: info["Config"]["Labels"][spec.LABEL_CONFIG_HASH]
                 for name, info in theirs.items()}
    remove_project(engine, theirs_name)

    loaded = load_project(LoadOptions(
        cwd=str(tmp_path), project_name=ours_name,
        environ={**env, "LINKED_NAME": f"{ours_name}-linked"}))

    async def create() -> None:
        backend = connect(engine)
        try:
            await _create_with_composer(backend, loaded)
        finally:
            await backend.aclose()

    anyio.run(create)
    ours_raw = _inspect_project(engine, ours_name)
    assert all(info["Config"]["Labels"][spec.LABEL_VERSION] == __version__
               for info in ours_raw.values())
    ours = _normalise(ours_raw, ours_name)
    expected = _normalise(theirs, theirs_name)
    assert sorted(ours) == sorted(expected)
    problems = []
    for name in sorted(expected):
        problems += [f"{name}{line}" for line in _diff(ours[name], expected[name])]
    assert not problems, "\n".join(problems)
    ours_resources = _inspect_resources(engine, ours_name)
    # Subnets the file does not fix are the engine's choice.
    chosen = {network["name"] for network in (loaded.data.get("networks") or {}).values()
              if not (network.get("ipam") or {}).get("config")}
    for kind in ("networks", "volumes"):
        assert _normalise_resources(ours_resources[kind], ours_name, chosen) == \
            _normalise_resources(their_resources[kind], theirs_name,
                                 {n.replace(ours_name, theirs_name) for n in chosen}), kind

    # The config hash: the same project loaded as v2 saw it (its name, its variables)
    # hashes to v2's labels, service references resolved to v2's containers.
    as_v2 = load_project(LoadOptions(
        cwd=str(tmp_path), project_name=theirs_name,
        environ={**env, "LINKED_NAME": f"{theirs_name}-linked"}))
    their_refs: dict[str, list[spec.ContainerRef]] = {}
    for name, info in theirs.items():
        service = info["Config"]["Labels"][spec.LABEL_SERVICE]
        their_refs.setdefault(service, []).append(spec.ContainerRef(name, info["Id"]))
    their_model = as_v2.model
    for name, v2_hash in sorted(v2_hashes.items()):
        service = theirs[name]["Config"]["Labels"][spec.LABEL_SERVICE]
        resolved = spec.resolve_service_references(their_model.services[service], their_refs)
        assert service_config_hash(resolved) == v2_hash, name
    for key, network in their_model.networks.items():
        if network is not None and not network.external:
            labels = their_resources["networks"][spec.network_name(their_model, key)]["Labels"]
            assert spec.network_config_hash(network) == labels[spec.LABEL_CONFIG_HASH], key
    for key, volume in their_model.volumes.items():
        assert volume is not None and volume.name
        labels = their_resources["volumes"][volume.name]["Labels"]
        assert spec.volume_config_hash(volume) == labels[spec.LABEL_CONFIG_HASH], key
