"""Engine discovery: the order of DOCKER_HOST, Docker's socket, Podman's sockets and
CONTAINER_HOST, and the --engine/COMPOSER_ENGINE choice, against small unix-socket
servers that answer /_ping and /version as an engine does."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from composer.backends import discovery, podman_service
from composer.backends.discovery import EngineChoice, choose_engine, discover, engine_identity
from composer.errors import EngineUnreachableError, UsageError


class FakeEngine:
    """A unix socket answering ``/_ping`` (OK) and ``/version`` (as ``name``)."""

    def __init__(self, path: Path, name: str = "Docker Engine") -> None:
        self.path = path
        self.name = name
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(8)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                request = conn.recv(4096).decode()
                if request.startswith("GET /_ping"):
                    body = b"OK"
                else:
                    body = json.dumps({"Version": "4.3.1", "ApiVersion": "1.41",
                                       "Components": [{"Name": self.name}]}).encode()
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
                             + body)

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def sockets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    """Paths for Docker's socket and Podman's two, all in tmp_path (none listening)."""
    runtime = tmp_path / "runtime"
    (runtime / "podman").mkdir(parents=True)
    paths = {"docker": tmp_path / "docker.sock", "rootful": tmp_path / "podman.sock",
             "rootless": runtime / "podman" / "podman.sock"}
    monkeypatch.setattr(discovery, "PODMAN_ROOTFUL", str(paths["rootful"]))
    monkeypatch.setattr(podman_service, "podman_command", lambda: None)  # not installed
    yield paths


def _env(paths: dict[str, Path], **extra: str) -> dict[str, str]:
    return {"XDG_RUNTIME_DIR": str(paths["rootless"].parent.parent), **extra}


def test_docker_host_decides_without_probing(sockets: dict[str, Path]) -> None:
    choice = discover(None, _env(sockets, DOCKER_HOST="tcp://10.0.0.1:2375"),
                      docker_socket=str(sockets["docker"]))
    assert (choice.address, choice.how) == ("tcp://10.0.0.1:2375", "DOCKER_HOST")


def test_the_first_socket_that_answers_in_order(sockets: dict[str, Path]) -> None:
    env = _env(sockets)
    rootless = FakeEngine(sockets["rootless"], "Podman Engine")
    try:
        choice = discover(None, env, docker_socket=str(sockets["docker"]))
        assert (choice.address, choice.engine, choice.how) == (
            f"unix://{sockets['rootless']}", "podman", "the rootless Podman socket")
        rootful = FakeEngine(sockets["rootful"], "Podman Engine")
        try:
            assert discover(None, env, docker_socket=str(sockets["docker"])).how == \
                "Podman's rootful socket"
            docker = FakeEngine(sockets["docker"])
            try:
                choice = discover(None, env, docker_socket=str(sockets["docker"]))
                assert (choice.engine, choice.how) == ("docker", "the Docker socket")
                # --engine podman skips Docker's socket even when it answers.
                assert discover("podman", env, docker_socket=str(sockets["docker"])).how \
                    == "Podman's rootful socket"
            finally:
                docker.close()
        finally:
            rootful.close()
    finally:
        rootless.close()


def test_container_host_then_docker_socket_when_nothing_answers(
        sockets: dict[str, Path]) -> None:
    docker = str(sockets["docker"])
    assert discover(None, _env(sockets, CONTAINER_HOST="tcp://h:1"),
                    docker_socket=docker).address == "tcp://h:1"
    choice = discover(None, _env(sockets), docker_socket=docker)
    assert (choice.address, choice.how) == (f"unix://{docker}", "the Docker socket")
    with pytest.raises(EngineUnreachableError, match="no Podman engine answers"):
        discover("podman", _env(sockets), docker_socket=docker)
    assert discover("podman", _env(sockets, CONTAINER_HOST="unix:///c.sock",
                                   DOCKER_HOST="tcp://ignored:1"),
                    docker_socket=docker).address == "unix:///c.sock"


def test_a_private_podman_service_when_nothing_answers_and_podman_is_installed(
        sockets: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(podman_service, "podman_command", lambda: "/usr/bin/podman")
    docker = str(sockets["docker"])
    for engine in (None, "podman"):
        choice = discover(engine, _env(sockets), docker_socket=docker)
        assert (choice.address, choice.engine, choice.how, choice.private) == (
            "", "podman", "a private podman service", True)
    # Anything that answers, or names an engine, comes first.
    assert discover(None, _env(sockets, CONTAINER_HOST="tcp://h:1"),
                    docker_socket=docker).address == "tcp://h:1"
    assert discover("docker", _env(sockets), docker_socket=docker).how == "the Docker socket"
    engine = FakeEngine(sockets["docker"])  # found through the variable
    try:
        assert discover(None, _env(sockets, COMPOSER_DOCKER_SOCKET=docker)).how == \
            "the Docker socket"
    finally:
        engine.close()


def test_the_engine_choice() -> None:
    assert choose_engine(None, {}) == "auto"
    assert choose_engine(None, {"COMPOSER_ENGINE": "Podman"}) == "podman"
    assert choose_engine("docker", {"COMPOSER_ENGINE": "podman"}) == "docker"
    with pytest.raises(UsageError, match="COMPOSER_ENGINE: unknown engine 'rkt'"):
        choose_engine(None, {"COMPOSER_ENGINE": "rkt"})
    assert choose_engine("lxc", {}) == "lxc"
    assert discover("lxc", {}) == EngineChoice("lxc://", "lxc", "--engine")
    assert discover(None, {"COMPOSER_ENGINE": "lxc"}).how == "COMPOSER_ENGINE"


def test_the_engine_says_who_it_is(sockets: dict[str, Path]) -> None:
    podman = FakeEngine(sockets["rootful"], "Podman Engine")
    try:
        assert engine_identity(f"unix://{sockets['rootful']}") == {
            "engine": "podman", "version": "4.3.1", "api_version": "1.41"}
    finally:
        podman.close()
    assert engine_identity(f"unix://{sockets['docker']}") is None
    assert engine_identity("tcp://h:1") is None
