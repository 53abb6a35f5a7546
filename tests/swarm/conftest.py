"""Fixtures for the swarm tests (``make test-swarm``).

The swarm is the test nodes of ``scripts/engine/ensure-swarm.sh``: Docker
engines of their own, each in its network namespace; node 1 is the manager.
``COMPOSER_SWARM_HOST`` names another manager. The machine's own dockerd is
never put in swarm mode. Without a manager the tests skip, except in CI.

- ``swarm_host``: the manager's address (``unix:///run/composer-swarm/1/docker.sock``);
- ``docker``: run the docker CLI against it (``docker("stack", "ls")``);
- ``stack_name``: a unique stack name, whose stack is removed after the test
  (by docker's own ``stack rm``), even when it fails;
- ``nodes``: the swarm's nodes (hostname -> ID), for the multi-node tests.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from swarm_helpers import Docker, Result, remove_stack, run

SWARM_HOST = os.environ.get("COMPOSER_SWARM_HOST",
                            "unix:///run/composer-swarm/1/docker.sock")
DOCKER = shutil.which("docker")


@pytest.fixture(scope="session")
def swarm_host() -> str:
    if DOCKER is None:
        pytest.fail("the swarm tests need the docker CLI (docker stack deploy is the oracle)")
    found = run([DOCKER, "info", "--format", "{{json .Swarm}}"],
                env={"DOCKER_HOST": SWARM_HOST})
    state = json.loads(found.stdout or "{}") if found.returncode == 0 else {}
    if not state.get("ControlAvailable"):
        message = (f"no swarm manager at {SWARM_HOST} (make swarm, or "
                   "sh scripts/engine/ensure-swarm.sh)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return SWARM_HOST


@pytest.fixture(scope="session")
def docker(swarm_host: str) -> Docker:
    assert DOCKER is not None

    def docker_cli(*args: str, **kwargs: Any) -> Result:
        env = {"DOCKER_HOST": swarm_host, **kwargs.pop("env", {})}
        return run([DOCKER, *args], env=env, **kwargs)

    return docker_cli


@pytest.fixture
def stack_name(docker: Docker) -> Iterator[str]:
    name = f"ct{uuid.uuid4().hex[:8]}"
    try:
        yield name
    finally:
        remove_stack(docker, name)


@pytest.fixture(scope="session")
def nodes(docker: Docker) -> dict[str, str]:
    out = docker("node", "ls", "--format", "{{.Hostname}} {{.ID}} {{.Status}}")
    found = {}
    for line in out.stdout.splitlines():
        host, node_id, status = line.split()
        if status == "Ready":
            found[host] = node_id
    return found
