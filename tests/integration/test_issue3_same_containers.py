"""Same file, same containers, through the command a user types.

:mod:`tests.integration.test_same_containers_v2` drives the spec builder and the
backend directly; here the ``composer`` CLI itself runs ``up --no-start`` (loader,
observe, plan, executor) on each of its compose files plus ``EXTRA`` (references to
containers outside the project, ``scale``, ``pull_policy``, external volumes), and
``docker inspect`` of its containers must agree with what Docker Compose v2 creates
from the same file. Project names start with ``j1``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from engines import sdk_client

from .conftest import remove_project
from .test_same_containers_v2 import (
    PROJECTS,
    _diff,
    _inspect_project,
    _inspect_resources,
    _normalise,
    _normalise_resources,
    _write_project,
)

pytestmark = [pytest.mark.engine, pytest.mark.oracle]

# Everything in issue 3's feature list that the three files of the other test do not
# already cover: network_mode and volumes_from naming a container of no project,
# `scale`, each pull_policy (on local images), an external volume, and driver options
# and labels on a volume.
EXTRA = """
services:
  joined:
    image: busybox
    command: [sleep, "300"]
    network_mode: "container:${PEER}"
    volumes_from: ["container:${PEER}:ro"]
    pull_policy: never
  scaled:
    image: busybox:latest
    scale: 3
    pull_policy: missing
    volumes: [outside:/outside:ro, local:/local]
    stop_signal: SIGINT
    expose: ["80"]
    networks:
      default:
      isolated: {aliases: [iso]}
  polite:
    image: busybox:latest
    pull_policy: if_not_present
    init: true
    restart: unless-stopped
    deploy: {resources: {limits: {memory: 64m}}}
volumes:
  outside: {external: true, name: "${EXTVOL}"}
  local: {driver_opts: {type: tmpfs, device: tmpfs}, labels: {j1: "yes"}}
networks:
  isolated: {internal: true, driver_opts: {com.docker.network.driver.mtu: "1400"}}
"""

CASES = {**PROJECTS, "extra": EXTRA}


@pytest.fixture
def outsiders(engine: str) -> Iterator[dict[str, str]]:
    """A running container and a volume of no project, and an external network."""
    client = sdk_client(engine)
    tag = uuid.uuid4().hex[:8]
    peer = client.containers.run("busybox:latest", ["sleep", "600"], detach=True,
                                 name=f"j1peer{tag}", volumes=["/peerdata"],
                                 network_mode="none")  # engines may lack docker0
    volume = client.volumes.create(f"j1vol{tag}")
    network = client.networks.create(f"j1net{tag}")
    try:
        yield {"PEER": peer.name, "EXTVOL": volume.name, "EXTNET": network.name}
    finally:
        # The projects' containers hold these (their own cleanup runs after this one).
        for user in client.containers.list(all=True, filters={"volume": volume.name}):
            user.remove(force=True, v=True)
        for other in client.containers.list(all=True, filters={"name": "j1"}):
            if other.attrs["HostConfig"].get("NetworkMode") == f"container:{peer.id}":
                other.remove(force=True, v=True)
        peer.remove(force=True, v=True)
        volume.remove(force=True)
        network.remove()
        client.close()


@pytest.mark.parametrize("case", sorted(CASES))
def test_composer_up_creates_the_containers_v2_creates(
        case: str, tmp_path: Path, engine: str, run_v2: Callable[..., Any],
        run_composer: Callable[..., Any], cleanup_project: Callable[[str], str],
        outsiders: dict[str, str]) -> None:
    _write_project(tmp_path, CASES[case])
    theirs_name = cleanup_project(f"j1v{uuid.uuid4().hex[:8]}")
    ours_name = cleanup_project(f"j1c{uuid.uuid4().hex[:8]}")
    env = {"DOCKER_HOST": engine, **outsiders}

    # v2 first, then removed: the files fix some subnets, which cannot exist twice.
    result = run_v2("-p", theirs_name, "up", "--no-start", cwd=tmp_path,
                    env={**env, "LINKED_NAME": f"{theirs_name}-linked"}, timeout=120)
    assert result.returncode == 0, result.stderr
    theirs = _inspect_project(engine, theirs_name)
    their_resources = _inspect_resources(engine, theirs_name)
    assert theirs, "v2 created nothing"
    # composer reads v2's config hashes as its own: nothing to recreate.
    result = run_composer("-p", theirs_name, "up", "--no-start", cwd=tmp_path,
                          env={**env, "LINKED_NAME": f"{theirs_name}-linked"}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert {n: i["Id"] for n, i in _inspect_project(engine, theirs_name).items()} == {
        n: i["Id"] for n, i in theirs.items()}, result.stderr
    remove_project(engine, theirs_name)

    result = run_composer("-p", ours_name, "up", "--no-start", cwd=tmp_path,
                          env={**env, "LINKED_NAME": f"{ours_name}-linked"}, timeout=120)
    assert result.returncode == 0, result.stderr
    ours = _inspect_project(engine, ours_name)
    assert {info["State"]["Status"] for info in ours.values()} == {"created"}

    mine = _normalise(ours, ours_name)
    expected = _normalise(theirs, theirs_name)
    assert sorted(mine) == sorted(expected)
    problems = []
    for name in sorted(expected):
        problems += [f"{name}{line}" for line in _diff(mine[name], expected[name])]
    assert not problems, "\n".join(problems)

    # The config hashes agree: v2 run on composer's project finds nothing to recreate.
    result = run_v2("-p", ours_name, "up", "--no-start", cwd=tmp_path,
                    env={**env, "LINKED_NAME": f"{ours_name}-linked"}, timeout=120)
    assert result.returncode == 0, result.stderr
    again = _inspect_project(engine, ours_name)
    assert {n: i["Id"] for n, i in again.items()} == {n: i["Id"] for n, i in ours.items()}, \
        result.stderr

    # Resources: subnets the file leaves open are the engine's choice.
    our_resources = _inspect_resources(engine, ours_name)
    chosen = {name for name, info in our_resources["networks"].items()
              if not any("10.23" in (c.get("Subnet") or "")
                         for c in (info.get("IPAM") or {}).get("Config") or [])}
    their_chosen = {n.replace(ours_name, theirs_name) for n in chosen}
    for kind in ("networks", "volumes"):
        assert (_normalise_resources(our_resources[kind], ours_name, chosen)
                == _normalise_resources(their_resources[kind], theirs_name, their_chosen)), kind
