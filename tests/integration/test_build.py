"""Images on a real engine: build (every ``build:`` attribute), rebuild-then-recreate,
failing builds, pulls with no registry, ``down --rmi local``.

Every project is named ``l1<hex>``; the images a test builds carry that project's
label (or an ``l1`` tag) and are removed when the test ends, passed or failed.
RUN steps use ``network: none``: an engine without a usable default bridge (as in
some sandboxes) still runs them.
"""

from __future__ import annotations

import contextlib
import re
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from engines import ON_PODMAN

from composer.api import BuildOptions, Compose, DownOptions, UpOptions
from composer.backends.docker import DockerBackend
from composer.config.loader import LoadedProject, LoadOptions, load_project
from composer.errors import BuildError, NotFoundError
from composer.runtime import ProgressEvent
from composer.runtime.images import PullOptions

from .conftest import remove_project

pytestmark = [pytest.mark.engine, pytest.mark.not_on_lxc(
    "builds from Dockerfiles: LXC makes only x-composer-rootfs images")]

PROJECT_LABEL = "com.docker.compose.project"


@pytest.fixture
def l1_project(engine: str, cleanup_project: Callable[[str], str]) -> Iterator[str]:
    """A unique ``l1`` project name; its containers, networks, volumes and images (by
    label, and tags starting with the name) are removed afterwards."""
    name = cleanup_project(f"l1{uuid.uuid4().hex[:8]}")
    yield name
    import docker

    remove_project(engine, name)  # containers first: an image in use cannot go

    client = docker.APIClient(base_url=engine, version="auto", timeout=60)
    try:
        found = client.images(filters={"label": f"{PROJECT_LABEL}={name}"})
        found += [i for i in client.images() if any(
            t.startswith(name) for t in i.get("RepoTags") or ())]
        for image in found:
            with contextlib.suppress(Exception):
                client.remove_image(image["Id"], force=True)
    finally:
        client.close()


@pytest.fixture
def client(engine: str) -> Iterator[Any]:
    import docker

    instance = docker.APIClient(base_url=engine, version="auto", timeout=60)
    yield instance
    instance.close()


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def load(folder: Path, name: str, env: dict[str, str] | None = None) -> LoadedProject:
    return load_project(LoadOptions(cwd=str(folder), project_name=name, environ=env or {}))


def run(coro: Any) -> Any:
    import anyio

    async def main() -> Any:
        return await coro

    return anyio.run(main)


async def _with_backend(engine: str, fn: Callable[[DockerBackend], Any]) -> Any:
    from composer.backends.docker import connect

    backend = connect(engine)
    try:
        return await fn(backend)
    finally:
        await backend.aclose()


def compose_run(engine: str, fn: Callable[[Compose], Any],
                events: list[ProgressEvent] | None = None) -> Any:
    """Run ``fn(compose)`` on a fresh backend in its own event loop."""
    import anyio

    async def main() -> Any:
        async def call(backend: DockerBackend) -> Any:
            return await fn(Compose(backend, events=None if events is None
                                    else events.append))
        return await _with_backend(engine, call)

    return anyio.run(main)


# -- every build attribute ---------------------------------------------------------------------

ATTRIBUTES = {
    "compose.yaml": """
        services:
          app:
            image: ${NAME}-app:v1
            build:
              context: ./src
              dockerfile: build/App.Dockerfile
              args:
                - GREETING=${GREETING:-hello}
                - FLAVOUR
              target: final
              labels:
                org.example.team: l1
              cache_from: [busybox:latest]
              network: none
              shm_size: 128m
              extra_hosts: ["l1host=10.1.2.3"]
              tags: ["${NAME}-app:extra"]
              no_cache: true
            command: ["sleep", "300"]
            init: true
            stop_grace_period: 1s
        """,
    "src/build/App.Dockerfile": """
        FROM busybox:latest AS base
        ARG GREETING
        ARG FLAVOUR=plain
        ENV GREETING=${GREETING} FLAVOUR=${FLAVOUR}
        RUN test "$(ls /sys/class/net)" = "lo"
        RUN grep -q "10.1.2.3.*l1host" /etc/hosts
        RUN df -k /dev/shm | grep -q 131072
        COPY data /data
        WORKDIR /data

        FROM base AS final
        LABEL stage=final

        FROM base AS unused
        LABEL stage=unused
        """,
    "src/data/keep.txt": "kept\n",
}


