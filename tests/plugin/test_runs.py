"""The plugin's run records, without an engine: which stacks a new run may take
down (those its dead predecessors recorded, and nothing else)."""

from __future__ import annotations

from pathlib import Path

import pytest

from composer.pytest_plugin.runs import Run, runs_dir, sweep


@pytest.fixture(autouse=True)
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    return tmp_path


def _dead(names: list[str], worker: str = "main") -> Run:
    """A run that recorded ``names`` and ended without cleaning up (as if killed)."""
    run = Run(worker=worker)
    run.start()
    for name in names:
        run.record(name)
    run.stop(clean=False)
    return run


def test_a_dead_runs_recorded_stacks_are_swept_and_its_files_deleted() -> None:
    dead = _dead([])
    names = [dead.project_name(), dead.project_name()]
    for name in names:
        dead.record(name)
    me = Run()
    downed: list[str] = []
    removed, problems = sweep(me.id, lambda: [*names, "unrelated", f"pt{dead.id}-x-9"],
                              downed.append)
    assert removed == downed == sorted(names) and problems == []
    assert list(runs_dir().iterdir()) == []  # its lock and record are gone


def test_a_live_run_is_left_alone() -> None:
    live = Run(worker="gw0")
    live.start()
    live.record(live.project_name())
    try:
        assert sweep(Run().id, pytest.fail, pytest.fail) == ([], [])
    finally:
        live.stop(clean=True)
    assert list(runs_dir().iterdir()) == []  # its last process cleaned up


def test_only_recorded_names_of_the_runs_own_id_are_trusted() -> None:
    other = Run()
    dead = _dead(["pt00000000-main-1", "web", f"pt{other.id}-main-1"])
    own = f"pt{dead.id}-main-1"
    dead.record(own)
    downed: list[str] = []
    sweep(Run().id, lambda: ["pt00000000-main-1", "web", f"pt{other.id}-main-1", own],
          downed.append)
    assert downed == [own]


def test_a_stack_that_cannot_be_removed_is_tried_again_next_time() -> None:
    dead = _dead(["placeholder"])
    name = f"pt{dead.id}-main-1"
    dead.record(name)

    def refuse(name: str) -> None:
        raise RuntimeError("engine said no")

    assert sweep(Run().id, lambda: [name], refuse) == ([], [f"{name}: engine said no"])
    assert sweep(Run().id, lambda: [name], lambda n: None) == ([name], [])


def test_one_worker_leaving_keeps_the_runs_lock_and_the_others_record() -> None:
    gw0, gw1 = Run("0123abcd", "gw0"), Run("0123abcd", "gw1")
    gw0.start()
    gw1.start()
    gw1.record("pt0123abcd-gw1-1")
    gw0.stop(clean=True)  # gw1 is alive: the lock stays
    assert sweep(Run().id, pytest.fail, pytest.fail) == ([], [])
    gw1.stop(clean=False)  # killed, say: its record names what to remove
    assert sweep(Run().id, lambda: ["pt0123abcd-gw1-1"], lambda n: None) == (
        ["pt0123abcd-gw1-1"], [])


def test_the_engine_is_asked_only_when_a_dead_run_recorded_stacks() -> None:
    _dead([])  # a run killed before it made a stack
    assert sweep(Run().id, pytest.fail, pytest.fail) == ([], [])
    assert list(runs_dir().iterdir()) == []
