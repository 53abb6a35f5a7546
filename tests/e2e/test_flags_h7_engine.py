"""The flags ``up --always-recreate-deps -V --attach-dependencies``, ``run --build
--env-from-file`` and ``ps --orphans=false`` on a real Docker Engine, ``composer`` run as
a subprocess.

Each test gets its own project (``h7up<8 hex>``); a finaliser removes every container,
network, volume and image carrying that project's label, and the anonymous volumes a
test saw being left behind (as v2, ``-V`` leaves the old one). Skips without an engine
or without ``busybox:latest``.
"""

from __future__ import annotations

import json
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .cleanup import engine_client, remove_images, remove_project

pytestmark = pytest.mark.engine

PROJECT_LABEL = "com.docker.compose.project"
IMAGE = "busybox:latest"
SLOW = 120.0  # hang guard only


@pytest.fixture(scope="module")
def engine() -> Any:
    return engine_client(IMAGE)


@dataclass
class Proj:
    name: str
    folder: Path
    client: Any
    run_composer: Any
    leftovers: list[str] = field(default_factory=list)  # anonymous volumes to remove

    def write(self, text: str, filename: str = "compose.yaml") -> None:
        (self.folder / filename).write_text(textwrap.dedent(text))

    def run(self, *args: str) -> Any:
        result = self.run_composer("-p", self.name, *args, cwd=self.folder, timeout=SLOW,
                                   env={"COMPOSE_PROGRESS": "plain"})
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def ok(self, *args: str) -> Any:
        result = self.run(*args)
        assert result.returncode == 0, f"{args}: {result.stderr}"
        return result

    def containers(self) -> dict[str, Any]:
        found = self.client.containers.list(
            all=True, filters={"label": f"{PROJECT_LABEL}={self.name}"})
        return {c.name: c for c in found}

    def ids(self) -> dict[str, str]:
        return {name: c.id for name, c in self.containers().items()}

    def anonymous_volume(self, container: str) -> str:
        mounts = self.containers()[container].attrs["Mounts"]
        names = [str(m["Name"]) for m in mounts if m.get("Type") == "volume"]
        assert len(names) == 1, mounts
        self.leftovers.append(names[0])
        return names[0]


def _remove(client: Any, name: str, leftovers: list[str]) -> None:
    remove_project(client, name, leftovers)
    remove_images(client, name)


@pytest.fixture
def proj(engine: Any, tmp_path: Path, run_composer: Any) -> Iterator[Proj]:
    p = Proj(f"h7up{uuid.uuid4().hex[:8]}", tmp_path, engine, run_composer)
    try:
        yield p
    finally:
        _remove(engine, p.name, p.leftovers)


TWO = """
services:
  db:
    image: busybox:latest
    command: ["sh", "-c", "echo db-hello; sleep 300"]
    stop_signal: SIGKILL
    volumes: ["/anon"]
  web:
    image: busybox:latest
    command: ["sh", "-c", "sleep 1; echo web-hello; sleep 300"]
    depends_on: [db]
    stop_signal: SIGKILL
"""


def test_always_recreate_deps_recreates_the_dependency_only(proj: Proj) -> None:
    proj.write(TWO)
    proj.ok("up", "-d")
    before = proj.ids()
    proj.ok("up", "-d", "web")
    assert proj.ids() == before
    result = proj.ok("up", "-d", "--always-recreate-deps", "web")
    after = proj.ids()
    assert after[f"{proj.name}-db-1"] != before[f"{proj.name}-db-1"]
    assert after[f"{proj.name}-web-1"] == before[f"{proj.name}-web-1"]
    assert f" Container {proj.name}-db-1  Recreated" in result.stderr.splitlines()


def test_renew_anon_volumes_gives_a_fresh_anonymous_volume(proj: Proj) -> None:
    proj.write(TWO)
    proj.ok("up", "-d", "db")
    first = proj.anonymous_volume(f"{proj.name}-db-1")
    proj.ok("up", "-d", "--force-recreate", "db")
    assert proj.anonymous_volume(f"{proj.name}-db-1") == first  # inherited
    # -V recreates even an unchanged container (as v2), with a new anonymous volume.
    proj.ok("up", "-d", "-V", "db")
    assert proj.anonymous_volume(f"{proj.name}-db-1") != first
    refused = proj.run("up", "-d", "-V", "--no-recreate")
    assert refused.returncode != 0
    assert "--no-recreate and --renew-anon-volumes are incompatible" in refused.stderr


