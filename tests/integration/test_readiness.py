"""``x-composer-ready`` on a real engine: readiness that cannot lie.

Each test's project has its own name; everything labelled with it is removed
afterwards, passed or failed (``project_name``). The dependents prove what they
saw: each one tries its dependency the moment it starts and prints what it got
(``reached``/``refused``, an HTTP status, a file), so a test asserts what the
dependent met, never how long anything took.
"""

from __future__ import annotations

import contextlib
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from engines import ON_PODMAN, api_client, forward_dropped, not_listening
from waiting import wait_until

from composer.backends.docker import DockerBackend
from composer.runtime.readiness import HELPER_LABEL, HttpProbe, Prober, TcpProbe, wait_ready

pytestmark = [pytest.mark.engine]

SLOW = 120.0  # hang guard for commands that wait on containers; nothing asserts on it

# The dependent's first act: connect to db:5432, say whether it could.
PROBE_DB = ('sh -c "if nc db 5432 </dev/null; then echo reached; else echo refused; fi; '
            'exec sleep 3600"')


@pytest.fixture
def docker_client(engine: str) -> Iterator[Any]:
    client = api_client(engine)
    yield client
    client.close()


def write(folder: Path, text: str) -> Path:
    (folder / "compose.yaml").write_text(textwrap.dedent(text))
    return folder


def first_line(client: Any, container: str) -> str:
    """The first line the container printed (waits for one)."""
    def line() -> str:
        out = client.logs(container, stdout=True, stderr=True).decode()
        return out.splitlines()[0] if out.strip() else ""
    return wait_until(line, what=f"a line from {container}")


def progress(stderr: str) -> list[str]:
    """Progress lines, as "Container x-db-1 Healthy"."""
    return [" ".join(line.split()) for line in stderr.splitlines() if line.startswith(" ")]


def test_a_published_port_with_a_late_listener_holds_the_dependent(
        run_composer: Any, docker_client: Any, project_name: str, tmp_path: Path) -> None:
    # The case: the port is published, so the engine's proxy accepts on the
    # host port long before the container listens. The probe must not be fooled.
    write(tmp_path, f"""
        services:
          db:
            image: busybox:latest
            command: sh -c "sleep 4; exec nc -ll -p 5432 -e true"
            ports: ["127.0.0.1::5432"]
            init: true
            x-composer-ready: {{tcp: [5432], timeout: 60s}}
          app:
            image: busybox:latest
            command: {PROBE_DB}
            init: true
            depends_on: {{db: {{condition: service_healthy}}}}
    """)
    result = run_composer("-p", project_name, "up", "-d", cwd=tmp_path, timeout=SLOW)
    assert result.returncode == 0, result.stderr
    lines = progress(result.stderr)
    assert lines.index(f"Container {project_name}-db-1 Healthy") < lines.index(
        f"Container {project_name}-app-1 Starting")
    # The proof: the dependent's first connection to db's port was accepted.
    assert first_line(docker_client, f"{project_name}-app-1") == "reached"


