"""Issue 3's lifecycle promises, as a user meets them: ``composer`` as a subprocess on
a real engine.

Pull policies with no registry (a missing image fails in one line naming service and
image before anything is created), ``restart: true`` in ``depends_on`` followed by
``composer restart``, ``--wait`` failures naming each service, external networks and
volumes surviving ``down -v``, and one clear line for every engine command when no
engine answers. Project names start with ``j1``; a finaliser removes everything
labelled with them, passed or failed.
"""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from engines import sdk_client

pytestmark = pytest.mark.engine

PROJECT_LABEL = "com.docker.compose.project"
IMAGE = "busybox:latest"
SLOW = 120.0  # hang guard only


@dataclass
class Proj:
    name: str
    folder: Path
    client: Any
    run_composer: Callable[..., Any]

    def write(self, text: str) -> None:
        (self.folder / "compose.yaml").write_text(textwrap.dedent(text))

    def run(self, *args: str) -> Any:
        result = self.run_composer("-p", self.name, *args, cwd=self.folder, timeout=SLOW)
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

    def networks(self) -> list[str]:
        found = self.client.networks.list(filters={"label": f"{PROJECT_LABEL}={self.name}"})
        return sorted(n.name for n in found)

    def started_at(self) -> dict[str, str]:
        return {name: c.attrs["State"]["StartedAt"] for name, c in self.containers().items()}


@pytest.fixture
def client(engine: str) -> Iterator[Any]:

    instance = sdk_client(engine)
    yield instance
    instance.close()


@pytest.fixture
def proj(client: Any, tmp_path: Path, run_composer: Any,
         cleanup_project: Callable[[str], str]) -> Proj:
    name = cleanup_project(f"j1{uuid.uuid4().hex[:8]}")
    folder = tmp_path / "proj"
    folder.mkdir()
    return Proj(name, folder, client, run_composer)


def error_lines(result: Any) -> list[str]:
    """The ``composer: ...`` lines of a failed run (progress lines are indented)."""
    assert result.returncode != 0, result.stdout
    lines = [ln for ln in result.stderr.splitlines()
             if ln.strip() and not ln.startswith((" ", "WARN"))]
    assert all(ln.startswith("composer: ") for ln in lines), result.stderr
    return lines


@pytest.fixture
def local_tag(client: Any) -> Iterator[str]:
    """A tag that exists on this engine only (no registry has it)."""
    tag = f"j1-local-{uuid.uuid4().hex[:8]}:latest"
    client.images.get(IMAGE).tag(tag)
    yield tag
    try:
        client.images.remove(tag)
    except Exception:
        pass


# -- pull policies, no registry ----------------------------------------------------------------


@pytest.mark.parametrize("how", ["default", "--pull never", "pull_policy: never",
                                 "--pull always"])
def test_missing_image_fails_in_one_line_before_anything_is_created(
        proj: Proj, how: str) -> None:
    missing = f"j1-missing-{uuid.uuid4().hex[:8]}:latest"
    policy = "\n            pull_policy: never" if how == "pull_policy: never" else ""
    proj.write(f"""
        services:
          ok:
            image: {IMAGE}
            command: [sleep, "300"]
          ghost:
            image: {missing}{policy}
            depends_on: [ok]
    """)
    flags = how.split() if how.startswith("--") else []
    lines = error_lines(proj.run("up", "-d", *flags))
    # --pull always also pulls busybox, which fails too when no registry answers
    assert len(lines) == 1 or how == "--pull always", lines
    assert [ln for ln in lines if 'service "ghost"' in ln and missing in ln], lines
    assert proj.containers() == {} and proj.networks() == []


@pytest.mark.docker_only(
    "the test tags an image as repo:tag in one parameter, which Podman's "
    'compat API refuses')
@pytest.mark.not_on_lxc("pull_policy always: LXC's pull imports from this machine's stores, "
                        "where a local tag is found")
def test_pull_policies_are_honoured_for_a_local_only_image(proj: Proj, local_tag: str) -> None:
    for policy in ("missing", "never", "if_not_present"):
        proj.write(f"""
            services:
              app:
                image: {local_tag}
                command: [sleep, "300"]
                stop_signal: SIGKILL
                pull_policy: {policy}
        """)
        proj.ok("up", "-d")
    # always: composer must try the registry, which has no such image.
    proj.write(f"""
        services:
          app:
            image: {local_tag}
            command: [sleep, "300"]
            stop_signal: SIGKILL
            pull_policy: always
    """)
    lines = error_lines(proj.run("up", "-d", "--force-recreate"))
    assert len(lines) == 1 and 'service "app"' in lines[0] and local_tag in lines[0], lines
    # --pull overrides the file's policy.
    proj.ok("up", "-d", "--pull", "missing")


# -- restart: true -----------------------------------------------------------------------------

RESTARTS = """
    services:
      db:
        image: busybox:latest
        command: [sleep, "300"]
        stop_signal: SIGKILL
      web:
        image: busybox:latest
        command: [sleep, "300"]
        stop_signal: SIGKILL
        depends_on:
          db: {condition: service_started, restart: true}
      other:
        image: busybox:latest
        command: [sleep, "300"]
        stop_signal: SIGKILL
        depends_on: [db]
"""


