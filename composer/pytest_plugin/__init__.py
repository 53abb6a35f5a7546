"""composer's pytest plugin: Compose projects as fixtures.

Installed with composer (the ``pytest11`` entry point); inert until a test uses
its fixtures (importing it costs nothing else: no engine, no docker, no yaml).

* ``compose_project`` — the running project (``composer.sync.Project``:
  ``service(...)``, ``exec(...)``, ``service(...).endpoint(...)``, ``logs()``...);
  ``async_compose_project`` — the async handle, for anyio tests (function scope);
* ``@pytest.mark.compose(files=[...], scope=..., services=[...], probes={...},
  shared=False)``; defaults from the ini keys ``compose_files``, ``compose_scope``,
  ``compose_keep`` and the flags ``--compose-file``, ``--compose-scope``,
  ``--compose-keep``, ``--compose-logs-dir``;
* a failing test's report gains ``compose ps`` and ``compose logs`` (the output
  since the test began) sections, also written under ``--compose-logs-dir``.

:mod:`.runs` names the stacks and finds those of dead runs; :mod:`.stacks` starts,
shares and ends them.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = ["async_compose_project", "compose_project"]

FIXTURES = ("compose_project", "async_compose_project")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("composer", "Compose projects as fixtures (composer)")
    group.addoption("--compose-file", action="append", default=None, metavar="FILE",
                    help="compose file for compose_project (repeatable; default: ini "
                         "compose_files, else compose.yaml in the rootdir)")
    group.addoption("--compose-scope", default=None, choices=("function", "module", "session"),
                    help="who shares a stack by default (default: ini compose_scope, "
                         "else function)")
    group.addoption("--compose-keep", default=None, choices=("never", "on-failure", "always"),
                    help="leave stacks running after the tests (a rerun reuses a kept "
                         "stack whose configuration is the same)")
    group.addoption("--compose-logs-dir", default=None, metavar="DIR",
                    help="also write a failing test's ps and logs to DIR/<test>.log")
    parser.addini("compose_files", "compose files for compose_project", type="linelist",
                  default=[])
    parser.addini("compose_scope", "default scope of compose stacks", default="function")
    parser.addini("compose_keep", "never | on-failure | always", default="never")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "compose(files=None, scope=None, services=(), probes=None, shared=False): "
        "the Compose project compose_project brings up for this test")
    config.stash[_MANAGER] = None


def _manager(config: pytest.Config) -> Any:
    manager = config.stash.get(_MANAGER, None)
    if manager is None:
        from composer.pytest_plugin.runs import Run
        from composer.pytest_plugin.stacks import StackManager

        workerinput = getattr(config, "workerinput", None)
        uid = str(workerinput.get("testrunuid") or "") if workerinput else ""
        run_id: str | None = uid[:8] or None
        if run_id is not None and not re.fullmatch(r"[0-9a-f]{8}", run_id):
            run_id = None
        shared_dir = None
        if workerinput:
            from composer.runtime.lock import state_dir

            shared_dir = state_dir() / "pytest-runs" / f"shared-{run_id}"
        keep = config.getoption("--compose-keep") or config.getini("compose_keep")
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        if not re.fullmatch(r"[a-z0-9_]+", worker):  # a valid part of a project name
            worker = "w"
        manager = StackManager(Run(run_id, worker), keep=keep, shared_dir=shared_dir)
        config.stash[_MANAGER] = manager
    return manager


_MANAGER = pytest.StashKey[Any]()
_STACK = pytest.StashKey[Any]()
_BEGAN = pytest.StashKey[float]()
_ASYNC = pytest.StashKey[tuple[tuple[str, ...], str]]()


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    users = [item for item in items if set(FIXTURES) & set(getattr(item, "fixturenames", ()))]
    if not users:
        return
    manager = _manager(config)
    removed = manager.activate()
    if removed:
        _say(config, f"removed {len(removed)} stack(s) left by killed runs: "
                     f"{', '.join(removed)}")
    # xdist workers all collect before any of them runs a test: each counts
    # itself in now among the users of the shared stacks it may need.
    shared = [_spec(item)[0] for item in users
              if "compose_project" in getattr(item, "fixturenames", ())
              and (mark := item.get_closest_marker("compose")) and mark.kwargs.get("shared")]
    manager.join_shared(manager.shared_name(spec) for spec in shared)


def _say(config: pytest.Config, line: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"composer: {line}")


def _spec(item: pytest.Item) -> tuple[Any, str]:
    from composer.pytest_plugin.stacks import Spec, probes_of

    config = item.config
    marker = item.get_closest_marker("compose")
    kwargs = dict(marker.kwargs) if marker else {}
    files = kwargs.get("files") or config.getoption("--compose-file") \
        or config.getini("compose_files") or ["compose.yaml"]
    if isinstance(files, str | os.PathLike):
        files = [files]
    base = Path(str(item.path)).parent if marker and kwargs.get("files") else config.rootpath
    paths = tuple(str((base / str(f)).resolve()) for f in files)
    scope = kwargs.get("scope") or config.getoption("--compose-scope") \
        or config.getini("compose_scope")
    shared = bool(kwargs.get("shared", False))
    if shared:
        scope = "session"
    spec = Spec(files=paths, scope=scope, services=tuple(kwargs.get("services") or ()),
                probes=probes_of(kwargs.get("probes")), shared=shared)
    if scope == "function":
        return spec, item.nodeid
    if scope == "module":
        return spec, f"module::{item.module.__name__ if hasattr(item, 'module') else item.path}"
    if scope == "session":
        return spec, "session"
    raise pytest.UsageError(f"compose scope must be function, module or session: {scope!r}")


@pytest.fixture
def compose_project(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The running Compose project of this test (``composer.sync.Project``)."""
    from composer.pytest_plugin.stacks import now

    item = request.node
    manager = _manager(request.config)
    manager.activate()
    spec, scope_key = _spec(item)
    item.stash[_BEGAN] = now()  # before a stack starts: its start-up output counts
    stack = manager.acquire(spec, scope_key, item.nodeid)
    item.stash[_STACK] = stack
    yield stack.handle


