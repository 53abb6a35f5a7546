"""The layering of ``composer/`` as a test: what may import what, who may print.

The rules are those of docs/architecture.md ("Layers") and of the team's design
picture, read from the source with :mod:`ast` (no import of the code, so a lazy
import inside a function, or one under ``if TYPE_CHECKING:``, counts like any
other):

1. **layers** - a module imports only composer modules of the layers its own
   layer may use (``LAYERS``; a layer may always import itself and the leaves,
   ``_version`` and ``frozen``, which import nothing of ours).
2. **engine SDKs** - only ``composer/backends/`` imports ``docker`` (with its
   transport, ``requests`` and ``urllib3``) or ``lxc``.
3. **pure layers** - ``config/`` and ``model/`` never import ``anyio`` or ``docker``.
4. **the protocol** - outside ``composer/backends/`` engines are seen only through
   the protocol (``composer.backends.base``, and a factory such as
   ``composer.backends.connect``), never a backend's own modules
   (``composer.backends.docker*``, ``composer.backends.lxc*``).
5. **printing** - nothing outside ``composer/cli/`` (and ``composer/__main__.py``)
   writes to the process's streams: no ``print(``, no ``sys.stdout`` /
   ``sys.stderr`` (``__stdout__``, ``__stderr__``, ``from sys import stdout``).
6. **the terminal** - nothing outside ``composer/cli/`` touches the terminal: no
   ``termios``/``tty``/``pty``/``curses`` import, no ``isatty()`` or
   ``get_terminal_size()`` call, no escape sequence (``\\x1b``) in a string. A
   backend that is itself the engine (``ENGINE_PTYS``: LXC's) may use ``pty`` and
   ``termios`` for the pseudo-terminal it gives a container's process.

``ALLOWED`` lists today's violations, each with why it is temporary (the issue 10
work removes them); a NEW violation fails with its file, line and rule, and an
entry that no longer matches anything fails too, so the list only shrinks.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "composer"

#: layer -> the layers it may import (besides itself and the leaves), as the
#: "Layers" table of docs/architecture.md draws them.
LAYERS: dict[str, frozenset[str]] = {
    "main": frozenset({"cli"}),  # composer/__main__.py
    "package": frozenset({"library", "api", "config", "model", "errors"}),  # __init__.py
    # composer.library, composer.sync and composer.probes: the public library.
    "library": frozenset({"api", "runtime", "plan", "backends", "config", "graph", "model",
                          "errors"}),
    # composer.pytest_plugin: pytest fixtures over the library.
    "pytest": frozenset({"library", "api", "runtime", "backends", "model", "errors"}),
    "cli": frozenset({"api", "config", "runtime", "backends", "graph", "model", "errors"}),
    "api": frozenset({"runtime", "plan", "backends", "config", "graph", "model", "errors"}),
    "runtime": frozenset({"plan", "backends", "graph", "model", "errors"}),
    "plan": frozenset({"backends", "graph", "model", "errors"}),
    "backends": frozenset({"model", "errors"}),
    "graph": frozenset({"model", "errors"}),
    "config": frozenset({"model", "graph", "errors"}),
    "model": frozenset({"errors"}),
    "errors": frozenset(),
    "leaf": frozenset(),  # composer/_version.py, composer/frozen.py
}

#: Third-party packages that are an engine's SDK (or its transport): backends/ only.
ENGINE_SDKS = frozenset({"docker", "requests", "urllib3", "lxc"})
#: What the pure layers never import.
NOT_IN_PURE = frozenset({"anyio", "docker"})
#: A backend's own modules: outside backends/, engines are seen through the protocol.
IMPLEMENTATIONS = ("composer.backends.docker", "composer.backends.lxc")
TERMINAL_MODULES = frozenset({"termios", "tty", "pty", "curses"})
#: Backends that are the engine themselves and give a container's process a
#: pseudo-terminal (``exec -it`` on LXC, and the console an attach types into and
#: resizes): ``pty`` and ``termios`` for that device, never the person's terminal
#: (``isatty``, escapes and ``tty`` stay forbidden).
ENGINE_PTYS = frozenset({"composer.backends.lxc.backend", "composer.backends.lxc.stdin"})
STREAMS = frozenset({"stdout", "stderr", "__stdout__", "__stderr__"})


@dataclass(frozen=True)
class Violation:
    rule: str
    file: str  # relative to the repository: composer/runtime/x.py
    line: int
    module: str  # the offending module, dotted
    name: str  # what it imported or used

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.module} -> {self.name}: {RULES[self.rule]}"


RULES = {
    "layers": "a layer imports only the layers below it (docs/architecture.md, Layers)",
    "engine-sdk": "only composer/backends/ imports an engine SDK (docker, lxc) or its "
                  "transport",
    "pure": "config/ and model/ never import anyio or docker",
    "protocol": "outside composer/backends/ engines are seen only through the protocol "
                "(composer.backends.base, composer.backends.connect), never a backend's "
                "own modules",
    "print": "only composer/cli/ writes to stdout/stderr (the library reports through "
             "callbacks, events, warnings or logging)",
    "terminal": "only composer/cli/ touches the terminal (tty modules, isatty, escapes)",
}


@dataclass(frozen=True)
class Allowed:
    """A violation known today, and why it is only temporary."""

    rule: str
    module: str
    name: str
    why: str

    def matches(self, v: Violation) -> bool:
        return (v.rule, v.module) == (self.rule, self.module) and (
            v.name == self.name or v.name.startswith(self.name + "."))


#: Known violations, each with why it is tolerated. Empty since issue 10 landed;
#: never add to it: fix the import instead.
ALLOWED: tuple[Allowed, ...] = ()


# -- reading the source ------------------------------------------------------------------------


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) == 1:
        return "package"
    head = parts[1]
    return {"__main__": "main", "_version": "leaf", "frozen": "leaf", "api": "api",
            "graph": "graph", "errors": "errors", "cli": "cli", "runtime": "runtime",
            "plan": "plan", "backends": "backends", "config": "config", "model": "model",
            "library": "library", "sync": "library", "probes": "library",
            "pytest_plugin": "pytest"}.get(head)


def _imports(tree: ast.AST, module: str, is_package: bool
             ) -> Iterator[tuple[int, str]]:
    """``(line, dotted name)`` of every import in ``tree``, wherever it sits: a
    ``from a import b`` gives ``a.b``; relative imports are made absolute;
    ``importlib.import_module("...")`` with a literal (or an f-string's literal
    head) counts too."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            for alias in node.names:
                yield node.lineno, f"{source}.{alias.name}" if alias.name != "*" else source
        elif isinstance(node, ast.Call) and node.args and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                or (isinstance(node.func, ast.Name)
                    and node.func.id in ("import_module", "__import__"))):
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                yield node.lineno, arg.value
            elif isinstance(arg, ast.JoinedStr) and arg.values and isinstance(
                    arg.values[0], ast.Constant) and isinstance(arg.values[0].value, str):
                head = arg.values[0].value.rstrip(".")
                if head:
                    yield node.lineno, head