def test_a_port_that_never_opens_fails_after_the_timeout(
        run_composer: Any, docker_client: Any, project_name: str, tmp_path: Path) -> None:
    write(tmp_path, """
        services:
          db:
            image: busybox:latest
            command: sleep 3600
            ports: ["127.0.0.1::5432"]
            init: true
            x-composer-ready: {tcp: [5432], timeout: 3s}
          app:
            image: busybox:latest
            command: sleep 3600
            init: true
            depends_on: {db: {condition: service_healthy}}
    """)
    result = run_composer("-p", project_name, "up", "-d", cwd=tmp_path, timeout=SLOW)
    assert result.returncode == 1
    errors = [line for line in result.stderr_lines if line.startswith("composer:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr
    ip = docker_client.inspect_container(f"{project_name}-db-1")["NetworkSettings"][
        "Networks"][f"{project_name}_default"]["IPAddress"]
    assert errors[0] == (
        f'composer: service "app": dependency failed to start: service "db" is not ready '
        f"after 3s: tcp port 5432: {not_listening(ip, 5432, f'{project_name}-db-1')} "
        f"(container {project_name}-db-1)")
    app = docker_client.inspect_container(f"{project_name}-app-1")
    assert app["State"]["Status"] == "created"  # never started


@pytest.mark.skipif(ON_PODMAN and forward_dropped(), reason=(
    "Docker's FORWARD DROP policy on this machine cuts a Podman internal network's "
    "containers from each other"))
def test_a_service_on_an_internal_network_only(
        run_composer: Any, docker_client: Any, project_name: str, tmp_path: Path) -> None:
    write(tmp_path, f"""
        services:
          db:
            image: busybox:latest
            command: sh -c "sleep 3; exec nc -ll -p 5432 -e true"
            networks: [back]
            init: true
            x-composer-ready: {{tcp: [5432]}}
          app:
            image: busybox:latest
            command: {PROBE_DB}
            networks: [back]
            init: true
            depends_on: {{db: {{condition: service_healthy}}}}
        networks:
          back: {{internal: true}}
    """)
    result = run_composer("-p", project_name, "up", "-d", cwd=tmp_path, timeout=SLOW)
    assert result.returncode == 0, result.stderr
    networks = docker_client.inspect_container(f"{project_name}-db-1")["NetworkSettings"][
        "Networks"]
    assert list(networks) == [f"{project_name}_back"]
    assert first_line(docker_client, f"{project_name}-app-1") == "reached"


CGI = """\
#!/bin/sh
# 503 until the server has been up a while (the file appears), then 200.
if [ -e /tmp/up ]; then
  printf 'Status: 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\nok\\n'
else
  printf 'Status: 503 Service Unavailable\\r\\nContent-Type: text/plain\\r\\n\\r\\nwait\\n'
fi
"""


def test_an_http_probe_waits_for_the_status(
        run_composer: Any, docker_client: Any, project_name: str, tmp_path: Path) -> None:
    cgi = tmp_path / "www" / "cgi-bin" / "ready"
    cgi.parent.mkdir(parents=True)
    cgi.write_text(CGI)
    cgi.chmod(0o755)
    write(tmp_path, """
        services:
          web:
            image: busybox:latest
            command: sh -c "(sleep 3; touch /tmp/up) & exec httpd -f -p 8080 -h /www"
            volumes: ["./www:/www:ro"]
            ports: ["127.0.0.1::8080"]
            init: true
            x-composer-ready:
              http: {port: 8080, path: /cgi-bin/ready, status: 200}
          app:
            image: busybox:latest
            command:
              - sh
              - -c
              - wget -q -O - http://web:8080/cgi-bin/ready || echo failed; exec sleep 3600
            init: true
            depends_on: {web: {condition: service_healthy}}
    """)
    result = run_composer("-p", project_name, "up", "-d", cwd=tmp_path, timeout=SLOW)
    assert result.returncode == 0, result.stderr
    # The dependent's first request got the 200 the probe waited for, not a 503.
    assert first_line(docker_client, f"{project_name}-app-1") == "ok"


def test_a_log_probe_waits_for_the_line(
        run_composer: Any, docker_client: Any, project_name: str, tmp_path: Path) -> None:
    write(tmp_path, """
        services:
          db:
            image: busybox:latest
            command:
              - sh
              - -c
              - >-
                echo starting; sleep 3; touch /shared/up;
                echo 'ready to accept connections'; exec sleep 3600
            volumes: [shared:/shared]
            init: true
            x-composer-ready: {log: "ready to accept"}
          app:
            image: busybox:latest
            command:
              - sh
              - -c
              - if [ -e /shared/up ]; then echo after; else echo before; fi; exec sleep 3600
            volumes: [shared:/shared]
            init: true
            depends_on: {db: {condition: service_healthy}}
        volumes:
          shared:
    """)
    result = run_composer("-p", project_name, "up", "-d", cwd=tmp_path, timeout=SLOW)
    assert result.returncode == 0, result.stderr
    # db touches the file just before it prints the line: the dependent saw the file.
    assert first_line(docker_client, f"{project_name}-app-1") == "after"


@pytest.mark.not_on_lxc("network_mode: container: (LXC shares no namespace)")
def test_a_container_composer_cannot_route_to_is_probed_from_inside(
        run_composer: Any, docker_client: Any, project_name: str, tmp_path: Path) -> None:
    # network_mode: none leaves db no address composer could connect to: its
    # listening sockets are read inside its namespace (busybox has cat).
    write(tmp_path, """
        services:
          db:
            image: busybox:latest
            command: sh -c "sleep 3; exec nc -ll -p 5432 -e true"
            network_mode: none
            init: true
            x-composer-ready: {tcp: [5432]}
          app:
            image: busybox:latest
            command:
              - sh
              - -c
              - >-
                if nc 127.0.0.1 5432 </dev/null; then echo reached; else echo refused; fi;
                exec sleep 3600
            network_mode: service:db
            init: true
            depends_on: {db: {condition: service_healthy}}
    """)
    result = run_composer("-p", project_name, "up", "-d", cwd=tmp_path, timeout=SLOW)
    assert result.returncode == 0, result.stderr
    assert first_line(docker_client, f"{project_name}-app-1") == "reached"
    # Read by an exec in db itself: no helper container was needed.
    events = docker_client.events(since=0, until=int(__import__("time").time()) + 1,
                                  filters={"label": f"{HELPER_LABEL}={project_name}-db-1"},
                                  decode=True)
    assert list(events) == []


def test_a_probe_that_cannot_run_says_so_at_once(
        run_composer: Any, project_name: str, tmp_path: Path) -> None:
    # No address to connect to, and no helper image to send the request from.
    write(tmp_path, """
        services:
          db:
            image: busybox:latest
            command: sleep 3600
            network_mode: none
            init: true
            x-composer-ready:
              http: {port: 8080}
              probe_image: composer-test-no-such-image:never
          app:
            image: busybox:latest
            command: sleep 3600
            init: true
            depends_on: {db: {condition: service_healthy}}
    """)
    result = run_composer("-p", project_name, "up", "-d", cwd=tmp_path, timeout=SLOW)
    assert result.returncode == 1
    errors = [line for line in result.stderr_lines if line.startswith("composer:")]
    assert errors == [
        f'composer: service "app": dependency failed to start: service "db": readiness '
        f"cannot be checked: http port 8080 GET / (want 200): composer cannot reach "
        f"container {project_name}-db-1 from here (it has no network address), and the probe "
        "helper image composer-test-no-such-image:never is not on the engine (composer never "
        "pulls it: pull it, or set x-composer-ready.probe_image to an image there with "
        "sleep, cat, nc and timeout)"]


def test_a_malformed_declaration_creates_nothing(
        run_composer: Any, docker_client: Any, project_name: str, tmp_path: Path) -> None:
    write(tmp_path, """
        services:
          db:
            image: busybox:latest
            command: sleep 3600
            x-composer-ready:
              http: {port: 8080, status: 700}
    """)
    result = run_composer("-p", project_name, "up", "-d", cwd=tmp_path, timeout=SLOW)
    assert (result.returncode, result.stderr_lines) == (15, [
        "composer: services.db.x-composer-ready.http.status: expected an HTTP status code "
        "(100-599), got 700"])
    label = {"label": f"com.docker.compose.project={project_name}"}
    assert docker_client.containers(all=True, filters=label) == []
    assert docker_client.networks(filters=label) == []


@pytest.mark.not_on_lxc("makes its container through the Docker API")
@pytest.mark.anyio
async def test_probes_from_a_helper_in_the_namespace(
        backend: DockerBackend, docker_client: Any, project_name: str, tmp_path: Path) -> None:
    # The route composer takes for an engine it cannot route to, forced here: the
    # TCP and HTTP probes run in a busybox helper sharing the container's namespace.
    cgi = tmp_path / "www" / "cgi-bin" / "ready"
    cgi.parent.mkdir(parents=True)
    cgi.write_text(CGI)
    cgi.chmod(0o755)
    name = f"{project_name}-web-1"
    docker_client.create_container(
        "busybox:latest", name=name,
        command=["sh", "-c", "(sleep 2; touch /tmp/up) & exec httpd -f -p 8080 -h /www"],
        labels={"com.docker.compose.project": project_name},
        host_config=docker_client.create_host_config(
            binds=[f"{tmp_path / 'www'}:/www:ro"], init=True))
    docker_client.start(name)
    helpers = {"label": f"{HELPER_LABEL}={name}"}
    try:
        async with Prober(backend, route="namespace") as prober:
            await wait_ready(backend, name,
                             [TcpProbe(8080), HttpProbe(8080, "/cgi-bin/ready")],
                             service="web", timeout=60, prober=prober)
            found = docker_client.containers(filters=helpers)
            assert len(found) == 1
            helper = docker_client.inspect_container(found[0]["Id"])
            web = docker_client.inspect_container(name)
            assert helper["HostConfig"]["NetworkMode"] == f"container:{web['Id']}"
        # The wait is over: the helper is gone.
        assert docker_client.containers(all=True, filters=helpers) == []
    finally:
        for leftover in docker_client.containers(all=True, filters=helpers):
            with contextlib.suppress(Exception):
                docker_client.remove_container(leftover["Id"], force=True)


def test_v2_still_ignores_the_extension(run_composer: Any, run_v2: Any,
                                        tmp_path: Path) -> None:
    write(tmp_path, """
        name: readiness
        services:
          db:
            image: busybox
            x-composer-ready:
              tcp: [5432]
              http: {port: 8080, path: /health, status: 204}
              log: [ready to accept, {pattern: "listening .*", count: 2}]
              timeout: 30s
              probe_image: busybox:latest
    """)
    for args in (["config"], ["config", "--format", "json"]):
        ours = run_composer(*args, cwd=tmp_path)
        theirs = run_v2(*args, cwd=tmp_path)
        assert (ours.returncode, theirs.returncode) == (0, 0), theirs.stderr
        assert ours.stdout == theirs.stdout
