"""Golden tests of composer.backends.spec: the project model in, Engine API bodies out.

Every expected body at the end of this file is what Docker Compose v2.40.3 posted to
Docker Engine 20.10 (API 1.41) for the same canonical project (``config --format json``,
``$`` not doubled), captured on the wire by a logging proxy in front of the engine
socket. Only host paths (now ``/srv/...``) and container IDs were replaced, and each
container body is written as its differences from ``MIN_BODY`` (a service that has only
``image: busybox``). v2 fills Env, Binds, Mounts, Ulimits and the depends_on label from
Go maps, in random order: those are compared sorted. No engine is needed.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pytest

from composer.backends import spec
from composer.backends.errors import UnsupportedError
from composer.model.project import Project, ServiceConfig

IMAGE_ID = "sha256:30ab78701ea115cf1aef556a14046f2eb4ecd2be483f13a359cc2e58643a04b9"
HASH = "0" * 63 + "1"
BASE_1 = spec.ContainerRef(name="c2-base-1", id="1" * 64)
BASE_2 = spec.ContainerRef(name="c2-base-2", id="2" * 64)
# As the engine lists them: newest first.
REFS_C2 = {"base": [BASE_2, BASE_1]}
SECCOMP = b'{"defaultAction": "SCMP_ACT_ALLOW",\n "syscalls": []}\n'

_ENDPOINT_ZERO: dict[str, Any] = {
    "Aliases": None, "DNSNames": None, "DriverOpts": None, "EndpointID": "", "Gateway": "",
    "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "GwPriority": 0, "IPAMConfig": None,
    "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "", "Links": None, "MacAddress": "",
    "NetworkID": "",
}


def _endpoint(aliases: list[str], **fields: Any) -> dict[str, Any]:
    return {**_ENDPOINT_ZERO, "Aliases": aliases, **fields}


def _labels(project: str, folder: str, service: str, number: int,
            files: tuple[str, ...] = ("compose.yaml",)) -> dict[str, str]:
    return {
        "com.docker.compose.config-hash": HASH,
        "com.docker.compose.container-number": str(number),
        "com.docker.compose.image": IMAGE_ID,
        "com.docker.compose.oneoff": "False",
        "com.docker.compose.project": project,
        "com.docker.compose.project.config_files": ",".join(f"/srv/{folder}/{f}" for f in files),
        "com.docker.compose.project.working_dir": f"/srv/{folder}",
        "com.docker.compose.service": service,
        "com.docker.compose.version": "2.40.3",
    }


def _expected(delta: Mapping[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    body = copy.deepcopy(MIN_BODY)
    body.update(copy.deepcopy(dict(delta["config"])))
    body["Labels"] = {**labels, **delta["config"]["Labels"]}
    body["HostConfig"].update(copy.deepcopy(dict(delta["host"])))
    for key in delta["absent"]:
        body.pop(key, None)
    return body


def _sorted(body: Mapping[str, Any]) -> dict[str, Any]:
    """The body with v2's random-order lists put in order."""
    out = copy.deepcopy(dict(body))
    host = out.get("HostConfig") or {}
    for key in ("Binds", "Ulimits", "Links", "ExtraHosts"):
        if isinstance(host.get(key), list):
            host[key] = sorted(host[key], key=repr)
    if isinstance(host.get("Mounts"), list):
        host["Mounts"] = sorted(host["Mounts"], key=lambda m: m.get("Target", ""))
    if isinstance(out.get("Env"), list):
        out["Env"] = sorted(out["Env"])
    labels = out.get("Labels") or {}
    if labels.get(spec.LABEL_DEPENDS_ON):
        labels[spec.LABEL_DEPENDS_ON] = ",".join(sorted(labels[spec.LABEL_DEPENDS_ON].split(",")))
    endpoints = (out.get("NetworkingConfig") or {}).get("EndpointsConfig") or {}
    for endpoint in [*endpoints.values(), out.get("EndpointConfig") or {}]:
        if endpoint.get("Links"):
            endpoint["Links"] = sorted(endpoint["Links"])
    return out


def _read_seccomp(path: str) -> bytes:
    assert path == "/srv/rich3/seccomp.json"
    return SECCOMP


def _model(project: Mapping[str, Any]) -> Project:
    """The model of a canonical project dict (what the loader hands on)."""
    return Project.from_dict(project)


def _service(project: Mapping[str, Any], name: str) -> ServiceConfig:
    return _model(project).services[name]


def _create(project: Mapping[str, Any], folder: str, service: str, number: int = 1,
            files: tuple[str, ...] = ("compose.yaml",), **options: Any) -> dict[str, Any]:
    model = _model(project)
    return spec.container_create_body(
        model, model.services[service], number,
        config_files=[f"/srv/{folder}/{f}" for f in files], working_dir=f"/srv/{folder}",
        image_id=IMAGE_ID, config_hash=HASH, version="2.40.3", read_file=_read_seccomp,
        **options,
    )


CASES = [
    # (project constant, folder, service, container name, compose files, containers)
    ("C1", "rich1", "db", "c1-db-1", ("compose.yaml",), {}),
    ("C1", "rich1", "web", "c1-web-1", ("compose.yaml",), {}),
    ("C2", "rich2", "base", "c2-base-1", ("compose.yaml",), REFS_C2),
    ("C2", "rich2", "hostnet", "c2-hostnet-1", ("compose.yaml",), REFS_C2),
    ("C2", "rich2", "linked", "h1-linked-custom", ("compose.yaml",), REFS_C2),
    ("C2", "rich2", "nonet", "c2-nonet-1", ("compose.yaml",), REFS_C2),
    ("C2", "rich2", "side", "c2-side-1", ("compose.yaml",), REFS_C2),
    ("C3", "rich3", "b", "c3-b-1", ("compose.yaml", "override.yaml"), {}),
    ("C3V", "vol1", "v", "c3v-v-1", ("compose.yaml",), {}),
    ("CMIN", "min", "s", "cmin-s-1", ("compose.yaml",), {}),
]


@pytest.mark.parametrize(("const", "folder", "service", "name", "files", "refs"), CASES,
                         ids=[case[3] for case in CASES])
def test_container_body_is_the_one_v2_sends(const: str, folder: str, service: str, name: str,
                                            files: tuple[str, ...],
                                            refs: dict[str, list[spec.ContainerRef]]) -> None:
    project = globals()[f"PROJECT_{const}"]
    delta = globals()[f"CREATED_{const}"][service]
    labels = _labels(project["name"], folder, service, 1, files)
    ours = _create(project, folder, service, files=files, containers=refs)
    assert _sorted(ours) == _sorted(_expected(delta, labels))
    assert spec.container_name(project["name"], _service(project, service), 1) == name


@pytest.mark.parametrize("const", ["C1", "C2", "C3", "C3V", "CMIN"])
def test_network_bodies_are_the_ones_v2_sends(const: str) -> None:
    project = globals()[f"PROJECT_{const}"]
    for key, expected in globals()[f"NETWORKS_{const}"].items():
        assert spec.network_create_body(_model(project), key, version="2.40.3") == expected, key


@pytest.mark.parametrize("const", ["C1", "C3", "C3V"])
def test_volume_bodies_are_the_ones_v2_sends(const: str) -> None:
    project = globals()[f"PROJECT_{const}"]
    for key, expected in globals()[f"VOLUMES_{const}"].items():
        assert spec.volume_create_body(_model(project), key, version="2.40.3") == expected, key