def test_restart_follows_restart_true_dependents_only(proj: Proj) -> None:
    proj.write(RESTARTS)
    proj.ok("up", "-d")
    p = proj.name

    def restarted(*args: str) -> set[str]:
        before = proj.started_at()
        proj.ok("restart", "-t", "0", *args)
        after = proj.started_at()
        return {name.removeprefix(f"{p}-") for name in after if after[name] != before[name]}

    # as v2: the dependent with restart: true follows, the plain one does not
    assert restarted("db") == {"db-1", "web-1"}
    # a named service's dependencies are left alone
    assert restarted("web") == {"web-1"}
    assert restarted("--no-deps", "db") == {"db-1"}
    assert restarted() == {"db-1", "web-1", "other-1"}


# -- --wait ------------------------------------------------------------------------------------


def test_wait_failure_names_each_failing_service(proj: Proj) -> None:
    proj.write("""
        services:
          sick:
            image: busybox:latest
            command: [sleep, "300"]
            stop_signal: SIGKILL
            healthcheck: {test: ["CMD", "false"], interval: 1s, retries: 1000}
          quitter:
            image: busybox:latest
            command: [sh, -c, "exit 4"]
          fine:
            image: busybox:latest
            command: [sleep, "300"]
            stop_signal: SIGKILL
    """)
    lines = error_lines(proj.run("up", "-d", "--wait", "--wait-timeout", "3"))
    assert sorted(lines) == [
        f'composer: service "quitter": container {proj.name}-quitter-1 exited (4)',
        f'composer: service "sick": container {proj.name}-sick-1 is not healthy after 3s',
    ]
    assert proj.containers()[f"{proj.name}-fine-1"].status == "running"


# -- external resources ------------------------------------------------------------------------


def test_down_never_removes_external_networks_or_volumes(proj: Proj, client: Any) -> None:
    net = client.networks.create(f"j1ext{uuid.uuid4().hex[:8]}")
    vol = client.volumes.create(f"j1ext{uuid.uuid4().hex[:8]}")
    try:
        proj.write(f"""
            services:
              app:
                image: busybox:latest
                command: [sleep, "300"]
                stop_signal: SIGKILL
                networks: [outside]
                volumes: [kept:/kept, mine:/mine]
            networks:
              outside: {{external: true, name: {net.name}}}
            volumes:
              kept: {{external: true, name: {vol.name}}}
              mine: {{}}
        """)
        proj.ok("up", "-d")
        attached = proj.containers()[f"{proj.name}-app-1"].attrs["NetworkSettings"]["Networks"]
        assert list(attached) == [net.name]
        proj.ok("down", "-v", "--remove-orphans", "-t", "0")
        assert proj.containers() == {}
        assert client.networks.list(names=[net.name])
        assert client.volumes.get(vol.name)
        assert not client.volumes.list(filters={"name": f"{proj.name}_mine"})
    finally:
        net.remove()
        vol.remove(force=True)


def test_a_missing_external_network_fails_before_anything_is_created(proj: Proj) -> None:
    proj.write("""
        services:
          app:
            image: busybox:latest
            networks: [outside]
        networks:
          outside: {external: true, name: j1-no-such-network}
    """)
    lines = error_lines(proj.run("up", "-d"))
    assert len(lines) == 1 and "j1-no-such-network" in lines[0], lines
    assert proj.containers() == {}


# -- secrets and configs -----------------------------------------------------------------------


def test_file_secrets_and_configs_are_mounted_read_only(proj: Proj) -> None:
    (proj.folder / "token.txt").write_text("s3cret\n")
    (proj.folder / "app.conf").write_text("conf=1\n")
    proj.write("""
        services:
          app:
            image: busybox:latest
            command:
              - sh
              - -c
              - cat /run/secrets/token /etc/app.conf; echo x > /etc/app.conf || echo refused
            secrets: [token]
            configs: [{source: appconf, target: /etc/app.conf}]
        secrets:
          token: {file: ./token.txt}
        configs:
          appconf: {file: ./app.conf}
    """)
    proj.ok("up", "-d")
    container = proj.containers()[f"{proj.name}-app-1"]
    container.wait(timeout=60)
    mounts = {m["Destination"]: m for m in container.attrs["Mounts"]}
    assert mounts["/run/secrets/token"]["RW"] is False
    assert mounts["/etc/app.conf"]["RW"] is False
    lines = container.logs(stderr=False).decode().splitlines()
    assert lines == ["s3cret", "conf=1", "refused"]


# -- no engine ---------------------------------------------------------------------------------

EVERY_ENGINE_COMMAND = [
    ["up", "-d"], ["up", "--no-start"], ["create"], ["down"], ["ps"], ["start"], ["stop"],
    ["restart"], ["kill"], ["kill", "-s", "SIGTERM"], ["rm", "-f"], ["pause"], ["unpause"],
    ["top"], ["port", "a", "80"], ["images"], ["ls"],
]


@pytest.mark.not_on_lxc("an engine at an address (DOCKER_HOST); LXC is chosen by name")
@pytest.mark.parametrize("address", ["unix:///nonexistent/j1.sock", "tcp://127.0.0.1:9"])
@pytest.mark.parametrize("args", EVERY_ENGINE_COMMAND, ids=" ".join)
def test_no_engine_is_one_line_naming_the_address_for_every_command(
        run_composer: Any, tmp_path: Path, args: list[str], address: str) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  a:\n    image: busybox:latest\n")
    result = run_composer("-p", "j1none", *args, cwd=tmp_path, env={"DOCKER_HOST": address},
                          timeout=60)
    assert "Traceback" not in result.stderr
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    assert address in lines[0] and "DOCKER_HOST" in lines[0], lines[0]
    assert result.stdout == ""
