"""The frozen project model: exact round trip of v2's canonical dict, typed values,
immutability; the duration and size units; the label keys.

Values in the unit tests were checked against Docker Compose v2.40.3 (what it
prints for ``stop_grace_period`` and ``mem_limit`` given each input).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from composer.model import labels
from composer.model.project import (
    Healthcheck,
    PortConfig,
    Project,
    ServiceConfig,
    Ulimit,
)
from composer.model.units import format_duration, parse_bytes, parse_duration

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
CORPUS_JSON = sorted((CORPUS / "v2-config").rglob("*.json")) if CORPUS.is_dir() else []


@pytest.mark.skipif(not CORPUS_JSON, reason=f"reference corpus not found at {CORPUS}")
@pytest.mark.parametrize("path", CORPUS_JSON,
                         ids=[str(p.relative_to(CORPUS / "v2-config")) for p in CORPUS_JSON])
def test_corpus_round_trip(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert Project.from_dict(data).to_dict() == data


# A service as v2 printed it (compose-go's field order at every level).
PRINTED = json.loads(r"""
{
  "name": "demo",
  "networks": {"default": {"name": "demo_default", "ipam": {}},
               "front": {"name": "demo_front", "ipam": {"config": [{"subnet": "10.0.0.0/24"}]},
                         "enable_ipv6": true, "x-note": "kept"}},
  "services": {
    "web": {
      "attach": false,
      "build": {"context": "/srv/app", "dockerfile": "Dockerfile", "args": {"A": "1"}},
      "command": ["serve", "--port", "80"],
      "depends_on": {"db": {"condition": "service_healthy", "restart": true, "required": true}},
      "deploy": {"replicas": 2, "resources": {"limits": {"cpus": 0.5, "memory": "536870912"}},
                 "restart_policy": {"condition": "on-failure", "delay": "5s"}, "placement": {}},
      "entrypoint": null,
      "environment": {"A": "1", "B": null},
      "extra_hosts": ["db=10.0.0.2", "v6=::1"],
      "healthcheck": {"test": ["CMD", "true"], "timeout": "500ms", "interval": "1m30s",
                      "retries": 3},
      "image": "nginx",
      "mem_limit": "1073741824",
      "networks": {"default": null, "front": {"aliases": ["web"], "priority": 10}},
      "ports": [{"mode": "ingress", "host_ip": "127.0.0.1", "target": 80, "published": "8080",
                 "protocol": "tcp"}],
      "secrets": [{"source": "key", "target": "/run/secrets/key", "mode": "0440"}],
      "stop_grace_period": "1m30s",
      "ulimits": {"nofile": {"soft": 1024, "hard": 2048}, "nproc": 512},
      "volumes": [{"type": "bind", "source": "/srv/data", "target": "/data",
                   "bind": {"create_host_path": true}},
                  {"type": "tmpfs", "target": "/tmp", "tmpfs": {"size": "67108864", "mode": 1023}},
                  {"type": "volume", "source": "cache", "target": "/cache", "volume": {}}],
      "x-custom": {"keep": [1, 2]}
    },
    "db": {"command": null, "entrypoint": null, "image": "postgres",
           "networks": {"default": null}}
  },
  "volumes": {"cache": {"name": "demo_cache"}},
  "x-top": {"a": [1, {"b": null}]}
}
""")


def _ordered(value: Any) -> str:
    return json.dumps(value)  # key order matters in this comparison


def test_to_dict_keeps_v2_key_order_everywhere() -> None:
    expected = {k: PRINTED[k] for k in sorted(PRINTED)}
    assert _ordered(Project.from_dict(PRINTED).to_dict()) == _ordered(expected)


def test_typed_values() -> None:
    project = Project.from_dict(PRINTED, working_dir="/srv")
    web = project.services["web"]
    assert project.working_dir == "/srv"
    assert project.service_names == ("web", "db")
    assert web.name == "web" and project.service("db").name == "db"
    assert web.command == ("serve", "--port", "80")
    assert web.entrypoint is None
    assert web.environment == {"A": "1", "B": None}
    assert web.attach is False and web.init is None
    assert web.mem_limit == 1 << 30
    assert web.stop_grace_period == 90_000_000_000
    assert web.healthcheck == Healthcheck(test=("CMD", "true"), timeout=500_000_000,
                                          interval=90_000_000_000, retries=3)
    assert web.ports == (PortConfig(mode="ingress", host_ip="127.0.0.1", target=80,
                                    published="8080", protocol="tcp"),)
    assert web.ulimits is not None
    assert web.ulimits["nproc"] == Ulimit(single=512)
    assert web.ulimits["nproc"].limits == (512, 512)
    assert web.ulimits["nofile"].limits == (1024, 2048)
    assert web.secrets is not None and web.secrets[0].mode == 0o440
    assert web.volumes is not None
    assert web.volumes[1].tmpfs is not None and web.volumes[1].tmpfs.size == 64 << 20
    assert web.volumes[2].volume is not None and web.volumes[2].bind is None
    assert web.networks is not None and web.networks["default"] is None
    assert web.networks["front"] is not None and web.networks["front"].priority == 10
    assert web.depends_on is not None and web.depends_on["db"].condition == "service_healthy"
    assert web.deploy is not None and web.deploy.restart_policy is not None
    assert web.deploy.restart_policy.delay == 5_000_000_000
    assert web.deploy.resources is not None and web.deploy.resources.limits is not None
    assert web.deploy.resources.limits.cpus == 0.5
    assert web.replicas == 2 and project.service("db").replicas == 1
    assert web.extra_hosts_for_engine() == ["db:10.0.0.2", "v6:::1"]
    assert web.build is not None and web.build.context == "/srv/app"
    assert project.networks["front"] is not None
    assert project.networks["front"].enable_ipv6 is True
    assert project.volumes["cache"] is not None and project.volumes["cache"].name == "demo_cache"


def test_extensions_and_unknown_keys_are_kept() -> None:
    project = Project.from_dict({**PRINTED, "future_top": 1})
    web = project.services["web"]
    assert web.extensions == {"x-custom": {"keep": (1, 2)}}
    assert project.extensions["x-top"] == {"a": (1, {"b": None})}
    front = project.networks["front"]
    assert front is not None and front.extensions == {"x-note": "kept"}
    service = ServiceConfig.from_dict({"image": "x", "future_key": {"a": [1]}}, "svc")
    assert service.extensions == {"future_key": {"a": (1,)}}
    assert service.to_dict() == {"command": None, "entrypoint": None, "image": "x",
                                 "future_key": {"a": [1]}}
    assert project.to_dict()["future_top"] == 1


def test_model_is_frozen() -> None:
    project = Project.from_dict(PRINTED)
    web = project.services["web"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        web.image = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        web.environment["A"] = "2"  # type: ignore[index]
    with pytest.raises(TypeError):
        project.services["new"] = web  # type: ignore[index]
    assert isinstance(web.volumes, tuple)
    changed = dataclasses.replace(web, image="nginx:2")
    assert changed.image == "nginx:2" and changed.to_dict()["image"] == "nginx:2"
    assert changed != web and dataclasses.replace(web) == web


def test_round_trip_of_every_service_attribute() -> None:
    # Every attribute of compose-go's ServiceConfig that v2 prints, as v2 prints it.
    service = {
        "annotations": {"a": "1"}, "attach": True, "blkio_config": {
            "weight": 300, "weight_device": [{"Path": "/dev/sda", "Weight": 400}],
            "device_read_bps": [{"Path": "/dev/sda", "Rate": "1048576"}]},
        "cap_add": ["ALL"], "cap_drop": ["NET_ADMIN"], "cgroup_parent": "cp", "cgroup": "host",
        "cpu_count": 2, "cpu_percent": 50, "cpu_period": 100000, "cpu_quota": 50000,
        "cpu_rt_period": 1000, "cpu_rt_runtime": 900, "cpus": 1.5, "cpuset": "0-1",
        "cpu_shares": 512, "command": [], "configs": [{"source": "c", "uid": "1"}],
        "container_name": "c1", "credential_spec": {"config": "cs"},
        "develop": {"watch": [{"path": "/src", "action": "sync+exec", "exec": {
            "command": ["ls"], "user": "root", "environment": {"A": None}},
            "include": ["y"], "ignore": ["x"], "initial_sync": True}]},
        "deploy": {"mode": "replicated", "labels": {"d": "e"},
                   "update_config": {"parallelism": 2, "delay": "10s", "monitor": "1m0s",
                                     "max_failure_ratio": 0.5, "order": "start-first"},
                   "resources": {"reservations": {"devices": [
                       {"capabilities": ["gpu"], "count": -1, "options": {"o": "p"}}],
                       "generic_resources": [
                           {"discrete_resource_spec": {"kind": "ssd", "value": 2}}]}},
                   "placement": {"constraints": ["a"], "preferences": [{"spread": "z"}],
                                 "max_replicas_per_node": 2},
                   "endpoint_mode": "vip"},
        "device_cgroup_rules": ["c 1:3 mr"],
        "devices": [{"source": "/dev/a", "target": "/dev/a", "permissions": "rwm"}],
        "dns": ["8.8.8.8"], "dns_opt": ["use-vc"], "dns_search": ["example.com"],
        "domainname": "foo.com", "entrypoint": ["/bin/sh", "-c"],
        "provider": {"type": "model", "options": {"model": ["ai/x"]}},
        "env_file": ["/a.env", {"path": "/b.env", "required": False}],
        "expose": ["3000"], "external_links": ["r:r"], "group_add": ["mail"],
        "gpus": [{"driver": "nvidia", "count": 1}], "hostname": "h", "image": "busybox",
        "init": True, "ipc": "shareable", "isolation": "default", "label_file": ["/l"],
        "links": ["db:d"], "logging": {"driver": "json-file", "options": {"max-size": "1m"}},
        "mem_reservation": "20971520", "memswap_limit": "2147483648", "mem_swappiness": "60",
        "mac_address": "02:42:ac:11:65:43", "models": {"m": {"endpoint_var": "E"}, "n": None},
        "network_mode": "host", "oom_kill_disable": True, "oom_score_adj": 500, "pid": "host",
        "pids_limit": 100, "platform": "linux/amd64", "privileged": True,
        "pull_policy": "always", "read_only": True, "restart": "always", "runtime": "runc",
        "scale": 1, "security_opt": ["label:disable"], "shm_size": "67108864",
        "stdin_open": True, "stop_signal": "SIGUSR1", "storage_opt": {"size": "1G"},
        "sysctls": {"a": "1"}, "tmpfs": ["/run"], "tty": True, "use_api_socket": True,
        "user": "1000", "userns_mode": "host", "uts": "host", "volumes_from": ["o:ro"],
        "working_dir": "/w", "post_start": [{"command": ["a"], "privileged": True,
                                            "working_dir": "/x"}],
        "pre_stop": [{"command": None}],
    }
    model = ServiceConfig.from_dict(service, "full")
    assert model.extensions == {}  # every key above is a typed attribute
    assert model.to_dict() == service
    assert model.blkio_config is not None and model.blkio_config.device_read_bps is not None
    assert model.blkio_config.device_read_bps[0].rate == 1 << 20
    assert model.deploy is not None and model.deploy.update_config is not None
    assert model.deploy.update_config.monitor == 60_000_000_000
    assert model.env_file is not None and model.env_file[1].required is False
    assert model.provider is not None and model.provider.options == {"model": ("ai/x",)}


# --- units -----------------------------------------------------------------

@pytest.mark.parametrize(("text", "ns", "printed"), [
    ("1m30s", 90_000_000_000, "1m30s"),
    ("1.5s", 1_500_000_000, "1.5s"),
    ("0", 0, "0s"),
    ("0s", 0, "0s"),
    ("500ms", 500_000_000, "500ms"),
    ("1500us", 1_500_000, "1.5ms"),
    ("1\u00b5s", 1_000, "1\u00b5s"),
    ("0.000000001s", 1, "1ns"),
    ("1h2m3s4ms5us6ns", 3_723_004_005_006, "1h2m3.004005006s"),
    ("1.5h", 5_400_000_000_000, "1h30m0s"),
    ("1d", 86_400_000_000_000, "24h0m0s"),
    ("1w2d", 777_600_000_000_000, "216h0m0s"),
    ("1m0.5s", 60_500_000_000, "1m0.5s"),
    ("+5s", 5_000_000_000, "5s"),
    ("-1s", -1_000_000_000, "-1s"),
])
def test_durations_as_compose_parses_and_prints_them(text: str, ns: int, printed: str) -> None:
    assert parse_duration(text) == ns
    assert format_duration(ns) == printed


@pytest.mark.parametrize(("text", "message"), [
    ("90", "missing unit"),
    ("", "invalid duration"),
    ("1x", 'unknown unit "x"'),
    (".s", "invalid duration"),
    ("s", "invalid duration"),
])
def test_bad_durations(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_duration(text)


@pytest.mark.parametrize(("text", "size"), [
    ("512m", 536_870_912),
    ("1.5g", 1_610_612_736),
    ("1GiB", 1_073_741_824),
    ("100", 100),
    ("100 m", 104_857_600),
    ("1kb", 1024),
    ("1KB", 1024),
    ("2b", 2),
    ("1.5", 1),
    ("1t", 1_099_511_627_776),
    ("0.5k", 512),
    (4096, 4096),
])
def test_sizes_as_compose_parses_them(text: str | int, size: int) -> None:
    assert parse_bytes(text) == size


@pytest.mark.parametrize("text", ["", "12x", "m", "1.2.3", "-1k", "1 kbb"])
def test_bad_sizes(text: str) -> None:
    with pytest.raises(ValueError):
        parse_bytes(text)


# --- labels ----------------------------------------------------------------

LABEL_KEYS = [
    labels.PROJECT, labels.SERVICE, labels.CONFIG_HASH, labels.CONTAINER_NUMBER, labels.VOLUME,
    labels.NETWORK, labels.WORKING_DIR, labels.CONFIG_FILES, labels.ENVIRONMENT_FILE,
    labels.ONEOFF, labels.SLUG, labels.IMAGE_DIGEST, labels.DEPENDS_ON, labels.VERSION,
    labels.IMAGE_BUILDER, labels.CONTAINER_REPLACE,
]


def test_depends_on_label_format() -> None:
    value = labels.depends_on_label({
        "db": {"condition": "service_healthy", "restart": True, "required": True},
        "cache": {"condition": "service_started", "required": False},
    })
    assert value == "db:service_healthy:true,cache:service_started:false"
    assert labels.depends_on_label(None) == ""


@pytest.mark.oracle
def test_label_keys_are_the_ones_v2_writes(v2_binary: str) -> None:
    # Go keeps string constants verbatim in the binary (often run together).
    blob = Path(v2_binary).read_bytes()
    missing = [key for key in LABEL_KEYS if key.encode() not in blob]
    assert not missing


MAXIMAL_YAML = r"""
name: maxproj
services:
  full:
    annotations: {com.a: "1"}
    attach: false
    blkio_config:
      weight: 300
      weight_device: [{path: /dev/sda, weight: 400}]
      device_read_bps: [{path: /dev/sda, rate: 1mb}]
      device_read_iops: [{path: /dev/sda, rate: 120}]
      device_write_bps: [{path: /dev/sda, rate: 1024k}]
      device_write_iops: [{path: /dev/sda, rate: 30}]
    build:
      context: .
      dockerfile: Dockerfile
      args: {A: "1", B: null}
      ssh: [default]
      labels: {l: v}
      cache_from: [a]
      cache_to: [b]
      no_cache: true
      pull: true
      extra_hosts: ["h=1.2.3.4"]
      isolation: default
      network: host
      target: t
      secrets: [s1]
      shm_size: 64m
      tags: [x:y]
      ulimits: {nofile: 10}
      platforms: [linux/amd64]
      privileged: true
      provenance: "true"
      sbom: "true"
      entitlements: [network.host]
      additional_contexts: {c: /tmp}
    cap_add: [ALL]
    cap_drop: [NET_ADMIN]
    cgroup_parent: cp
    cgroup: host
    cpu_count: 2
    cpu_percent: 50
    cpu_period: 100000
    cpu_quota: 50000
    cpu_rt_period: 1000
    cpu_rt_runtime: 900
    cpus: 1.5
    cpuset: "0-1"
    cpu_shares: 512
    command: ["a", "b"]
    configs: [{source: c1, target: /c1, uid: "1", gid: "2", mode: 0440}]
    container_name: fullc
    credential_spec: {config: cs}
    depends_on:
      other: {condition: service_healthy, restart: true, required: false}
    deploy:
      mode: replicated
      replicas: 1
      labels: {d: e}
      update_config: {parallelism: 2, delay: 10s, failure_action: pause, monitor: 1m,
                      max_failure_ratio: 0.5, order: start-first}
      rollback_config: {parallelism: 1, delay: 1s, failure_action: continue, monitor: 2s,
                        max_failure_ratio: 0.25, order: stop-first}
      resources:
        limits: {cpus: "1.5", memory: 1g, pids: 100}
        reservations:
          cpus: "0.25"
          memory: 20m
          devices: [{capabilities: [gpu], driver: nvidia, device_ids: ["0"], options: {o: p}}]
          generic_resources: [{discrete_resource_spec: {kind: ssd, value: 2}}]
      restart_policy: {condition: on-failure, delay: 5s, max_attempts: 3, window: 2m}
      placement:
        constraints: [node.role==manager]
        preferences: [{spread: node.labels.zone}]
        max_replicas_per_node: 2
      endpoint_mode: vip
    device_cgroup_rules: ["c 1:3 mr"]
    devices: ["/dev/ttyUSB0:/dev/ttyUSB0:rwm"]
    dns: [8.8.8.8]
    dns_opt: [use-vc]
    dns_search: [example.com]
    domainname: foo.com
    entrypoint: /bin/sh -c
    environment: {E: "1", F: null}
    expose: ["3000", 4000]
    external_links: [redis:r]
    extra_hosts: {somehost: "1.2.3.4", other: ["5.6.7.8", "::1"]}
    group_add: [mail]
    gpus: [{driver: nvidia, count: 1}]
    hostname: h
    healthcheck:
      test: curl x
      timeout: 3s
      interval: 30s
      retries: 3
      start_period: 40s
      start_interval: 5s
    image: busybox
    init: true
    ipc: shareable
    isolation: default
    labels: {lab: v, "a<b": "&"}
    label_file: []
    links: [other:o]
    logging: {driver: json-file, options: {max-size: 1m}}
    mem_limit: 1g
    mem_reservation: 20m
    memswap_limit: 2g
    mem_swappiness: 60
    mac_address: 02:42:ac:11:65:43
    networks:
      front:
        aliases: [al]
        driver_opts: {k: v}
        gw_priority: 1
        interface_name: eth9
        ipv4_address: 172.16.238.10
        ipv6_address: 2001:3984:3989::10
        link_local_ips: [169.254.1.1]
        mac_address: 02:42:ac:11:65:44
        priority: 100
    oom_kill_disable: true
    oom_score_adj: 500
    pid: host
    pids_limit: 100
    platform: linux/amd64
    ports:
      - name: web
        target: 80
        host_ip: 127.0.0.1
        published: "8080"
        protocol: tcp
        app_protocol: http
        mode: host
    privileged: true
    pull_policy: always
    read_only: true
    restart: always
    runtime: runc
    scale: 1
    secrets: [{source: s1, target: /run/s1, uid: "0", gid: "0", mode: 0400}]
    security_opt: [label:user:USER]
    shm_size: 64m
    stdin_open: true
    stop_grace_period: 1m30s
    stop_signal: SIGUSR1
    storage_opt: {size: 1G}
    sysctls: {net.core.somaxconn: 1024}
    tmpfs: [/run]
    tty: true
    ulimits: {nproc: 65535, nofile: {soft: 20000, hard: 40000}}
    use_api_socket: true
    user: "1000"
    userns_mode: host
    uts: host
    volumes:
      - type: volume
        source: data
        target: /data
        read_only: true
        consistency: cached
        volume: {nocopy: true, subpath: sub, labels: {x: y}}
      - type: bind
        source: ./b
        target: /b
        bind: {propagation: rprivate, create_host_path: false, selinux: z, recursive: readonly}
      - type: tmpfs
        target: /t
        tmpfs: {size: 10m, mode: 0755}
      - type: image
        source: alpine
        target: /i
        image: {subpath: x}
    volumes_from: ["other:ro"]
    working_dir: /w
    post_start:
      - {command: ["a"], user: root, privileged: true, working_dir: /x, environment: {A: b}}
    pre_stop: [{command: "b"}]
    develop:
      watch:
        - path: ./src
          action: sync+exec
          target: /src
          exec: {command: ls}
          ignore: [x]
          include: [y]
          initial_sync: true
    models:
      m1: {endpoint_var: EP, model_var: MV}
    x-ext: 1
  other:
    image: busybox
    credential_spec: {file: f, registry: r}
  prov:
    provider:
      type: model
      options: {model: ai/x, flag: [a, b]}
networks:
  front:
    enable_ipv6: true
volumes:
  data:
secrets:
  s1: {file: secret.txt}
configs:
  c1: {file: conf.txt}
models:
  m1: {model: ai/smollm2, context_size: 1024, runtime_flags: [--x]}
"""


@pytest.mark.oracle
def test_round_trip_and_order_of_v2_output(v2_binary: str, run_command: Any,
                                           tmp_path: Path) -> None:
    for name in ("a.env", "secret.txt", "conf.txt"):
        (tmp_path / name).write_text("", encoding="utf-8")
    (tmp_path / "compose.yaml").write_text(MAXIMAL_YAML, encoding="utf-8")
    result = run_command([v2_binary], ["config", "--format", "json"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    ours = Project.from_dict(printed).to_dict()
    assert _ordered(ours) == _ordered({k: printed[k] for k in sorted(printed)})
    assert ours["services"]["full"] == printed["services"]["full"]