def test_extra_networks_are_connected_after_create_in_priority_order() -> None:
    web = spec.network_connect_bodies(_model(PROJECT_C1), _service(PROJECT_C1, "web"), 1)
    assert web == [(CONNECTS_C1[0][0], CONNECTS_C1[0][1]["EndpointConfig"])]

    linked = _service(PROJECT_C2, "linked")
    links = spec.service_links("c2", linked, 1, REFS_C2)
    ours = spec.network_connect_bodies(_model(PROJECT_C2), linked, 1, links=links)
    assert [net for net, _ in ours] == [net for net, _ in CONNECTS_C2]
    for (_, endpoint), (_, theirs) in zip(ours, CONNECTS_C2, strict=True):
        assert _sorted({"EndpointConfig": endpoint}) == _sorted(
            {"EndpointConfig": theirs["EndpointConfig"]})

    b_connect = [c for c in CONNECTS_C3 if "b" in c[1]["EndpointConfig"]["Aliases"]]
    ours_b = spec.network_connect_bodies(_model(PROJECT_C3), _service(PROJECT_C3, "b"), 1)
    assert ours_b == [(b_connect[0][0], b_connect[0][1]["EndpointConfig"])]


def test_no_connects_for_network_modes_and_from_api_1_44() -> None:
    assert spec.network_connect_bodies(_model(PROJECT_C2), _service(PROJECT_C2, "side"), 1) == []
    web = _service(PROJECT_C1, "web")
    assert spec.network_connect_bodies(_model(PROJECT_C1), web, 1, api_version="1.44") == []


def test_api_1_44_creates_on_every_network_with_the_mac_on_the_endpoint() -> None:
    service = copy.deepcopy(PROJECT_C3["services"]["b"])
    body = _create({**PROJECT_C3, "services": {"b": service}}, "rich3", "b",
                   api_version="1.44")
    endpoints = body["NetworkingConfig"]["EndpointsConfig"]
    assert list(endpoints) == ["c3_default", "c3_n1"]
    assert body["HostConfig"]["NetworkMode"] == "c3_n1"
    assert "MacAddress" not in body
    assert endpoints["c3_n1"]["MacAddress"] == "02:42:ac:11:00:98"
    assert endpoints["c3_default"]["MacAddress"] == ""


def test_networks_by_priority_then_name() -> None:
    service = ServiceConfig.from_dict({"networks": {
        "zeta": None, "alpha": {"priority": 0}, "mid": {"priority": 5}, "beta": None}})
    assert spec.networks_by_priority(service) == ["mid", "alpha", "beta", "zeta"]


def test_start_interval_needs_api_1_44() -> None:
    service = {"image": "busybox", "healthcheck": {"test": ["CMD", "true"],
                                                   "start_interval": "2s"}}
    project = {"name": "p", "networks": {"default": {"name": "p_default"}},
               "services": {"s": {**service, "networks": {"default": None}}}}
    with pytest.raises(UnsupportedError, match="start_interval .* Docker Engine v25"):
        _create(project, "p", "s")
    body = _create(project, "p", "s", api_version="1.44")
    assert body["Healthcheck"] == {"Test": ["CMD", "true"], "StartInterval": 2_000_000_000}


def test_mac_address_per_network_needs_api_1_44() -> None:
    project = {"name": "p", "networks": {"n": {"name": "p_n"}},
               "services": {"s": {"image": "busybox",
                                  "networks": {"n": {"mac_address": "02:42:ac:11:00:01"}}}}}
    with pytest.raises(UnsupportedError, match="mac-address per network"):
        _create(project, "p", "s")


def test_environment_keeps_the_canonical_order() -> None:
    project = {"name": "p", "services": {"s": {"image": "busybox",
                                               "environment": {"B": "1", "A": None, "C": ""}}}}
    body = _create(project, "p", "s")
    assert body["Env"] == ["B=1", "A", "C="]
    assert body["HostConfig"]["NetworkMode"] == "none"  # a project without networks
    assert "NetworkingConfig" not in body


def test_proxies_from_the_docker_config_are_overridden_by_the_service() -> None:
    config = {"proxies": {"default": {"httpProxy": "http://proxy:3128", "noProxy": "localhost"},
                          "tcp://other:2375": {"httpProxy": "http://elsewhere"}}}
    base = spec.proxy_environment(config, "unix:///var/run/docker.sock")
    assert base == {"HTTP_PROXY": "http://proxy:3128", "http_proxy": "http://proxy:3128",
                    "NO_PROXY": "localhost", "no_proxy": "localhost"}
    assert spec.proxy_environment(config, "tcp://other:2375")["HTTP_PROXY"] == "http://elsewhere"
    project = {"name": "p", "services": {"s": {"image": "busybox",
                                               "environment": {"NO_PROXY": "*"}}}}
    body = _create(project, "p", "s", base_environment=base)
    assert sorted(body["Env"]) == ["HTTP_PROXY=http://proxy:3128", "NO_PROXY=*",
                                   "http_proxy=http://proxy:3128", "no_proxy=localhost"]


def test_service_references_resolve_to_the_first_container_by_name() -> None:
    side = _service(PROJECT_C2, "side")
    resolved = spec.resolve_service_references(side, REFS_C2)
    assert resolved.network_mode == "container:" + BASE_1.id
    assert resolved.ipc == resolved.pid == "container:" + BASE_1.id
    assert resolved.volumes_from == (BASE_1.id, BASE_1.id)  # v2 drops ":ro"
    assert spec.resolve_service_references(resolved, REFS_C2) == resolved
    assert spec.resolve_service_references(ServiceConfig.from_dict(
        {"volumes_from": ["container:other:ro"]}), {}).volumes_from == ("other",)
    with pytest.raises(UnsupportedError, match="cannot share network namespace with service base"):
        spec.resolve_service_references(side, {})


def test_a_replacement_takes_over_anonymous_volumes() -> None:
    project = {"name": "p", "services": {"s": {"image": "busybox", "volumes": [
        {"type": "volume", "target": "/anon", "volume": {}},
        {"type": "tmpfs", "target": "/t"},
    ]}}}
    old = {"Mounts": [
        {"Type": "volume", "Name": "abc123", "Source": "/var/lib/docker/volumes/abc123/_data",
         "Destination": "/anon", "RW": True},
        {"Type": "volume", "Name": "img456", "Source": "", "Destination": "/image-vol/",
         "RW": False},
        {"Type": "tmpfs", "Source": "", "Destination": "/t", "RW": True},
    ]}
    body = _create(project, "p", "s", inherit=old, image_volumes={"/image-vol"})
    assert body["HostConfig"]["Mounts"] == [
        {"Type": "volume", "Source": "abc123", "Target": "/anon"},
        {"Type": "volume", "Source": "img456", "Target": "/image-vol", "ReadOnly": True},
        {"Type": "tmpfs", "Target": "/t"},
    ]


def test_secrets_and_configs_refused_or_skipped_as_v2_does() -> None:
    project: dict[str, Any] = {"name": "p", "secrets": {"ext": {"name": "ext", "external": True},
                                        "env": {"name": "p_env", "environment": "TOKEN"}},
               "configs": {"inline": {"name": "p_inline", "content": "hello"}},
               "services": {"s": {"image": "busybox", "secrets": [{"source": "env"}],
                                  "configs": [{"source": "inline"}]}}}
    assert "Mounts" not in _create(project, "p", "s")["HostConfig"]
    project["services"]["s"]["secrets"] = [{"source": "ext"}]
    with pytest.raises(UnsupportedError, match="unsupported external secret ext"):
        _create(project, "p", "s")


def test_one_off_containers_and_run_without_aliases() -> None:
    project = {"name": "p", "networks": {"default": {"name": "p_default"}},
               "services": {"s": {"image": "busybox", "networks": {"default": None},
                                  "stdin_open": True}}}
    body = _create(project, "p", "s", oneoff=True, use_network_aliases=False,
                   attach_stdin=True, auto_remove=True, env_files=["/srv/p/.env.prod"])
    assert body["Labels"][spec.LABEL_ONEOFF] == "True"
    assert body["Labels"][spec.LABEL_ENVIRONMENT_FILE] == "/srv/p/.env.prod"
    assert body["NetworkingConfig"]["EndpointsConfig"]["p_default"]["Aliases"] == ["p-s-1"]
    assert (body["AttachStdin"], body["StdinOnce"], body["HostConfig"]["AutoRemove"]) == (
        True, True, True)


