"""An ``up`` interrupted in the middle of a recreate (between "create the new
container under a temporary name" and "rename it") leaves the new container
under its temporary name, with or without the old one: a rerun finishes the
recreate, and never loses the old container before its replacement runs. The
engine test of the same is tests/faults/test_interrupts.py."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from test_reconcile import container, golden, load, model, observed

from composer.plan.reconcile import plan_up

PROJECT = """
services:
  web:
    image: busybox
    volumes: ["/anon"]
"""


def test_new_container_left_beside_the_old_one_replaces_it(tmp_path: Path) -> None:
    project = load(tmp_path, PROJECT)
    old = replace(container(project, "web", changed=True, state="exited"), id="a" * 64)
    new = replace(container(project, "web", state="created"), id="b" * 64,
                  name=f"{old.id[:12]}_p-web-1", created=old.created + 1)
    plan = plan_up(model(project), observed(project, old, new))
    assert str(plan) == golden("""
        #1 service:web:1 RemoveContainer: scale down
        #2 <- #1 service:web:1 RenameContainer: finalize an interrupted recreate
        #3 <- #2 service:web:1 StartContainer: created
    """)
    assert plan.step(1).operation.container == "a" * 64  # type: ignore[attr-defined]
    rename = plan.step(2).operation
    assert (rename.container, rename.name) == ("b" * 64, "p-web-1")  # type: ignore[attr-defined]


def test_new_container_left_alone_is_renamed_and_started(tmp_path: Path) -> None:
    project = load(tmp_path, PROJECT)
    new = replace(container(project, "web", state="created"), name=f"{'a' * 12}_p-web-1")
    assert str(plan_up(model(project), observed(project, new))) == golden("""
        #1 service:web:1 RenameContainer: finalize an interrupted recreate
        #2 <- #1 service:web:1 StartContainer: created
    """)


def test_a_forced_recreate_interrupted_keeps_the_old_container(tmp_path: Path) -> None:
    """Both are up to date (``--force-recreate`` changes no hash): the older one
    stays, the temporary one goes."""
    project = load(tmp_path, PROJECT)
    old = replace(container(project, "web"), id="a" * 64)
    new = replace(container(project, "web", state="created"), id="b" * 64,
                  name=f"{old.id[:12]}_p-web-1", created=old.created + 1)
    plan = plan_up(model(project), observed(project, old, new))
    assert str(plan) == golden("#1 service:web:1 RemoveContainer: scale down")
    assert plan.step(1).operation.container == "b" * 64  # type: ignore[attr-defined]


def test_an_underscore_name_of_another_kind_is_left_alone(tmp_path: Path) -> None:
    """A 1.29.2 project's ``p_web_1`` is not a temporary name: nothing to do."""
    project = load(tmp_path, PROJECT)
    v1 = replace(container(project, "web"), name="p_web_1")
    assert str(plan_up(model(project), observed(project, v1))) == ""