def _writes_and_terminal(tree: ast.AST) -> Iterator[tuple[str, int, str]]:
    """``(rule, line, what)`` for each print/stream use and each terminal touch."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "print":
            yield "print", node.lineno, "print("
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id == "sys" and node.attr in STREAMS:
            yield "print", node.lineno, f"sys.{node.attr}"
        elif isinstance(node, ast.ImportFrom) and node.module == "sys" and not node.level:
            for alias in node.names:
                if alias.name in STREAMS:
                    yield "print", node.lineno, f"sys.{alias.name}"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("isatty", "get_terminal_size"):
            yield "terminal", node.lineno, f"{node.func.attr}()"
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and "\x1b" in node.value:
            yield "terminal", node.lineno, "an escape sequence"


def _is_docstring_free(tree: ast.Module) -> ast.Module:
    """``tree`` without its docstrings (a docstring may show an escape, as text)."""
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            body[0] = ast.Pass()
    return tree


def check_file(path: Path, root: Path = PACKAGE) -> list[Violation]:
    """Every violation of the rules in ``path``, a source file of the package ``root``."""
    module = _module_name(path, root)
    file = path.relative_to(root.parent).as_posix()
    layer = _layer(module)
    if layer is None:
        return [Violation("layers", file, 1, module,
                          "(no layer: add its folder to LAYERS in tests/unit/test_layering.py "
                          "and to the table of docs/architecture.md)")]
    tree = _is_docstring_free(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    found: list[Violation] = []
    in_backends = layer == "backends"
    for line, name in _imports(tree, module, path.name == "__init__.py"):
        top = name.split(".")[0]
        if top == "composer":
            target = _layer(name)
            if target is not None and target != layer and target != "leaf" \
                    and target not in LAYERS[layer]:
                found.append(Violation("layers", file, line, module, name))
            if not in_backends and name.startswith(IMPLEMENTATIONS):
                found.append(Violation("protocol", file, line, module, name))
        else:
            if top in ENGINE_SDKS and not in_backends:
                found.append(Violation("engine-sdk", file, line, module, name))
            if top in NOT_IN_PURE and layer in ("config", "model"):
                found.append(Violation("pure", file, line, module, name))
            if top in TERMINAL_MODULES and layer not in ("cli", "main") \
                    and not (module in ENGINE_PTYS and top in ("pty", "termios")):
                found.append(Violation("terminal", file, line, module, name))
    if layer not in ("cli", "main"):
        for rule, line, what in _writes_and_terminal(tree):
            found.append(Violation(rule, file, line, module, what))
    return found


def all_violations() -> list[Violation]:
    out: list[Violation] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        out += check_file(path)
    return out


# -- the tests ---------------------------------------------------------------------------------


def test_no_new_violation_of_the_layering() -> None:
    new = [v for v in all_violations() if not any(a.matches(v) for a in ALLOWED)]
    assert not new, "layering broken:\n" + "\n".join(str(v) for v in new)


def test_every_allowed_violation_still_exists() -> None:
    found = all_violations()
    stale = [a for a in ALLOWED if not any(a.matches(v) for v in found)]
    assert not stale, ("fixed, so take it off ALLOWED in tests/unit/test_layering.py:\n"
                       + "\n".join(f"{a.rule}: {a.module} -> {a.name}" for a in stale))


# -- the checker itself: each rule catches what it is for --------------------------------------


def _check(tmp_path: Path, relative: str, source: str) -> list[str]:
    """The violations the checker finds in ``source`` placed at ``composer/relative``."""
    fake = _write(tmp_path, relative, source)
    return [f"{v.rule} {v.name} line {v.line}" for v in check_file(fake, tmp_path / "composer")]


def _write(tmp_path: Path, relative: str, source: str) -> Path:
    fake = tmp_path / "composer" / relative
    fake.parent.mkdir(parents=True, exist_ok=True)
    fake.write_text(source)
    return fake


@pytest.mark.parametrize(("relative", "source", "expected"), [
    # a layer below importing one above, even lazily inside a function
    ("model/x.py", "def f():\n    from composer.config import loader\n",
     ["layers composer.config.loader line 2"]),
    ("plan/x.py", "from ..runtime.executor import execute\n",
     ["layers composer.runtime.executor.execute line 1"]),
    ("plan/x.py", "from ..graph import ServiceGraph\nfrom . import plan\n", []),
    ("cli/x.py", "import importlib\nimportlib.import_module('composer.plan.plan')\n",
     ["layers composer.plan.plan line 2"]),
    ("errors.py", "from composer._version import __version__\n", []),
    # engine SDKs and the pure layers
    ("runtime/x.py", "import docker\n", ["engine-sdk docker line 1"]),
    ("backends/docker.py", "import docker\nimport requests\n", []),
    ("config/x.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import anyio\n",
     ["pure anyio line 3"]),
    ("model/x.py", "import docker.errors\n",
     ["engine-sdk docker.errors line 1", "pure docker.errors line 1"]),
    # the protocol
    ("cli/x.py", "from composer.backends.docker_io import DockerIO\n",
     ["protocol composer.backends.docker_io.DockerIO line 1"]),
    ("runtime/x.py", "from composer.backends.base import Backend\n"
                     "from composer.backends import connect\n", []),
    ("backends/memory.py", "from .docker import _FrameSplitter\n", []),
    # printing and the terminal
    ("runtime/x.py", "import sys\ndef f():\n    print('x')\n    sys.stderr.write('y')\n",
     ["print print( line 3", "print sys.stderr line 4"]),
    ("config/x.py", "from sys import stdout\n", ["print sys.stdout line 1"]),
    ("cli/x.py", "import sys, termios\nprint(sys.stdout.isatty(), '\\x1b[K')\n", []),
    ("runtime/x.py", "import os\nRED = '\\x1b[31m'\nos.isatty(1)\n",
     ["terminal an escape sequence line 2", "terminal isatty() line 3"]),
    ("runtime/x.py", '"""Writes ``\\x1b[K``? No: a docstring is text."""\n', []),
    ("plan/x.py", "import tty\n", ["terminal tty line 1"]),
    # a module in no layer
    ("elsewhere.py", "", ["layers (no layer: add its folder to LAYERS in "
                     "tests/unit/test_layering.py and to the table of "
                     "docs/architecture.md) line 1"]),
])
def test_the_checker_catches_each_rule(tmp_path: Path, relative: str, source: str,
                                       expected: list[str]) -> None:
    assert sorted(_check(tmp_path, relative, source)) == sorted(expected)


def test_failure_names_file_line_and_rule(tmp_path: Path) -> None:
    (v,) = check_file(_write(tmp_path, "runtime/x.py", "\n\ndef f():\n    print('x')\n"),
                      tmp_path / "composer")
    assert str(v) == ("composer/runtime/x.py:4: composer.runtime.x -> print(: only "
                      "composer/cli/ writes to stdout/stderr (the library reports through "
                      "callbacks, events, warnings or logging)")


def test_every_allowed_entry_names_a_rule_and_a_reason() -> None:
    for entry in ALLOWED:
        assert entry.rule in RULES and entry.why, entry