def test_create_request_bundles_name_platform_and_connects() -> None:
    request = spec.container_create_request(
        _model(PROJECT_C2), _service(PROJECT_C2, "nonet"), 1, config_files=["/x"],
        working_dir="/srv", image_id=IMAGE_ID, config_hash=HASH)
    assert (request.name, request.platform, request.connects) == ("c2-nonet-1", "linux/amd64", ())
    web = spec.container_create_request(
        _model(PROJECT_C1), _service(PROJECT_C1, "web"), 1, config_files=["/x"],
        working_dir="/srv", image_id=IMAGE_ID, config_hash=HASH,
        environment={"DOCKER_DEFAULT_PLATFORM": "linux/arm64"})
    assert web.platform == "linux/arm64"
    assert [net for net, _ in web.connects] == ["c1_front"]


def test_capabilities_as_the_go_client_sends_them() -> None:
    assert spec.normalize_capabilities(["sys_admin", "CAP_CHOWN", "chown", "all"]) == [
        "ALL", "CAP_CHOWN", "CAP_SYS_ADMIN"]
    assert spec.normalize_capabilities(None) is None


def test_cpus_are_float32_as_in_go() -> None:
    project = {"name": "p", "services": {"s": {"image": "busybox", "cpus": 0.3}}}
    # float32(0.3) * 1e9 = 300000011.920929 -> 300000000 after float32 rounding
    assert _create(project, "p", "s")["HostConfig"]["NanoCpus"] == 300000000


# -- captured from Docker Compose v2.40.3 on Docker Engine 20.10.24 (API 1.41) --------------

MIN_BODY: dict[str, Any] = {
    "Hostname": "",
    "Domainname": "",
    "User": "",
    "AttachStdin": False,
    "AttachStdout": True,
    "AttachStderr": True,
    "Tty": False,
    "OpenStdin": False,
    "StdinOnce": False,
    "Env": None,
    "Cmd": None,
    "Image": "busybox",
    "Volumes": None,
    "WorkingDir": "",
    "Entrypoint": None,
    "OnBuild": None,
    "HostConfig": {
        "Binds": None,
        "ContainerIDFile": "",
        "LogConfig": {"Type": "", "Config": None},
        "NetworkMode": "cmin_default",
        "PortBindings": {},
        "RestartPolicy": {"Name": "", "MaximumRetryCount": 0},
        "AutoRemove": False,
        "VolumeDriver": "",
        "VolumesFrom": None,
        "ConsoleSize": [0, 0],
        "CapAdd": None,
        "CapDrop": None,
        "CgroupnsMode": "",
        "Dns": None,
        "DnsOptions": None,
        "DnsSearch": None,
        "ExtraHosts": [],
        "GroupAdd": None,
        "IpcMode": "",
        "Cgroup": "",
        "Links": None,
        "OomScoreAdj": 0,
        "PidMode": "",
        "Privileged": False,
        "PublishAllPorts": False,
        "ReadonlyRootfs": False,
        "SecurityOpt": None,
        "UTSMode": "",
        "UsernsMode": "",
        "ShmSize": 0,
        "Isolation": "",
        "CpuShares": 0,
        "Memory": 0,
        "NanoCpus": 0,
        "CgroupParent": "",
        "BlkioWeight": 0,
        "BlkioWeightDevice": None,
        "BlkioDeviceReadBps": None,
        "BlkioDeviceWriteBps": None,
        "BlkioDeviceReadIOps": None,
        "BlkioDeviceWriteIOps": None,
        "CpuPeriod": 0,
        "CpuQuota": 0,
        "CpuRealtimePeriod": 0,
        "CpuRealtimeRuntime": 0,
        "CpusetCpus": "",
        "CpusetMems": "",
        "Devices": None,
        "DeviceCgroupRules": None,
        "DeviceRequests": None,
        "MemoryReservation": 0,
        "MemorySwap": 0,
        "MemorySwappiness": None,
        "OomKillDisable": False,
        "PidsLimit": None,
        "Ulimits": None,
        "CpuCount": 0,
        "CpuPercent": 0,
        "IOMaximumIOps": 0,
        "IOMaximumBandwidth": 0,
        "MaskedPaths": None,
        "ReadonlyPaths": None,
    },
    "NetworkingConfig": {"EndpointsConfig": {"cmin_default": _endpoint(["cmin-s-1", "s"])}},
}

PROJECT_C1: dict[str, Any] = {
    "configs": {"appconf": {"name": "c1_appconf", "file": "/srv/rich1/app.conf"}},
    "name": "c1",
    "networks": {
        "back": {
            "name": "c1_back",
            "ipam": {"config": [{"subnet": "10.211.0.0/16"}]},
            "internal": True,
        },
        "front": {
            "name": "c1_front",
            "driver_opts": {"com.docker.network.bridge.enable_icc": "true"},
            "ipam": {},
            "labels": {"net.label": "y"},
        },
    },
    "secrets": {"token": {"name": "c1_token", "file": "/srv/rich1/secret.txt"}},
    "services": {
        "db": {
            "command": ["sleep", "3600"],
            "deploy": {
                "resources": {
                    "limits": {"cpus": 0.25, "memory": "52428800", "pids": 50},
                    "reservations": {"memory": "20971520"},
                },
                "restart_policy": {"condition": "on-failure", "max_attempts": 5},
                "placement": {},
            },
            "entrypoint": None,
            "healthcheck": {"test": ["CMD", "true"], "interval": "5s"},
            "image": "busybox",
            "ipc": "shareable",
            "networks": {"back": None},
            "pid": "host",
            "privileged": True,
            "stop_grace_period": "1m30s",
        },
        "web": {
            "cap_add": ["NET_ADMIN", "SYS_TIME"],
            "cap_drop": ["MKNOD"],
            "cpus": 0.5,
            "cpu_shares": 512,
            "command": ["httpd", "-f", "-p", "8080"],
            "configs": [{"source": "appconf", "target": "/etc/app.conf"}],
            "depends_on": {
                "db": {"condition": "service_healthy", "restart": True, "required": True},
            },
            "dns": ["8.8.8.8"],
            "dns_opt": ["ndots:2"],
            "dns_search": ["example.com"],
            "domainname": "example.org",
            "entrypoint": ["/bin/sh", "-c"],
            "environment": {"EMPTY": "", "FOO": "bar", "UNSET": None},
            "expose": ["3000", "4000/udp"],
            "extra_hosts": ["other=10.0.0.1", "somehost=162.242.195.82"],
            "group_add": ["audio"],
            "hostname": "webhost",
            "healthcheck": {
                "test": ["CMD-SHELL", "wget -q -O- http://localhost:8080/ || exit 1"],
                "timeout": "10s",
                "interval": "1m30s",
                "retries": 3,
                "start_period": "5s",
            },
            "image": "busybox",
            "init": True,
            "labels": {"app.tier": "front"},
            "logging": {"driver": "json-file", "options": {"max-size": "10m"}},
            "mem_limit": "134217728",
            "mem_reservation": "67108864",
            "memswap_limit": "268435456",
            "networks": {"back": {"priority": 10}, "front": {"aliases": ["www"]}},
            "oom_score_adj": 100,
            "pids_limit": 100,
            "ports": [
                {"mode": "ingress", "target": 8080, "protocol": "tcp"},
                {
                    "mode": "ingress",
                    "host_ip": "127.0.0.1",
                    "target": 8080,
                    "published": "18080",
                    "protocol": "tcp",
                },
                {"mode": "ingress", "target": 9001, "published": "18081", "protocol": "udp"},
                {"mode": "ingress", "target": 9002, "published": "18082", "protocol": "udp"},
                {
                    "mode": "ingress",
                    "host_ip": "127.0.0.1",
                    "target": 9100,
                    "published": "19100",
                    "protocol": "tcp",
                },
            ],
            "read_only": True,
            "restart": "on-failure:3",
            "secrets": [
                {"source": "token", "target": "/run/secrets/token"},
                {"source": "token", "target": "custom_token"},
            ],
            "security_opt": ["no-new-privileges:true"],
            "shm_size": "67108864",
            "stdin_open": True,
            "stop_grace_period": "20s",
            "stop_signal": "SIGUSR1",
            "sysctls": {"net.core.somaxconn": "1024"},
            "tmpfs": ["/run/x:size=64k"],
            "tty": True,
            "ulimits": {"nofile": {"soft": 20000, "hard": 40000}, "nproc": 65535},
            "user": "1000:1000",
            "volumes": [
                {
                    "type": "bind",
                    "source": "/srv/rich1/data",
                    "target": "/data",
                    "bind": {"create_host_path": True},
                },
                {
                    "type": "bind",
                    "source": "/srv/rich1/data",
                    "target": "/data-ro",
                    "read_only": True,
                    "bind": {"create_host_path": True},
                },
                {"type": "volume", "source": "named", "target": "/named", "volume": {}},
                {"type": "volume", "target": "/anon", "volume": {}},
                {"type": "tmpfs", "target": "/tmpfs", "tmpfs": {"size": "1048576"}},
                {
                    "type": "bind",
                    "source": "/srv/rich1/missing-dir",
                    "target": "/nocreate",
                    "bind": {},
                },
                {
                    "type": "volume",
                    "source": "named",
                    "target": "/nocopy",
                    "volume": {"nocopy": True},
                },
            ],
            "working_dir": "/srv",
        },
    },
    "volumes": {"named": {"name": "c1_named", "labels": {"vol.label": "x"}}},
}

