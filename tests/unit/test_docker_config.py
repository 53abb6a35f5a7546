"""The docker CLI's client configuration, as the Docker backend reads it: the proxies
v2 puts into containers and the registry logins pulls and pushes send."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from composer.backends.docker import connect
from composer.backends.docker.credentials import ClientConfig, config_path, registry_of


def write_config(folder: Path, data: dict[str, object]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(data))


def test_registry_of_an_image() -> None:
    assert registry_of("busybox") == "docker.io"
    assert registry_of("library/busybox:1") == "docker.io"
    assert registry_of("reg.local:5000/team/app:1") == "reg.local:5000"
    assert registry_of("ghcr.io/o/app@sha256:" + "0" * 64) == "ghcr.io"


def test_logins_and_proxies_come_from_docker_config(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    auth = base64.b64encode(b"me:secret").decode()
    write_config(tmp_path / "cfg", {
        "auths": {"reg.local:5000": {"auth": auth},
                  "https://index.docker.io/v1/": {"auth": base64.b64encode(b"hub:pw").decode()}},
        "proxies": {"default": {"httpProxy": "http://proxy:3128", "noProxy": "localhost"}},
    })
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "cfg"))
    assert config_path() == str(tmp_path / "cfg" / "config.json")
    config = ClientConfig()
    creds = config.credentials("reg.local:5000")
    assert creds is not None and (creds.username, creds.password) == ("me", "secret")
    assert "secret" not in repr(creds)
    hub = config.credentials("docker.io")
    assert hub is not None and hub.username == "hub"
    assert config.credentials("elsewhere.local") is None
    assert config.proxy_environment("unix:///var/run/docker.sock") == {
        "HTTP_PROXY": "http://proxy:3128", "http_proxy": "http://proxy:3128",
        "NO_PROXY": "localhost", "no_proxy": "localhost"}


@pytest.mark.anyio
async def test_the_backend_reads_the_configuration_not_the_library(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(tmp_path, {"proxies": {"tcp://engine.local:2375": {"httpsProxy": "http://p"},
                                        "default": {"httpsProxy": "http://other"}}})
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    backend = connect("tcp://engine.local:2375")  # no request is made
    assert await backend.proxy_environment() == {"HTTPS_PROXY": "http://p",
                                                 "https_proxy": "http://p"}
    assert await backend.registry_credentials("reg.local") is None


def test_a_missing_or_broken_file_is_no_configuration(tmp_path: Path) -> None:
    assert ClientConfig(path=str(tmp_path / "absent.json")).data == {}
    (tmp_path / "bad.json").write_text("{not json")
    broken = ClientConfig(path=str(tmp_path / "bad.json"))
    assert broken.data == {} and broken.credentials("docker.io") is None


def test_with_registry_auth_sends_the_login_of_the_images_registry(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``stack deploy --with-registry-auth``: the service's create or update carries
    ``X-Registry-Auth`` with the stored login for its image's registry, as docker's."""
    write_config(tmp_path, {"auths": {"reg.local:5000": {
        "auth": base64.b64encode(b"me:secret").decode()}}})
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    backend = connect("tcp://engine.local:2375")  # no request is made

    def spec(image: str) -> dict[str, object]:
        return {"TaskTemplate": {"ContainerSpec": {"Image": image}}}

    header = backend._auth_header(spec("reg.local:5000/team/app:1"), True)
    sent = json.loads(base64.urlsafe_b64decode(header["X-Registry-Auth"]))
    assert (sent["username"], sent["password"]) == ("me", "secret")
    assert sent["serveraddress"] == "reg.local:5000"
    assert backend._auth_header(spec("reg.local:5000/team/app:1"), False) == {}
    assert backend._auth_header(spec("elsewhere.local/app"), True) == {}
