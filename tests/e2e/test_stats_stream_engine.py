"""``composer stats`` streaming on a real Docker Engine: without a terminal it prints a
table per interval until SIGINT (exit 130, as v2) and picks up containers that start later;
``--no-stream`` prints one table.

Projects are named ``h8st<8 hex>``; everything labelled with the name is removed
afterwards. Skips without an engine or ``busybox:latest``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from waiting import Streaming

from .cleanup import engine_client, remove_project

pytestmark = pytest.mark.engine

COMPOSE = """\
services:
  web:
    image: busybox:latest
    command: ["sleep", "300"]
    stop_signal: SIGKILL
  late:
    image: busybox:latest
    command: ["sleep", "300"]
    stop_signal: SIGKILL
"""


@pytest.fixture(scope="module")
def client() -> Any:
    return engine_client("busybox:latest")


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}


@pytest.fixture
def project(client: Any, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    name = f"h8st{uuid.uuid4().hex[:8]}"
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    try:
        yield name, tmp_path
    finally:
        remove_project(client, name)


def _composer(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "composer", *args], cwd=folder, env=_env(),
                            capture_output=True, text=True, timeout=120,
                            stdin=subprocess.DEVNULL, check=False)
    assert result.returncode == 0, result.stderr
    return result


def _tables(stdout: str) -> list[list[str]]:
    """The NAME column of each table printed."""
    tables: list[list[str]] = []
    for line in stdout.splitlines():
        if line.startswith("CONTAINER ID"):
            tables.append([])
        elif line.strip() and tables:
            tables[-1].append(line.split()[1])
    return tables


def test_stats_streams_until_sigint_and_shows_containers_started_later(
        project: tuple[str, Path]) -> None:
    name, folder = project
    _composer(folder, "-p", name, "up", "-d", "web")
    web, late = f"{name}-web-1", f"{name}-late-1"
    stats = Streaming([sys.executable, "-m", "composer", "-p", name, "stats"],
                      cwd=folder, env=_env())
    try:
        stats.wait_for(lambda out, _: len(_tables(out)) >= 2, what="two tables")
        _composer(folder, "-p", name, "up", "-d", "late")
        # A table with both (the later one picked up), then one more printed whole.
        stats.wait_for(lambda out, _: any(sorted(t) == sorted([web, late])
                                          for t in _tables(out)[:-1]), what="late-1's row")
    finally:
        rc = stats.interrupt()
    out, err = stats.out, stats.err
    assert rc == 130, err  # as v2's stats (and composer logs -f) on Ctrl-C
    assert "Traceback" not in err
    assert "\033" not in out  # no terminal: plain tables, no redraw sequences
    tables = _tables(out)
    assert len(tables) >= 3, out
    assert tables[0] == [web]
    assert sorted(tables[-1]) == sorted([web, late])

    once = _composer(folder, "-p", name, "stats", "--no-stream")
    assert [sorted(t) for t in _tables(once.stdout)] == \
        [sorted([f"{name}-web-1", f"{name}-late-1"])]
