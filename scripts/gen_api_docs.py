"""Write docs/api.md, the library's API reference, from the docstrings.

    python scripts/gen_api_docs.py           # rewrite docs/api.md
    python scripts/gen_api_docs.py --check   # exit 1 when docs/api.md is stale

tests/unit/test_api_docs.py runs the check, so the reference cannot drift from
the code.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "api.md"

#: (section, module, names): what the reference covers, in reading order.
SECTIONS: list[tuple[str, str, list[str]]] = [
    ("Opening a project", "composer.library.project", ["open"]),
    ("The project handle", "composer.library.project", ["Project", "Service"]),
    ("Results", "composer.library.results", ["ExecResult", "LogLine", "Endpoint", "Event"]),
    ("Log streams", "composer.library.logstream", ["LogStream"]),
    ("Readiness probes", "composer.probes", ["tcp", "http", "log", "exec", "all_of"]),
    ("The synchronous facade", "composer.sync", ["open", "Project", "Service"]),
    ("The project graph", "composer.api.graph", ["project_graph"]),
    ("Errors", "composer.errors", [
        "ComposerError", "ConfigError", "EngineError", "NotFoundError", "ConflictError",
        "WaitError", "NotReadyError", "ExecFailedError", "OperationCancelled", "LockError"]),
]


def _signature(obj: object, name: str) -> str:
    try:
        text = str(inspect.signature(obj))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        text = "(...)"
    return f"{name}{text}"


def _doc(obj: object) -> str:
    return inspect.cleandoc(inspect.getdoc(obj) or "(undocumented)")


def _members(cls: type) -> list[tuple[str, object]]:
    out = []
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(member, property) or inspect.isfunction(member):
            out.append((name, member))
    return out


def render() -> str:
    lines = ["# composer: the library's API reference", "",
             "Generated from the docstrings by `scripts/gen_api_docs.py`; do not edit by "
             "hand. The README's \"Using the library\" shows it at work.", ""]
    for section, module_name, names in SECTIONS:
        module = importlib.import_module(module_name)
        lines += [f"## {section}", "", f"From `{module_name}`.", ""]
        for name in names:
            obj = getattr(module, name)
            if inspect.isclass(obj):
                bases = [b.__name__ for b in obj.__bases__ if b is not object]
                head = f"class {name}" + (f"({', '.join(bases)})" if bases else "")
                lines += [f"### `{head}`", "", _doc(obj), ""]
                if issubclass(obj, BaseException):
                    continue
                for member_name, member in _members(obj):
                    if isinstance(member, property):
                        lines += [f"- **`{member_name}`** (property): "
                                  + _doc(member).replace("\n", " "), ""]
                    else:
                        sig = _signature(member, member_name).replace("(self, ", "(")
                        sig = sig.replace("(self)", "()")
                        lines += [f"- **`{sig}`**", "", "  " + _doc(member).replace(
                            "\n", "\n  "), ""]
            else:
                lines += [f"### `{_signature(obj, name)}`", "", _doc(obj), ""]
    return "\n".join(line.rstrip() for line in lines).rstrip() + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not OUT.is_file() or OUT.read_text() != text:
            print(f"{OUT.relative_to(ROOT)} is stale: run python scripts/gen_api_docs.py",
                  file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
