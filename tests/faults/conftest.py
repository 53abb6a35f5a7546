"""Fixtures of the fault suite: composer as a subprocess on a real engine, faults
injected at moments chosen by watching the engine (never by timing), then a
plain rerun that must converge with nothing lost.

- ``shared``: a docker SDK client of the shared engine (skips without one, or
  without ``busybox:latest``).
- ``proj``: a project in a temporary folder with a unique name (``f1<hex>``) on
  the shared engine; everything labelled with it is removed afterwards.
- ``private_engine``: a private dockerd (:mod:`privateengine`), one per session,
  for the faults that stop an engine; ``private_proj``: a project on it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from waiting import Streaming, wait_until

from .privateengine import PrivateEngine, missing_tools

LABEL = "com.docker.compose.project"


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("COMPOSE_") and k != "DOCKER_HOST"}
    env.pop("NO_COLOR", None)
    env.update(extra or {})
    return env


def one_line_error(stderr: str) -> str:
    """The error a failed command ended with: its ``composer:`` lines must be
    whole sentences, one per failure, with no traceback."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("composer: ")]
    assert lines, f"no error line in: {stderr!r}"
    return lines[0]


@dataclass
class Proj:
    """A compose project in ``folder`` named ``name`` on the engine of ``client``."""

    name: str
    folder: Path
    client: Any
    env: dict[str, str] = field(default_factory=dict)
    #: The command run (composer by default; compare_v2.py runs Docker Compose v2).
    command: list[str] = field(default_factory=lambda: [sys.executable, "-m", "composer"])

    def write(self, text: str) -> None:
        (self.folder / "compose.yaml").write_text(text)

    def argv(self, *args: str) -> list[str]:
        return [*self.command, "-p", self.name, *args]

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 300
            ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(self.argv(*args), cwd=self.folder,
                                env=clean_env({**self.env, **(env or {})}),
                                capture_output=True, text=True, timeout=timeout,
                                stdin=subprocess.DEVNULL, check=False)
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def start(self, *args: str, env: dict[str, str] | None = None) -> Streaming:
        return Streaming(self.argv(*args), cwd=self.folder,
                         env=clean_env({**self.env, **(env or {})}))

    # -- what the engine holds, from listings (no inspect that could race a removal)

    def containers(self) -> list[dict[str, Any]]:
        return list(self.client.api.containers(all=True,
                                               filters={"label": f"{LABEL}={self.name}"}))

    def names(self, state: str | None = None) -> list[str]:
        return sorted(c["Names"][0].lstrip("/") for c in self.containers()
                      if state is None or c["State"] == state)

    def networks(self) -> list[dict[str, Any]]:
        return list(self.client.api.networks(filters={"label": f"{LABEL}={self.name}"}))

    def volumes(self) -> list[str]:
        found = self.client.api.volumes(filters={"label": f"{LABEL}={self.name}"}) or {}
        return sorted(v["Name"] for v in found.get("Volumes") or ())

    def exec(self, container: str, *command: str) -> str:
        result = self.client.api.exec_create(container, list(command))
        out = self.client.api.exec_start(result["Id"])
        code = self.client.api.exec_inspect(result["Id"])["ExitCode"]
        assert code == 0, (command, out)
        return str(out.decode() if isinstance(out, bytes) else out)

    def wait_for(self, check: Any, what: str, timeout: float = 120) -> Any:
        return wait_until(check, what=what, timeout=timeout)

    def assert_converged(self, services: list[str], *, networks: list[str] | None = None,
                         volumes: list[str] = ()) -> None:  # type: ignore[assignment]
        """Exactly one running container per service (``p-svc-1``), exactly one of
        each network, the named volumes exactly once; nothing else of the project."""
        running = self.names("running")
        assert self.names() == sorted(f"{self.name}-{s}-1" for s in services), self.names()
        assert running == self.names(), self.containers()
        nets = sorted(n["Name"] for n in self.networks())
        assert nets == sorted(networks if networks is not None else [f"{self.name}_default"])
        assert self.volumes() == sorted(f"{self.name}_{v}" for v in volumes)

    def remove(self) -> None:
        api = self.client.api
        label = {"label": f"{LABEL}={self.name}"}
        with contextlib.suppress(Exception):
            for c in api.containers(all=True, filters=label):
                with contextlib.suppress(Exception):
                    api.remove_container(c["Id"], force=True, v=True)
            for n in api.networks(filters=label):
                with contextlib.suppress(Exception):
                    api.remove_network(n["Id"])
            for v in (api.volumes(filters=label) or {}).get("Volumes") or ():
                with contextlib.suppress(Exception):
                    api.remove_volume(v["Name"], force=True)


def services_yaml(count: int, body: str = "    command: sleep 3600\n    init: true\n") -> str:
    """``count`` busybox services ``s00``, ``s01``... each with ``body``."""
    out = "services:\n"
    for i in range(count):
        out += f"  s{i:02d}:\n    image: busybox:latest\n{body}"
    return out


@pytest.fixture(scope="session")
def shared() -> Iterator[Any]:
    docker = pytest.importorskip("docker")
    try:
        client = docker.from_env(timeout=120)
        client.ping()
        client.images.get("busybox:latest")
    except Exception as exc:  # no engine, or no image: nothing to test against
        pytest.skip(f"no usable engine: {exc}")
    yield client
    client.close()


@pytest.fixture
def proj(shared: Any, tmp_path: Path) -> Iterator[Proj]:
    p = Proj(f"f1{uuid.uuid4().hex[:8]}", tmp_path, shared)
    try:
        yield p
    finally:
        p.remove()


@pytest.fixture(scope="session")
def private_engine(shared: Any) -> Iterator[PrivateEngine]:
    reason = missing_tools()
    if reason:
        pytest.skip(f"no private engine: {reason}")
    engine = PrivateEngine()
    try:
        engine.start()
        engine.load_image(shared)
        yield engine
    finally:
        engine.close()


@pytest.fixture
def private_proj(private_engine: PrivateEngine, tmp_path: Path) -> Iterator[Proj]:
    if not private_engine.answers():
        private_engine.start()  # a test that failed with the engine stopped
    client = private_engine.client()
    p = Proj(f"f2{uuid.uuid4().hex[:8]}", tmp_path, client,
             env={"DOCKER_HOST": private_engine.address})
    try:
        yield p
    finally:
        if not private_engine.answers():
            private_engine.start()
        p.remove()
        client.close()
