"""How the Docker backend reads what Podman's Docker-compatible API answers where it
differs from Docker's: image names, top's lines, all-interfaces ports, health in
listings, errors. Pure: the answers are written out as Podman 4.3.1 gave them."""

from __future__ import annotations

import json

import docker.errors
import pytest
import requests

from composer.backends.docker import convert
from composer.backends.docker.backend import _with_health
from composer.backends.docker.errors import map_engine_error
from composer.errors import ConflictError


@pytest.mark.parametrize(("listed", "shown"), [
    ("docker.io/library/busybox:latest", "busybox:latest"),
    ("docker.io/composer-test/app:tag", "composer-test/app:tag"),
    ("localhost/busybox:latest", "localhost/busybox:latest"),
    ("quay.io/podman/hello:latest", "quay.io/podman/hello:latest"),
    ("busybox:latest", "busybox:latest"),
])
def test_image_names_are_shown_as_docker_shows_them(listed: str, shown: str) -> None:
    assert convert.familiar(listed) == shown


def test_top_lines_answered_whole_are_split_into_columns() -> None:
    top = convert.process_list({
        "Titles": ["PID   USER     COMMAND"],
        "Processes": [["1 root     sh -c trap 'exit 7' TERM; sleep 1"], ["6 root     sleep 1"]]})
    assert top.titles == ("PID", "USER", "COMMAND")
    assert top.processes == (("1", "root", "sh -c trap 'exit 7' TERM; sleep 1"),
                             ("6", "root", "sleep 1"))
    docker_top = {"Titles": ["UID", "PID", "CMD"], "Processes": [["root", "1", "sleep 1"]]}
    assert convert.process_list(docker_top).titles == ("UID", "PID", "CMD")


def test_an_all_interfaces_binding_reads_0_0_0_0() -> None:
    listed = convert.container_state({
        "Id": "c1", "Names": ["/p-web-1"], "State": "running", "Status": "Up 2 seconds",
        "Labels": {}, "Ports": [{"IP": "", "PrivatePort": 80, "PublicPort": 8080,
                                 "Type": "tcp"}, {"PrivatePort": 81, "Type": "tcp"}]})
    assert listed.ports == ({"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080,
                             "Type": "tcp"}, {"PrivatePort": 81, "Type": "tcp"})
    info = convert.container_info({"NetworkSettings": {"Ports": {
        "80/tcp": [{"HostIp": "", "HostPort": "8080"}]}}})
    assert info.ports["80/tcp"][0].host_ip == "0.0.0.0"


def test_the_health_podman_keeps_out_of_its_compatible_listing() -> None:
    health = {"c1": "healthy", "c2": "starting", "c3": ""}
    assert _with_health({"Id": "c1", "Status": "Up 5 seconds"}, health)["Status"] == \
        "Up 5 seconds (healthy)"
    assert _with_health({"Id": "c2", "Status": "Up 1 second"}, health)["Status"] == \
        "Up 1 second (health: starting)"
    assert _with_health({"Id": "c3", "Status": "Up"}, health)["Status"] == "Up"
    state = convert.container_state({"Id": "c1", "Names": ["/x"], "State": "running",
                                     "Labels": {}, **_with_health(
                                         {"Id": "c1", "Status": "Up 5 seconds"}, health)})
    assert state.health == "healthy"


def test_a_name_in_use_answered_500_is_a_conflict() -> None:
    response = requests.Response()
    response.status_code = 500
    error = docker.errors.APIError(
        "500 Server Error", response=response,
        explanation='container create: creating container storage: the container name '
                    '"p-web-1" is already in use by 22a2. You have to remove that container')
    assert isinstance(map_engine_error(error, "unix:///run/podman/podman.sock"), ConflictError)


class _PingClient:
    """A client whose ``/_ping`` answers the given headers; ``/version`` is counted."""

    base_url = "http+docker://localhost"
    timeout = 5
    api_version = "1.41"

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers
        self.versions = 0

    def get(self, url: str, timeout: float) -> requests.Response:
        assert url.endswith("/_ping")
        response = requests.Response()
        response.status_code = 200
        response.headers.update(self.headers)
        return response

    def version(self, api_version: bool = False) -> dict[str, str]:
        self.versions += 1
        return {"ApiVersion": "1.40", "Components": [{"Name": "Podman Engine"}]}


@pytest.mark.anyio
@pytest.mark.parametrize(("headers", "podman", "versions"), [
    ({"Api-Version": "1.41", "Libpod-Api-Version": "4.3.1"}, True, 0),
    ({"Api-Version": "1.41", "Server": "Docker/20.10.24+dfsg1 (linux)"}, False, 0),
    ({}, True, 1),  # no version in the headers: /version, which names Podman
])
async def test_the_engine_is_known_from_its_ping(headers: dict[str, str], podman: bool,
                                                  versions: int) -> None:
    from composer.backends.docker.engine import Engine

    client = _PingClient(headers)
    engine = Engine(client, "fake://")  # type: ignore[arg-type]
    await engine._negotiate()
    assert engine.is_podman is podman
    assert client.versions == versions  # Podman's /version takes a quarter second


LIBPOD = {"Api-Version": "1.41", "Libpod-Api-Version": "4.3.1"}
DOCKER = {"Api-Version": "1.41", "Server": "Docker/20.10.24+dfsg1 (linux)"}


class _InfoClient(_PingClient):
    """Also answers Podman's own ``/info`` (``host``) and Docker's ``/info``."""

    def __init__(self, headers: dict[str, str], host: dict[str, object],
                 info: dict[str, object]) -> None:
        super().__init__(headers)
        self.host = host
        self.info_answer = info
        self.asked: list[str] = []

    def get(self, url: str, timeout: float = 5) -> requests.Response:  # type: ignore[override]
        if url.endswith("/_ping"):
            return super().get(url, timeout)
        assert url.endswith("/v4.0.0/libpod/info")
        self.asked.append("libpod/info")
        response = requests.Response()
        response.status_code = 200
        response._content = json.dumps({"host": self.host}).encode()
        return response

    def info(self) -> dict[str, object]:
        self.asked.append("info")
        return self.info_answer


@pytest.mark.anyio
@pytest.mark.parametrize(("headers", "host", "info", "rootless"), [
    # Podman 4.3.1 as a user (its compatible /info does not say so) and as root.
    (LIBPOD, {"security": {"rootless": True}, "cgroupVersion": "v1"},
     {"SecurityOptions": ["name=seccomp,profile=default"]}, True),
    (LIBPOD, {"security": {"rootless": False}}, {}, False),
    # Docker: rootless says so among its security options.
    (DOCKER, {}, {"SecurityOptions": ["name=seccomp,profile=builtin", "name=rootless",
                                      "name=cgroupns"]}, True),
    (DOCKER, {}, {"SecurityOptions": ["name=seccomp,profile=builtin"]}, False),
])
async def test_a_rootless_engine_is_known_from_its_info(
        headers: dict[str, str], host: dict[str, object], info: dict[str, object],
        rootless: bool) -> None:
    from composer.backends.docker.backend import DockerBackend

    client = _InfoClient(headers, host, info)
    backend = DockerBackend(client, "fake://")  # type: ignore[arg-type]
    assert await backend.is_rootless() is rootless
    assert await backend.is_rootless() is rootless
    assert client.asked == (["libpod/info"] if headers is LIBPOD else ["info"])  # once
