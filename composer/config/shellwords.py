"""Splitting a ``command``/``entrypoint`` string into words, as Docker Compose v2 does.

v2 splits with go-shellwords (no variable expansion): this is the same state
machine, kept apart so the normalise phase reads as what it does.
"""

from __future__ import annotations

__all__ = ["split_command"]


def split_command(text: str) -> list[str]:
    """Split a command string the way v2 does (go-shellwords, no expansion).

    Quotes group words; a backslash escapes the next character except inside single
    quotes; parsing stops at an unquoted ``;``, ``&``, ``|``, ``<`` or ``>`` (a
    ``2>`` redirect drops its digits). Raises ``ValueError`` on unbalanced quotes.
    """
    args: list[str] = []
    buf: list[str] = []
    escaped = double = single = back = dollar = False
    got = 0  # 0: no argument yet, 1: plain characters, 2: quoted (may be empty)
    for ch in text:
        if escaped:
            buf.append(ch)
            escaped = False
            got = 1
            continue
        if ch == "\\":
            if single:
                buf.append(ch)
            else:
                escaped = True
            continue
        if ch in " \t\r\n":
            if single or double or back or dollar:
                buf.append(ch)
            elif got:
                args.append("".join(buf))
                buf = []
                got = 0
            continue
        if ch == "`":
            if not single and not double and not dollar:
                back = not back
        elif ch == ")":
            if not single and not double and not back:
                dollar = not dollar
        elif ch == "(":
            if not single and not double and not back:
                if not dollar and buf and buf[-1] == "$":
                    dollar = True
                    buf.append(ch)
                    continue
                raise ValueError("invalid command line string")
        elif ch == '"':
            if not single and not dollar:
                if double:
                    got = 2
                double = not double
                continue
        elif ch == "'":
            if not double and not dollar:
                if single:
                    got = 2
                single = not single
                continue
        elif ch in ";&|<>":
            if not (single or double or back or dollar):
                if ch == ">" and buf and all(c.isdigit() for c in buf):
                    got = 0
                break
        got = 1
        buf.append(ch)
    if got:
        args.append("".join(buf))
    if escaped or single or double or back or dollar:
        raise ValueError("invalid command line string")
    return args
