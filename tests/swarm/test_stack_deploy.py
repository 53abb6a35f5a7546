"""``composer stack`` on the test swarm: what a user sees after each command.

Redeploying an unchanged file changes nothing (no service gets a new version,
where ``docker stack deploy`` updates every service); a changed file updates
only the services whose spec changed; ``--detach=false`` waits for the tasks and
fails with the task's error; ``--prune`` removes what the file dropped;
``--ordered`` waits on ``depends_on`` conditions; docker's ``stack`` commands
see composer's stacks and the reverse; the library does the same.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import anyio
import pytest
from swarm_helpers import Docker

import composer

pytestmark = pytest.mark.swarm

APP = """\
services:
  a:
    image: busybox:latest
    command: sleep 600
    deploy: {replicas: 2, update_config: {parallelism: 2}}
  b:
    image: busybox:latest
    command: sleep 601
    healthcheck: {test: ["CMD", "true"], interval: 1s}
"""


def versions(docker: Docker, stack: str) -> dict[str, int]:
    out = docker("service", "ls", "-q", "--filter", f"label=com.docker.stack.namespace={stack}")
    ids = out.stdout.split()
    found = json.loads(docker("service", "inspect", *ids).stdout) if ids else []
    return {s["Spec"]["Name"].removeprefix(f"{stack}_"): s["Version"]["Index"] for s in found}


def composer_stack(run_composer: Any, swarm_host: str, cwd: Path, *args: str) -> Any:
    return run_composer("stack", *args, cwd=cwd, env={"DOCKER_HOST": swarm_host}, timeout=180)


def test_an_unchanged_redeploy_changes_nothing_and_a_change_updates_only_its_service(
        docker: Docker, run_composer: Any, swarm_host: str, stack_name: str,
        tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(APP)
    first = composer_stack(run_composer, swarm_host, tmp_path, "deploy", "--detach=false",
                           "-c", "compose.yaml", stack_name)
    assert first.returncode == 0, first.stderr
    before = versions(docker, stack_name)

    again = composer_stack(run_composer, swarm_host, tmp_path, "deploy", "-c", "compose.yaml",
                           stack_name)
    assert again.returncode == 0, again.stderr
    assert versions(docker, stack_name) == before
    assert f"Service {stack_name}_a  Running" in again.stderr

    (tmp_path / "compose.yaml").write_text(APP.replace("sleep 601", "sleep 602"))
    plan = composer_stack(run_composer, swarm_host, tmp_path, "deploy", "--dry-run",
                          "-c", "compose.yaml", stack_name)
    assert plan.stdout.splitlines() == [
        "#1 service:b UpdateService: changed: TaskTemplate.ContainerSpec.Args[1]"]
    changed = composer_stack(run_composer, swarm_host, tmp_path, "deploy", "--detach=false",
                             "-c", "compose.yaml", stack_name)
    assert changed.returncode == 0, changed.stderr
    after = versions(docker, stack_name)
    assert after["a"] == before["a"]
    assert after["b"] > before["b"]
    spec = json.loads(docker("service", "inspect", f"{stack_name}_b").stdout)[0]
    assert spec["Spec"]["TaskTemplate"]["ContainerSpec"]["Args"] == ["sleep", "602"]
    assert spec["UpdateStatus"]["State"] == "completed"  # a rolling update, finished


def test_docker_redeploys_every_service_where_composer_redeploys_none(
        docker: Docker, stack_name: str, tmp_path: Path) -> None:
    """The other half of the comparison: docker stack deploy of the same unchanged
    file gives every service a new version."""
    (tmp_path / "compose.yaml").write_text(APP)
    for _ in range(2):
        assert docker("stack", "deploy", "-c", "compose.yaml", stack_name,
                      cwd=tmp_path).returncode == 0
        if _ == 0:
            before = versions(docker, stack_name)
    after = versions(docker, stack_name)
    assert all(after[name] > before[name] for name in before)


def test_docker_and_composer_see_each_others_stacks(
        docker: Docker, run_composer: Any, swarm_host: str, stack_name: str,
        tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(APP)
    theirs = f"{stack_name}d"
    try:
        assert composer_stack(run_composer, swarm_host, tmp_path, "deploy", "--detach=false",
                              "-c", "compose.yaml", stack_name).returncode == 0
        assert docker("stack", "deploy", "-c", "compose.yaml", theirs,
                      cwd=tmp_path).returncode == 0

        listed = docker("stack", "ls").stdout
        assert re.search(rf"^{stack_name}\s+2\s", listed, re.M), listed
        ours = composer_stack(run_composer, swarm_host, tmp_path, "ls").stdout
        assert re.search(rf"^{theirs}\s+2$", ours, re.M), ours
        assert re.search(rf"^{stack_name}\s+2$", ours, re.M), ours

        services = composer_stack(run_composer, swarm_host, tmp_path, "services", theirs)
        assert re.search(rf"{theirs}_a\s+replicated\s+\d/2\s+busybox:latest", services.stdout)
        tasks = docker("stack", "ps", stack_name, "--format", "{{.Name}} {{.CurrentState}}")
        assert sorted(line.split()[0] for line in tasks.stdout.splitlines()) == [
            f"{stack_name}_a.1", f"{stack_name}_a.2", f"{stack_name}_b.1"]
        ps = composer_stack(run_composer, swarm_host, tmp_path, "ps", stack_name)
        assert re.search(rf"{stack_name}_b\.1\s+busybox:latest\s+cswarm-\d\s+Running\s+Running",
                         ps.stdout), ps.stdout

        removed = docker("stack", "rm", stack_name)
        assert removed.returncode == 0 and f"Removing service {stack_name}_a" in removed.stdout
        removed = composer_stack(run_composer, swarm_host, tmp_path, "rm", theirs)
        assert removed.returncode == 0
        assert f"Service {theirs}_a  Removed" in removed.stderr
        assert f"Network {theirs}_default  Removed" in removed.stderr
    finally:
        docker("stack", "rm", theirs)


def test_detach_false_fails_with_the_tasks_error(
        run_composer: Any, swarm_host: str, stack_name: str, tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n  ok:\n    image: busybox:latest\n    command: sleep 600\n"
        "  broken:\n    image: busybox:no-such-tag\n")
    result = composer_stack(run_composer, swarm_host, tmp_path, "deploy", "--detach=false",
                            "--resolve-image", "never", "-c", "compose.yaml", stack_name)
    assert result.returncode == 1
    assert f"Service {stack_name}_ok  Converged" in result.stderr
    assert re.search(rf"Service {stack_name}_broken  Waiting 0/1 \(.*No such image: "
                     r"busybox:no-such-tag", result.stderr), result.stderr
    assert result.stderr_lines[-1] == (
        f'composer: service "broken": service {stack_name}_broken cannot converge: '
        "No such image: busybox:no-such-tag")


def test_prune_removes_the_services_the_file_dropped(
        docker: Docker, run_composer: Any, swarm_host: str, stack_name: str,
        tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(APP)
    assert composer_stack(run_composer, swarm_host, tmp_path, "deploy", "-c", "compose.yaml",
                          stack_name).returncode == 0
    (tmp_path / "compose.yaml").write_text(APP.split("  b:")[0])
    kept = composer_stack(run_composer, swarm_host, tmp_path, "deploy", "-c", "compose.yaml",
                          stack_name)
    assert kept.returncode == 0 and sorted(versions(docker, stack_name)) == ["a", "b"]
    pruned = composer_stack(run_composer, swarm_host, tmp_path, "deploy", "--prune",
                            "-c", "compose.yaml", stack_name)
    assert pruned.returncode == 0, pruned.stderr
    assert sorted(versions(docker, stack_name)) == ["a"]


def test_ordered_creates_a_service_once_its_dependency_is_healthy(
        docker: Docker, run_composer: Any, swarm_host: str, stack_name: str,
        tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n"
        "  db:\n    image: busybox:latest\n"
        "    command: sh -c 'sleep 2; touch /ready; exec sleep 600'\n"
        "    healthcheck: {test: [CMD, test, -f, /ready], interval: 1s}\n"
        "  web:\n    image: busybox:latest\n    command: sleep 600\n"
        "    depends_on: {db: {condition: service_healthy}}\n")
    plan = composer_stack(run_composer, swarm_host, tmp_path, "deploy", "--ordered",
                          "--dry-run", "-c", "compose.yaml", stack_name)
    assert plan.stdout.splitlines()[-3:] == [
        "#2 <- #1 service:db CreateService: not found",
        "#3 <- #2 service:db WaitService: a dependency",
        "#4 <- #1, #3 service:web CreateService: not found",
    ]
    result = composer_stack(run_composer, swarm_host, tmp_path, "deploy", "--ordered",
                            "--resolve-image", "never", "-c", "compose.yaml", stack_name)
    assert result.returncode == 0, result.stderr
    # web was created after db's task was running, which swarm reports only once healthy.
    db_task = json.loads(docker("inspect", docker(
        "service", "ps", "-q", f"{stack_name}_db").stdout.split()[0]).stdout)[0]
    web = json.loads(docker("service", "inspect", f"{stack_name}_web").stdout)[0]
    assert db_task["Status"]["State"] == "running"
    assert web["CreatedAt"] >= db_task["Status"]["Timestamp"]


def test_the_library_deploys_lists_and_removes_a_stack(
        docker: Docker, swarm_host: str, tmp_path: Path, monkeypatch: Any) -> None:
    (tmp_path / "compose.yaml").write_text(APP)
    monkeypatch.setenv("DOCKER_HOST", swarm_host)

    async def main() -> tuple[list[Any], list[Any], str]:
        async with composer.open(str(tmp_path / "compose.yaml")) as project:
            stack = project.stack()
            await stack.deploy(resolve_image="never")
            rows = await stack.services()
            tasks = await stack.tasks()
            return rows, tasks, stack.name

    rows, tasks, name = anyio.run(main)
    assert [(r.name, r.replicas) for r in rows] == [(f"{name}_a", "2/2"), (f"{name}_b", "1/1")]
    assert sorted(t.name for t in tasks if t.desired_state == "Running") == [
        f"{name}_a.1", f"{name}_a.2", f"{name}_b.1"]
    # The open() block's end removed it.
    assert docker("service", "ls", "-q", "--filter",
                  f"label=com.docker.stack.namespace={name}").stdout == ""
