"""Differential: ``composer config``'s extra flags against Docker Compose v2's, bytes
for bytes, on the files of tests/unit/test_config_flags.py and on corpus files.

Where v2 prints a Go map in its random order (``--variables`` table rows,
``--models``), the lines are compared sorted.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

RunCli = Callable[..., Any]

pytestmark = pytest.mark.oracle


def _unit_module(name: str) -> ModuleType:
    """A module of tests/unit (not a package): its fixtures are shared, not copied."""
    path = Path(__file__).resolve().parents[1] / "unit" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_unit_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(f"_unit_{name}", module)
    spec.loader.exec_module(module)
    return module


CASES = _unit_module("test_config_flags")
CORPUS_ENVIRON: dict[str, str] = _unit_module("corpus").CORPUS_ENVIRON

# (fixture, args, compare sorted lines)
RUNS: list[tuple[str, tuple[str, ...], bool]] = [
    ("VARS", ("config", "--variables"), True),
    ("VARS", ("config", "--variables", "--format", "json"), False),
    ("VARS", ("config", "--variables", "--format", "yaml"), False),
    ("VARS", ("config", "-q", "--variables", "--format", "yaml"), False),
    ("PATHS", ("config", "--no-path-resolution"), False),
    ("PATHS", ("config", "--no-path-resolution", "--format", "json"), False),
    ("PATHS", ("config", "--no-path-resolution", "--no-interpolate", "--format", "json"), False),
    ("PATHS", ("config", "--no-env-resolution", "--format", "json"), False),
    ("PATHS", ("config", "--variables", "--format", "json"), False),
    ("LOOSE", ("config", "--no-consistency"), False),
    ("LOOSE", ("config", "--no-consistency", "--format", "json"), False),
    ("ENVIRONMENT", ("config", "--environment"), False),
    ("ENVIRONMENT", ("config", "-q", "--environment"), False),
    ("MODELS", ("config", "--models"), True),
    ("MODELS", ("config", "-q", "--services"), False),
    ("MODELS", ("config", "--dry-run", "--images"), False),
]


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _same(v2: Any, ours: Any, sort: bool) -> None:
    assert ours.returncode == v2.returncode, (v2.stderr, ours.stderr)
    if sort:
        assert sorted(ours.stdout.splitlines()) == sorted(v2.stdout.splitlines())
    else:
        assert ours.stdout == v2.stdout


@pytest.mark.parametrize(("fixture", "args", "sort"), RUNS,
                         ids=[f"{f}:{' '.join(a[1:])}" for f, a, _ in RUNS])
def test_flag_output_equals_v2(fixture: str, args: tuple[str, ...], sort: bool,
                               tmp_path: Path, run_v2: RunCli, run_composer: RunCli) -> None:
    _write(tmp_path, getattr(CASES, fixture))
    env = dict(CASES.ENVIRON) if fixture == "ENVIRONMENT" else {}
    _same(run_v2(*args, cwd=tmp_path, env=env), run_composer(*args, cwd=tmp_path, env=env), sort)


CORPUS_FILES = [
    "awesome-compose/react-java-mysql/compose.yaml",
    "compose-v2/pkg/e2e/fixtures/dotenv/development/compose.yaml",
    "compose-v2/pkg/e2e/fixtures/nested/compose.yaml",
    "compose-v2/pkg/e2e/fixtures/publish/oci/extends.yaml",
    "compose-v2/pkg/e2e/fixtures/watch/include.yaml",
    "compose-v2/pkg/e2e/testdata/TestSecretFromInclude/compose.yaml",
]


@pytest.mark.parametrize("flags", [("--variables", "--format", "json"), ("--environment",),
                                   ("--no-path-resolution",), ("--no-consistency",)])
@pytest.mark.parametrize("path", CORPUS_FILES)
def test_corpus_flag_output_equals_v2(path: str, flags: tuple[str, ...], corpus_dir: Path,
                                      run_v2: RunCli, run_composer: RunCli) -> None:
    compose = corpus_dir / path
    if not compose.is_file():
        pytest.skip(f"{path} not in the corpus")
    args = ("-f", compose.name, "config", *flags)
    env = dict(CORPUS_ENVIRON)
    _same(run_v2(*args, cwd=compose.parent, env=env),
          run_composer(*args, cwd=compose.parent, env=env), sort=False)