def test_every_build_attribute_reaches_the_image(engine: str, client: Any, l1_project: str,
                                                 tmp_path: Path) -> None:
    files = dict(ATTRIBUTES)
    if ON_PODMAN:  # its builds' RUN steps see the host's network whatever `network` says
        files["src/build/App.Dockerfile"] = files["src/build/App.Dockerfile"].replace(
            'RUN test "$(ls /sys/class/net)" = "lo"\n', "")
    write(tmp_path, files)
    project = load(tmp_path, l1_project, {"NAME": l1_project, "FLAVOUR": "spicy"})
    events: list[ProgressEvent] = []
    outcome = compose_run(engine, lambda c: c.build(project, BuildOptions(
        build_args={"GREETING": "overridden"})), events)
    assert [s.op for s in outcome.plan] == ["BuildImage"]
    info = client.inspect_image(f"{l1_project}-app:v1")
    env = info["Config"]["Env"]
    assert "GREETING=overridden" in env  # --build-arg beats the file
    assert "FLAVOUR=spicy" in env  # a bare arg comes from the environment
    labels = info["Config"]["Labels"]
    assert labels["stage"] == "final"  # target: the later "unused" stage is not built
    assert labels["org.example.team"] == "l1"
    assert labels[PROJECT_LABEL] == l1_project
    assert labels["com.docker.compose.service"] == "app"
    assert info["Config"]["WorkingDir"] == "/data"
    assert client.inspect_image(f"{l1_project}-app:extra")["Id"] == info["Id"]  # tags
    lines = [e.status for e in events if e.resource == "app"]
    # Podman (Buildah): "[1/2] STEP 1/8: FROM ...", Docker: "Step 1/8 : FROM ..."
    assert any(re.match(r"(\[\d+/\d+\] )?step 1/", line, re.I) for line in lines)
    assert not any("Using cache" in line for line in lines)  # no_cache
    assert [e.status for e in events if e.resource == "Service app"] == ["Building", "Built"]


def test_cache_is_used_unless_no_cache(engine: str, l1_project: str, tmp_path: Path) -> None:
    write(tmp_path, {
        "compose.yaml": "services:\n  app:\n    build: {context: ., network: none}\n",
        "Dockerfile": "FROM busybox:latest\nCOPY a.txt /a.txt\nRUN cat /a.txt\n",
        "a.txt": "a\n",
    })
    project = load(tmp_path, l1_project)
    compose_run(engine, lambda c: c.build(project, BuildOptions()))
    events: list[ProgressEvent] = []
    compose_run(engine, lambda c: c.build(project, BuildOptions(quiet=False)), events)
    assert any("Using cache" in e.status for e in events if e.resource == "app")
    events.clear()
    compose_run(engine, lambda c: c.build(project, BuildOptions(no_cache=True)), events)
    assert not any("Using cache" in e.status for e in events if e.resource == "app")
    events.clear()
    compose_run(engine, lambda c: c.build(project, BuildOptions(quiet=True)), events)
    assert [e.resource for e in events] == ["Service app", "Service app"]


def test_dockerfile_inline_and_dockerignore(engine: str, client: Any, l1_project: str,
                                           tmp_path: Path) -> None:
    write(tmp_path, {
        "compose.yaml": """
            services:
              app:
                build:
                  network: none
                  dockerfile_inline: |
                    FROM busybox:latest
                    COPY . /ctx
                    RUN test -e /ctx/keep.txt && test ! -e /ctx/secret.txt
                    RUN test ! -e /ctx/.composer.inline.Dockerfile
                    LABEL inline=yes
            """,
        "keep.txt": "k\n",
        "secret.txt": "s\n",
        ".dockerignore": "secret.txt\n",
    })
    compose_run(engine, lambda c: c.build(load(tmp_path, l1_project), BuildOptions()))
    assert client.inspect_image(f"{l1_project}-app")["Config"]["Labels"]["inline"] == "yes"


@pytest.mark.docker_only('Podman builds with Buildah: its errors are worded differently')
def test_pull_true_asks_the_registry_and_fails_in_one_line(engine: str, l1_project: str,
                                                          tmp_path: Path) -> None:
    write(tmp_path, {
        "compose.yaml": "services:\n  app:\n    build: {context: ., pull: true}\n",
        "Dockerfile": "FROM busybox:latest\n",
    })
    with pytest.raises(BuildError) as caught:
        compose_run(engine, lambda c: c.build(load(tmp_path, l1_project), BuildOptions()))
    text = str(caught.value)
    assert text.startswith('service "app" failed to build at step 1/')
    assert "\n" not in text


# -- up builds, rebuilds recreate --------------------------------------------------------------

REBUILD = {
    "compose.yaml": """
        services:
          app:
            build: {context: ., network: none}
            command: ["sleep", "300"]
            init: true
            stop_grace_period: 1s
          other:
            image: busybox:latest
            command: ["sleep", "300"]
            init: true
            stop_grace_period: 1s
        """,
    "Dockerfile": "FROM busybox:latest\nCOPY version.txt /version.txt\n",
    "version.txt": "1\n",
}


