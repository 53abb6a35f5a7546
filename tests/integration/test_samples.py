"""The runnable samples, as a user runs them: ``composer up``, use the project, ``down``.

Each test starts one sample of ``samples/`` with the ``composer`` CLI (a subprocess)
under a project name no other test uses, checks what the sample promises in its
README section through the engine (HTTP on the published port, ``docker inspect``
through the docker SDK), takes it down with ``composer down -v`` and checks that no
container, network or volume labelled with the project is left. A finaliser removes
whatever a failing test left behind.

Published ports are chosen by the engine: the samples read their host port from a
variable (``${HITS_PORT-8080}``), the tests set it empty, which makes the mapping
``127.0.0.1::8080``, and ask ``composer port`` where it went. So two runs never
collide, with each other or with a sample a developer has running.
"""

from __future__ import annotations

import re
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from engines import sdk_client

pytestmark = pytest.mark.engine

# `up --wait` on the chain sample takes ~8 s; the limit only protects from a hang.
ENGINE_TIMEOUT = 180.0
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
NUMBER_LABEL = "com.docker.compose.container-number"


@pytest.fixture
def client(engine: str) -> Iterator[Any]:
    """A docker SDK client on the test engine."""

    instance = sdk_client(engine)
    yield instance
    instance.close()


def composer(run_composer: Any, project: str, sample: Path, *args: str,
             env: dict[str, str] | None = None) -> Any:
    """Run ``composer -p project ARGS`` in the sample's folder; fail on a non-zero exit."""
    result = run_composer("-p", project, *args, cwd=sample, env=env, timeout=ENGINE_TIMEOUT)
    assert result.returncode == 0, (
        f"composer {' '.join(args)} exited {result.returncode}\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return result


def by_service(client: Any, project: str) -> dict[str, list[Any]]:
    """The project's containers (running or not) by service, in container-number order."""
    found: dict[str, list[Any]] = {}
    for container in client.containers.list(
            all=True, filters={"label": f"{PROJECT_LABEL}={project}"}):
        found.setdefault(container.labels[SERVICE_LABEL], []).append(container)
    for containers in found.values():
        containers.sort(key=lambda c: int(c.labels.get(NUMBER_LABEL, "0")))
    return found


def leftovers(client: Any, project: str) -> list[str]:
    """Names of every container, network and volume still labelled with the project."""
    label = {"label": f"{PROJECT_LABEL}={project}"}
    names = [f"container {c.name}" for c in client.containers.list(all=True, filters=label)]
    names += [f"network {n.name}" for n in client.networks.list(filters=label)]
    names += [f"volume {v.name}" for v in client.volumes.list(filters=label)]
    return names


def published(run_composer: Any, project: str, sample: Path, service: str,
              port: int, env: dict[str, str]) -> tuple[str, int]:
    """``composer port SERVICE PORT`` as (host ip, host port)."""
    out = composer(run_composer, project, sample, "port", service, str(port), env=env)
    host, _, number = out.stdout.strip().rpartition(":")
    assert number.isdigit(), f"composer port printed {out.stdout!r}"
    return host, int(number)


def http_get(url: str) -> str:
    """The body of a GET to ``url`` (raises on a non-2xx answer)."""
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 (loopback URL)
        body: bytes = answer.read()
    return body.decode()


def engine_time(text: str) -> datetime:
    """An engine timestamp (RFC 3339 with nanoseconds) as an aware datetime."""
    # datetime takes at most microseconds: cut the fraction to six digits.
    match = re.fullmatch(r"(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text)
    assert match, f"not an engine timestamp: {text!r}"
    stamp, fraction, zone = match.groups()
    fraction = (fraction or "0")[:6].ljust(6, "0")
    return datetime.fromisoformat(f"{stamp}.{fraction}{'+00:00' if zone == 'Z' else zone}")


def wait_until(check: Callable[[], str | None], timeout: float) -> None:
    """Poll ``check`` (None when satisfied, else what is still missing) until it passes."""
    deadline = time.monotonic() + timeout
    missing = check()
    while missing is not None:
        assert time.monotonic() < deadline, f"gave up after {timeout:.0f} s: {missing}"
        time.sleep(0.5)
        missing = check()


def tear_down(run_composer: Any, client: Any, project: str, sample: Path,
              env: dict[str, str] | None = None) -> None:
    """``composer down -v`` and nothing labelled with the project is left."""
    composer(run_composer, project, sample, "down", "-v", env=env)
    assert leftovers(client, project) == []


# -- counter: httpd + CGI counter in a named volume ------------------------------------------

COUNT = re.compile(r'id="count">(\d+)<')


def visits(url: str) -> int:
    """The visit count the counter page shows (one more than before: it counts this GET)."""
    match = COUNT.search(http_get(url))
    assert match, f"no count on {url}"
    return int(match.group(1))


def test_counter_page_counts_visits_in_a_named_volume(
        run_composer: Any, client: Any, samples_dir: Path, project_name: str) -> None:
    sample = samples_dir / "counter"
    env = {"HITS_PORT": ""}
    composer(run_composer, project_name, sample, "up", "-d", "--wait", env=env)

    (web,) = by_service(client, project_name)["web"]
    assert web.name == f"{project_name}-web-1"
    assert web.attrs["State"]["Health"]["Status"] == "healthy"
    host, port = published(run_composer, project_name, sample, "web", 8080, env)
    assert host == "127.0.0.1"
    bindings = web.attrs["HostConfig"]["PortBindings"]["8080/tcp"]
    assert [b["HostIp"] for b in bindings] == ["127.0.0.1"]

    assert "Hello from busybox httpd" in http_get(f"http://127.0.0.1:{port}/")
    counter = f"http://127.0.0.1:{port}/cgi-bin/counter"
    first = visits(counter)
    assert visits(counter) == first + 1
    # The health probe reads the static page: it must not have counted.
    assert first == 1

    # `down` without -v keeps the volume, so the count goes on after the next `up`.
    composer(run_composer, project_name, sample, "down", env=env)
    assert leftovers(client, project_name) == [f"volume {project_name}_hits"]
    composer(run_composer, project_name, sample, "up", "-d", "--wait", env=env)
    _, port = published(run_composer, project_name, sample, "web", 8080, env)
    assert visits(f"http://127.0.0.1:{port}/cgi-bin/counter") == first + 2

    tear_down(run_composer, client, project_name, sample, env)


# -- chain: migration step, health gate, replicated worker -----------------------------------


def test_chain_starts_in_order_with_three_workers(
        run_composer: Any, client: Any, samples_dir: Path, project_name: str) -> None:
    sample = samples_dir / "chain"
    env = {"CHAIN_PORT": ""}
    composer(run_composer, project_name, sample, "up", "-d", "--wait", env=env)

    services = by_service(client, project_name)
    assert sorted(services) == ["app", "db", "migrate", "worker"]
    (db,), (migrate,), (app,) = services["db"], services["migrate"], services["app"]
    assert db.attrs["State"]["Health"]["Status"] == "healthy"
    assert app.attrs["State"]["Health"]["Status"] == "healthy"

    # migrate ran after the db answered, exited 0, and only then did app start.
    state = migrate.attrs["State"]
    assert (state["Status"], state["ExitCode"]) == ("exited", 0)
    logs = migrate.logs().decode()
    assert "pong" in logs and "migrated to schema 3" in logs
    assert engine_time(db.attrs["State"]["StartedAt"]) < engine_time(state["StartedAt"])
    assert engine_time(state["FinishedAt"]) <= engine_time(app.attrs["State"]["StartedAt"])

    workers = services["worker"]
    assert [w.name for w in workers] == [f"{project_name}-worker-{n}" for n in (1, 2, 3)]
    assert [w.attrs["State"]["Status"] for w in workers] == ["running"] * 3
    app_started = engine_time(app.attrs["State"]["StartedAt"])
    assert all(engine_time(w.attrs["State"]["StartedAt"]) > app_started for w in workers)

    host, port = published(run_composer, project_name, sample, "app", 8000, env)
    assert host == "127.0.0.1"
    assert http_get(f"http://127.0.0.1:{port}/").strip() == "app ready, schema version 3"

    tear_down(run_composer, client, project_name, sample, env)


# -- restarts: one service per restart policy ------------------------------------------------

POLICIES = {
    "oneshot": ("no", 0),
    "heartbeat": ("always", 0),
    "flaky": ("on-failure", 3),
    "broken": ("on-failure", 3),  # from deploy.restart_policy
    "daemon": ("unless-stopped", 0),
}


def test_restart_policies_reach_the_engine(
        run_composer: Any, client: Any, samples_dir: Path, project_name: str) -> None:
    sample = samples_dir / "restarts"
    # Not --wait: `oneshot` exits on purpose, and v2's --wait reports that as a failure.
    composer(run_composer, project_name, sample, "up", "-d")

    def containers() -> dict[str, Any]:
        found = by_service(client, project_name)
        assert sorted(found) == sorted(POLICIES)
        return {service: found[service][0] for service in found}

    for service, container in containers().items():
        policy = container.attrs["HostConfig"]["RestartPolicy"]
        assert (policy["Name"], policy["MaximumRetryCount"]) == POLICIES[service], service

    def settled() -> str | None:
        """None once each service reached the state its policy leads to."""
        expected: dict[str, tuple[str | None, int | None, Callable[[int], bool]]] = {
            "oneshot": ("exited", 0, lambda n: n == 0),
            "heartbeat": (None, None, lambda n: n >= 1),
            "flaky": ("running", None, lambda n: n == 2),
            "broken": ("exited", 1, lambda n: n == 3),
            "daemon": ("running", None, lambda n: n == 0),
        }
        for service, container in containers().items():
            status, code, restarts_ok = expected[service]
            state = container.attrs["State"]
            restarts = container.attrs["RestartCount"]
            if ((status is not None and state["Status"] != status)
                    or (code is not None and state["ExitCode"] != code)
                    or not restarts_ok(restarts)):
                return (f"{service}: {state['Status']} (exit {state['ExitCode']}), "
                        f"{restarts} restart(s)")
        return None

    # heartbeat exits every 3 s; broken gives up within ~1 s of back-off.
    wait_until(settled, timeout=60)

    flaky_logs = containers()["flaky"].logs().decode().splitlines()
    assert flaky_logs == ["attempt 1 failed", "attempt 2 failed", "attempt 3: up"]

    tear_down(run_composer, client, project_name, sample)


def test_wait_reports_a_service_that_exits(
        run_composer: Any, client: Any, samples_dir: Path, project_name: str) -> None:
    # As Docker Compose v2: `up --wait` fails when a service it waits for exits,
    # even with code 0, and names the container.
    sample = samples_dir / "restarts"
    result = run_composer("-p", project_name, "up", "-d", "--wait", "oneshot",
                          cwd=sample, timeout=ENGINE_TIMEOUT)
    assert result.returncode != 0, result.stdout + result.stderr
    assert f"{project_name}-oneshot-1" in result.stderr
    assert "exited" in result.stderr
    tear_down(run_composer, client, project_name, sample)