@pytest.fixture
async def async_compose_project(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """The project as the async handle (``composer.Project``), for anyio tests: a
    stack of its own for the test, on the test's event loop."""
    from composer.library import open as open_project

    item = request.node
    manager = _manager(request.config)
    manager.activate()
    spec, _ = _spec(item)
    from composer.pytest_plugin.stacks import now

    item.stash[_BEGAN] = now()
    name = manager.run.project_name()
    manager.run.record(name)  # before anything exists: a kill is swept
    async with open_project(list(spec.files), name=name) as project:
        # The report of a failure reads the project from its own (sync) handle.
        item.stash[_ASYNC] = (spec.files, project.name)
        await project.up(list(spec.services), probes=spec.probe_map)
        yield project


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                               ) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    stack = item.stash.get(_STACK, None)
    of_async = item.stash.get(_ASYNC, None)
    if (stack is None and of_async is None) or not report.failed:
        return
    from composer.errors import ComposerError
    from composer.pytest_plugin.stacks import report_text, status_text

    began = item.stash.get(_BEGAN, 0.0)
    try:
        if stack is not None:
            stack.failed = True
            name = stack.name
            ps, logs = report_text(stack, began)
        else:
            assert of_async is not None
            files, name = of_async
            ps, logs = status_text(files, name, began)
    except ComposerError as exc:
        ps, logs = f"(cannot read: {exc})", ""
    report.sections.append((f"compose ps ({name})", ps))
    report.sections.append((f"compose logs ({name}, since the test began)", logs))
    folder = item.config.getoption("--compose-logs-dir")
    if folder:
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid)
        (path / f"{safe}.log").write_text(f"# ps\n{ps}\n\n# logs\n{logs}\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    yield
    manager = item.config.stash.get(_MANAGER, None)
    if manager is None or not manager.stacks:
        return
    manager.release(item.nodeid)
    module = getattr(item, "module", None)
    following = getattr(nextitem, "module", None) if nextitem is not None else None
    if module is not None and following is not module:
        manager.release(f"module::{module.__name__}")


def pytest_sessionfinish(session: pytest.Session) -> None:
    manager = session.config.stash.get(_MANAGER, None)
    if manager is not None:
        manager.close()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    manager = config.stash.get(_MANAGER, None)
    for line in manager.notes if manager is not None else ():
        terminalreporter.write_line(f"composer: {line}")
