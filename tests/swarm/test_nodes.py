"""A stack across several nodes: the test swarm's manager and its two workers
(``make swarm``: three dockerds, each in its own network namespace).

Where the tasks land is read from the manager (``docker stack ps``'s data, by
node ID): replicas spread over the nodes, placement constraints are honoured, a
global service runs one task per node, and the tasks of a node taken down are
rescheduled on the others.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from swarm_helpers import Docker
from waiting import wait_until

pytestmark = pytest.mark.swarm

REPO = Path(__file__).resolve().parents[2]


def running_nodes(docker: Docker, service: str) -> list[str]:
    """The node IDs of the service's running tasks (one entry per task)."""
    out = docker("service", "ps", service, "--filter", "desired-state=running",
                 "--format", "{{json .}}", "--no-trunc")
    tasks = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    raw = docker("inspect", *[t["ID"] for t in tasks]).stdout if tasks else "[]"
    return sorted(t["NodeID"] for t in json.loads(raw) if t["Status"]["State"] == "running")


@pytest.fixture
def three_nodes(nodes: dict[str, str]) -> dict[str, str]:
    if len(nodes) < 3:
        pytest.skip(f"needs 3 nodes, the swarm has {len(nodes)} (make swarm SWARM_NODES=3)")
    return nodes


def deploy(run_composer: Any, swarm_host: str, stack: str, tmp_path: Path, text: str) -> None:
    (tmp_path / "compose.yaml").write_text(text)
    result = run_composer("stack", "deploy", "--detach=false", "--resolve-image", "never",
                          "-c", "compose.yaml", stack, cwd=tmp_path,
                          env={"DOCKER_HOST": swarm_host}, timeout=180)
    assert result.returncode == 0, result.stderr


def test_replicas_spread_one_per_node(docker: Docker, run_composer: Any, swarm_host: str,
                                      stack_name: str, three_nodes: dict[str, str],
                                      tmp_path: Path) -> None:
    deploy(run_composer, swarm_host, stack_name, tmp_path,
           "services:\n  app:\n    image: busybox:latest\n    command: sleep 600\n"
           "    deploy:\n      replicas: 3\n      placement: {max_replicas_per_node: 1}\n")
    assert running_nodes(docker, f"{stack_name}_app") == sorted(three_nodes.values())


def test_a_placement_constraint_puts_every_task_on_its_node(
        docker: Docker, run_composer: Any, swarm_host: str, stack_name: str,
        three_nodes: dict[str, str], tmp_path: Path) -> None:
    deploy(run_composer, swarm_host, stack_name, tmp_path,
           "services:\n  app:\n    image: busybox:latest\n    command: sleep 600\n"
           "    deploy:\n      replicas: 3\n"
           "      placement: {constraints: [node.hostname == cswarm-2]}\n")
    assert running_nodes(docker, f"{stack_name}_app") == [three_nodes["cswarm-2"]] * 3


def test_a_global_service_runs_one_task_per_node(
        docker: Docker, run_composer: Any, swarm_host: str, stack_name: str,
        three_nodes: dict[str, str], tmp_path: Path) -> None:
    deploy(run_composer, swarm_host, stack_name, tmp_path,
           "services:\n  agent:\n    image: busybox:latest\n    command: sleep 600\n"
           "    deploy: {mode: global}\n")
    assert running_nodes(docker, f"{stack_name}_agent") == sorted(three_nodes.values())
    listing = run_composer("stack", "services", stack_name, env={"DOCKER_HOST": swarm_host})
    assert f"{stack_name}_agent   global   3/3" in listing.stdout


def test_the_tasks_of_a_node_taken_down_are_rescheduled(
        docker: Docker, run_composer: Any, swarm_host: str, stack_name: str,
        three_nodes: dict[str, str], tmp_path: Path) -> None:
    deploy(run_composer, swarm_host, stack_name, tmp_path,
           "services:\n  app:\n    image: busybox:latest\n    command: sleep 600\n"
           "    deploy:\n      replicas: 3\n      placement: {max_replicas_per_node: 2}\n")
    service = f"{stack_name}_app"
    down = three_nodes["cswarm-3"]
    wait_until(lambda: down in running_nodes(docker, service), timeout=60,
               what="a task on cswarm-3")
    pid = Path("/run/composer-swarm/3/docker.pid").read_text().strip()
    try:
        subprocess.run(["kill", pid], check=True)  # the node's engine stops
        wait_until(lambda: docker("node", "inspect", down, "--format",
                                  "{{.Status.State}}").stdout.strip() == "down",
                   timeout=120, what="cswarm-3 seen down by the manager", interval=0.5)
        placed = wait_until(
            lambda: (lambda n: n if len(n) == 3 and down not in n else None)(
                running_nodes(docker, service)),
            timeout=120, what="3 tasks running on the other nodes", interval=0.5)
        assert set(placed) == {three_nodes["cswarm-1"], three_nodes["cswarm-2"]}
    finally:
        subprocess.run(["sh", str(REPO / "scripts/engine/ensure-swarm.sh"), "3"],
                       check=True, capture_output=True, timeout=300)
        wait_until(lambda: docker("node", "inspect", down, "--format",
                                  "{{.Status.State}}").stdout.strip() == "ready",
                   timeout=120, what="cswarm-3 back", interval=0.5)