CREATED_C1: dict[str, Any] = {
    "db": {
        "config": {
            "Cmd": ["sleep", "3600"],
            "Healthcheck": {"Test": ["CMD", "true"], "Interval": 5000000000},
            "StopTimeout": 90,
            "NetworkingConfig": {"EndpointsConfig": {"c1_back": _endpoint(["c1-db-1", "db"])}},
            "Labels": {"com.docker.compose.depends_on": ""},
        },
        "host": {
            "NetworkMode": "c1_back",
            "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 5},
            "IpcMode": "shareable",
            "PidMode": "host",
            "Privileged": True,
            "Memory": 52428800,
            "NanoCpus": 250000000,
            "MemoryReservation": 20971520,
            "PidsLimit": 50,
        },
        "absent": [],
    },
    "web": {
        "config": {
            "Hostname": "webhost",
            "Domainname": "example.org",
            "User": "1000:1000",
            "ExposedPorts": {
                "3000": {},
                "4000/udp": {},
                "8080/tcp": {},
                "9001/udp": {},
                "9002/udp": {},
                "9100/tcp": {},
            },
            "Tty": True,
            "OpenStdin": True,
            "Env": ["FOO=bar", "EMPTY=", "UNSET"],
            "Cmd": ["httpd", "-f", "-p", "8080"],
            "Healthcheck": {
                "Test": ["CMD-SHELL", "wget -q -O- http://localhost:8080/ || exit 1"],
                "Interval": 90000000000,
                "Timeout": 10000000000,
                "StartPeriod": 5000000000,
                "Retries": 3,
            },
            "WorkingDir": "/srv",
            "Entrypoint": ["/bin/sh", "-c"],
            "StopSignal": "SIGUSR1",
            "StopTimeout": 20,
            "NetworkingConfig": {
                "EndpointsConfig": {"c1_back": _endpoint(["c1-web-1", "web"], IPAMConfig={})},
            },
            "Labels": {
                "app.tier": "front",
                "com.docker.compose.depends_on": "db:service_healthy:true",
            },
        },
        "host": {
            "Binds": [
                "/srv/rich1/data:/data:rw",
                "/srv/rich1/data:/data-ro:ro",
                "c1_named:/named:rw",
            ],
            "LogConfig": {"Type": "json-file", "Config": {"max-size": "10m"}},
            "NetworkMode": "c1_back",
            "PortBindings": {
                "8080/tcp": [
                    {"HostIp": "", "HostPort": ""},
                    {"HostIp": "127.0.0.1", "HostPort": "18080"},
                ],
                "9001/udp": [{"HostIp": "", "HostPort": "18081"}],
                "9002/udp": [{"HostIp": "", "HostPort": "18082"}],
                "9100/tcp": [{"HostIp": "127.0.0.1", "HostPort": "19100"}],
            },
            "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3},
            "CapAdd": ["CAP_NET_ADMIN", "CAP_SYS_TIME"],
            "CapDrop": ["CAP_MKNOD"],
            "Dns": ["8.8.8.8"],
            "DnsOptions": ["ndots:2"],
            "DnsSearch": ["example.com"],
            "ExtraHosts": ["other:10.0.0.1", "somehost:162.242.195.82"],
            "GroupAdd": ["audio"],
            "OomScoreAdj": 100,
            "ReadonlyRootfs": True,
            "SecurityOpt": ["no-new-privileges:true"],
            "Tmpfs": {"/run/x": "size=64k"},
            "ShmSize": 67108864,
            "Sysctls": {"net.core.somaxconn": "1024"},
            "CpuShares": 512,
            "Memory": 134217728,
            "NanoCpus": 500000000,
            "MemoryReservation": 67108864,
            "MemorySwap": 268435456,
            "PidsLimit": 100,
            "Ulimits": [
                {"Name": "nofile", "Hard": 40000, "Soft": 20000},
                {"Name": "nproc", "Hard": 65535, "Soft": 65535},
            ],
            "Mounts": [
                {
                    "Type": "bind",
                    "Source": "/srv/rich1/app.conf",
                    "Target": "/etc/app.conf",
                    "ReadOnly": True,
                },
                {"Type": "volume", "Target": "/anon", "VolumeOptions": {}},
                {
                    "Type": "volume",
                    "Source": "c1_named",
                    "Target": "/nocopy",
                    "VolumeOptions": {"NoCopy": True},
                },
                {
                    "Type": "bind",
                    "Source": "/srv/rich1/secret.txt",
                    "Target": "/run/secrets/token",
                    "ReadOnly": True,
                    "BindOptions": {},
                },
                {
                    "Type": "bind",
                    "Source": "/srv/rich1/secret.txt",
                    "Target": "/run/secrets/custom_token",
                    "ReadOnly": True,
                    "BindOptions": {},
                },
                {"Type": "tmpfs", "Target": "/tmpfs", "TmpfsOptions": {"SizeBytes": 1048576}},
                {
                    "Type": "bind",
                    "Source": "/srv/rich1/missing-dir",
                    "Target": "/nocreate",
                    "BindOptions": {},
                },
            ],
            "Init": True,
        },
        "absent": [],
    },
}