def container_ids(client: Any, project: str) -> dict[str, str]:
    return {c["Labels"]["com.docker.compose.service"]: c["Id"] for c in client.containers(
        all=True, filters={"label": f"{PROJECT_LABEL}={project}"})}


def test_up_builds_a_missing_image_and_a_rebuild_recreates_only_its_service(
        engine: str, client: Any, l1_project: str, tmp_path: Path) -> None:
    write(tmp_path, REBUILD)
    first = compose_run(engine, lambda c: c.up(load(tmp_path, l1_project), UpOptions()))
    assert [s.op for s in first.plans[0]] == ["BuildImage"]
    before = container_ids(client, l1_project)
    image = client.inspect_image(f"{l1_project}-app")["Id"]
    app = client.inspect_container(before["app"])
    assert app["Image"] == image
    assert app["Config"]["Labels"]["com.docker.compose.image"] == image

    # Nothing changed: no build without --build, and a cached rebuild changes nothing.
    again = compose_run(engine, lambda c: c.up(load(tmp_path, l1_project), UpOptions()))
    assert not any(s.op == "BuildImage" for p in again.plans for s in p)
    compose_run(engine, lambda c: c.up(load(tmp_path, l1_project), UpOptions(build=True)))
    assert container_ids(client, l1_project) == before

    (tmp_path / "version.txt").write_text("2\n")
    compose_run(engine, lambda c: c.up(load(tmp_path, l1_project), UpOptions(build=True)))
    after = container_ids(client, l1_project)
    assert after["other"] == before["other"]
    assert after["app"] != before["app"]
    assert client.inspect_container(after["app"])["Image"] != image


def test_pull_policy_build_builds_on_every_up(engine: str, l1_project: str,
                                              tmp_path: Path) -> None:
    write(tmp_path, {**REBUILD, "compose.yaml": REBUILD["compose.yaml"].replace(
        "build: {context: ., network: none}",
        "build: {context: ., network: none}\n            pull_policy: build")})
    for _ in range(2):
        outcome = compose_run(engine, lambda c: c.up(load(tmp_path, l1_project),
                                                     UpOptions(no_start=True)))
        assert [s.reason for s in outcome.plans[0]] == ["pull_policy build"]


def test_no_build_with_a_missing_image_creates_nothing(engine: str, client: Any,
                                                       l1_project: str, tmp_path: Path) -> None:
    write(tmp_path, REBUILD)
    with pytest.raises(NotFoundError, match=f'service "app": image {l1_project}-app is not'):
        compose_run(engine, lambda c: c.up(load(tmp_path, l1_project),
                                           UpOptions(no_build=True)))
    assert container_ids(client, l1_project) == {}


@pytest.mark.docker_only(
    'Podman builds with Buildah: its progress reads STEP 1/7: where '
    "Docker's reads Step 1/7 :")
def test_failing_build_ends_with_one_line_and_creates_nothing(
        run_composer: Any, client: Any, l1_project: str, tmp_path: Path) -> None:
    write(tmp_path, {**REBUILD, "Dockerfile": "FROM busybox:latest\nRUN echo about to fail "
                     "&& exit 3\nCOPY version.txt /\n"})
    result = run_composer("-p", l1_project, "up", "-d", cwd=tmp_path, timeout=120)
    assert result.returncode == 1
    # The engine counts the LABEL steps it appends for the image's labels: "2/N".
    assert re.search(r"^ app  Step 2/\d+ : RUN echo about to fail && exit 3$", result.stderr,
                     re.M)
    assert " app  about to fail" in result.stderr
    assert re.fullmatch(
        r'composer: service "app" failed to build at step 2/\d+ \(RUN echo about to fail && '
        r"exit 3\): The command '/bin/sh -c echo about to fail && exit 3' returned a non-zero "
        r"code: 3", result.stderr_lines[-1])
    assert container_ids(client, l1_project) == {}


