"""Fixtures shared by every test folder.

- ``repo_root`` / ``samples_dir``: this checkout and its ``samples/``.
- ``corpus_dir``: the shared reference corpus beside the repository
  (``<repo>/../shared/corpus``); tests using it skip when it is absent.
- ``v2_binary``: Docker Compose v2 (the behavioural oracle), found next to the
  running interpreter (the dev extra installs it into the venv) or on ``PATH``;
  tests using it skip when there is none.
- ``run_composer`` / ``run_v2`` / ``run_command``: run a CLI as a subprocess and
  return a :class:`Result`. The environment is cleaned of ``COMPOSE_*`` variables so a
  developer's shell cannot change what a test sees.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from commands import (  # beside this file, on the path pytest gives it
    HANG_TIMEOUT,
    Result,
    RunCli,
    clean_environ,
    composer_command,
    find_v2_binary,
    run_cli,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLES_DIR = REPO_ROOT / "samples"
CORPUS_DIR = REPO_ROOT.parent / "shared" / "corpus"

__all__ = ["HANG_TIMEOUT", "Result", "RunCli", "clean_environ", "composer_command",
           "find_v2_binary", "run_cli"]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The root of this checkout."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """``samples/`` of this checkout."""
    return SAMPLES_DIR


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The shared reference corpus; skips the test when it is not beside the repo."""
    if not (CORPUS_DIR / "manifest.tsv").is_file():
        pytest.skip(f"reference corpus not found at {CORPUS_DIR}")
    return CORPUS_DIR


@pytest.fixture(scope="session")
def v2_binary() -> str:
    """Path of Docker Compose v2; skips the test when there is none."""
    path = find_v2_binary()
    if path is None:
        pytest.skip("Docker Compose v2 (docker-compose) not found; `make test` installs it")
    return path


@pytest.fixture(scope="session")
def run_composer() -> RunCli:
    """Run the ``composer`` CLI: ``run_composer("config", "-q", cwd=...)``."""
    command = composer_command()

    def run(*args: str | os.PathLike[str], **kwargs: object) -> Result:
        return run_cli(command, args, **kwargs)  # type: ignore[arg-type]

    return run


@pytest.fixture(scope="session")
def run_command() -> Callable[..., Result]:
    """:func:`run_cli` itself, for commands other than composer and v2."""
    return run_cli


@pytest.fixture(scope="session")
def run_v2(v2_binary: str) -> RunCli:
    """Run Docker Compose v2 the same way as :func:`run_composer`."""

    def run(*args: str | os.PathLike[str], **kwargs: object) -> Result:
        return run_cli([v2_binary], args, **kwargs)  # type: ignore[arg-type]

    return run


# -- which engine the engine tests run on ------------------------------------------------------

#: ``make test-podman`` sets it (with DOCKER_HOST at Podman's socket); ``make test-lxc``
#: too (with COMPOSER_ENGINE=lxc).
from engines import TEST_ENGINE, no_container_cgroup  # noqa: E402  (tests/engines.py)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Where the engine gives a container no cgroup (:func:`engines.no_container_cgroup`:
    rootless on cgroup v1), skip those marked ``needs_cgroup(reason)``. On Podman and
    LXC, skip the tests comparing composer with Docker Compose v2
    (the oracle runs on Docker; on Podman it recreates everything and hangs on
    healthchecks); on Podman those marked ``docker_only(reason)`` (what Podman does
    differently, or a gap), on LXC those marked ``not_on_lxc(reason)`` (what LXC
    has no way to do yet, or what a test can only see through the Docker API)."""
    if any(item.get_closest_marker("needs_cgroup") for item in items) \
            and no_container_cgroup():
        for item in items:
            marker = item.get_closest_marker("needs_cgroup")
            if marker is not None:
                reason = marker.args[0] if marker.args else "needs the container's cgroup"
                item.add_marker(pytest.mark.skip(reason=(
                    "the engine is rootless on cgroup v1, where a container has no "
                    f"cgroup: {reason}")))
    if TEST_ENGINE not in ("podman", "lxc"):
        return
    for item in items:
        marker = item.get_closest_marker("docker_only") if TEST_ENGINE == "podman" else None
        lxc_marker = item.get_closest_marker("not_on_lxc") if TEST_ENGINE == "lxc" else None
        if marker is not None:
            reason = marker.args[0] if marker.args else "Docker only"
            item.add_marker(pytest.mark.skip(reason=f"Docker only: {reason}"))
        elif lxc_marker is not None:
            reason = lxc_marker.args[0] if lxc_marker.args else "not on LXC"
            item.add_marker(pytest.mark.skip(reason=f"not on LXC: {reason}"))
        elif "v2_binary" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.skip(
                reason="compares with Docker Compose v2, the oracle, on Docker"))