NETWORKS_C1: dict[str, Any] = {
    "back": {
        "Driver": "",
        "Scope": "",
        "IPAM": {"Driver": "", "Options": None, "Config": [{"Subnet": "10.211.0.0/16"}]},
        "Internal": True,
        "Attachable": False,
        "Ingress": False,
        "ConfigOnly": False,
        "ConfigFrom": None,
        "Options": None,
        "Labels": {
            "com.docker.compose.config-hash": (
                "29f430c9efdd106bf6781e4e7dd861069318e28f8ff685659fe68cf7b0595508"
            ),
            "com.docker.compose.network": "back",
            "com.docker.compose.project": "c1",
            "com.docker.compose.version": "2.40.3",
        },
        "Name": "c1_back",
        "CheckDuplicate": True,
    },
    "front": {
        "Driver": "",
        "Scope": "",
        "IPAM": None,
        "Internal": False,
        "Attachable": False,
        "Ingress": False,
        "ConfigOnly": False,
        "ConfigFrom": None,
        "Options": {"com.docker.network.bridge.enable_icc": "true"},
        "Labels": {
            "com.docker.compose.config-hash": (
                "d0c31974dcd5a3fdd142b0a49fcb7de2f413dac778fb6f2ee1d9ac06a175f148"
            ),
            "com.docker.compose.network": "front",
            "com.docker.compose.project": "c1",
            "com.docker.compose.version": "2.40.3",
            "net.label": "y",
        },
        "Name": "c1_front",
        "CheckDuplicate": True,
    },
}

VOLUMES_C1: dict[str, Any] = {
    "named": {
        "Labels": {
            "com.docker.compose.config-hash": (
                "c1aee892227baa1e4ff1caa1521aa0ad3aabc38aa94a14226fcba472db847685"
            ),
            "com.docker.compose.project": "c1",
            "com.docker.compose.version": "2.40.3",
            "com.docker.compose.volume": "named",
            "vol.label": "x",
        },
        "Name": "c1_named",
    },
}

CONNECTS_C1: list[Any] = [
    [
        "c1_front",
        {
            "Container": "c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1",
            "EndpointConfig": _endpoint(["c1-web-1", "web", "www"], IPAMConfig={}),
        },
    ],
]

PROJECT_C2: dict[str, Any] = {
    "name": "c2",
    "networks": {
        "alpha": {
            "name": "c2_alpha",
            "driver": "bridge",
            "ipam": {},
            "attachable": True,
            "enable_ipv6": False,
        },
        "default": {"name": "c2_default", "ipam": {}},
        "extnet": {"name": "h1extnet", "ipam": {}, "external": True},
        "zeta": {
            "name": "c2_zeta",
            "ipam": {
                "driver": "default",
                "config": [
                    {
                        "subnet": "10.212.0.0/16",
                        "gateway": "10.212.0.1",
                        "ip_range": "10.212.5.0/24",
                        "aux_addresses": {"host1": "10.212.1.5"},
                    },
                ],
            },
        },
    },
    "services": {
        "base": {
            "command": ["sleep", "1000"],
            "deploy": {"replicas": 2, "resources": {}, "placement": {}},
            "entrypoint": None,
            "environment": {"DOLLAR": "$HOME", "LIST": "a,b"},
            "healthcheck": {"test": ["CMD-SHELL", "exit 0"]},
            "image": "busybox",
            "networks": {"default": None},
            "restart": "unless-stopped",
            "volumes": [{"type": "volume", "target": "/shared", "volume": {}}],
        },
        "hostnet": {
            "command": [],
            "entrypoint": [],
            "image": "busybox",
            "network_mode": "host",
            "ports": [{"mode": "ingress", "target": 9999, "published": "9999", "protocol": "tcp"}],
            "user": "nobody",
            "volumes": [{"type": "volume", "target": "/z", "volume": {"nocopy": True}}],
        },
        "linked": {
            "annotations": {"com.example.a": "1"},
            "blkio_config": {
                "weight": 300,
                "weight_device": [{"Path": "/dev/null", "Weight": 400}],
                "device_read_bps": [{"Path": "/dev/null", "Rate": "1048576"}],
            },
            "cgroup": "host",
            "cpu_period": 100000,
            "cpu_quota": 50000,
            "cpuset": "0",
            "command": None,
            "container_name": "h1-linked-custom",
            "depends_on": {
                "base": {"condition": "service_started", "required": True},
                "side": {"condition": "service_completed_successfully", "required": False},
            },
            "device_cgroup_rules": ["c 1:3 mr"],
            "devices": [
                {"source": "/dev/null", "target": "/dev/mynull", "permissions": "rwm"},
                {"source": "/dev/zero", "target": "/dev/zero", "permissions": "rwm"},
            ],
            "entrypoint": None,
            "external_links": ["h1-some:ext"],
            "healthcheck": {"test": ["NONE"]},
            "image": "busybox",
            "init": False,
            "links": ["base", "base:alias1"],
            "mem_swappiness": "10",
            "mac_address": "02:42:ac:11:65:43",
            "networks": {
                "alpha": None,
                "extnet": None,
                "zeta": {
                    "aliases": ["z1"],
                    "ipv4_address": "10.212.0.10",
                    "link_local_ips": ["169.254.10.10"],
                },
            },
            "oom_kill_disable": True,
            "stop_signal": "SIGTERM",
            "tmpfs": ["/run/y"],
            "ulimits": {"core": {}},
            "uts": "host",
        },
        "nonet": {
            "command": None,
            "entrypoint": None,
            "image": "busybox",
            "network_mode": "none",
            "pids_limit": -1,
            "platform": "linux/amd64",
            "runtime": "runc",
        },
        "side": {
            "command": None,
            "depends_on": {"base": {"condition": "service_started", "required": True}},
            "entrypoint": None,
            "healthcheck": {"disable": True},
            "image": "busybox",
            "ipc": "service:base",
            "network_mode": "service:base",
            "pid": "service:base",
            "restart": "no",
            "volumes_from": ["base", "base:ro"],
        },
    },
}