def test_attach_dependencies_shows_the_dependency_output(proj: Proj) -> None:
    proj.write(TWO.replace("echo web-hello; sleep 300", "echo web-hello"))
    result = proj.ok("up", "--attach-dependencies", "web")
    lines = result.stdout.splitlines()
    assert "Attaching to db-1, web-1" in lines, result.stdout
    assert any(ln.startswith("db-1") and ln.endswith("| db-hello") for ln in lines), lines
    assert any(ln.endswith("web-1 exited with code 0") for ln in lines), lines
    # As v2: the session ends with the named service; the dependency runs on, unannounced.
    assert not any("db-1 exited" in ln for ln in lines), lines
    assert proj.containers()[f"{proj.name}-db-1"].status == "running"
    proj.anonymous_volume(f"{proj.name}-db-1")  # "down" without -v leaves it
    proj.ok("down")
    plain = proj.ok("up", "web")
    assert "web-hello" in plain.stdout and "db-hello" not in plain.stdout


BUILT = """
services:
  app:
    build:
      context: .
      dockerfile_inline: |
        FROM busybox:latest
        ARG STAMP
        RUN echo "stamp-$$STAMP" > /stamp
      args:
        STAMP: "{stamp}"
    image: {image}
    command: ["cat", "/stamp"]
"""


@pytest.mark.not_on_lxc("builds from a Dockerfile: LXC makes only x-composer-rootfs images")
@pytest.mark.docker_only('Podman builds with Buildah: its progress reads STEP 1/7:')
def test_run_build_builds_then_runs(proj: Proj) -> None:
    image = f"{proj.name}-app:latest"
    proj.write(BUILT.format(stamp="one", image=image))
    first = proj.ok("run", "--rm", "-T", "app")  # missing image: built
    assert first.stdout.strip() == "stamp-one"
    proj.write(BUILT.format(stamp="two", image=image))
    stale = proj.ok("run", "--rm", "-T", "app")  # the image exists: not rebuilt
    assert stale.stdout.strip() == "stamp-one"
    fresh = proj.ok("run", "--rm", "-T", "--build", "app")
    assert fresh.stdout.strip() == "stamp-two"
    assert " Service app  Built" in fresh.stderr.splitlines()
    quiet = proj.ok("run", "--rm", "-T", "--build", "--quiet-build", "app")
    assert quiet.stdout.strip() == "stamp-two"
    assert "Step 1/" not in quiet.stderr and "Step 1/" in fresh.stderr


def test_run_env_from_file(proj: Proj) -> None:
    proj.write("""
        services:
          s:
            image: busybox:latest
            environment: {SVC: from-service}
            command: ["sh", "-c", "env | grep -E '^(A|B|C|SVC)=' | sort"]
        """)
    (proj.folder / "one.env").write_text("A=file-a\nB=${A}-b\nSVC=from-file\n")
    (proj.folder / "two.env").write_text("A=two-a\nC=two-c\n")
    result = proj.ok("run", "--rm", "-T", "--env-from-file", "one.env",
                     "--env-from-file", "two.env", "s")
    assert result.stdout.split() == ["A=file-a", "B=file-a-b", "C=two-c", "SVC=from-file"]
    result = proj.ok("run", "--rm", "-T", "-e", "A=cli", "--env-from-file", "one.env", "s")
    assert result.stdout.split() == ["A=cli", "B=cli-b", "SVC=from-file"]
    missing = proj.run("run", "--rm", "-T", "--env-from-file", "nope.env", "s")
    assert missing.returncode != 0
    assert "open nope.env: no such file or directory" in missing.stderr


def test_ps_orphans_false_hides_an_orphan(proj: Proj) -> None:
    proj.write("""
        services:
          keep: {image: "busybox:latest", command: ["sleep", "300"], stop_signal: SIGKILL}
          gone: {image: "busybox:latest", command: ["sleep", "300"], stop_signal: SIGKILL}
        """)
    proj.ok("up", "-d")
    proj.write("""
        services:
          keep: {image: "busybox:latest", command: ["sleep", "300"], stop_signal: SIGKILL}
        """)

    def names(*flags: str) -> list[str]:
        out = proj.ok("-f", "compose.yaml", "ps", "--format", "json", *flags).stdout
        return [json.loads(line)["Name"] for line in out.splitlines()]

    keep, gone = f"{proj.name}-keep-1", f"{proj.name}-gone-1"
    assert names() == [gone, keep]
    assert names("--orphans") == [gone, keep]
    assert names("--orphans=false") == [keep]
    bad = proj.run("-f", "compose.yaml", "ps", "--orphans=no")
    assert bad.returncode != 0
    assert 'invalid argument "no" for "--orphans" flag' in bad.stderr
