"""What a concurrent command on another machine may have made: the executor adopts
an equal container it meets under its name, and the planners resolve a network
name two racing creates left twice (the oldest stays). The engine tests of the
same are in tests/faults/test_concurrency.py."""

from __future__ import annotations

import textwrap
from pathlib import Path

import anyio
import pytest

from composer.backends import connect
from composer.backends.base import NetworkState, Observed
from composer.backends.memory import MemoryBackend
from composer.config.loader import LoadOptions, load_project
from composer.model import labels as L
from composer.model.project import Project
from composer.plan.plan import Plan
from composer.plan.reconcile import plan_down, plan_up
from composer.plan.shared import network_duplicates
from composer.plan.steps import CreateContainer, CreateNetwork
from composer.runtime import ExecutionError, execute


def project(tmp_path: Path) -> Project:
    (tmp_path / "compose.yaml").write_text(textwrap.dedent("""
        services:
          web:
            image: busybox
            command: sleep 3600
    """))
    return load_project(LoadOptions(cwd=str(tmp_path), project_name="p", environ={})).model


def net(ident: str, created: str) -> NetworkState:
    return NetworkState(ident, "p_default", "default", {L.PROJECT: "p"}, created=created)


def test_the_oldest_of_duplicate_networks_is_kept_whoever_looks() -> None:
    older = net("b" * 64, "2026-12-04T22:49:01.1234Z")  # .123400000: Go trims zeros
    newer = net("a" * 64, "2026-12-04T22:49:01.123456789Z")
    same_time = net("c" * 64, "2026-12-04T22:49:01.123456789Z")
    unknown = net("0" * 64, "")
    for order in ([newer, older, same_time, unknown], [unknown, same_time, older, newer]):
        assert network_duplicates(order) == {"p_default": [older, newer, same_time, unknown]}
    assert network_duplicates([older]) == {}


def test_up_removes_the_newer_duplicates_before_any_container(tmp_path: Path) -> None:
    older = net("b" * 64, "2026-12-04T22:49:01Z")
    newer = net("a" * 64, "2026-12-04T22:49:02Z")
    plan = plan_up(project(tmp_path), Observed(networks=(newer, older)))
    assert str(plan).splitlines()[:2] == [
        f"#1 network:default RemoveNetwork: duplicate of {'b' * 12}",
        "#2 <- #1 service:web:1 CreateContainer: no existing container",
    ]
    assert plan.step(1).operation.name == "a" * 64  # type: ignore[attr-defined]


def test_down_removes_each_duplicate_by_id(tmp_path: Path) -> None:
    older = net("b" * 64, "2026-12-04T22:49:01Z")
    newer = net("a" * 64, "2026-12-04T22:49:02Z")
    plan = plan_down(project(tmp_path), Observed(networks=(older, newer)))
    assert sorted(step.operation.name for step in plan) == ["a" * 64,  # type: ignore[attr-defined]
                                                            "b" * 64]


def _created_by_another(backend: MemoryBackend, model: Project, *, hash_: str | None = None
                        ) -> tuple[Plan, str]:
    """Plan ``up``, then let "another machine" create the same container first."""
    plan = plan_up(model, Observed())
    op = next(s.operation for s in plan if isinstance(s.operation, CreateContainer))
    network = next(s.operation for s in plan if isinstance(s.operation, CreateNetwork))
    body = dict(op.body)
    if hash_ is not None:
        body["Labels"] = {**body["Labels"], L.CONFIG_HASH: hash_}

    async def other() -> str:
        await backend.create_network(network.name, network.body)
        return await backend.create_container(op.name, body)

    return plan, anyio.run(other)


def test_creates_that_meet_an_equal_network_and_container_adopt_them(tmp_path: Path) -> None:
    backend = connect("memory://")
    assert isinstance(backend, MemoryBackend)
    plan, theirs = _created_by_another(backend, project(tmp_path))

    async def main() -> None:
        result = await execute(plan, backend)
        assert result.created == {"p-web-1": theirs}
        observed = await backend.observe("p")
        assert [(c.id, c.state) for c in observed.containers] == [(theirs, "running")]

    anyio.run(main)


def test_a_create_that_meets_a_different_container_fails(tmp_path: Path) -> None:
    backend = connect("memory://")
    assert isinstance(backend, MemoryBackend)
    plan, _ = _created_by_another(backend, project(tmp_path), hash_="something else")
    with pytest.raises(ExecutionError, match=r'service "web": .*already in use'):
        anyio.run(execute, plan, backend)


def test_a_name_held_by_a_container_not_inspectable_yet_is_waited_for(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine reserves a name before the container that takes it can be
    inspected: for a moment a create conflicts and an inspect finds nothing. The
    executor retries until the holder is there, then adopts it (it failed at once
    before, under load in CI)."""
    from composer.errors import NotFoundError
    from composer.runtime import executor

    monkeypatch.setattr(executor, "ADOPT_PAUSE", 0.0, raising=False)
    backend = connect("memory://")
    assert isinstance(backend, MemoryBackend)
    plan, theirs = _created_by_another(backend, project(tmp_path))
    real_inspect = backend.inspect_container
    misses = {"left": 5}

    async def inspect(container: str):  # type: ignore[no-untyped-def]
        if container == "p-web-1" and misses["left"]:
            misses["left"] -= 1
            raise NotFoundError(f"No such container: {container}")
        return await real_inspect(container)

    monkeypatch.setattr(backend, "inspect_container", inspect)
    result = anyio.run(execute, plan, backend)
    assert result.created == {"p-web-1": theirs} and misses["left"] == 0