CREATED_C2: dict[str, Any] = {
    "nonet": {
        "config": {"Labels": {"com.docker.compose.depends_on": ""}},
        "host": {"NetworkMode": "none", "Runtime": "runc", "PidsLimit": -1},
        "absent": ["NetworkingConfig"],
    },
    "hostnet": {
        "config": {
            "User": "nobody",
            "ExposedPorts": {"9999/tcp": {}},
            "Cmd": [],
            "Entrypoint": [],
            "Labels": {"com.docker.compose.depends_on": ""},
        },
        "host": {
            "NetworkMode": "host",
            "PortBindings": {"9999/tcp": [{"HostIp": "", "HostPort": "9999"}]},
            "Mounts": [{"Type": "volume", "Target": "/z", "VolumeOptions": {"NoCopy": True}}],
        },
        "absent": ["NetworkingConfig"],
    },
    "base": {
        "config": {
            "Env": ["DOLLAR=$HOME", "LIST=a,b"],
            "Cmd": ["sleep", "1000"],
            "Healthcheck": {"Test": ["CMD-SHELL", "exit 0"]},
            "NetworkingConfig": {
                "EndpointsConfig": {"c2_default": _endpoint(["c2-base-1", "base"])},
            },
            "Labels": {"com.docker.compose.depends_on": ""},
        },
        "host": {
            "NetworkMode": "c2_default",
            "RestartPolicy": {"Name": "unless-stopped", "MaximumRetryCount": 0},
            "Mounts": [{"Type": "volume", "Target": "/shared", "VolumeOptions": {}}],
        },
        "absent": [],
    },
    "side": {
        "config": {
            "Healthcheck": {"Test": ["NONE"]},
            "Labels": {"com.docker.compose.depends_on": "base:service_started:false"},
        },
        "host": {
            "NetworkMode": (
                "container:1111111111111111111111111111111111111111111111111111111111111111"
            ),
            "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
            "VolumesFrom": [
                "1111111111111111111111111111111111111111111111111111111111111111",
                "1111111111111111111111111111111111111111111111111111111111111111",
            ],
            "IpcMode": (
                "container:1111111111111111111111111111111111111111111111111111111111111111"
            ),
            "PidMode": (
                "container:1111111111111111111111111111111111111111111111111111111111111111"
            ),
        },
        "absent": ["NetworkingConfig"],
    },
    "linked": {
        "config": {
            "Healthcheck": {"Test": ["NONE"]},
            "MacAddress": "02:42:ac:11:65:43",
            "StopSignal": "SIGTERM",
            "NetworkingConfig": {
                "EndpointsConfig": {
                    "c2_alpha": _endpoint(
                        ["h1-linked-custom", "linked"],
                        Links=[
                            "c2-base-2:base",
                            "c2-base-2:base-1",
                            "c2-base-2:c2-base-1",
                            "c2-base-1:base",
                            "c2-base-1:base-1",
                            "c2-base-1:c2-base-1",
                            "c2-base-2:alias1",
                            "c2-base-2:base-1",
                            "c2-base-2:c2-base-1",
                            "c2-base-1:alias1",
                            "c2-base-1:base-1",
                            "c2-base-1:c2-base-1",
                            "h1-some:ext",
                        ],
                    ),
                },
            },
            "Labels": {
                "com.docker.compose.depends_on": (
                    "base:service_started:false,side:service_completed_successfully:false"
                ),
            },
        },
        "host": {
            "NetworkMode": "c2_alpha",
            "Annotations": {"com.example.a": "1"},
            "CgroupnsMode": "host",
            "Links": [
                "c2-base-2:base",
                "c2-base-2:base-1",
                "c2-base-2:c2-base-1",
                "c2-base-1:base",
                "c2-base-1:base-1",
                "c2-base-1:c2-base-1",
                "c2-base-2:alias1",
                "c2-base-2:base-1",
                "c2-base-2:c2-base-1",
                "c2-base-1:alias1",
                "c2-base-1:base-1",
                "c2-base-1:c2-base-1",
                "h1-some:ext",
            ],
            "Tmpfs": {"/run/y": ""},
            "UTSMode": "host",
            "BlkioWeight": 300,
            "BlkioWeightDevice": [{"Path": "/dev/null", "Weight": 400}],
            "BlkioDeviceReadBps": [{"Path": "/dev/null", "Rate": 1048576}],
            "CpuPeriod": 100000,
            "CpuQuota": 50000,
            "CpusetCpus": "0",
            "Devices": [
                {
                    "PathOnHost": "/dev/null",
                    "PathInContainer": "/dev/mynull",
                    "CgroupPermissions": "rwm",
                },
                {
                    "PathOnHost": "/dev/zero",
                    "PathInContainer": "/dev/zero",
                    "CgroupPermissions": "rwm",
                },
            ],
            "DeviceCgroupRules": ["c 1:3 mr"],
            "MemorySwappiness": 10,
            "OomKillDisable": True,
            "Ulimits": [{"Name": "core", "Hard": 0, "Soft": 0}],
            "Init": False,
        },
        "absent": [],
    },
}

NETWORKS_C2: dict[str, Any] = {
    "zeta": {
        "Driver": "",
        "Scope": "",
        "IPAM": {
            "Driver": "default",
            "Options": None,
            "Config": [
                {
                    "Subnet": "10.212.0.0/16",
                    "IPRange": "10.212.5.0/24",
                    "Gateway": "10.212.0.1",
                    "AuxiliaryAddresses": {"host1": "10.212.1.5"},
                },
            ],
        },
        "Internal": False,
        "Attachable": False,
        "Ingress": False,
        "ConfigOnly": False,
        "ConfigFrom": None,
        "Options": None,
        "Labels": {
            "com.docker.compose.config-hash": (
                "b69525b486951fa5b2727370662422a90f97c784c6851bacc2b5dedf120def0f"
            ),
            "com.docker.compose.network": "zeta",
            "com.docker.compose.project": "c2",
            "com.docker.compose.version": "2.40.3",
        },
        "Name": "c2_zeta",
        "CheckDuplicate": True,
    },
    "alpha": {
        "Driver": "bridge",
        "Scope": "",
        "EnableIPv6": False,
        "IPAM": None,
        "Internal": False,
        "Attachable": True,
        "Ingress": False,
        "ConfigOnly": False,
        "ConfigFrom": None,
        "Options": None,
        "Labels": {
            "com.docker.compose.config-hash": (
                "06d8dda92a839a2ab2c521d88eab2cf04a51741ae36e2215355d9704faac8605"
            ),
            "com.docker.compose.network": "alpha",
            "com.docker.compose.project": "c2",
            "com.docker.compose.version": "2.40.3",
        },
        "Name": "c2_alpha",
        "CheckDuplicate": True,
    },
    "default": {
        "Driver": "",
        "Scope": "",
        "IPAM": None,
        "Internal": False,
        "Attachable": False,
        "Ingress": False,
        "ConfigOnly": False,
        "ConfigFrom": None,
        "Options": None,
        "Labels": {
            "com.docker.compose.config-hash": (
                "90a93c6f3102128021fa4bc66bd57943ec4540e3cf9f2846671dc395a6414dc0"
            ),
            "com.docker.compose.network": "default",
            "com.docker.compose.project": "c2",
            "com.docker.compose.version": "2.40.3",
        },
        "Name": "c2_default",
        "CheckDuplicate": True,
    },
}

CONNECTS_C2: list[Any] = [
    [
        "h1extnet",
        {
            "Container": "c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2",
            "EndpointConfig": _endpoint(
                ["h1-linked-custom", "linked"],
                Links=[
                    "c2-base-2:base",
                    "c2-base-2:base-1",
                    "c2-base-2:c2-base-1",
                    "c2-base-1:base",
                    "c2-base-1:base-1",
                    "c2-base-1:c2-base-1",
                    "c2-base-2:alias1",
                    "c2-base-2:base-1",
                    "c2-base-2:c2-base-1",
                    "c2-base-1:alias1",
                    "c2-base-1:base-1",
                    "c2-base-1:c2-base-1",
                    "h1-some:ext",
                ],
            ),
        },
    ],
    [
        "c2_zeta",
        {
            "Container": "c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2",
            "EndpointConfig": _endpoint(
                ["h1-linked-custom", "linked", "z1"],
                IPAMConfig={"IPv4Address": "10.212.0.10", "LinkLocalIPs": ["169.254.10.10"]},
                Links=[
                    "c2-base-2:base",
                    "c2-base-2:base-1",
                    "c2-base-2:c2-base-1",
                    "c2-base-1:base",
                    "c2-base-1:base-1",
                    "c2-base-1:c2-base-1",
                    "c2-base-2:alias1",
                    "c2-base-2:base-1",
                    "c2-base-2:c2-base-1",
                    "c2-base-1:alias1",
                    "c2-base-1:base-1",
                    "c2-base-1:c2-base-1",
                    "h1-some:ext",
                ],
                IPAddress="10.212.0.10",
            ),
        },
    ],
]

