"""The Backend protocol holds for both implementations: every method, the same
signature, the same kind of callable (coroutine or async iterator); and the layers
above ``backends/`` reach an engine only through it."""

from __future__ import annotations

import ast
import collections.abc
import inspect
import typing
from pathlib import Path
from typing import Any

import pytest

from composer.backends.base import Backend, SwarmBackend
from composer.backends.docker import DockerBackend
from composer.backends.lxc.backend import LxcBackend
from composer.backends.memory import MemoryBackend

PACKAGE = Path(__file__).resolve().parents[2] / "composer"


def _protocol_members() -> list[str]:
    names = []
    for name, value in vars(Backend).items():
        if name.startswith("_"):
            continue
        if callable(value) or isinstance(value, property):
            names.append(name)
    return sorted(names)


def _hints(fn: Any) -> dict[str, Any]:
    return typing.get_type_hints(fn)


def _shape(fn: Any) -> list[tuple[str, Any, Any]]:
    """Each parameter's name, kind and default (annotations are compared resolved)."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


def test_the_protocol_lists_everything_an_engine_is_asked() -> None:
    members = set(_protocol_members())
    for needed in ("observe", "events", "logs", "log_batches", "attach_output", "attach",
                   "exec_create", "exec_start", "exec_inspect", "exec_run", "wait_container",
                   "wait_begin", "stats", "stats_stream", "stat_path", "get_archive",
                   "put_archive", "build_image", "pull_image", "push_image",
                   "registry_credentials", "proxy_environment", "inspect_container"):
        assert needed in members


@pytest.mark.parametrize("implementation", [DockerBackend, MemoryBackend, LxcBackend])
@pytest.mark.parametrize("name", _protocol_members())
def test_each_implementation_has_the_method_with_the_same_signature(
        implementation: type, name: str) -> None:
    expected = getattr(Backend, name)
    actual = getattr(implementation, name, None)
    assert actual is not None, f"{implementation.__name__} lacks {name}"
    if isinstance(expected, property):
        return  # api_version: a property or a plain attribute both read the same
    assert _shape(actual) == _shape(expected), name
    wanted, got = _hints(expected), _hints(actual)
    for parameter, annotation in wanted.items():
        if parameter == "return" and annotation is not None and \
                getattr(annotation, "_is_protocol", False):
            # A protocol result (PendingExit): the implementation returns its own class.
            continue
        assert got.get(parameter) == annotation, f"{name}: {parameter}"
    if inspect.iscoroutinefunction(expected):
        assert inspect.iscoroutinefunction(actual), f"{name} must be async"
    elif typing.get_origin(wanted.get("return")) is collections.abc.AsyncIterator:
        # Declared `def ... -> AsyncIterator[...]`: an async generator.
        assert inspect.isasyncgenfunction(actual), f"{name} must be an async generator"
    else:
        # A plain question answered at once (unsupported).
        assert not inspect.iscoroutinefunction(actual) and \
            not inspect.isasyncgenfunction(actual), f"{name} must be a plain method"


def test_pending_waits_satisfy_their_protocol() -> None:
    from composer.backends.base import PendingExit
    from composer.backends.docker.sessions import _PendingExit as DockerPending
    from composer.backends.memory_engine import _PendingExit as MemoryPending

    for cls in (DockerPending, MemoryPending):
        for name in ("exit_code", "close"):
            assert _shape(getattr(cls, name)) == _shape(getattr(PendingExit, name))
        assert inspect.iscoroutinefunction(cls.exit_code)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("layer", ["runtime", "cli", "api.py"])
def test_runtime_cli_and_api_see_engines_only_through_the_protocol(layer: str) -> None:
    root = PACKAGE / layer
    files = [root] if root.is_file() else sorted(root.rglob("*.py"))
    offenders = []
    for path in files:
        for module in _imports(path):
            if module == "docker" or module.startswith(("docker.", "composer.backends.docker",
                                                        "composer.backends.memory")):
                offenders.append(f"{path.relative_to(PACKAGE)}: {module}")
    assert offenders == []


def _swarm_members() -> list[str]:
    return sorted(name for name, value in vars(SwarmBackend).items()
                  if not name.startswith("_") and callable(value))


@pytest.mark.parametrize("name", _swarm_members())
def test_the_docker_backend_implements_the_swarm_protocol(name: str) -> None:
    """Swarm is a protocol of its own (only the Docker Engine has an orchestrator):
    the Docker backend has each of its methods, with the same signature."""
    expected, actual = getattr(SwarmBackend, name), getattr(DockerBackend, name, None)
    assert actual is not None, f"DockerBackend lacks {name}"
    assert _shape(actual) == _shape(expected), name
    assert _hints(actual) == _hints(expected), name
    assert inspect.iscoroutinefunction(actual), f"{name} must be async"