def test_build_command_with_build_arg_and_quiet(run_composer: Any, client: Any,
                                                l1_project: str, tmp_path: Path) -> None:
    write(tmp_path, {
        "compose.yaml": "services:\n  app:\n    build: .\n  plain:\n    image: busybox\n",
        "Dockerfile": "FROM busybox:latest\nARG V=file\nLABEL v=$V\n",
    })
    result = run_composer("-p", l1_project, "build", "-q", "--build-arg", "V=cli", "app",
                          cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Step" not in result.stderr
    assert client.inspect_image(f"{l1_project}-app")["Config"]["Labels"]["v"] == "cli"


# -- down --rmi local --------------------------------------------------------------------------


def test_down_rmi_local_removes_what_was_built_and_nothing_else(
        engine: str, client: Any, l1_project: str, tmp_path: Path) -> None:
    write(tmp_path, REBUILD)
    compose_run(engine, lambda c: c.up(load(tmp_path, l1_project), UpOptions()))
    assert client.images(name=f"{l1_project}-app")
    compose_run(engine, lambda c: c.down(load(tmp_path, l1_project),
                                         DownOptions(rmi="local")))
    assert not client.images(name=f"{l1_project}-app")
    assert client.images(name="busybox")
    assert container_ids(client, l1_project) == {}


def test_down_rmi_local_also_removes_a_built_image_named_by_image(
        engine: str, client: Any, l1_project: str, tmp_path: Path) -> None:
    write(tmp_path, {**REBUILD, "compose.yaml": REBUILD["compose.yaml"].replace(
        "build: {context: ., network: none}",
        f"image: {l1_project}-named:1\n            build: {{context: ., network: none}}")})
    compose_run(engine, lambda c: c.up(load(tmp_path, l1_project), UpOptions(no_start=True)))
    assert client.images(name=f"{l1_project}-named")
    outcome = compose_run(engine, lambda c: c.down(load(tmp_path, l1_project),
                                                   DownOptions(rmi="local")))
    assert [s.resource for s in outcome.plan if s.op == "RemoveImage"] == [
        f"image:{l1_project}-named:1"]
    assert not client.images(name=f"{l1_project}-named")
    assert client.images(name="busybox")


# -- pulls without a registry ------------------------------------------------------------------


def test_pull_of_a_missing_image_fails_in_one_line_naming_service_and_image(
        run_composer: Any, l1_project: str, tmp_path: Path) -> None:
    missing = f"{l1_project}-absent:1"
    write(tmp_path, {"compose.yaml": f"""
        services:
          ghost:
            image: {missing}
          local:
            image: busybox:latest
            pull_policy: missing
        """})
    result = run_composer("-p", l1_project, "pull", "ghost", cwd=tmp_path, timeout=60)
    assert result.returncode == 1
    last = result.stderr_lines[-1]
    assert last.startswith(f'composer: service "ghost": cannot pull image {missing}: ')
    ignored = run_composer("-p", l1_project, "pull", "--ignore-pull-failures", cwd=tmp_path,
                           timeout=60)
    assert ignored.returncode == 0, ignored.stderr
    # pull_policy: missing with the image here never reaches for the (absent) registry.
    assert " Image busybox:latest  Skipped - Image is already present locally" in ignored.stderr


def test_pull_policy_missing_with_the_image_present_never_pulls(engine: str,
                                                                l1_project: str,
                                                                tmp_path: Path) -> None:
    write(tmp_path, {"compose.yaml": """
        services:
          local:
            image: busybox:latest
            pull_policy: missing
        """})
    warnings = compose_run(engine, lambda c: c.pull(load(tmp_path, l1_project),
                                                    PullOptions())).warnings
    assert warnings == []


def test_up_with_a_missing_image_fails_before_creating_anything(
        run_composer: Any, client: Any, l1_project: str, tmp_path: Path) -> None:
    missing = f"{l1_project}-absent:1"
    write(tmp_path, {"compose.yaml": f"""
        services:
          ok:
            image: busybox:latest
            command: ["sleep", "300"]
          ghost:
            image: {missing}
        """})
    result = run_composer("-p", l1_project, "up", "-d", cwd=tmp_path, timeout=60)
    assert result.returncode != 0
    assert 'service "ghost"' in result.stderr_lines[-1]
    assert missing in result.stderr_lines[-1]
    assert container_ids(client, l1_project) == {}


# -- the sample --------------------------------------------------------------------------------


def test_buildapp_sample_builds_offline_runs_and_goes_away(
        run_composer: Any, client: Any, l1_project: str, samples_dir: Path) -> None:
    import urllib.request

    sample = samples_dir / "buildapp"
    env = {"BUILDAPP_PORT": "", "APP_VERSION": "2.5"}

    def composer(*args: str) -> Any:
        result = run_composer("-p", l1_project, *args, cwd=sample, env=env, timeout=180)
        assert result.returncode == 0, result.stderr
        return result

    composer("up", "-d", "--wait")
    image = client.inspect_image(f"{l1_project}-web")
    assert image["Config"]["Labels"]["org.opencontainers.image.version"] == "2.5"
    assert image["Config"]["WorkingDir"] == "/srv/app"
    assert image["Config"]["Entrypoint"] == ["/srv/app/bin/init", "--"]
    port = composer("port", "web", "8080").stdout.strip().rpartition(":")[2]
    url = f"http://127.0.0.1:{port}"
    with urllib.request.urlopen(f"{url}/cgi-bin/hello", timeout=10) as answer:  # noqa: S310
        assert answer.read().decode().strip() == "hello from buildapp 2.5"
    # With -p and no -f, down works from labels alone and knows no build (as v2): -f.
    composer("-f", "compose.yaml", "down", "--rmi", "local")
    assert not client.images(name=f"{l1_project}-web")
    assert container_ids(client, l1_project) == {}