PROJECT_C3: dict[str, Any] = {
    "name": "c3",
    "networks": {
        "default": {"name": "c3_default", "ipam": {}},
        "n1": {
            "name": "c3_n1",
            "driver_opts": {"com.docker.network.bridge.name": "h1br0"},
            "ipam": {"config": [{"subnet": "10.213.0.0/16"}, {"subnet": "fd00:1::/64"}]},
            "enable_ipv6": True,
        },
    },
    "services": {
        "b": {
            "cap_add": ["sys_admin", "NET_ADMIN", "CAP_NET_ADMIN", "chown"],
            "cap_drop": ["all"],
            "cpu_count": 2,
            "cpu_percent": 50,
            "cpu_rt_period": 100000,
            "cpu_rt_runtime": 9500,
            "command": None,
            "deploy": {
                "resources": {
                    "limits": {"cpus": 0.1, "pids": 33},
                    "reservations": {
                        "devices": [
                            {
                                "capabilities": ["gpu"],
                                "driver": "nvidia",
                                "count": -1,
                                "options": {"a": "b"},
                            },
                        ],
                    },
                },
                "restart_policy": {"condition": "none"},
                "placement": {},
            },
            "entrypoint": None,
            "environment": {"A": "1"},
            "expose": ["7000-7002", "8000/tcp"],
            "group_add": ["100", "audio"],
            "healthcheck": {"test": ["CMD", "true"], "interval": "30s"},
            "image": "busybox",
            "init": True,
            "logging": {"driver": "none"},
            "memswap_limit": "-1",
            "mac_address": "02:42:ac:11:00:98",
            "networks": {
                "default": None,
                "n1": {
                    "driver_opts": {
                        "com.docker.network.endpoint.sysctls": (
                            "net.ipv4.conf.IFNAME.log_martians=1"
                        ),
                    },
                    "gw_priority": 5,
                    "ipv6_address": "fd00:1::10",
                    "priority": 100,
                },
            },
            "oom_score_adj": -500,
            "ports": [
                {"mode": "ingress", "host_ip": "127.0.0.1", "target": 80, "protocol": "tcp"},
                {
                    "mode": "ingress",
                    "host_ip": "::1",
                    "target": 81,
                    "published": "8080",
                    "protocol": "tcp",
                },
                {"mode": "ingress", "target": 82, "published": "8000", "protocol": "tcp"},
                {"mode": "ingress", "target": 83, "published": "8001", "protocol": "tcp"},
                {"mode": "ingress", "target": 5000, "published": "5000", "protocol": "sctp"},
                {"mode": "ingress", "target": 9090, "published": "9090-9091", "protocol": "udp"},
                {"mode": "ingress", "target": 6000, "protocol": "tcp"},
                {"mode": "ingress", "target": 6001, "protocol": "tcp"},
                {"mode": "ingress", "target": 6002, "protocol": "tcp"},
            ],
            "restart": "on-failure",
            "security_opt": [
                "seccomp=./seccomp.json",
                "systempaths=unconfined",
                "apparmor=unconfined",
                "label=disable",
            ],
            "stop_grace_period": "1.5s",
            "userns_mode": "host",
            "volumes": [{"type": "volume", "source": "dv", "target": "/dv", "volume": {}}],
        },
    },
    "volumes": {
        "dv": {
            "name": "c3_dv",
            "driver": "local",
            "driver_opts": {"device": "tmpfs", "o": "size=100m", "type": "tmpfs"},
            "labels": {"a": "b"},
        },
    },
}

CREATED_C3: dict[str, Any] = {
    "b": {
        "config": {
            "ExposedPorts": {
                "5000/sctp": {},
                "6000/tcp": {},
                "6001/tcp": {},
                "6002/tcp": {},
                "7000-7002": {},
                "80/tcp": {},
                "8000/tcp": {},
                "81/tcp": {},
                "82/tcp": {},
                "83/tcp": {},
                "9090/udp": {},
            },
            "Env": ["A=1"],
            "Healthcheck": {"Test": ["CMD", "true"], "Interval": 30000000000},
            "MacAddress": "02:42:ac:11:00:98",
            "StopTimeout": 1,
            "NetworkingConfig": {
                "EndpointsConfig": {
                    "c3_n1": _endpoint(
                        ["c3-b-1", "b"],
                        IPAMConfig={"IPv6Address": "fd00:1::10"},
                        DriverOpts={
                            "com.docker.network.endpoint.sysctls": (
                                "net.ipv4.conf.IFNAME.log_martians=1"
                            ),
                        },
                        GwPriority=5,
                        IPv6Gateway="fd00:1::10",
                    ),
                },
            },
            "Labels": {"com.docker.compose.depends_on": ""},
        },
        "host": {
            "Binds": ["c3_dv:/dv:rw"],
            "LogConfig": {"Type": "none", "Config": None},
            "NetworkMode": "c3_n1",
            "PortBindings": {
                "5000/sctp": [{"HostIp": "", "HostPort": "5000"}],
                "6000/tcp": [{"HostIp": "", "HostPort": ""}],
                "6001/tcp": [{"HostIp": "", "HostPort": ""}],
                "6002/tcp": [{"HostIp": "", "HostPort": ""}],
                "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}],
                "81/tcp": [{"HostIp": "::1", "HostPort": "8080"}],
                "82/tcp": [{"HostIp": "", "HostPort": "8000"}],
                "83/tcp": [{"HostIp": "", "HostPort": "8001"}],
                "9090/udp": [{"HostIp": "", "HostPort": "9090-9091"}],
            },
            "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
            "CapAdd": ["CAP_CHOWN", "CAP_NET_ADMIN", "CAP_SYS_ADMIN"],
            "CapDrop": ["ALL"],
            "GroupAdd": ["100", "audio"],
            "OomScoreAdj": -500,
            "SecurityOpt": [
                "seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[]}",
                "apparmor=unconfined",
                "label=disable",
            ],
            "UsernsMode": "host",
            "NanoCpus": 100000000,
            "CpuRealtimePeriod": 100000,
            "CpuRealtimeRuntime": 9500,
            "DeviceRequests": [
                {
                    "Driver": "nvidia",
                    "Count": -1,
                    "DeviceIDs": None,
                    "Capabilities": [["gpu"]],
                    "Options": {"a": "b"},
                },
            ],
            "MemorySwap": -1,
            "PidsLimit": 33,
            "CpuCount": 2,
            "CpuPercent": 5000,
            "MaskedPaths": [],
            "ReadonlyPaths": [],
            "Init": True,
        },
        "absent": [],
    },
}

NETWORKS_C3: dict[str, Any] = {
    "default": {
        "Driver": "",
        "Scope": "",
        "IPAM": None,
        "Internal": False,
        "Attachable": False,
        "Ingress": False,
        "ConfigOnly": False,
        "ConfigFrom": None,
        "Options": None,
        "Labels": {
            "com.docker.compose.config-hash": (
                "9f67378082cb56a03ac4a9cd303e3926eb8a4c869ae5287a369308eee0aeada4"
            ),
            "com.docker.compose.network": "default",
            "com.docker.compose.project": "c3",
            "com.docker.compose.version": "2.40.3",
        },
        "Name": "c3_default",
        "CheckDuplicate": True,
    },
    "n1": {
        "Driver": "",
        "Scope": "",
        "EnableIPv6": True,
        "IPAM": {
            "Driver": "",
            "Options": None,
            "Config": [{"Subnet": "10.213.0.0/16"}, {"Subnet": "fd00:1::/64"}],
        },
        "Internal": False,
        "Attachable": False,
        "Ingress": False,
        "ConfigOnly": False,
        "ConfigFrom": None,
        "Options": {"com.docker.network.bridge.name": "h1br0"},
        "Labels": {
            "com.docker.compose.config-hash": (
                "f7fa610881451581cc1526ca9637db1454b8fa70e0832c51998345c39e3e75a9"
            ),
            "com.docker.compose.network": "n1",
            "com.docker.compose.project": "c3",
            "com.docker.compose.version": "2.40.3",
        },
        "Name": "c3_n1",
        "CheckDuplicate": True,
    },
}

VOLUMES_C3: dict[str, Any] = {
    "dv": {
        "Driver": "local",
        "DriverOpts": {"device": "tmpfs", "o": "size=100m", "type": "tmpfs"},
        "Labels": {
            "a": "b",
            "com.docker.compose.config-hash": (
                "c984bf96cfda4d901e6f3125e7da1a6fc060e0f60afe0851174a3d2bbbe50187"
            ),
            "com.docker.compose.project": "c3",
            "com.docker.compose.version": "2.40.3",
            "com.docker.compose.volume": "dv",
        },
        "Name": "c3_dv",
    },
}

