"""An engine that stops answering in the middle of a plan: the executor stops
there and the run ends with that one reason, not with one line per step that
could no longer run. The engine test is tests/faults/test_engine_restart.py."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import anyio
import pytest

from composer.backends.base import Observed
from composer.backends.memory import MemoryBackend
from composer.config.loader import LoadOptions, load_project
from composer.errors import EngineUnreachableError
from composer.plan.reconcile import plan_up
from composer.runtime import execute

GONE = "cannot reach a container engine at memory://: Connection refused"


class Vanishing(MemoryBackend):
    """Answers until ``creates`` containers exist, then is gone."""

    def __init__(self, creates: int) -> None:
        super().__init__()
        self.creates = creates
        self.made = 0

    async def create_container(self, name: str, body: Any, *,
                               platform: str | None = None) -> str:
        self.made += 1
        if self.made > self.creates:
            raise EngineUnreachableError(GONE)
        return await super().create_container(name, body, platform=platform)


def test_a_lost_engine_ends_the_run_with_one_line(tmp_path: Path) -> None:
    services = "".join(f"  s{i}:\n    image: busybox\n    command: sleep 1d\n"
                       for i in range(10))
    (tmp_path / "compose.yaml").write_text("services:\n" + services)
    project = load_project(LoadOptions(cwd=str(tmp_path), project_name="p", environ={}))
    plan = plan_up(project.model, Observed())
    backend = Vanishing(creates=3)
    with pytest.raises(EngineUnreachableError) as caught:
        anyio.run(execute, plan, backend)
    assert str(caught.value) == GONE
    assert textwrap.dedent(str(caught.value)).count("\n") == 0
