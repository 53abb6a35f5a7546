"""The variables a compose model uses, as ``config --variables`` lists them.

Docker Compose v2.40.3 (compose-go 2.9's ``template.ExtractVariables``) scans every
string *value* of the uninterpolated model (never a key) with its template pattern:

* ``$$`` is skipped; ``$NAME`` and ``${NAME}`` are plain uses;
* ``${NAME<op>arg}`` with ``<op>`` one of ``:-``/``-`` (default), ``:+``/``+``
  (alternate value) or ``:?``/``?`` (required); the argument runs to the ``}`` that
  balances the braces, and a default or alternate value is scanned in turn
  (``${A:-${B:-x}}`` lists ``A`` with default ``${B:-x}`` and ``B`` with default
  ``x``); a required variable's message is not scanned;
* text after that ``}`` up to the last ``}`` of the line is scanned first.

A variable met twice keeps its *last* occurrence whole (no merging of defaults),
as v2 does; v2 visits a mapping's values in random order, so for a variable used
differently in two places of a mapping it prints either: we keep the last written.
"""

from __future__ import annotations

import re
from typing import Any

from composer.config.interpolation import _NAME_CHARS, _first_closing_brace
from composer.frozen import frozen

__all__ = ["Variable", "extract_variables"]


@frozen
class Variable:
    """One variable: its default value, its alternate (``:+``) value, whether required."""

    name: str
    default: str = ""
    presence: str = ""
    required: bool = False


# compose-go's DefaultPattern: the braced argument is greedy (``.*`` up to the last
# ``}`` of the line), and a ``${`` opening nothing valid matches as "invalid".
_PATTERN = re.compile(
    "\\$(?:(?P<escaped>\\$)"
    f"|(?P<named>[{_NAME_CHARS}][{_NAME_CHARS}0-9]*)"
    f"|\\{{(?:(?P<braced>[{_NAME_CHARS}][{_NAME_CHARS}0-9]*(?::?[-+?](?:.*))?)\\}}"
    "|(?P<invalid>)))"
)
# Where a braced expression's name ends (Go's IndexFunc over ASCII name runes).
_NAME_END = re.compile("[^A-Za-z0-9_]")


def _scan(text: str, out: list[Variable]) -> None:
    """Append the variables of one string to ``out``, in v2's order."""
    for m in _PATTERN.finditer(text):
        if m.group("escaped"):
            continue
        val = m.group("named")
        if not val:
            val = m.group("braced") or ""
            whole = m.group(0)
            i = _first_closing_brace(whole)
            if i > 0:
                val = whole[2:i]
                if len(whole) > i + 1:
                    _scan(whole[i + 1:], out)
        name, default, presence, required = val, "", "", False
        end = _NAME_END.search(val)
        if end is not None and end.start() > 0:
            name, rest = val[:end.start()], val[end.start():]
            if rest.startswith(":?") or rest.startswith("?"):
                required = True
            elif rest.startswith(":-"):
                default = rest[2:]
            elif rest.startswith("-"):
                default = rest[1:]
            elif rest.startswith(":+"):
                presence = rest[2:]
            elif rest.startswith("+"):
                presence = rest[1:]
        out.append(Variable(name, default, presence, required))
        if default:
            _scan(default, out)
        if presence:
            _scan(presence, out)


def extract_variables(model: Any) -> dict[str, Variable]:
    """Every variable the string values of ``model`` use, by name (in the order
    first met). ``model`` is the uninterpolated model (``LoadOptions(model=True,
    interpolate=False)``); keys are not scanned, as in v2."""
    found: list[Variable] = []
    stack = [model]
    # Depth first, in document order: the last occurrence written wins.
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if "$" in value:
                _scan(value, found)
        elif isinstance(value, dict):
            stack.extend(reversed(list(value.values())))
        elif isinstance(value, list):
            stack.extend(reversed(value))
    result: dict[str, Variable] = {}
    for var in found:
        result[var.name] = var
    return result