CONNECTS_C3: list[Any] = [
    [
        "c3_default",
        {
            "Container": "c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1",
            "EndpointConfig": _endpoint(["c3-a-1", "a"]),
        },
    ],
    [
        "c3_default",
        {
            "Container": "c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2",
            "EndpointConfig": _endpoint(["c3-b-1", "b"]),
        },
    ],
]

PROJECT_C3V: dict[str, Any] = {
    "name": "c3v",
    "networks": {"default": {"name": "c3v_default", "ipam": {}}},
    "services": {
        "v": {
            "command": None,
            "entrypoint": None,
            "image": "busybox",
            "networks": {"default": None},
            "volumes": [
                {
                    "type": "bind",
                    "source": "/srv/vol1/data",
                    "target": "/a",
                    "bind": {"create_host_path": True},
                },
                {
                    "type": "bind",
                    "source": "/srv/vol1/data",
                    "target": "/b",
                    "read_only": True,
                    "bind": {"create_host_path": True},
                },
                {
                    "type": "bind",
                    "source": "/srv/vol1/data",
                    "target": "/c",
                    "bind": {"selinux": "z", "create_host_path": True},
                },
                {
                    "type": "bind",
                    "source": "/srv/vol1/data",
                    "target": "/c2",
                    "bind": {"selinux": "Z", "create_host_path": True},
                },
                {"type": "bind", "source": "/srv/vol1/data", "target": "/d", "read_only": True},
                {
                    "type": "bind",
                    "source": "/srv/vol1/data",
                    "target": "/e",
                    "bind": {"propagation": "rslave"},
                },
                {
                    "type": "bind",
                    "source": "/srv/vol1/data",
                    "target": "/e2",
                    "bind": {"selinux": "z"},
                },
                {
                    "type": "bind",
                    "source": "/srv/vol1/data",
                    "target": "/e3",
                    "consistency": "cached",
                },
                {"type": "volume", "source": "named", "target": "/f", "volume": {}},
                {
                    "type": "volume",
                    "source": "named",
                    "target": "/g",
                    "read_only": True,
                    "volume": {},
                },
                {"type": "volume", "source": "named", "target": "/h", "volume": {"nocopy": True}},
                {"type": "volume", "target": "/i"},
                {"type": "volume", "target": "/j"},
                {"type": "volume", "source": "named", "target": "/k", "read_only": True},
                {"type": "tmpfs", "target": "/l", "tmpfs": {"size": "1048576", "mode": 493}},
                {"type": "volume", "source": "ext", "target": "/m", "volume": {}},
                {"type": "volume", "source": "ext", "target": "/n", "volume": {}},
                {
                    "type": "bind",
                    "source": "/srv/vol1/data",
                    "target": "/o",
                    "bind": {"propagation": "private", "create_host_path": True},
                },
            ],
        },
    },
    "volumes": {"ext": {"name": "h1ext", "external": True}, "named": {"name": "c3v_named"}},
}

CREATED_C3V: dict[str, Any] = {
    "v": {
        "config": {
            "NetworkingConfig": {"EndpointsConfig": {"c3v_default": _endpoint(["c3v-v-1", "v"])}},
            "Labels": {"com.docker.compose.depends_on": ""},
        },
        "host": {
            "Binds": [
                "c3v_named:/k:ro",
                "/srv/vol1/data:/a:rw",
                "c3v_named:/f:rw",
                "h1ext:/n:rw",
                "/srv/vol1/data:/c:rw,z",
                "/srv/vol1/data:/d:ro",
                "/srv/vol1/data:/e3:rw",
                "h1ext:/m:rw",
                "/srv/vol1/data:/b:ro",
                "/srv/vol1/data:/c2:rw,Z",
                "c3v_named:/g:ro",
            ],
            "NetworkMode": "c3v_default",
            "Mounts": [
                {
                    "Type": "tmpfs",
                    "Target": "/l",
                    "TmpfsOptions": {"SizeBytes": 1048576, "Mode": 493},
                },
                {"Type": "volume", "Target": "/j"},
                {"Type": "volume", "Target": "/i"},
                {"Type": "bind", "Source": "/srv/vol1/data", "Target": "/e2", "BindOptions": {}},
                {
                    "Type": "bind",
                    "Source": "/srv/vol1/data",
                    "Target": "/o",
                    "BindOptions": {"Propagation": "private", "CreateMountpoint": True},
                },
                {
                    "Type": "bind",
                    "Source": "/srv/vol1/data",
                    "Target": "/e",
                    "BindOptions": {"Propagation": "rslave"},
                },
                {
                    "Type": "volume",
                    "Source": "c3v_named",
                    "Target": "/h",
                    "VolumeOptions": {"NoCopy": True},
                },
            ],
        },
        "absent": [],
    },
}

NETWORKS_C3V: dict[str, Any] = {
    "default": {
        "Driver": "",
        "Scope": "",
        "IPAM": None,
        "Internal": False,
        "Attachable": False,
        "Ingress": False,
        "ConfigOnly": False,
        "ConfigFrom": None,
        "Options": None,
        "Labels": {
            "com.docker.compose.config-hash": (
                "3c219cbad313d03710910c7ee96debf141086daccbecabdc28c5360b13c4a27a"
            ),
            "com.docker.compose.network": "default",
            "com.docker.compose.project": "c3v",
            "com.docker.compose.version": "2.40.3",
        },
        "Name": "c3v_default",
        "CheckDuplicate": True,
    },
}

VOLUMES_C3V: dict[str, Any] = {
    "named": {
        "Labels": {
            "com.docker.compose.config-hash": (
                "e4f0d2b2a376a52e8a97dd15f4e205884a4f61dc5fcb6def442fca77153b6a5d"
            ),
            "com.docker.compose.project": "c3v",
            "com.docker.compose.version": "2.40.3",
            "com.docker.compose.volume": "named",
        },
        "Name": "c3v_named",
    },
}

PROJECT_CMIN: dict[str, Any] = {
    "name": "cmin",
    "networks": {"default": {"name": "cmin_default", "ipam": {}}},
    "services": {
        "s": {
            "command": None,
            "entrypoint": None,
            "image": "busybox",
            "networks": {"default": None},
        },
    },
}

CREATED_CMIN: dict[str, Any] = {
    "s": {"config": {"Labels": {"com.docker.compose.depends_on": ""}}, "host": {}, "absent": []},
}

NETWORKS_CMIN: dict[str, Any] = {
    "default": {
        "Driver": "",
        "Scope": "",
        "IPAM": None,
        "Internal": False,
        "Attachable": False,
        "Ingress": False,
        "ConfigOnly": False,
        "ConfigFrom": None,
        "Options": None,
        "Labels": {
            "com.docker.compose.config-hash": (
                "c92f2ee684ea32573467e73942f67da72684e0d994b67f4f9a6bf7f2d15ca913"
            ),
            "com.docker.compose.network": "default",
            "com.docker.compose.project": "cmin",
            "com.docker.compose.version": "2.40.3",
        },
        "Name": "cmin_default",
        "CheckDuplicate": True,
    },
}


def test_start_interval_on_any_api_when_composer_runs_the_checks() -> None:
    # Podman without systemd (API 1.41), LXC: composer schedules the checks itself.
    service = {"image": "busybox", "healthcheck": {"test": ["CMD", "true"],
                                                   "start_interval": "2s"}}
    project = {"name": "p", "networks": {"default": {"name": "p_default"}},
               "services": {"s": {**service, "networks": {"default": None}}}}
    body = _create(project, "p", "s", engine_checks=False)
    assert body["Healthcheck"] == {"Test": ["CMD", "true"], "StartInterval": 2_000_000_000}
    # Kept in a label too: Podman 4's API drops the field it does not know.
    assert body["Labels"]["io.composer.healthcheck.start-interval"] == "2000000000"
    assert "io.composer.healthcheck.start-interval" not in _create(
        project, "p", "s", api_version="1.44")["Labels"]
